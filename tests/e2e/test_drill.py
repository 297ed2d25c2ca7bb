"""`./manage_all.sh drill --quick --with-database` against the session's stack, which runs on a PostgreSQL and
a Redis of its own, so the drill may restart both. It runs last (conftest.py): it reads the whole catalogue.

It is also the test of the products rollout and of `scale` under load (tests/e2e/test_load_balancing.py
rolls out users and the gateway), each with 0 failed requests and every keyed write checked."""

import json
import time


def test_the_quick_drill_passes_in_under_two_minutes_and_its_report_shows_every_fault(stack):
    started = time.monotonic()
    # The newer half of the seeded catalogue: rows no test reads, and none a test created (whose pages the
    # tests' loads read back, so an aggregate of one may be composed from cached pages on its first try).
    read_ids = f"{stack.seed_count // 2 + 1}-{stack.seed_count}"
    result = stack.manage("drill", "--quick", "--with-database", "--read-ids", read_ids, check=False, timeout=300)
    seconds = time.monotonic() - started

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [directory] = (stack.stack_dir / "drill").iterdir()
    report = json.loads((directory / "report.json").read_text())
    assert (directory / "report.md").read_text() in result.stdout
    assert seconds < 120, seconds
    # Every aggregate read missed the page cache, so the services served the load throughout.
    assert report["fresh_reads"] == report["requests"]["by_kind"]["read"] > 0, report["examples_of_first_try_hits"]
    # Only the reads in flight on the killed gateway replica (one per load connection) can be retried onto
    # the pages their first try stored.
    assert report["retried_reads_answered_by_cache"] <= 6

    faults = {fault["name"]: fault for fault in report["faults"]}
    assert list(faults) == [
        "SIGKILL users-2",
        "SIGKILL products-2",
        "SIGKILL gateway-2",
        "rollout products",
        "scale users 3→4→3",
        "5 HAProxy reloads",
        "Redis restart",
        "PostgreSQL restart",
    ]
    assert report["verdict"] == {"ok": True, "problems": []}
    assert report["requests"]["unexpected_failures"] == 0
    for name, fault in faults.items():
        assert fault["requests"] >= 60, name
        assert fault["unexpected_failures"] == 0, name
        if name != "PostgreSQL restart":  # there, only JSON 503s with Retry-After, and keyed writes retried
            assert (fault["failed"], fault["client_retries"]) == (0, 0), (name, fault)
        # A reload (scale does one each way) may close an idle keep-alive connection of the load's 6 under a
        # request, which the client replays (RFC 9112 §9.3.1); no other fault closes a client connection.
        reloads = {"5 HAProxy reloads": 5, "scale users 3→4→3": 2}.get(name, 0)
        assert fault["replays"] <= 6 * reloads, (name, fault)
    for tier in ("users", "products", "gateway"):
        kill = faults[f"SIGKILL {tier}-2"]
        assert kill["served_before"] > 0, kill  # HAProxy sent it requests until the moment it was killed
        assert 0 < kill["seconds_to_down"] < 2.0, kill
    assert faults["scale users 3→4→3"]["added_served"] > 0  # the added replica took its share, then left
    assert 0 < faults["Redis restart"]["outage_seconds"] < 5
    assert faults["Redis restart"]["resumed_seconds"] < 5  # caching (and the access step's records) back
    assert 0 < faults["PostgreSQL restart"]["outage_seconds"] < 15

    assert report["writes"]["lost"] == report["writes"]["duplicated"] == report["writes"]["unacknowledged"] == 0
    assert (
        report["writes"]["acknowledged"]
        == report["requests"]["by_kind"]["create"] + report["requests"]["by_kind"]["patch"]
    )
    assert report["stale_reads"] == 0
    # Retries do not multiply: one client attempt made at most 2 attempts at a tier, and 2 more only after
    # HAProxy closed the connection without an answer (stackctl.audit).
    attempts = report["attempts_per_client_request"]
    assert sorted(attempts) == ["gateway", "products", "users"]
    for value in attempts.values():
        beyond_two = sum(n for count, n in value["distribution"].items() if int(count) > 2)
        assert value["max"] <= 4 and value["p99"] <= 2 and beyond_two <= value["silent_closes"], attempts
