"""Create a gateway user for trying the API in a browser, or set its password: `up` makes one on a local stack."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clients.services import api_client_for_user

PASSWORD_VARIABLE = "DEMO_USER_PASSWORD"  # noqa: S105 (a variable name, not a secret)


class Command(BaseCommand):
    help = f"Create USERNAME (not staff) with the password in ${PASSWORD_VARIABLE}, or set that password."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        password = os.environ.get(PASSWORD_VARIABLE)
        if not password:
            raise CommandError(f"Set {PASSWORD_VARIABLE} to the password the user logs in with.")
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = user.is_superuser = False
            user.save()
            api_client_for_user(user=user)
        self.stdout.write(f"{username}: a gateway user, not staff.")
