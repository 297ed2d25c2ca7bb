"""Redis for the access step and the page cache: redis.asyncio on the running event loop, one pool per loop.

The pool is built from the same settings as the Django cache (CACHES["default"]: its URL and socket
timeouts), so the gateway talks to one Redis. A command that meets a broken connection (Redis restarted)
is retried once on a new one; beyond that the caller's breaker takes over (svc_common.breaker).
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from django.conf import settings

SCRIPTS = {
    name: (Path(__file__).parent / f"{name}.lua").read_text() for name in ("access", "page_store", "page_release")
}
# A request holds at most one connection at a time; past this many, requests wait for one.
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class LoopClient:
    """A loop's client and the scripts registered on it."""

    config: dict
    client: redis.asyncio.Redis
    scripts: dict  # name → AsyncScript (EVALSHA, and EVAL when Redis does not hold the script yet)


_clients: dict[asyncio.AbstractEventLoop, LoopClient] = {}


def loop_client() -> LoopClient:
    """The running loop's client, rebuilt when the cache settings change (tests override them)."""
    loop = asyncio.get_running_loop()
    config = settings.CACHES["default"]
    current = _clients.get(loop)
    if current is None or current.config is not config:
        for closed in [known for known in _clients if known.is_closed()]:
            del _clients[closed]
        current = _clients[loop] = _build(config)
    return current


def _build(config: dict) -> LoopClient:
    options = config.get("OPTIONS", {})
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        config["LOCATION"],
        max_connections=MAX_CONNECTIONS,
        timeout=options.get("SOCKET_CONNECT_TIMEOUT"),
        socket_connect_timeout=options.get("SOCKET_CONNECT_TIMEOUT"),
        socket_timeout=options.get("SOCKET_TIMEOUT"),
        retry=Retry(NoBackoff(), 1),
    )
    client = redis.asyncio.Redis.from_pool(pool)
    return LoopClient(config, client, {name: client.register_script(text) for name, text in SCRIPTS.items()})


async def close_loop_client() -> None:
    """Close the running loop's connections (the ASGI lifespan's shutdown)."""
    current = _clients.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.client.aclose()
