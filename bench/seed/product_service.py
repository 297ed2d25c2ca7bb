#Product service
import os  # bench: the port comes from the environment

from flask import Flask, jsonify

app_product = Flask(__name__)

@app_product.route('/product/<product_id>')
def get_product(product_id):
    product_data = {
        'product_id': product_id,
        'name': f'Produit_{product_id}',
        'price': 19.99
    }
    return jsonify(product_data)

if __name__ == '__main__':
    app_product.run(port=int(os.environ.get('PORT', 5002)))  # bench: was port=5002
