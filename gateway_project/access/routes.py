"""The /api/ routes the access step knows, the public ones it leaves alone, and the query parameters each one
accepts (from the gateway's generated OpenAPI contract, apidocs.contract), for canonical cache keys and
canonical upstream queries."""

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from apidocs import contract

# \Z, not $: "$" also matches before a trailing newline ("/api/1/1/\n"), which Django's resolver refuses.
AGGREGATE_PATH = re.compile(r"/api/([1-9][0-9]{0,17})/([1-9][0-9]{0,17})/?\Z")
PROXIED_PATH = re.compile(r"/api/(users|products)(?:/([1-9][0-9]{0,17}))?/?\Z")
TOKEN_PATH = re.compile(r"/api/auth/token/?\Z")
# Percent-encoded "/", "\", "." and "%" in a proxied path could reach another route upstream (proxy.paths).
ENCODED_SEPARATORS = re.compile(r"%(2f|5c|2e|25)", re.IGNORECASE)
# Pages for people, open to all and never metered: the API root and the interactive documentation.
PUBLIC_PATH = re.compile(r"/api/(?:docs/|redoc/)?\Z")


@dataclass(frozen=True, slots=True)
class Route:
    name: str  # the URL pattern's name in gateway_project/urls.py, for logs and metrics
    template: str  # the path in the OpenAPI document
    service: str | None  # the proxied service; None for the aggregate
    ids: tuple[str, ...]  # the object ids in the path: (user_id, product_id), (id,) or ()


def match(path: str) -> Route | None:
    """The known route of a path, or None."""
    found = AGGREGATE_PATH.match(path)
    if found:
        return Route("user-product", "/api/{user_id}/{product_id}/", None, found.groups())
    found = PROXIED_PATH.match(path)
    if found:
        service, object_id = found.groups()
        if object_id:
            return Route("proxy", f"/api/{service}/{{id}}/", service, (object_id,))
        return Route("proxy", f"/api/{service}/", service, ())
    return None


@functools.cache
def query_parameters(template: str) -> frozenset[str]:
    """The query parameters the gateway's contract declares for GET on a path template."""
    return frozenset(parameter["name"] for parameter in contract.query_parameters(template))


def canonical_query(template: str, query: str) -> str:
    """The query string with only the route's own parameters, sorted by name (repeated ones keep their order),
    each kept exactly as sent: random parameters can neither mint cache entries nor reach the service."""
    known = query_parameters(template)
    kept = []
    for part in query.split("&"):
        name = unquote_plus(part.partition("=")[0])
        if name in known:
            kept.append((name, part))
    kept.sort(key=lambda item: item[0])
    return "&".join(part for _, part in kept)


def needs_access(path: str) -> bool:
    """Whether a path goes through the access step: every /api/ path but the public pages."""
    return path.startswith("/api/") and PUBLIC_PATH.match(path) is None


def has_encoded_separator(raw_path: str) -> bool:
    return ENCODED_SEPARATORS.search(raw_path) is not None
