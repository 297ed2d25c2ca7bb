"""Rate-limit policies: "N/period" strings from settings, one per route group."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PERIODS_MS = {"second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000}


@dataclass(frozen=True)
class Policy:
    limit: int
    period_ms: int


@functools.lru_cache(maxsize=64)  # every API request asks; settings hold a handful of rates
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


def policy_for(group: str) -> Policy:
    """The configured default policy of a route group (read at call time)."""
    return parse_rate(settings.RATE_LIMITS[group])
