"""Django's WSGI application called from an ASGI event loop, on a thread pool of its own.

The gateway runs gunicorn's asgi worker so that a page-cache hit is answered on the event loop
(pagecache.asyncpath). Every other request still goes through Django's WSGI handler, unchanged, on one
of its threads (settings.WSGI_BRIDGE_THREADS): the same number, and model, as gthread's threads.

- The environ is what gunicorn's WSGI worker would build: PATH_INFO from the raw path, headers as
  HTTP_*, repeated headers joined.
- wsgi.input reads the body from the loop only as far as Django asks, so an oversized body is refused
  by Content-Length before any of it is read, as before.
- The response is collected on the thread and sent in one piece: the gateway's answers are small JSON
  or HTML pages, and one hop back to the loop per response costs less than one per chunk.
- Not asgiref's WsgiToAsgi: it spools the whole body first, sends each chunk through async_to_sync,
  and runs on the default executor, shared with anything else on the loop.
"""

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from urllib.parse import unquote_to_bytes

# How long a Django thread waits for the next piece of a request body before giving up on it.
BODY_READ_TIMEOUT = 30.0
NO_BODY_STATUSES = frozenset({204, 304})


class ReceiveStream:
    """wsgi.input over ASGI receive(), read from a Django thread."""

    def __init__(self, receive, loop: asyncio.AbstractEventLoop):
        self._receive = receive
        self._loop = loop
        self._buffer = b""
        self._more = True

    def _pull(self) -> bool:
        """Append the next body message to the buffer; False once the body is complete."""
        if not self._more:
            return False
        future = asyncio.run_coroutine_threadsafe(self._receive(), self._loop)
        try:
            message = future.result(BODY_READ_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise OSError("timed out reading the request body") from None
        if message["type"] != "http.request":
            self._more = False
            raise OSError("the client disconnected before sending the whole body")
        self._buffer += message.get("body", b"")
        self._more = message.get("more_body", False)
        return True

    def read(self, size: int | None = -1) -> bytes:
        while (size is None or size < 0 or len(self._buffer) < size) and self._pull():
            pass
        end = len(self._buffer) if size is None or size < 0 else size
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        limited = size is not None and size >= 0
        while b"\n" not in self._buffer and (not limited or len(self._buffer) < size) and self._pull():
            pass
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        end = min(end, size) if limited else end
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data

    def __iter__(self):
        while line := self.readline():
            yield line


@lru_cache(maxsize=256)
def environ_key(header_name: bytes) -> str:
    name = header_name.decode("latin-1").upper().replace("-", "_")
    return name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"


def wsgi_environ(scope: dict) -> dict:
    """The WSGI environ of an ASGI http scope, without wsgi.input (added when Django runs)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": unquote_to_bytes(raw_path.partition(b"?")[0]).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        key = environ_key(name)
        value = value.decode("latin-1")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


class WsgiBridge:
    """Runs a WSGI application for ASGI requests on its own threads; see the module docstring."""

    def __init__(self, application, *, threads: int):
        self.application = application
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="django")
        return self._executor

    async def serve(self, environ: dict, receive, send) -> None:
        loop = asyncio.get_running_loop()
        environ["wsgi.input"] = ReceiveStream(receive, loop)
        status, headers, body = await loop.run_in_executor(self.executor, self._run, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _run(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Call the application on a Django thread and collect its whole answer (WSGI's rules)."""
        started: list = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info=None):
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        iterable = self.application(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        status_line, headers = started
        status = int(status_line[:3])
        body = b"".join(chunks)
        encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        if status not in NO_BODY_STATUSES and not any(name == b"content-length" for name, _ in encoded):
            encoded.append((b"content-length", str(len(body)).encode()))
        if environ["REQUEST_METHOD"] == "HEAD" or status in NO_BODY_STATUSES:
            body = b""
        return status, encoded, body

    async def lifespan(self, receive, send) -> None:
        """On the worker's shutdown, let the requests running on Django's threads finish first."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._executor is not None:
                    await asyncio.to_thread(self._executor.shutdown, wait=True)
                    self._executor = None
                await send({"type": "lifespan.shutdown.complete"})
                return
