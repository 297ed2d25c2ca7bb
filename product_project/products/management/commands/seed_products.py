"""Seed N demo products; running it again creates nothing new."""

from django.core.management.base import BaseCommand

from products.services import product_seed


class Command(BaseCommand):
    help = "Ensure demo products SKU-000001..N exist (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100)

    def handle(self, *args, count, **options):
        created = product_seed(count=count)
        self.stdout.write(f"products: {created} created, {count} ensured")
