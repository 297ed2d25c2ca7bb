"""Fetch a user and a product concurrently and combine them: one implementation, awaited on the event loop
(gateway_project.application) and run from Django's aggregate view through eventloop.run_sync."""

import asyncio
import json
import time

from upstream.clients import call
from upstream.exceptions import UpstreamBadResponse, UpstreamBusy, UpstreamTimeout, UpstreamUnavailable

from .exceptions import PartsNotFound

PARTS = (("user", "users"), ("product", "products"))
# What the load balancer in front of a service answers when no replica can: passed on, naming the service.
UPSTREAM_FAILURES = {502: UpstreamUnavailable, 503: UpstreamBusy, 504: UpstreamTimeout}


async def _fetch(service: str, object_id: int, headers: dict) -> tuple[int, bytes | None, float]:
    started = time.perf_counter()
    response = await call(service, "GET", f"/api/{service}/{object_id}/", headers=headers)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status == 404:
        return 404, None, elapsed_ms
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
    return 200, response.body, elapsed_ms


async def user_product_fetch(*, user_id: int, product_id: int, headers: dict) -> tuple[bytes, dict]:
    """(the JSON body {"user", "product"}, upstream timings in ms); both calls run at once.

    The body embeds each service's JSON as it came (it was checked to be an object): no re-encoding.
    """
    ids = {"user": user_id, "product": product_id}
    outcomes = await asyncio.gather(
        *(_fetch(service, ids[part], headers) for part, service in PARTS), return_exceptions=True
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    results = dict(zip((part for part, _ in PARTS), outcomes, strict=True))
    missing = {part: ids[part] for part, (status_code, _, _) in results.items() if status_code == 404}
    if missing:
        raise PartsNotFound(missing)
    body = b'{"user": ' + results["user"][1] + b', "product": ' + results["product"][1] + b"}"
    timings = {service: round(results[part][2], 2) for part, service in PARTS}
    return body, timings
