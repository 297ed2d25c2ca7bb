"""Every save or delete of a profile, whatever its path (API, admin, shell), publishes an invalidation."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import UserProfile
from .services import user_cache_invalidate


@receiver(post_save, sender=UserProfile)
@receiver(post_delete, sender=UserProfile)
def user_changed(sender, instance, **kwargs):
    user_cache_invalidate(user_ids=[instance.pk])
