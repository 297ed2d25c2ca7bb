"""Rate-limit rejections, counted by limit group: read, write, auth (incl. password guesses), unavailable."""

import json
import re

from prometheus_client import Counter

REJECTIONS = Counter(
    "gateway_rate_limited_total",
    "Requests refused with 429 by the gateway's rate limiter, by limit group.",
    ["group"],
)
_POLICY_GROUP = re.compile(r'^\s*"([A-Za-z0-9_-]{1,32})"')


def rejection_group(response) -> str:
    """The group named by RateLimit-Policy; without one, a throttled password guess (auth) or a limiter outage."""
    match = _POLICY_GROUP.match(response.get("RateLimit-Policy", ""))
    if match:
        return match.group(1)
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError, AttributeError):
        code = None
    return "unavailable" if code == "rate_limiter_unavailable" else "auth"


class RejectionMetricsMiddleware:
    """Counts the 429s of the access middleware; sits just outside it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 429:
            REJECTIONS.labels(rejection_group(response)).inc()
        return response
