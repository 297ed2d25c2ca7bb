"""Every save or delete of a product, whatever its path (API, admin, shell), publishes an invalidation."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Product
from .services import product_cache_invalidate


@receiver(post_save, sender=Product)
@receiver(post_delete, sender=Product)
def product_changed(sender, instance, **kwargs):
    product_cache_invalidate(product_ids=[instance.pk])
