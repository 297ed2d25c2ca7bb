"""Fixtures for the user service's tests (settings: user_project.settings_test)."""

import itertools

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from users.models import UserProfile

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty Redis database of this suite's own."""
    get_redis_connection("default").flushdb()


@pytest.fixture
def api_client(settings):
    """A client calling as the gateway does: with the service credential."""
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_AUTH_TOKEN)
    return client


@pytest.fixture
def make_user(db):
    """Factory: a saved profile with unique defaults."""

    def make(**overrides):
        n = next(_sequence)
        fields = {"username": f"person_{n}", "email": f"person_{n}@example.com", "full_name": f"Person {n}"}
        fields.update(overrides)
        return UserProfile.objects.create(**fields)

    return make


@pytest.fixture
def unreachable_database(transactional_db):
    """The default connection pointed at a closed port for the test, then back at the real database."""
    from django.db import connections

    connection = connections["default"]
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
