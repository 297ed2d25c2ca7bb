"""Run wrk with bench/wrk_report.lua and turn its JSON line into a result dict."""

import json
import os
import subprocess
from dataclasses import dataclass, field

from .plan import BENCH_DIR
from .processes import BenchError

SCRIPT = BENCH_DIR / "wrk_report.lua"
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class Target:
    """What to load: a URL, the headers to send, an optional id rotation (pattern with %d, seeded ids), and
    bench/wrk_report.lua's other request modes through its environment (`script_env`)."""

    url: str
    headers: dict = field(default_factory=dict)
    rotate_pattern: str | None = None
    rotate_count: int = 0
    script_env: dict = field(default_factory=dict)


def threads_for(connections: int) -> int:
    """One wrk thread per core, never more threads than connections (wrk refuses -t2 -c1)."""
    return max(1, min(connections, os.cpu_count() or 1))


def command(target: Target, connections: int, duration: int, timeout: int) -> list[str]:
    argv = ["wrk", f"-t{threads_for(connections)}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}s"]
    for name, value in target.headers.items():
        argv += ["-H", f"{name}: {value}"]
    return [*argv, "-s", str(SCRIPT), target.url]


def run(target: Target, connections: int, duration: int, *, timeout: int = 10) -> dict:
    """One wrk run; returns requests/s, latency percentiles in ms, status counts and socket errors."""
    env = dict(os.environ)
    if target.rotate_pattern:
        env.update(BENCH_ROTATE_PATTERN=target.rotate_pattern, BENCH_ROTATE_COUNT=str(target.rotate_count))
    env.update({name: str(value) for name, value in target.script_env.items()})
    argv = command(target, connections, duration, timeout)
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + timeout + 30)
    line = next((line for line in result.stdout.splitlines() if line.startswith(MARKER)), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-300:]}")
    return summarize(json.loads(line[len(MARKER) :]))


def summarize(raw: dict) -> dict:
    """wrk's microseconds and counters as the report uses them."""
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    statuses = {int(status): count for status, count in raw["statuses"].items()}
    errors = raw["errors"]
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        # Only successful answers count as throughput: a fast stream of 503s is not capacity.
        "ok_rps": round(ok / seconds, 1) if seconds else 0.0,
        "latency_ms": {name: round(value / 1000, 3) for name, value in latency.items()},
        "statuses": dict(sorted(statuses.items())),
        "non_2xx": sum(count for status, count in statuses.items() if not 200 <= status < 300),
        "socket_errors": errors["connect"] + errors["read"] + errors["write"],
        "timeouts": errors["timeout"],
        "errors": errors,
        # X-Cache of the answers that carried one (HIT, MISS, STALE).
        "cache": dict(sorted(raw.get("cache", {}).items())),
    }
