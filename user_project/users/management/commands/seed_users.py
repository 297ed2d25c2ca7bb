"""Seed N demo user profiles (users.demo); running it again creates nothing new."""

import sys

from tqdm import tqdm

from django.core.management.base import BaseCommand

from users.services import user_seed


class Command(BaseCommand):
    help = "Ensure demo users 1..N exist (idempotent): generate_series on PostgreSQL, a million in seconds."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args, count, **options):
        with tqdm(total=count, unit=" rows", unit_scale=True, file=sys.stderr, disable=None) as bar:
            created = user_seed(count=count, progress=bar.update)
        self.stdout.write(f"users: {created} created, {count} ensured")
