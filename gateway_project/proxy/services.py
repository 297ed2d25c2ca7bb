"""Forward a request to its service: one implementation, awaited on the event loop (gateway_project.application) and run
from Django's proxy view through eventloop.run_sync."""

import time

from access.routes import canonical_query, match
from upstream.clients import call
from upstream.http import Response

CACHEABLE_METHODS = frozenset({"GET", "HEAD"})


def forwarded_query(path_info: str, method: str, query: str) -> str:
    """A read of a route the gateway's contract knows gets its canonical query: only the route's own parameters,
    sorted, as in the page cache's key. Anything else is passed as sent."""
    route = match(path_info)
    if route is None or method not in CACHEABLE_METHODS:
        return query
    return canonical_query(route.template, query)


async def proxy_forward(
    *, service: str, method: str, path: str, query: str, headers: dict, content: bytes | None
) -> tuple[Response, dict]:
    """(the service's answer, upstream timings in ms). A HEAD goes as the GET it describes, so the page cache only
    ever sees whole answers; the server leaves the body out."""
    started = time.perf_counter()
    response = await call(
        service,
        "GET" if method == "HEAD" else method,
        path + (f"?{query}" if query else ""),
        headers=headers,
        content=content,
    )
    return response, {service: round((time.perf_counter() - started) * 1000, 2)}
