"""The rows of `manage_all.sh status`: each process's pid, HAProxy state and counters, and its log's last error."""

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

from . import config, haproxy, operations
from .config import SERVICES
from .processes import log_file, read_pid, replica_name
from .state import StackState

TAIL_BYTES = 256 * 1024
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})
# gunicorn's own lines: "[2026-01-01 12:00:00 +0000] [123] [ERROR] Worker (pid:124) was sent SIGKILL!"
_GUNICORN_LINE = re.compile(r"^\[[\d-]+ ([\d:]+) [^\]]*\] \[\d+\] \[(ERROR|CRITICAL)\] (.*)$")
# HAProxy's own lines: "[ALERT]    (1234) : config : ..."
_HAPROXY_LINE = re.compile(r"^\[(ALERT|EMERG)\]\s+\(\d+\)\s*:\s*(.*)$")
_HEALTH_ROUTES = frozenset({"healthz", "readyz"})
COLUMNS = (("SERVICE", 10), ("REPLICA", 12), ("PORT", 7), ("PID", 9), ("HAPROXY", 9), ("CHECK", 8), ("REQUESTS", 10))


@dataclass
class Row:
    service: str
    replica: str
    port: str
    pid: str
    state: str  # UP, DOWN, DRAIN, MAINT (HAProxy), "-" without HAProxy, "absent" if HAProxy lacks it
    check: str  # HAProxy's last check status, e.g. L7OK, L4CON
    requests: str
    last_error: str

    def line(self) -> str:
        cells = (self.service, self.replica, self.port, self.pid, self.state, self.check, self.requests)
        return "".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)) + self.last_error


def header() -> str:
    return "".join(f"{name:<{width}}" for name, width in COLUMNS) + "LAST ERROR"


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def last_error(name: str) -> str:
    """'HH:MM:SS message' of the newest ERROR/CRITICAL line in <name>.log (JSON, gunicorn or HAProxy), else '-'."""
    path = log_file(name)
    try:
        with open(path, "rb") as log:
            log.seek(max(0, path.stat().st_size - TAIL_BYTES))
            lines = log.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return "-"
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("level") in ERROR_LEVELS:
                clock = str(record.get("time", ""))[11:19]
                return _short(f"{clock} {record.get('message', '')}")
        elif match := _GUNICORN_LINE.match(line):
            return _short(f"{match.group(1)} {match.group(3)}")
        elif match := _HAPROXY_LINE.match(line):
            return _short(match.group(2))
    return "-"


def requests_from_metrics(port: int) -> str:
    """Requests a replica answered (health checks excepted), summed from its /metrics; '-' if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:  # noqa: S310
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return "-"
    total = 0.0
    for line in text.splitlines():
        if line.startswith("django_http_requests_total{"):
            labels, _, value = line.rpartition(" ")
            route = re.search(r'route="([^"]*)"', labels)
            if route is None or route.group(1) not in _HEALTH_ROUTES:
                total += float(value)
    return str(int(total))


def rows(state: StackState) -> list[Row]:
    """One row per replica, then HAProxy's."""
    stats = {}
    haproxy_pid = read_pid("haproxy") if state.mode == "haproxy" else None
    if haproxy_pid:
        stats = {(row["pxname"], row["svname"]): row for row in haproxy.stats()}
    result = []
    for name, indexes in state.replicas.items():
        for index in indexes:
            replica = replica_name(SERVICES[name], index)
            port = operations.replica_port(state, name, index)
            stat = stats.get((haproxy.BACKENDS[name], replica))
            pid = read_pid(replica)
            if stat is None:
                lb_state, check = ("-" if state.mode == "direct" else "absent"), "-"
                requests = requests_from_metrics(port) if pid else "-"
            else:
                lb_state = stat["status"].split(" ")[0] or "-"  # "UP 1/2" (going down) shows as UP
                check = stat.get("check_status") or "-"
                requests = stat.get("stot") or "0"
            result.append(
                Row(name, replica, str(port), str(pid or "dead"), lb_state, check, requests, last_error(replica))
            )
    if state.mode == "haproxy":
        frontends = [row for (_, svname), row in stats.items() if svname == "FRONTEND" and row["pxname"] != "fe_stats"]
        served = str(sum(int(row.get("req_tot") or 0) for row in frontends)) if frontends else "-"
        state_word = "OPEN" if haproxy_pid else "-"
        port = str(config.stats_port())
        result.append(
            Row("haproxy", "-", port, str(haproxy_pid or "dead"), state_word, "-", served, last_error("haproxy"))
        )
    return result
