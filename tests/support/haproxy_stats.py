"""Read HAProxy's stats page as CSV, as an operator's tooling would."""

import csv
import io
import time

import httpx


def rows(stats_url: str) -> dict[str, dict]:
    """{"<backend>/<server>": stats row} for every server, plus "<backend>/BACKEND" for each backend."""
    text = httpx.get(f"{stats_url}/stats;csv", timeout=5).text.lstrip("# ")
    return {
        f"{row['pxname']}/{row['svname']}": row
        for row in csv.DictReader(io.StringIO(text))
        if row["svname"] != "FRONTEND"
    }


def servers(stats_url: str, backend: str) -> dict[str, dict]:
    """{server name: stats row} for one backend."""
    prefix = f"{backend}/"
    return {
        name.removeprefix(prefix): row
        for name, row in rows(stats_url).items()
        if name.startswith(prefix) and not name.endswith("/BACKEND")
    }


class Counters:
    """Snapshots of HAProxy's counters; the difference between two says what a tier or server received."""

    FIELDS = ("stot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "eresp", "econ", "wretr", "wredis", "srv_abrt")

    def __init__(self, stats_url: str):
        self.stats_url = stats_url
        self.values = {name: {f: int(row.get(f) or 0) for f in self.FIELDS} for name, row in rows(stats_url).items()}

    def since(self, earlier: "Counters", name: str, field: str = "stot") -> int:
        """How much `field` of "<backend>/<server>" (or "<backend>/BACKEND") grew since `earlier`."""
        return self.values.get(name, {}).get(field, 0) - earlier.values.get(name, {}).get(field, 0)


def wait_for_status(stats_url: str, backend: str, server: str, prefix: str, timeout: float) -> float:
    """Poll until the server's status starts with prefix; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        row = servers(stats_url, backend).get(server)
        if row and row["status"].startswith(prefix):
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{backend}/{server} not {prefix} after {timeout}s: {servers(stats_url, backend).get(server)}")


def wait_until_serving(stats_url: str, backend: str, server: str, timeout: float = 20) -> None:
    """Poll until the server is UP and out of its slow start (a throttled server queues what it cannot take)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = servers(stats_url, backend).get(server) or {}
        if row.get("status") == "UP" and row.get("throttle", "") in ("", "100"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{backend}/{server} not serving after {timeout}s: {servers(stats_url, backend).get(server)}")
