"""Seed N demo user profiles; running it again creates nothing new."""

from django.core.management.base import BaseCommand

from users.services import user_seed


class Command(BaseCommand):
    help = "Ensure demo users user_1..user_N exist (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args, count, **options):
        created = user_seed(count=count)
        self.stdout.write(f"users: {created} created, {count} ensured")
