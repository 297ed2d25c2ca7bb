"""Read HAProxy's stats page as CSV, as an operator's tooling would."""

import csv
import io
import time

import httpx


def servers(stats_url: str, backend: str) -> dict[str, dict]:
    """{server name: stats row} for one backend."""
    text = httpx.get(f"{stats_url}/stats;csv", timeout=5).text.lstrip("# ")
    return {
        row["svname"]: row
        for row in csv.DictReader(io.StringIO(text))
        if row["pxname"] == backend and row["svname"] not in ("FRONTEND", "BACKEND")
    }


def wait_for_status(stats_url: str, backend: str, server: str, prefix: str, timeout: float) -> float:
    """Poll until the server's status starts with prefix; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        row = servers(stats_url, backend).get(server)
        if row and row["status"].startswith(prefix):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{backend}/{server} not {prefix} after {timeout}s: {servers(stats_url, backend).get(server)}")
