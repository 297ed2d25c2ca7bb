# Api Gateway
import os  # bench: the ports come from the environment

import requests
from flask import Flask, jsonify  # bench: missing from the seed's snippet, which cannot start without it

app_gateway = Flask(__name__)

USER_SERVICE_URL = os.environ.get('USER_SERVICE_URL', 'http://localhost:5001/user/')  # bench: was the literal
PRODUCT_SERVICE_URL = os.environ.get('PRODUCT_SERVICE_URL', 'http://localhost:5002/product/')  # bench: idem

@app_gateway.route('/api/<user_id>/<product_id>')
def get_user_and_product(user_id, product_id):
    user_response = requests.get(f'{USER_SERVICE_URL}{user_id}')
    user_data = user_response.json()

    product_response = requests.get(f'{PRODUCT_SERVICE_URL}{product_id}')
    product_data = product_response.json()

    result = {
        'user': user_data,
        'product': product_data
    }

    return jsonify(result)

if __name__ == '__main__':
    app_gateway.run(port=int(os.environ.get('PORT', 5000)))  # bench: was port=5000
