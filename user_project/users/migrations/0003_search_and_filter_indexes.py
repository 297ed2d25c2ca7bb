"""Indexes for every filter, ordering and search of the user API, built without blocking writes.

pg_trgm's GIN indexes serve `?search=` (DRF's icontains over username, email and full name, one
`UPPER(field) LIKE UPPER('%term%')` each) on PostgreSQL; the SQLite fallback skips them. The btree indexes
serve the case-insensitive username and email filters and the timestamp orderings, id as tie-breaker.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

from svc_common.index_operations import AddIndexOnline, AddPostgresIndex


def trigram(field: str) -> GinIndex:
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"userprofile_{field}_upper_trgm")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("users", "0002_idempotency_record"),
    ]

    operations = [
        TrigramExtension(),
        AddPostgresIndex("userprofile", trigram("username")),
        AddPostgresIndex("userprofile", trigram("email")),
        AddPostgresIndex("userprofile", trigram("full_name")),
        AddIndexOnline("userprofile", models.Index(Upper("username"), name="userprofile_username_upper")),
        AddIndexOnline("userprofile", models.Index(Upper("email"), name="userprofile_email_upper")),
        AddIndexOnline("userprofile", models.Index(fields=["created_at", "id"], name="userprofile_created_at_id")),
        AddIndexOnline("userprofile", models.Index(fields=["updated_at", "id"], name="userprofile_updated_at_id")),
    ]
