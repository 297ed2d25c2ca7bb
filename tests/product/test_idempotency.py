"""Idempotency-Key on the product service, against the real PostgreSQL."""

import hashlib
import threading
from datetime import timedelta
from io import StringIO

import psycopg2
import pytest
from rest_framework.test import APIClient

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from products.models import IdempotencyRecord, Product
from support.pg_locks import waiting
from support.poll import poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_as(settings):
    """A client calling as the gateway does, on behalf of the given API client id."""

    def make(client_id: int) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_AUTH_TOKEN, HTTP_X_CLIENT_ID=str(client_id))
        return client

    return make


def create(client, key, sku="IDEM-1", price="5.00"):
    return client.post(
        "/api/products/", {"name": "Kept once", "sku": sku, "price": price}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_retry_with_the_same_key_and_request_replays_the_stored_response(gateway_as):
    client = gateway_as(1)

    first = create(client, "key-1")
    retry = create(client, "key-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Product.objects.filter(sku="IDEM-1").count() == 1


def test_the_same_key_with_a_different_request_is_422_and_changes_nothing(gateway_as):
    client = gateway_as(1)
    create(client, "key-2")

    response = create(client, "key-2", price="6.00")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Product.objects.values_list("price", flat=True)) == [pytest.approx(5)]


def hold_key(key: str, client_id: int = 1):
    """A connection of our own holding the advisory lock of (client, key), as a request in flight does."""
    lock_id = int.from_bytes(hashlib.sha256(f"client:{client_id}\n{key}".encode()).digest()[:8], "big", signed=True)
    holder = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=connection.settings_dict["NAME"])
    holder.autocommit = True
    with holder.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
    return holder


@pytest.mark.django_db(transaction=True)
def test_a_key_held_in_flight_past_the_wait_gets_409_and_nothing_is_written(gateway_as, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    holder = hold_key("key-busy")
    try:
        response = create(gateway_as(1), "key-busy")
    finally:
        holder.close()

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_flight"
    assert Product.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_duplicates_arriving_while_the_key_is_in_flight_wait_for_it_and_the_write_happens_once(gateway_as, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 10
    holder = hold_key("key-queued")
    responses = []

    def send() -> None:
        responses.append(create(gateway_as(1), "key-queued", sku="IDEM-QUEUED"))
        connection.close()  # this thread's own connection

    senders = [threading.Thread(target=send) for _ in range(3)]
    try:
        for sender in senders:
            sender.start()
        poll(lambda: waiting(holder, "advisory") == 3, timeout=10, what="all three to wait behind the holder")
    finally:
        holder.close()  # lets them go, one at a time
    for sender in senders:
        sender.join(timeout=10)

    assert sorted((r.status_code, r.get("Idempotent-Replayed", "")) for r in responses) == [
        (201, ""),
        (201, "true"),
        (201, "true"),
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Product.objects.filter(sku="IDEM-QUEUED").count() == 1


def test_keys_are_scoped_per_api_client(gateway_as, make_product):
    product = make_product(stock=0)

    first = gateway_as(1).patch(f"/api/products/{product.pk}/", {"stock": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    second = gateway_as(2).patch(f"/api/products/{product.pk}/", {"stock": 2}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    replay = gateway_as(1).patch(f"/api/products/{product.pk}/", {"stock": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert (first.json()["stock"], second.json()["stock"]) == (1, 2)
    assert (replay.json()["stock"], replay["Idempotent-Replayed"]) == (1, "true")
    product.refresh_from_db()
    assert product.stock == 2


def test_a_post_without_a_key_behaves_as_before(gateway_as):
    client = gateway_as(1)

    responses = [
        client.post("/api/products/", {"name": "n", "sku": f"NOKEY-{i}", "price": "1.00"}, format="json")
        for i in range(2)
    ]

    assert [r.status_code for r in responses] == [201, 201]
    assert "Idempotent-Replayed" not in responses[0]
    assert IdempotencyRecord.objects.count() == 0


def test_a_failed_write_stores_no_record_so_a_corrected_retry_may_not_reuse_the_key(gateway_as):
    client = gateway_as(1)

    invalid = create(client, "key-3", price="-1")
    valid = create(client, "key-3")

    assert (invalid.status_code, valid.status_code) == (400, 201)


def test_a_malformed_key_is_400(gateway_as):
    response = create(gateway_as(1), "has spaces in it")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"Idempotency-Key": ["Use 1 to 255 printable ASCII characters."]}


def test_expired_keys_run_again_and_are_pruned(gateway_as, settings):
    client = gateway_as(1)
    create(client, "old-key", sku="OLD-1")
    create(client, "older-key", sku="OLD-2")
    IdempotencyRecord.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 1)
    )

    rerun = create(client, "old-key", sku="OLD-3")
    out = StringIO()
    call_command("prune_idempotency_keys", stdout=out)

    assert rerun.status_code == 201 and "Idempotent-Replayed" not in rerun
    assert out.getvalue().strip() == "pruned 1 idempotency records"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["old-key"]
