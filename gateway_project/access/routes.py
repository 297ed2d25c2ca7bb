"""The /api/ routes the access step knows, and the query parameters each one accepts (from the gateway's OpenAPI
document, the contract it publishes), for canonical cache keys and canonical upstream queries."""

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

import yaml

# \Z, not $: "$" also matches before a trailing newline ("/api/1/1/\n"), which Django's resolver refuses.
AGGREGATE_PATH = re.compile(r"/api/([1-9][0-9]{0,17})/([1-9][0-9]{0,17})/?\Z")
PROXIED_PATH = re.compile(r"/api/(users|products)(?:/([1-9][0-9]{0,17}))?/?\Z")
TOKEN_PATH = re.compile(r"/api/auth/token/?\Z")
# Percent-encoded "/", "\", "." and "%" in a proxied path could reach another route upstream (proxy.paths).
ENCODED_SEPARATORS = re.compile(r"%(2f|5c|2e|25)", re.IGNORECASE)
OPENAPI_DOCUMENT = Path(__file__).resolve().parent.parent / "apidocs" / "openapi.yaml"


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
    """The query parameters the document declares for GET on a path template."""
    document = yaml.safe_load(OPENAPI_DOCUMENT.read_text())
    components = document.get("components", {}).get("parameters", {})
    operation = document["paths"].get(template, {}).get("get", {})
    names = set()
    for parameter in [*document["paths"].get(template, {}).get("parameters", []), *operation.get("parameters", [])]:
        if "$ref" in parameter:
            parameter = components[parameter["$ref"].rsplit("/", 1)[-1]]
        if parameter.get("in") == "query":
            names.add(parameter["name"])
    return frozenset(names)


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


def has_encoded_separator(raw_path: str) -> bool:
    return ENCODED_SEPARATORS.search(raw_path) is not None
