"""Migrations of users: IdempotencyRecord on svc_common's abstract model keeps the table 0002 made; 0003
(search and filter indexes) is built online on an existing PostgreSQL table and skipped by vendor on SQLite."""

from pathlib import Path

import pytest

from support.migrations import (
    indexes_around_a_migration,
    makemigrations_check,
    model_shape,
    on_sqlite,
    record_written_before_and_read_after,
    table_shape,
)

PROJECT = Path(__file__).resolve().parents[2] / "user_project"
TRIGRAM = {"userprofile_username_upper_trgm", "userprofile_email_upper_trgm", "userprofile_full_name_upper_trgm"}
BTREE = {
    "userprofile_username_upper",
    "userprofile_email_upper",
    "userprofile_created_at_id",
    "userprofile_updated_at_id",
}


@pytest.mark.django_db(transaction=True)
def test_the_indexes_are_built_on_an_existing_table_with_its_rows_kept():
    without, after, rows = indexes_around_a_migration(
        "users",
        "0002",
        "users_userprofile",
        "INSERT INTO users_userprofile (username, email, full_name, created_at, updated_at)"
        " SELECT 'old_' || i, 'old_' || i || '@example.com', 'Old ' || i, now(), now()"
        " FROM generate_series(1, 500) i",
    )

    assert without & (TRIGRAM | BTREE) == set()
    assert after >= TRIGRAM | BTREE
    assert rows == 500


SQLITE_SCRIPT = """
import json
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from users.services import user_seed

user_seed(count=12)
client = APIClient()
client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_AUTH_TOKEN)
first = client.get("/api/users/?ordering=-username&page_size=3&cursor=").json()
second = client.get(first["next"]).json()
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users_userprofile'")
    indexes = sorted(name for (name,) in cursor.fetchall() if not name.startswith("sqlite_autoindex"))
print(json.dumps({
    "email": [u["id"] for u in client.get("/api/users/?email=USER_7@example.com").json()["results"]],
    "cursor": [u["username"] for u in first["results"] + second["results"]],
    "expected": [u["username"] for u in client.get("/api/users/?ordering=-username&page_size=6").json()["results"]],
    "indexes": indexes,
}))
"""


def test_the_sqlite_fallback_migrates_without_the_postgresql_only_indexes_and_serves_lists(tmp_path):
    found = on_sqlite(PROJECT, "user_project.settings_test", SQLITE_SCRIPT, tmp_path)
    assert found["email"] == [7]
    assert found["cursor"] == found["expected"]
    assert found["indexes"] == sorted(BTREE)


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    assert makemigrations_check("users") == "No changes detected in app 'users'"


@pytest.mark.django_db
def test_the_model_keeps_the_table_its_columns_and_its_constraint_name():
    table, columns, constraints = table_shape("users")

    assert model_shape("users") == (table, columns, ["users_idempotency_scope_key"])
    assert constraints["users_idempotency_scope_key"] == (["scope", "key"], True)


@pytest.mark.django_db(transaction=True)
def test_a_record_written_before_the_upgrade_is_read_back_whole_after_it():
    written, read = record_written_before_and_read_after("users")

    assert read == written
