"""The gateway's ASGI application: page-cache hits answered on the event loop, the rest by Django.

The same rules as the WSGI fast path (pagecache.fastpath), by the same functions; only the access
script's round trip is awaited instead of blocking a thread. A request that finds another one filling
its page waits for that page here too, and is answered as a hit when it arrives. A request that is not
a hit goes to Django's WSGI application on the bridge's threads, with the script's decision attached,
so no request is ever metered twice.

Why: on a hit, gunicorn's gthread loop cost more CPU than the answer itself; its asgi worker parses and
writes a keep-alive request in a fraction of that (docs/benchmark.md, "Where the CPU goes").
"""

import time
from dataclasses import replace

from django.conf import settings
from django.db import connections

from clients.middleware import DECISION_KEY
from gateway_project.wsgi_bridge import WsgiBridge, wsgi_environ
from ratelimit import limiter

from .fastpath import hit_answer, hit_candidate, is_hit
from .store import page_wait_async


class AsyncFastPathApplication:
    """ASGI 3 application over Django's WSGI application; see the module docstring."""

    def __init__(self, django_application):
        self.bridge = WsgiBridge(
            django_application, threads=settings.WSGI_BRIDGE_THREADS, thread_exit=connections.close_all
        )

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self.bridge.lifespan(receive, send)
        # Nothing here speaks WebSocket: returning without accepting makes the server refuse the handshake.

    async def _http(self, scope, receive, send) -> None:
        environ = wsgi_environ(scope)
        access = hit_candidate(environ)
        if access is not None:
            started = time.perf_counter()
            decision = await limiter.check_async(**access)
            if decision.verdict == "ok" and decision.page[:1] == ("wait",):
                decision = await self._wait_for_fill(access, decision)
            if is_hit(decision):
                status, headers, body = hit_answer(environ, access, decision, started)
                await send(
                    {
                        "type": "http.response.start",
                        "status": int(status[:3]),
                        "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            environ[DECISION_KEY] = decision
        await self.bridge.serve(environ, receive, send)

    @staticmethod
    async def _wait_for_fill(access: dict, decision: limiter.Decision) -> limiter.Decision:
        """Another request is filling this page: wait for it here, not on one of Django's threads, which
        the filler may be queued for. If it does not come, Django fetches the page without waiting again."""
        _, generations, freshness = decision.page
        page = await page_wait_async(spec=access["page"], generations=generations)
        return replace(decision, page=("hit", *page) if page else ("waited", generations, freshness))
