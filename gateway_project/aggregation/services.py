"""Fetch a user and a product concurrently and combine them: one implementation, awaited on the event loop
(gateway_project.application) and run from Django's aggregate view through eventloop.run_sync.

The page cache keeps each part as the detail page the proxy would answer with (access.pages.Part): a part
whose page is cached and current is not fetched, and a part that is fetched comes back as a page to store.
On skewed traffic a user or a product is far more popular than any one pair of them, so most aggregates
that are not cached whole are composed from cached parts.
"""

import asyncio
import json
import time

from access.pages import CachedPage, Fill, Part, cacheable_page
from upstream.clients import call
from upstream.exceptions import (
    UpstreamBadResponse,
    UpstreamBusy,
    UpstreamDegraded,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from upstream.headers import returned_headers

from .exceptions import PartsNotFound

PARTS = (("user", "users"), ("product", "products"))
# What the load balancer in front of a service answers when no replica can: passed on, naming the service.
UPSTREAM_FAILURES = {502: UpstreamUnavailable, 503: UpstreamBusy, 504: UpstreamTimeout}


async def _fetch(service: str, object_id: int, headers: dict) -> tuple[int, bytes | None, float, CachedPage | None]:
    started = time.perf_counter()
    response = await call(service, "GET", f"/api/{service}/{object_id}/", headers=headers)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status == 404:
        return 404, None, elapsed_ms, None
    if response.status == 503 and (reason := _service_refusal(response.body)) is not None:
        raise UpstreamDegraded(service, reason)
    if response.status in UPSTREAM_FAILURES:
        raise UPSTREAM_FAILURES[response.status](service)
    if response.status != 200:
        raise UpstreamBadResponse(service)
    try:
        valid = isinstance(json.loads(response.body), dict)
    except ValueError:
        valid = False
    if not valid:
        raise UpstreamBadResponse(service)
    page = cacheable_page(response.status, returned_headers(response.headers), response.body)
    return 200, response.body, elapsed_ms, page


def _service_refusal(body: bytes) -> str | None:
    """The error code of a 503 the service itself answered (e.g. database_unavailable); None for the load
    balancer's own 503, which says it is the load balancer's."""
    try:
        error = json.loads(body)["error"]
        if (error.get("detail") or {}).get("source") == "load_balancer":
            return None
        return str(error["code"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


async def _cached(body: bytes) -> tuple[int, bytes, None, None]:
    return 200, body, None, None


async def user_product_fetch(
    *, user_id: int, product_id: int, headers: dict, parts: tuple[Part, ...] = ()
) -> tuple[bytes, dict, list[tuple[Fill, CachedPage]]]:
    """(the JSON body {"user", "product"}, upstream timings in ms, the fetched parts' pages to store).

    The parts not cached are fetched at once. The body embeds each part's JSON as the service sent it (it was
    checked to be an object): no re-encoding.
    """
    ids = {"user": user_id, "product": product_id}
    cached = {name: part for (name, _), part in zip(PARTS, parts, strict=False) if part.body is not None}
    outcomes = await asyncio.gather(
        *(
            _cached(cached[part].body) if part in cached else _fetch(service, ids[part], headers)
            for part, service in PARTS
        ),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    results = dict(zip((part for part, _ in PARTS), outcomes, strict=True))
    missing = {part: ids[part] for part, (status_code, *_) in results.items() if status_code == 404}
    if missing:
        raise PartsNotFound(missing)
    body = b'{"user": ' + results["user"][1] + b', "product": ' + results["product"][1] + b"}"
    timings = {service: round(results[part][2], 2) for part, service in PARTS if results[part][2] is not None}
    fetched = [
        (part.fill(), results[name][3])
        for (name, _), part in zip(PARTS, parts, strict=False)
        if name not in cached and results[name][3] is not None
    ]
    return body, timings, fetched
