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
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import lru_cache
from urllib.parse import unquote_to_bytes, urlsplit

# How long a Django thread waits for the next piece of a request body before giving up on it.
BODY_READ_TIMEOUT = 30.0
NO_BODY_STATUSES = frozenset({204, 304})


class ReceiveStream:
    """wsgi.input over ASGI receive(), read from a Django thread."""

    def __init__(self, receive, loop: asyncio.AbstractEventLoop):
        self._receive = receive
        self._loop = loop
        self._buffer = bytearray()
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
        return self._take(end)

    def readline(self, size: int | None = -1) -> bytes:
        limited = size is not None and size >= 0
        while b"\n" not in self._buffer and (not limited or len(self._buffer) < size) and self._pull():
            pass
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        return self._take(min(end, size) if limited else end)

    def _take(self, end: int) -> bytes:
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    @property
    def unread(self) -> bool:
        """Whether body bytes the application never asked for may remain (of a request that has a body)."""
        return self._more or bool(self._buffer)

    def __iter__(self):
        while line := self.readline():
            yield line


def declares_body(environ: dict) -> bool:
    length = environ.get("CONTENT_LENGTH", "")
    return (length not in ("", "0")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def request_path(scope: dict) -> bytes:
    """The raw path without query or fragment; for an absolute-form target (`GET http://host/p`), its path."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    if not raw.startswith(b"/"):
        raw = urlsplit(raw).path or b"/"
    return raw.partition(b"?")[0].partition(b"#")[0]


@lru_cache(maxsize=256)
def environ_key(header_name: bytes) -> str:
    name = header_name.decode("latin-1").upper().replace("-", "_")
    return name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"


def wsgi_environ(scope: dict) -> dict:
    """The WSGI environ of an ASGI http scope, without wsgi.input (added when Django runs)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": unquote_to_bytes(request_path(scope)).decode("latin-1"),
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

    def __init__(self, application, *, threads: int, thread_exit=None):
        self.application = application
        self.threads = threads
        # Called on each thread when the bridge closes, e.g. to close the thread's database connections.
        self.thread_exit = thread_exit
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
            # Nothing is sent before the application returns, so an error page may always replace the
            # headers (PEP 3333's exc_info); a second call without exc_info is the application's bug.
            if started and exc_info is None:
                raise AssertionError("start_response() called twice without exc_info")
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
        if declares_body(environ) and environ["wsgi.input"].unread:
            # An answer given before the whole body was read (401, 413, 429...): the server closes the
            # connection rather than read the rest, so the client and HAProxy are told not to reuse it.
            encoded.append((b"connection", b"close"))
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
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Let the running requests finish, run thread_exit on every thread, then stop the threads."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if self.thread_exit is not None:
            # A barrier holds each exit call until all have started, so each lands on a thread of its own.
            barrier = threading.Barrier(self.threads)

            def exit_thread() -> None:
                with suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)
                self.thread_exit()

            for future in [executor.submit(exit_thread) for _ in range(self.threads)]:
                future.result()
        executor.shutdown(wait=True)
