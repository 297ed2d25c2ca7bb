"""Writes that survive failures: a bounded write storm while product replicas' workers are SIGKILLed.

Keyed creates only: no cache answers them, so each reaches a products replica. Only a replica that HAProxy's
counters show serving since the kill before is killed; every client retry is counted with the answer or
error that caused it."""

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter

import httpx

from support.haproxy_stats import Counters

CREATES = 1000
CLIENTS = 8
MIN_KILLS = 3
RETRIES = 5
RETRYABLE = {409, 429, 502, 503, 504}
REPLICAS = ("products-1", "products-2", "products-3")


def worker_pids(master_pid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split()]


def test_a_write_storm_with_replica_kills_loses_nothing_and_doubles_nothing(stack):
    run = uuid.uuid4().hex[:8]
    headers = stack.auth_headers()
    acknowledged: dict[str, int] = {}
    given_up: list[tuple[str, object]] = []
    lock = threading.Lock()
    storm_over = threading.Event()
    kills = []  # (replica, worker pid, requests the replica received since the previous kill)
    retries: Counter = Counter()  # {the answer or error that made a client send a write again: count}

    def create_all(numbers: range) -> None:
        with httpx.Client(base_url=stack.url("gateway"), headers=headers, timeout=15) as client:
            for number in numbers:
                sku = f"STORM-{run}-{number}"
                key = uuid.uuid4().hex
                outcome: object = None
                for attempt in range(RETRIES + 1):
                    try:
                        response = client.post(
                            "/api/products/",
                            json={"name": f"Storm {number}", "sku": sku, "price": "1.00"},
                            headers={"Idempotency-Key": key},
                        )
                        outcome = response.status_code
                    except httpx.HTTPError as exc:
                        outcome = type(exc).__name__
                    if outcome == 201:
                        with lock:
                            acknowledged[sku] = response.json()["id"]
                        break
                    if (outcome not in RETRYABLE and isinstance(outcome, int)) or attempt == RETRIES:
                        break
                    with lock:
                        retries[outcome] += 1
                    time.sleep(0.05 * 2**attempt)
                if outcome != 201:
                    with lock:
                        given_up.append((sku, outcome))

    def killer() -> None:
        deadline = time.monotonic() + 120
        previous = Counters(stack.url("stats"))
        while time.monotonic() < deadline and not (storm_over.is_set() and len(kills) >= MIN_KILLS):
            time.sleep(0.8)
            now = Counters(stack.url("stats"))
            served = {replica: now.since(previous, f"be_products/{replica}") for replica in REPLICAS}
            serving = [replica for replica in REPLICAS if served[replica] > 0]  # not one still restarting
            if not serving:
                continue
            replica = random.choice(serving)  # noqa: S311 (test randomness)
            for pid in worker_pids(stack.pid(replica)):
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills.append((replica, pid, served[replica]))
                    previous = now
                except ProcessLookupError:
                    pass

    killer_thread = threading.Thread(target=killer)
    killer_thread.start()
    share = CREATES // CLIENTS
    clients = [threading.Thread(target=create_all, args=(range(i * share, (i + 1) * share),)) for i in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    storm_over.set()
    killer_thread.join()

    connection = stack.connect("products")
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT sku, count(*), min(id) FROM products_product WHERE sku LIKE %s GROUP BY sku", [f"STORM-{run}-%"]
        )
        stored = {sku: (count, product_id) for sku, count, product_id in cursor.fetchall()}
    connection.close()

    duplicates = {sku: count for sku, (count, _) in stored.items() if count > 1}
    lost = [sku for sku in acknowledged if sku not in stored]
    wrong_ids = [sku for sku, product_id in acknowledged.items() if sku in stored and stored[sku][1] != product_id]
    # At least MIN_KILLS kills, each of a replica HAProxy's counters showed serving the storm since the kill
    # before (the killer picks only such replicas).
    assert len(kills) >= MIN_KILLS, kills
    # Every retry is counted: each follows a kill (a write in flight on a killed worker whose retry by HAProxy
    # also failed, or a replica restarting), never more than every client once per kill.
    assert sum(retries.values()) <= CLIENTS * len(kills), retries
    assert duplicates == {}
    assert lost == []
    assert wrong_ids == []
    assert given_up == []
    assert len(acknowledged) == CREATES
