"""Every way a token stops being valid drops its cached record at once: a user deactivated or deleted, a client
deleted, a token deleted (the admin's list, its bulk action, a cascade). Revocation and limit changes go through
services that do it themselves. Each calls a service, which acts once the transaction commits."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiClient, ApiToken
from .services import records_forget, user_records_forget


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="clients.user_deactivated")
def user_deactivated(sender, instance, **kwargs):
    if not instance.is_active:
        user_records_forget(user=instance)


@receiver(post_delete, sender=ApiToken, dispatch_uid="clients.token_deleted")
def token_deleted(sender, instance, **kwargs):
    # A deleted user or client deletes its tokens by cascade, each with this signal.
    records_forget(key_hashes=[instance.key_hash])


@receiver(post_delete, sender=ApiClient, dispatch_uid="clients.client_deleted")
def client_deleted(sender, instance, **kwargs):
    records_forget(client_ids=[instance.pk], rate_state=True)
