"""Create or fetch an API client, optionally set its limit, and print only a fresh token."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clients.services import api_client_get_or_create, api_client_update, token_issue


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (the client is created if needed)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        limits = parser.add_mutually_exclusive_group()
        limits.add_argument("--rate", help='a rate limit for this client, e.g. "100/minute"')
        limits.add_argument("--unlimited", action="store_true", help="exempt this client from rate limiting")

    def handle(self, *args, username, rate, unlimited, **options):
        with transaction.atomic():
            client = api_client_get_or_create(username=username)
            try:
                if rate is not None:
                    api_client_update(client=client, rate_limit=rate, unlimited=False)
                elif unlimited:
                    api_client_update(client=client, unlimited=True)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            _, key = token_issue(client=client)
        self.stdout.write(key)
