"""Seed N demo users and N demo products; running it again creates nothing new."""

from django.core.management.base import BaseCommand

from catalog.services import catalog_seed


class Command(BaseCommand):
    help = "Ensure demo users and products 1..N exist (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args, count, **options):
        created = catalog_seed(count=count)
        self.stdout.write(f"catalog: {created} rows created, {count} users and products ensured")
