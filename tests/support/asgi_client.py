"""A synchronous test client for an ASGI application, shaped like Django's test Client.

It serves each request as uvicorn would: the application runs on one event loop (on a thread of its own,
as a worker's loop), which Django's threads behind it reach through gateway_project.eventloop. Responses
answer the questions tests ask of Django's: status_code, ["Header"], `in`, get(), json(), content.
"""

import asyncio
import json
import threading
from urllib.parse import urlsplit

import httpx

_loop: asyncio.AbstractEventLoop | None = None


def shared_loop() -> asyncio.AbstractEventLoop:
    """One running event loop for every AsgiClient of the test session (a worker has one)."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
        threading.Thread(target=_loop.run_forever, name="asgi-test-loop", daemon=True).start()
    return _loop


class AsgiResponse:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes):
        self.status_code = status
        self.headers = httpx.Headers(headers)
        self.content = body

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __contains__(self, name: str) -> bool:
        return name in self.headers

    def get(self, name: str, default=None):
        return self.headers.get(name, default)

    def items(self):
        return self.headers.items()

    def has_header(self, name: str) -> bool:
        return name in self.headers

    def json(self):
        return json.loads(self.content)


class AsgiClient:
    """client.get(path, HTTP_AUTHORIZATION=...), post(path, data, content_type, ...) as with Django's Client."""

    def __init__(self, application, **defaults):
        self.application = application
        self.defaults = defaults

    def get(self, path: str, **extra):
        return self.generic("GET", path, **extra)

    def head(self, path: str, **extra):
        return self.generic("HEAD", path, **extra)

    def options(self, path: str, **extra):
        return self.generic("OPTIONS", path, **extra)

    def delete(self, path: str, **extra):
        return self.generic("DELETE", path, **extra)

    def post(self, path: str, data=b"", content_type: str = "application/json", **extra):
        return self.generic("POST", path, data, content_type, **extra)

    def patch(self, path: str, data=b"", content_type: str = "application/json", **extra):
        return self.generic("PATCH", path, data, content_type, **extra)

    def put(self, path: str, data=b"", content_type: str = "application/json", **extra):
        return self.generic("PUT", path, data, content_type, **extra)

    def generic(self, method: str, path: str, data=b"", content_type: str | None = None, **extra):
        body = data.encode() if isinstance(data, str) else data
        future = asyncio.run_coroutine_threadsafe(self.request(method, path, body, content_type, extra), shared_loop())
        return future.result(30)

    async def request(self, method: str, path: str, body: bytes, content_type: str | None, extra: dict):
        url = urlsplit(path)
        meta = {**self.defaults, **extra}
        headers = [(b"host", meta.pop("HTTP_HOST", "testserver").encode())]
        peer = meta.pop("REMOTE_ADDR", "127.0.0.1")
        if body or content_type:
            headers += [(b"content-type", (content_type or "").encode()), (b"content-length", str(len(body)).encode())]
        for key, value in meta.items():
            name = key.removeprefix("HTTP_").replace("_", "-").lower()
            headers.append((name.encode(), str(value).encode("latin-1")))
        raw_path = url.path.encode("latin-1")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": httpx.URL(path).path,  # decoded, as a server gives it
            "raw_path": raw_path,
            "query_string": url.query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "server": ("testserver", 80),
            "client": (peer, 50000),
        }
        sent: list[dict] = []
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if chunks:
                return chunks.pop()
            await asyncio.Event().wait()  # the client stays connected

        async def send(message):
            sent.append(message)

        await self.application(scope, receive, send)
        start = next(message for message in sent if message["type"] == "http.response.start")
        content = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
        return AsgiResponse(start["status"], start["headers"], b"" if method == "HEAD" else content)
