"""GCRA rate limiting in Redis, written once: rate policies ("N/period" strings from settings) and gcra.lua's
functions, prepended to each script that meters (the gateway's access step, the login throttle)."""

import functools
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

HERE = Path(__file__).parent
FUNCTIONS = (HERE / "gcra.lua").read_text()
PERIODS_MS = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000}


@dataclass(frozen=True)
class Policy:
    limit: int
    period_ms: int


@functools.lru_cache(maxsize=64)  # every metered request asks; settings hold a handful of rates
def parse_rate(text: str) -> Policy:
    """'600/minute' → Policy(600, 60000); also accepts 's', 'm', 'h', 'd'."""
    try:
        count, period = text.strip().split("/")
        unit = next(name for name in PERIODS_MS if name.startswith(period.strip().lower()))
        limit = int(count)
    except (ValueError, StopIteration) as exc:
        raise ImproperlyConfigured(f"Invalid rate {text!r}; expected e.g. '600/minute'.") from exc
    if limit < 1:
        raise ImproperlyConfigured(f"Invalid rate {text!r}; the count must be at least 1.")
    return Policy(limit, PERIODS_MS[unit])


def with_gcra(script: str) -> str:
    """A Lua script that calls gcra_take, gcra_give_back or expire_at, with their definitions before it."""
    return f"{FUNCTIONS}\n{script}"


def script_text(name: str) -> str:
    """svc_common/<name>.lua, with the GCRA functions before it."""
    return with_gcra((HERE / f"{name}.lua").read_text())
