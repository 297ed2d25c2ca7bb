"""A minimal HTTP/1.1 client for the gateway's upstreams, on the event loop: keep-alive connections pooled per
address, responses parsed by httptools (the parser uvicorn uses), explicit timeouts, no redirects.

Hand-written on purpose: on the bench machine httpx's async transport cost many times this client's CPU per
upstream call (the figures: docs/benchmark.md, "The gateway's event loop: maintained parts, measured against
what we wrote"). An aggregate miss makes two calls; with httpx they alone cost more than the gateway's whole
overhead budget on a miss.

Timeouts are asyncio.timeout() scopes, not asyncio.wait_for(): on Python 3.11 wait_for wraps what it waits for
in a task and a second future, a loop iteration and two callbacks per wait (3.12 rebuilt it on timeout()).

Its upstreams are the services' HAProxy frontends, so it needs only what they speak: HTTP/1.1 with
Content-Length or chunked bodies. It does not follow redirects, keep cookies or read proxy settings.
"""

import asyncio
from dataclasses import dataclass, field

import httptools

# An answer larger than this is refused rather than held in memory (the services' pages are far smaller).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_FORBIDDEN_IN_HEADERS = frozenset(b"\r\n\0")


class UpstreamHTTPError(Exception):
    """Base of the client's failures."""


class ConnectFailed(UpstreamHTTPError):
    """The connection could not be opened (refused, unreachable, or not within the connect timeout)."""


class ReadTimedOut(UpstreamHTTPError):
    """The answer did not complete within the read timeout."""


class ProtocolFailed(UpstreamHTTPError):
    """The peer closed the connection mid-answer, or sent something that is not a valid answer."""


class AnswerCutShort(ProtocolFailed):
    """The connection closed after the answer began and before it ended: a replica killed while HAProxy relayed
    its answer, which HAProxy cannot retry once the head has gone out."""


class StaleConnection(ProtocolFailed):
    """A pooled keep-alive connection was closed by the peer before any byte of the answer: RFC 9112 §9.3.1
    lets a client replay an idempotent request on a new connection then."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header (names compared case-insensitively)."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass
class _Exchange:
    """What one request has received so far."""

    done: asyncio.Future
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    size: int = 0
    started: bool = False
    headers_complete: bool = False
    has_length: bool = False


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: _Exchange | None = None
        self.closed = False
        self.reused = False
        self.keep_alive = False  # read when the answer completes: the parser forgets it for the next one

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:
            self.close()  # bytes nobody asked for: the connection cannot be trusted any more
            return
        self.exchange.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolFailed(f"invalid answer: {exc}"))

    def connection_lost(self, exc) -> None:
        self.closed = True
        exchange = self.exchange
        if exchange is None or exchange.done.done():
            return
        if exchange.headers_complete and not exchange.has_length:
            self.on_message_complete()  # an answer delimited by the end of the connection
        elif not exchange.started and self.reused:
            self._fail(StaleConnection("the pooled connection was closed before any answer"))
        elif exchange.started:
            self._fail(AnswerCutShort("the connection closed before the answer was complete"))
        else:
            self._fail(ProtocolFailed("the connection closed before any answer"))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        header = name.decode("latin-1"), value.decode("latin-1")
        self.exchange.headers.append(header)
        if header[0].lower() in ("content-length", "transfer-encoding"):
            self.exchange.has_length = True

    def on_headers_complete(self) -> None:
        self.exchange.headers_complete = True

    def on_body(self, body: bytes) -> None:
        exchange = self.exchange
        exchange.size += len(body)
        if exchange.size > MAX_RESPONSE_BYTES:
            self._fail(ProtocolFailed(f"the answer exceeds {MAX_RESPONSE_BYTES} bytes"))
            return
        exchange.body.append(body)

    def on_message_complete(self) -> None:
        exchange = self.exchange
        if exchange is None or exchange.done.done():
            return
        self.keep_alive = self.parser.should_keep_alive()
        response = Response(self.parser.get_status_code(), exchange.headers, b"".join(exchange.body))
        exchange.done.set_result(response)

    # the client's side

    async def send(self, data: bytes, timeout: float) -> Response:
        self.exchange = _Exchange(asyncio.get_running_loop().create_future())
        self.transport.write(data)
        try:
            async with asyncio.timeout(timeout):
                return await self.exchange.done
        except TimeoutError:
            self.close()
            raise ReadTimedOut(f"no complete answer within {timeout}s") from None
        except BaseException:
            self.close()  # cancelled or failed mid-exchange: an answer may still arrive, never reuse
            raise
        finally:
            self.exchange = None

    @property
    def reusable(self) -> bool:
        return not self.closed and self.keep_alive and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if self.exchange is not None and not self.exchange.done.done():
            self.exchange.done.set_exception(exc)
        self.close()


class Pool:
    """Keep-alive connections to one address, at most `size` of them open at once."""

    def __init__(self, host: str, port: int, size: int):
        self.host, self.port = host, port
        self.host_header = f"{host}:{port}".encode("latin-1")
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(size)

    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        connect_timeout: float,
        read_timeout: float,
        fresh: bool = False,
    ) -> Response:
        """One exchange; a stale pooled connection raises StaleConnection (the caller decides on a replay, which
        asks for a fresh connection: when a proxy reloads, all of its idle connections close at once)."""
        data = _serialise(method, target, self.host_header, headers, body)
        try:
            async with asyncio.timeout(connect_timeout):
                await self.slots.acquire()
        except TimeoutError:
            raise ConnectFailed(f"no free connection to {self.host}:{self.port} within {connect_timeout}s") from None
        try:
            connection = await self._take(connect_timeout, fresh)
            response = await connection.send(data, read_timeout)
            if connection.reusable:
                connection.reused = True
                self.idle.append(connection)
            else:
                connection.close()
            return response
        finally:
            self.slots.release()

    async def _take(self, connect_timeout: float, fresh: bool) -> _Connection:
        while self.idle and not fresh:
            connection = self.idle.pop()
            if not connection.closed and not connection.transport.is_closing():
                return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, connection = await loop.create_connection(_Connection, self.host, self.port)
        except TimeoutError:
            raise ConnectFailed(f"could not connect to {self.host}:{self.port} within {connect_timeout}s") from None
        except OSError as exc:
            raise ConnectFailed(f"could not connect to {self.host}:{self.port}: {exc}") from exc
        return connection

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


def _serialise(method: str, target: str, host: bytes, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request's bytes; a Host among the headers (the client's, passed on) replaces the pool's address."""
    forwarded_host = headers.get("Host")
    if forwarded_host is not None and _FORBIDDEN_IN_HEADERS.isdisjoint(forwarded_host.encode("latin-1", "replace")):
        host = forwarded_host.encode("latin-1", "replace")
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + host]
    for name, value in headers.items():
        if name == "Host":
            continue
        encoded = value.encode("latin-1", "replace")
        if _FORBIDDEN_IN_HEADERS.isdisjoint(encoded):  # a header that could split the request is dropped
            lines.append(name.encode("latin-1") + b": " + encoded)
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")
