"""One JsonResponse shaped like the aggregated answer, built without any I/O."""

from django.http import JsonResponse


def user_product(request, user_id: int, product_id: int):
    """A user and a product made up from their ids: the body size of the real endpoint, none of its work."""
    return JsonResponse(
        {
            "user": {
                "id": user_id,
                "username": f"user_{user_id}",
                "email": f"user_{user_id}@example.com",
                "full_name": f"User {user_id}",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
            "product": {
                "id": product_id,
                "name": f"Product_{product_id}",
                "description": f"Demo product number {product_id}.",
                "sku": f"SKU-{product_id:06d}",
                "price": "19.99",
                "stock": 100,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        }
    )
