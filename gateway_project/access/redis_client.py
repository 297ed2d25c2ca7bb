"""Redis for the access step and the page cache, on the running event loop: redis-py's asyncio connections, held
in a small pool of this module's own, one per loop.

Hand-made on purpose: with redis.asyncio's own client and pool (BlockingConnectionPool, its retry wrapper and
Script objects) a cache hit cost the gateway markedly more CPU than with this pool, measured back to back on the
same stack (the figures: docs/benchmark.md, "The gateway's event loop: maintained parts, measured against what
we wrote"). A command takes an idle connection or opens one, sends, reads, and gives it back: one send and one
read per command, nothing else.

Connections are made from the same settings as the Django cache (CACHES["default"]: its URL and socket
timeouts), so the gateway talks to one Redis. A command that meets a broken connection (Redis restarted) is
sent once more on a new one; beyond that the caller's breaker takes over (svc_common.breaker).

The socket timeout is an asyncio.timeout() scope around each attempt rather than redis-py's own: with a
socket_timeout, redis-py sends through asyncio.wait_for(), which on Python 3.11 wraps the send in a task of
its own, an extra loop iteration on every command of every request.
"""

import asyncio
import hashlib
from pathlib import Path

import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from django.conf import settings

from svc_common.gcra import with_gcra

SCRIPTS = {
    name: (Path(__file__).parent / f"{name}.lua").read_text() for name in ("page_store", "page_release", "page_wait")
}
# The scripts that meter, with svc_common's GCRA functions before them.
SCRIPTS |= {
    name: with_gcra((Path(__file__).parent / f"{name}.lua").read_text())
    for name in ("access", "record_store", "give_back")
}
# Redis names scripts by their SHA-1.
SCRIPT_SHAS = {name: hashlib.sha1(text.encode()).hexdigest() for name, text in SCRIPTS.items()}  # noqa: S324
# Idle connections kept for reuse; a burst of concurrent commands opens more, closed when given back.
MAX_IDLE = 32


class LoopConnections:
    """The idle connections of one event loop, made for one cache configuration."""

    def __init__(self, config: dict):
        self.config = config
        options = config.get("OPTIONS", {})
        self.timeout = options.get("SOCKET_TIMEOUT")
        # redis-py parses the URL (host, port, db, credentials, TLS) exactly as django-redis does.
        pool = redis.asyncio.ConnectionPool.from_url(
            config["LOCATION"], socket_connect_timeout=options.get("SOCKET_CONNECT_TIMEOUT"), socket_timeout=None
        )
        self.connection_class, self.connection_kwargs = pool.connection_class, pool.connection_kwargs
        self.idle: list = []

    async def execute(self, *command):
        connection = self.idle.pop() if self.idle else self.connection_class(**self.connection_kwargs)
        try:
            try:
                reply = await self._exchange(connection, command)
            except RedisConnectionError:
                # The socket broke since its last use (Redis restarted): redis-py closed it, and this
                # reconnects once. A reply lost after the command ran would run it twice.
                reply = await self._exchange(connection, command)
        except ResponseError:
            self._give_back(connection)  # Redis answered: the connection is fine
            raise
        except BaseException:
            # Cancelled, timed out or failed mid-command, a reply may still be on its way: never reuse the socket.
            await connection.disconnect(nowait=True)
            raise
        self._give_back(connection)
        return reply

    async def _exchange(self, connection, command: tuple):
        try:
            async with asyncio.timeout(self.timeout):
                await connection.send_command(*command)
                return await connection.read_response()
        except TimeoutError:
            # As redis-py says it with a socket timeout: a RedisError, which the callers' breaker counts.
            raise RedisTimeoutError(f"Redis did not answer within {self.timeout}s") from None

    async def script(self, name: str, keys: list, args: list):
        """EVALSHA, or EVAL when Redis does not hold the script yet (first call, restart, SCRIPT FLUSH)."""
        try:
            return await self.execute("EVALSHA", SCRIPT_SHAS[name], len(keys), *keys, *args)
        except NoScriptError:
            return await self.execute("EVAL", SCRIPTS[name], len(keys), *keys, *args)

    def _give_back(self, connection) -> None:
        if len(self.idle) < MAX_IDLE:
            self.idle.append(connection)
        else:
            asyncio.get_running_loop().create_task(connection.disconnect())

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for connection in idle:
            await connection.disconnect()


_by_loop: dict[asyncio.AbstractEventLoop, LoopConnections] = {}


def loop_redis() -> LoopConnections:
    """The running loop's connections, made anew when the cache settings change (tests override them)."""
    loop = asyncio.get_running_loop()
    config = settings.CACHES["default"]
    current = _by_loop.get(loop)
    if current is None or current.config is not config:
        for closed in [known for known in _by_loop if known.is_closed()]:
            del _by_loop[closed]
        current = _by_loop[loop] = LoopConnections(config)
    return current


async def close_loop_redis() -> None:
    """Close the running loop's connections (the ASGI lifespan's shutdown)."""
    current = _by_loop.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()
