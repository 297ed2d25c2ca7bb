"""The gateway's ASGI application: the access step on the event loop for every /api/ request, page-cache hits and
the aggregate answered there, and everything else handed to Django (on a2wsgi's threads) with its decision.

How a request is served, in order:
1. The access step (access.step.decide) runs on the loop: token, rate limit and page lookup in one script.
2. A hit is answered here (answers.page_answer), and so is a request that waited for another's fill.
3. A JSON read (GET or HEAD) of a known route that is not cached is fetched here: the aggregate
   GET /api/<user_id>/<product_id>/ (both upstream calls at once, aggregation.services) and the proxied
   lists and details (proxy.services); the answer is built by the same builders, and the page is stored
   after the answer is sent.
4. Anything else goes to Django with the decision attached (access.middleware.HANDED_OVER): writes, token
   creation, 401 and 429 answers, tokens the database must verify, the browsable API, unknown routes.

Why the loop: these requests need no Django request, view or thread; on the event loop they cost a
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

from access import pages, routes, step
from access.answers import JSON, Answer, error_answer, outer_headers, page_answer, passed_answer, server_error_answer
from access.decision import Decision, Verdict
from access.middleware import HANDED_OVER
from access.redis_client import close_loop_redis
from access.request import AccessRequest
from aggregation.services import user_product_fetch
from gateway_project import eventloop
from proxy.services import forwarded_query, proxy_forward
from svc_common import metrics
from svc_common.request_id import REQUEST_ID_HEADER
from svc_common.request_log import log_request
from svc_common.server_timing import HEADER as SERVER_TIMING
from svc_common.server_timing import timing_header
from upstream.clients import close_pools
from upstream.headers import returned_headers, upstream_request_headers

logger = logging.getLogger("gateway.application")


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
        if scope["type"] == "http" and routes.needs_access(scope["path"]):
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
        if request.declares_body:
            return decision  # Django reads the body, or refuses it (413), and carries the decision out
        if decision.verdict is Verdict.WAIT:
            decision = await step.wait_for_fill(decision)
        cache_ms = round((time.perf_counter() - started) * 1000, 2)
        if decision.verdict is Verdict.HIT:
            answer = page_answer(request, decision.page, cache_state="HIT", rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, None)
            return ANSWERED
        if route is not None and _loop_fetches(request, decision):
            await self._fetch(send, request, route, decision, started, cache_ms)
            return ANSWERED
        return decision

    async def _fetch(self, send, request, route, decision: Decision, started: float, cache_ms: float) -> None:
        """Fetch a JSON read from upstream on the loop, answer, then store the page if this request fills it."""
        headers = upstream_request_headers(
            request.meta,
            request_id=request.request_id,
            client_id=decision.client_id,
            host=request.host,
            scheme=request.scheme,
        )
        fill = decision.fill
        try:
            status, answer_headers, body, timings, parts = await _upstream(request, route, headers, fill)
        except APIException as exc:
            if fill is not None:
                await pages.release(fill=fill)
            answer = error_answer(exc, rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, None)
            return
        page = pages.cacheable_page(status, answer_headers, body) if fill is not None else None
        if page is None:
            if fill is not None:
                await pages.release(fill=fill)
            answer = passed_answer(status, answer_headers, body, rate=decision.rate)
            await self._answer(send, request, route, decision, answer, started, cache_ms, timings)
            return
        answer = page_answer(request, page, cache_state=fill.cache_state, rate=decision.rate)
        await self._answer(send, request, route, decision, answer, started, cache_ms, timings)
        await pages.store(fill=fill, page=page)
        await pages.store_all(parts)

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
        await close_loop_redis()
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


async def _upstream(request: AccessRequest, route, headers: dict, fill) -> tuple[int, list, bytes, dict, list]:
    """(status, headers, body, upstream timings, fetched parts to store) of a known route's JSON read, by the same
    code Django's views run."""
    if route.service is None:
        user_id, product_id = route.ids
        body, timings, parts = await user_product_fetch(
            user_id=int(user_id), product_id=int(product_id), headers=headers, parts=fill.parts if fill else ()
        )
        return 200, [("Content-Type", JSON)], body, timings, parts
    path = route.template.replace("{id}", route.ids[0]) if route.ids else route.template
    query = forwarded_query(request.path, request.method, request.query)
    upstream, timings = await proxy_forward(
        service=route.service, method=request.method, path=path, query=query, headers=headers, content=None
    )
    return upstream.status, returned_headers(upstream.headers), upstream.body, timings, []


def _loop_fetches(request: AccessRequest, decision: Decision) -> bool:
    """A JSON read of a known route, admitted and not cached: fetched on the loop. Django serves the rest of those
    routes (HTML for the browsable API, other methods, paths with encoded separators)."""
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
