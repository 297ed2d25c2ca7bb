"""Every saved user or product bumps the cache versions of the pages built from it (catalog.caching)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .caching import bump
from .models import Product, UserProfile


@receiver(post_save, sender=Product)
@receiver(post_delete, sender=Product)
def product_changed(sender, instance, **kwargs):
    bump(f"product:{instance.pk}", "products")


@receiver(post_save, sender=UserProfile)
@receiver(post_delete, sender=UserProfile)
def user_changed(sender, instance, **kwargs):
    bump(f"user:{instance.pk}", "users")
