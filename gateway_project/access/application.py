"""The gateway's ASGI application: the access step on the event loop for every /api/ request, page-cache hits and
the aggregate answered there, and everything else handed to Django (on a2wsgi's threads) with its decision.

How a request is served, in order:
1. The access step (access.step.decide) runs on the loop: token, rate limit and page lookup in one script.
2. A hit is answered here (answers.page_answer), and so is a request that waited for another's fill.
3. The aggregate GET /api/<user_id>/<product_id>/, for a JSON client, is fetched here: both upstream calls
   on the loop (aggregation.services), the answer built by the same builder, the page stored after it is sent.
4. Anything else goes to Django with the decision attached (access.middleware.HANDED_OVER): proxied pages
   and writes, token creation, 401 and 429 answers, tokens the database must verify, the browsable API.

Why the loop: a hit or an aggregate needs no Django request, view or thread; on the event loop it costs a
fraction of the CPU (docs/benchmark.md, "Where the CPU goes").
"""

import asyncio
import logging
import threading
import time
from contextlib import suppress

from a2wsgi import WSGIMiddleware
from rest_framework.exceptions import APIException

from django.db import connections

from aggregation.services import user_product_fetch
from gateway_project import eventloop
from svc_common import metrics
from svc_common.request_id import REQUEST_ID_HEADER
from svc_common.request_log import log_request
from svc_common.server_timing import HEADER as SERVER_TIMING
from svc_common.server_timing import timing_header
from upstream.clients import close_pools
from upstream.headers import upstream_request_headers

from . import pages, routes, step
from .answers import JSON, Answer, error_answer, json_answer, outer_headers, page_answer, server_error_answer
from .decision import Decision, Verdict
from .middleware import HANDED_OVER
from .pages import CachedPage
from .redis_client import close_loop_client
from .request import AccessRequest

logger = logging.getLogger("gateway.access")


class GatewayApplication:
    """ASGI 3 application over Django's WSGI application; see the module docstring."""

    def __init__(self, django_application, *, threads: int):
        self.threads = threads
        self.django = WSGIMiddleware(django_application, workers=threads)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        decision = None
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            eventloop.attach(asyncio.get_running_loop())
            request = AccessRequest.from_scope(scope)
            try:
                decision = await self._on_loop(request, send)
            except Exception:
                logger.exception("Unhandled error on %s %s", scope["method"], scope["path"])
                # The error shape, never the server's plain-text page.
                answer = server_error_answer()
                await _send(send, answer.status, answer.headers, answer.body)
                return
            if decision is ANSWERED:
                return
        handed = HANDED_OVER.set(decision)
        try:
            await self.django(scope, receive, send)
        finally:
            HANDED_OVER.reset(handed)

    async def _on_loop(self, request: AccessRequest, send):
        """ANSWERED, or the decision to hand to Django (None: Django decides itself)."""
        started = time.perf_counter()
        route = request.route
        if request.host is None or outer_headers(request, "/api/", Answer(200, [], b"")) is None:
            return None  # Django refuses the host, or its middleware answers by itself (e.g. an HTTPS redirect)
        decision = await step.decide(request)
        if decision.verdict is Verdict.WAIT:
            decision = await step.wait_for_fill(decision)
        cache_ms = round((time.perf_counter() - started) * 1000, 2)
        if decision.verdict is Verdict.HIT:
            answer = page_answer(request, decision.page, cache_state="HIT", rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, None)
            return ANSWERED
        if route is not None and route.service is None and _loop_serves_aggregate(request, decision):
            await self._aggregate(send, request, route, decision, started, cache_ms)
            return ANSWERED
        return decision

    async def _aggregate(self, send, request, route, decision: Decision, started: float, cache_ms: float) -> None:
        """Fetch the user and the product on the loop, answer, then store the page if this request fills it."""
        headers = upstream_request_headers(
            request.meta,
            request_id=request.request_id,
            client_id=decision.client_id,
            host=request.host,
            scheme=request.scheme,
        )
        fill = decision.fill
        try:
            body, timings = await user_product_fetch(
                user_id=int(route.ids[0]), product_id=int(route.ids[1]), headers=headers
            )
        except APIException as exc:
            if fill is not None:
                await pages.release(fill=fill)
            answer = error_answer(exc, rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, None)
            return
        if fill is None:
            answer = json_answer(body, rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, timings)
            return
        page = CachedPage(pages.etag_for(body), JSON, body)
        answer = page_answer(request, page, cache_state=fill.cache_state, rate=decision.rate)
        await self._answer(send, request, route, decision, answer, started, cache_ms, timings)
        await pages.store(fill=fill, page=page)

    async def _answer(self, send, request, route, decision, answer: Answer, started, cache_ms, timings) -> None:
        """Send an answer with what Django's outer middleware would add to it, then log and count it."""
        cache_state = next((value for name, value in answer.headers if name == "X-Cache"), None)
        added = outer_headers(request, _sample_path(route), answer) or []
        vary = next((value for name, value in added if name == "Vary"), None)
        headers = [(name, vary if vary is not None and name == "Vary" else value) for name, value in answer.headers]
        headers += [(name, value) for name, value in added if name != "Vary"]
        elapsed_ms = (time.perf_counter() - started) * 1000
        headers.append((REQUEST_ID_HEADER, request.request_id))
        headers.append((SERVER_TIMING, timing_header(timings, cache_ms, cache_state, elapsed_ms)))
        await _send(send, answer.status, headers, answer.body)
        log_request(
            {
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "route": route.name,
                "status": answer.status,
                "duration_ms": round(elapsed_ms, 2),
                "client_ip": request.client_ip,
                "client_id": decision.client_id,
                "cache": cache_state,
                "cache_ms": cache_ms,
                "upstream_ms": timings,
            }
        )
        metrics.count(route.name, request.method, answer.status, elapsed_ms / 1000, cache_state)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                eventloop.attach(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def shutdown(self) -> None:
        """The server has let running requests finish: close the connections they left open."""
        await self._close_django_threads()
        await close_loop_client()
        await close_pools()

    async def _close_django_threads(self) -> None:
        """Each of Django's threads closes its database connections (a barrier puts one call on each thread)."""
        barrier = threading.Barrier(self.threads)

        def close() -> None:
            with suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=2)
            connections.close_all()

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.django.executor, close) for _ in range(self.threads)))


ANSWERED = object()


def _loop_serves_aggregate(request: AccessRequest, decision: Decision) -> bool:
    """The aggregate for a JSON client, admitted and not cached: fetched on the loop. Django serves the rest of
    that route (HTML for the browsable API, other methods, paths with encoded separators)."""
    return (
        decision.verdict in (Verdict.FILL, Verdict.BYPASS)
        and request.method in pages.CACHEABLE_METHODS
        and pages.wants_json(request)
        and not routes.has_encoded_separator(request.raw_path)
    )


def _sample_path(route) -> str:
    """The route's path with every id set to 1: Django's outer middleware judges routes, not ids."""
    return route.template.replace("{user_id}", "1").replace("{product_id}", "1").replace("{id}", "1")


async def _send(send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": body})
