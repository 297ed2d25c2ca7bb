"""stackctl.audit's count of attempts per client request from HAProxy's log lines, and the drill's report."""

import json

from stackctl import audit, drill


def haproxy_line(frontend: str, request_id: str, server: str, retries: str) -> str:
    return json.dumps(
        {"frontend": frontend, "server": server, "request_id": request_id, "status": 200, "retries": retries}
    )


def test_attempts_per_client_attempt_are_one_plus_retries_at_each_tier_and_none_without_a_replica(tmp_path):
    lines = [
        haproxy_line("fe_gateway", "run1-000001.1", "gateway-1", "0"),
        haproxy_line("fe_users", "run1-000001.1", "users-1", "0"),
        haproxy_line("fe_products", "run1-000001.1", "products-2", "+1"),  # redispatched once
        haproxy_line("fe_gateway", "run1-000002.1", "gateway-2", "1"),
        haproxy_line("fe_products", "run1-000002.1", "<NOSRV>", "0"),  # HAProxy answered itself
        haproxy_line("fe_users", "run1-000003.1", "<NOSRV>", "+1"),  # one replica tried, its retry found none
        haproxy_line("fe_users", "run1-000003.1", "users-2", "+1"),  # ... and the gateway's replay
        haproxy_line("fe_products", "other-000001.1", "products-1", "+1"),  # another run
        "[WARNING]  (12) : Server be_users/users-2 is DOWN",
    ]
    (tmp_path / "haproxy.log").write_text("\n".join(lines) + "\n")

    tiers = audit.attempts_per_request(tmp_path, "run1")

    assert audit.as_dict(tiers) == {
        "gateway": {"max": 2, "p99": 2, "distribution": {1: 1, 2: 1}, "silent_closes": 0},
        "users": {"max": 3, "p99": 3, "distribution": {1: 1, 3: 1}, "silent_closes": 1},
        "products": {"max": 2, "p99": 2, "distribution": {2: 1}, "silent_closes": 0},
    }


def test_the_markdown_report_gives_the_verdict_and_one_row_per_fault():
    report = {
        "run": "20260101T000000Z",
        "quick": True,
        "with_database": False,
        "duration_seconds": 61.5,
        "requests": {
            "total": 1000,
            "by_outcome": {"200": 900, "201": 100},
            "errors": {},
            "by_kind": {"read": 600, "create": 100},
            "replays": 0,
            "client_retries": 0,
            "failed": 0,
            "unexpected_failures": 0,
            "p99_ms": 250.0,
        },
        "faults": [
            {
                "name": "SIGKILL users-2",
                "requests": 120,
                "failed": 0,
                "unexpected_failures": 0,
                "replays": 0,
                "client_retries": 0,
                "p99_ms": 180.5,
                "served_before": 40,
                "seconds_to_down": 0.41,
                "outage_seconds": None,
            }
        ],
        "writes": {"acknowledged": 100, "lost": 0, "duplicated": 0, "unacknowledged": 0, "unacknowledged_applied": 0},
        "stale_reads": 0,
        "attempts_per_client_request": {"gateway": {"max": 1, "p99": 1}, "users": {"max": 2, "p99": 1}},
        "verdict": {"ok": True, "problems": []},
    }

    text = drill.markdown(report)

    assert text.splitlines()[0] == "# Fault drill 20260101T000000Z (quick)"
    assert "Verdict: **pass**" in text
    assert "| SIGKILL users-2 | 120 | 0 (0) | 0 | 0 | 180.5 | 40 | 0.41 | - |" in text
    assert "Keyed writes: 100 acknowledged; in PostgreSQL 0 lost, 0 duplicated; 0 never acknowledged" in text
    assert "gateway max 1, p99 1, users max 2, p99 1." in text
