"""users.IdempotencyRecord on svc_common's abstract model: the table migration 0002 made stays valid."""

import pytest

from support.migrations import makemigrations_check, model_shape, record_written_before_and_read_after, table_shape


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
