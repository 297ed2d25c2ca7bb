"""Delete idempotency records older than IDEMPOTENCY_KEY_TTL_SECONDS (run it from cron)."""

from django.core.management.base import BaseCommand

from svc_common.idempotency import idempotency_records_prune


class Command(BaseCommand):
    help = "Delete expired Idempotency-Key records."

    def handle(self, *args, **options):
        self.stdout.write(f"pruned {idempotency_records_prune()} idempotency records")
