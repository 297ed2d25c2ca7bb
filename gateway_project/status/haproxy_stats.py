"""HAProxy's stats CSV (HAPROXY_STATS_URL): one row per server of each backend."""

import csv
import io
from dataclasses import dataclass

import httpx

from django.conf import settings

SUMMARY_ROWS = frozenset({"FRONTEND", "BACKEND"})
# be_<tier>_live, a tier's panic-routing backend, lists the same replicas again (haproxy.cfg.template).
PANIC_ROUTING_SUFFIX = "_live"


@dataclass(frozen=True)
class ServerRow:
    backend: str
    server: str
    address: str
    state: str  # UP, DOWN, DRAIN, MAINT, or a transition such as "UP 1/2"
    check: str  # the last health check's status and detail, e.g. "L7OK 200" or "L4CON Connection refused"
    requests: int
    errors_5xx: int
    last_change_seconds: int


class StatsUnavailable(Exception):
    """HAProxy's stats page did not answer."""


def _int(value: str) -> int:
    return int(value) if value and value.isdigit() else 0


def server_rows() -> list[ServerRow]:
    """Every server of every backend, in HAProxy's order; StatsUnavailable if the page cannot be read."""
    url = settings.HAPROXY_STATS_URL
    try:
        response = httpx.get(url, timeout=settings.STATUS_FETCH_TIMEOUT, trust_env=False)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise StatsUnavailable(f"HAProxy stats unavailable at {url}: {exc}") from exc
    rows = csv.DictReader(io.StringIO(response.text.lstrip("# ")))
    return [
        ServerRow(
            backend=row["pxname"],
            server=row["svname"],
            address=row.get("addr") or "",
            state=row.get("status") or "",
            check=" ".join(part for part in (row.get("check_status"), row.get("last_chk")) if part),
            requests=_int(row.get("stot", "")),
            errors_5xx=_int(row.get("hrsp_5xx", "")),
            last_change_seconds=_int(row.get("lastchg", "")),
        )
        for row in rows
        if row.get("svname") not in SUMMARY_ROWS
        and row.get("pxname", "").startswith("be_")
        and not row["pxname"].endswith(PANIC_ROUTING_SUFFIX)
    ]
