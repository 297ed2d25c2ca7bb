"""GET /api/<user_id>/<product_id>/: a user and a product read from the one database."""

from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import product_get, user_get
from .serializers import ProductOutputSerializer, UserOutputSerializer


class UserProductApi(APIView):
    """The monolith's answer to the aggregated read: two queries, one response."""

    def get(self, request, user_id: int, product_id: int):
        user = user_get(user_id=user_id)
        product = product_get(product_id=product_id)
        if user is None or product is None:
            raise NotFound("User or product does not exist.")
        return Response({"user": UserOutputSerializer(user).data, "product": ProductOutputSerializer(product).data})
