"""Writes of the monolith: only the demo data the benchmark needs."""

from decimal import Decimal

from .models import Product, UserProfile


def catalog_seed(*, count: int) -> int:
    """Ensure user_1..user_N and products 1..N exist with the services' demo values; returns how many were created."""
    users = [
        UserProfile(id=i, username=f"user_{i}", email=f"user_{i}@example.com", full_name=f"User {i}")
        for i in range(1, count + 1)
    ]
    products = [
        Product(
            id=i,
            name=f"Product_{i}",
            description=f"Demo product number {i}.",
            sku=f"SKU-{i:06d}",
            price=Decimal("19.99"),
            stock=100,
        )
        for i in range(1, count + 1)
    ]
    before = UserProfile.objects.count() + Product.objects.count()
    UserProfile.objects.bulk_create(users, ignore_conflicts=True, batch_size=1000)
    Product.objects.bulk_create(products, ignore_conflicts=True, batch_size=1000)
    return UserProfile.objects.count() + Product.objects.count() - before
