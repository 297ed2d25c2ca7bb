"""Idempotency-Key on SQLite (the fallback without PostgreSQL): a concurrent duplicate waits, then gets the
first one's answer, never a 500.

The product service runs for real on a SQLite file, and this test holds SQLite's write lock while two requests
with one key arrive, so both are in flight together when it lets go.
"""

import sqlite3
import threading

import httpx
import pytest

from support.stack import Stack


@pytest.fixture(scope="module")
def sqlite_products(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sqlite-products")
    stack = Stack("sqliteproducts", 21000, directory, redis_db=5)
    database = directory / "products.sqlite3"
    stack.env["PRODUCTS_DATABASE_URL"] = f"sqlite:///{database}"
    stack.env["SERVICE_AUTH_TOKEN"] = "test-service-credential"
    stack.up("--direct", "--services", "products")
    yield stack, database
    stack.down()


def test_a_concurrent_duplicate_key_gets_the_first_answer_replayed_and_the_write_happens_once(sqlite_products):
    stack, database = sqlite_products
    headers = {"X-Service-Token": "test-service-credential", "X-Client-ID": "1", "Idempotency-Key": "sqlite-dup"}
    document = {"name": "Twice sent", "sku": "SQLITE-DUP-1", "price": "3.00"}
    responses = []

    def send():
        responses.append(
            httpx.post(f"{stack.url('products')}/api/products/", json=document, headers=headers, timeout=30)
        )

    blocker = sqlite3.connect(database, isolation_level=None, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")  # SQLite's write lock: both requests arrive and wait for it
    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    threading.Event().wait(3)  # both requests reach the service, whose writers then wait for the lock
    blocker.execute("COMMIT")
    for sender in senders:
        sender.join()
    created = blocker.execute("SELECT COUNT(*) FROM products_product WHERE sku = 'SQLITE-DUP-1'").fetchone()[0]
    blocker.close()

    assert sorted(
        (response.status_code, response.headers.get("Idempotent-Replayed", "")) for response in responses
    ) == [
        (201, ""),
        (201, "true"),
    ]
    assert responses[0].json() == responses[1].json()
    assert created == 1
    retry = httpx.post(f"{stack.url('products')}/api/products/", json=document, headers=headers, timeout=10)
    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (201, "true")
