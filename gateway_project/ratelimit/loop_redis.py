"""Redis commands from the gateway's event loop (gunicorn's asgi worker), on connections of the loop's own.

Requests on the loop send commands concurrently, and one connection carries one command at a time: a
command takes an idle connection, or opens one, and gives it back once its reply has arrived. The
connections are made like the cache pool's (address, database, credentials, timeouts); the pool is
re-read when the cache settings or the loop change.
"""

import asyncio

from django_redis import get_redis_connection
from redis.asyncio import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from django.conf import settings

# What the loop's connections take from the cache pool's; the rest (parser, maintenance notifications,
# ...) belongs to redis-py's synchronous client.
CONNECTION_KWARGS = ("host", "port", "path", "db", "username", "password", "socket_timeout", "socket_connect_timeout")
# Idle connections kept for reuse: a burst of concurrent requests opens more, closed when given back.
MAX_IDLE = 32


class LoopConnections:
    """See the module docstring."""

    def __init__(self):
        self.loop = None
        self.config = None
        self.connection_kwargs: dict = {}
        self.idle: list = []

    async def execute(self, *command):
        connection = self._take()
        try:
            await connection.send_command(*command)
            reply = await connection.read_response()
        except RedisConnectionError:
            # The socket broke since its last use (Redis restarted): redis-py closed it, and this
            # reconnects once. A reply lost after the command ran would run it twice.
            await connection.send_command(*command)
            reply = await connection.read_response()
        except ResponseError:
            self._give_back(connection)  # Redis answered: the connection is fine
            raise
        except BaseException:
            # Cancelled or failed mid-command, a reply may still be on its way: never reuse the socket.
            await connection.disconnect(nowait=True)
            raise
        self._give_back(connection)
        return reply

    def _take(self):
        config, loop = settings.CACHES["default"], asyncio.get_running_loop()
        if config is not self.config or loop is not self.loop:
            # Django's cache handler is context-local: asked from a request task on the loop, it builds a
            # cache object for that task alone, so the pool's settings are read only here.
            kwargs = get_redis_connection("default").connection_pool.connection_kwargs
            self.connection_kwargs = {name: kwargs[name] for name in CONNECTION_KWARGS if name in kwargs}
            self.config, self.loop, self.idle = config, loop, []
        if self.idle:
            return self.idle.pop()
        kwargs = self.connection_kwargs
        return UnixDomainSocketConnection(**kwargs) if "path" in kwargs else Connection(**kwargs)

    def _give_back(self, connection) -> None:
        if len(self.idle) < MAX_IDLE:
            self.idle.append(connection)
        else:
            asyncio.get_running_loop().create_task(connection.disconnect())


loop_redis = LoopConnections()
