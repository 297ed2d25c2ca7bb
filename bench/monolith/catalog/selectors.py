"""Reads of the monolith."""

from .models import Product, UserProfile


def user_get(*, user_id: int) -> UserProfile | None:
    return UserProfile.objects.filter(pk=user_id).first()


def product_get(*, product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id).first()
