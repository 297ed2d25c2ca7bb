"""Rate-limit policies of the route groups: "N/period" strings from settings (parsed by svc_common.gcra)."""

from django.conf import settings

from svc_common.gcra import Policy, parse_rate

__all__ = ["Policy", "parse_rate", "policy_for"]


def policy_for(group: str) -> Policy:
    """The configured default policy of a route group (read at call time)."""
    return parse_rate(settings.RATE_LIMITS[group])
