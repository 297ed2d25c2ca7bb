"""The WSGI bridge: Django's WSGI application called from the gateway's event loop, on its own threads."""

import asyncio
import sys
import threading

import pytest

from django.core.wsgi import get_wsgi_application

from gateway_project.wsgi_bridge import WsgiBridge, wsgi_environ
from pagecache.asyncpath import AsyncFastPathApplication


def http_scope(method="GET", raw_path=b"/", query_string=b"", headers=()):
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "server": ("127.0.0.1", 9001),
        "client": ("10.0.0.7", 41000),
    }


def body_receiver(*chunks: bytes, disconnect: bool = False):
    """receive() handing out the body in the given pieces; it records how many it was asked for."""
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    else:
        messages[-1]["more_body"] = False

    async def receive():
        receive.calls += 1
        return messages.pop(0)

    receive.calls = 0
    return receive


def serve(bridge_or_app, scope, receive):
    sent = []

    async def send(message):
        sent.append(message)

    async def run():
        if isinstance(bridge_or_app, WsgiBridge):
            await bridge_or_app.serve(wsgi_environ(scope), receive, send)
        else:
            await bridge_or_app(scope, receive, send)

    asyncio.run(run())
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


def test_the_environ_is_the_one_gunicorns_wsgi_worker_builds():
    scope = http_scope(
        method="POST",
        raw_path=b"/api/caf%C3%A9/",
        query_string=b"page=2&q=%C3%A9",
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", b"12"),
            (b"accept", b"text/html"),
            (b"accept", b"application/json"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-request-id", b"bridge-env-1"),
        ],
    )

    environ = wsgi_environ(scope)

    assert {name: value for name, value in environ.items() if not name.startswith("wsgi.")} == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/caf\xc3\xa9/",
        "QUERY_STRING": "page=2&q=%C3%A9",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "9001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "REMOTE_PORT": "41000",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
        "HTTP_ACCEPT": "text/html,application/json",
        "HTTP_COOKIE": "a=1; b=2",
        "HTTP_X_REQUEST_ID": "bridge-env-1",
    }
    assert (environ["wsgi.url_scheme"], environ["wsgi.multithread"]) == ("http", True)


def test_an_absolute_form_target_or_a_fragment_leaves_only_the_path_in_path_info():
    absolute = wsgi_environ(http_scope(raw_path=b"http://gateway.example/api/1/2/?x=1"))
    fragment = wsgi_environ(http_scope(raw_path=b"/api/1/2/#top"))

    assert (absolute["PATH_INFO"], fragment["PATH_INFO"]) == ("/api/1/2/", "/api/1/2/")


def echo_application(environ, start_response):
    """Reads the body the way Django does (a line, then sized reads) and reports where it ran."""
    stream = environ["wsgi.input"]
    first_line = stream.readline()
    rest = b""
    while chunk := stream.read(3):
        rest += chunk
    body = b"|".join([first_line, rest, threading.current_thread().name.encode()])
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [body[:5], body[5:]]


def test_the_body_is_read_from_the_loop_as_the_application_asks_and_the_answer_comes_back_whole():
    bridge = WsgiBridge(echo_application, threads=2)
    receive = body_receiver(b"first li", b"ne\nsecond ", b"part")

    status, headers, body = serve(bridge, http_scope(method="POST"), receive)

    first_line, rest, thread = body.split(b"|")
    assert (status, first_line, rest) == (201, b"first line\n", b"second part")
    assert thread.startswith(b"django")
    assert headers == {b"content-type": b"text/plain", b"content-length": str(len(body)).encode()}
    assert receive.calls == 3
    bridge.close()


def test_a_head_answer_keeps_the_length_of_the_get_answer_but_sends_no_body():
    bridge = WsgiBridge(echo_application, threads=2)

    status, headers, body = serve(bridge, http_scope(method="HEAD"), body_receiver(b"abc"))

    assert (status, body) == (201, b"")
    assert int(headers[b"content-length"]) == len(b"abc||") + len(b"django_0")
    bridge.close()


def test_an_error_page_replaces_headers_given_before_it_and_a_second_plain_call_is_refused():
    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("failed after start_response")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "application/json")], sys.exc_info())
        try:
            start_response("200 OK", [])
        except AssertionError as exc:
            return [str(exc).encode()]
        return [b"accepted a second start_response"]

    bridge = WsgiBridge(application, threads=1)

    status, headers, body = serve(bridge, http_scope(), body_receiver(b""))

    assert (status, headers[b"content-type"]) == (500, b"application/json")
    assert body == b"start_response() called twice without exc_info"
    bridge.close()


def test_a_client_gone_mid_body_is_an_oserror_for_the_application():
    seen = []

    def application(environ, start_response):
        try:
            environ["wsgi.input"].read()
        except OSError as exc:
            seen.append(str(exc))
        start_response("400 Bad Request", [])
        return [b""]

    bridge = WsgiBridge(application, threads=1)

    status, _, _ = serve(bridge, http_scope(method="POST"), body_receiver(b"partial", disconnect=True))

    assert (status, seen) == (400, ["the client disconnected before sending the whole body"])
    bridge.close()


@pytest.mark.django_db(transaction=True)
def test_an_oversized_body_gets_a_json_413_before_any_of_it_is_read(settings, issue_token):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    _, key = issue_token("big-body", unlimited=True)
    application = AsyncFastPathApplication(get_wsgi_application())
    receive = body_receiver(b"x" * 150)
    scope = http_scope(
        method="POST",
        raw_path=b"/api/products/",
        headers=[
            (b"authorization", f"Token {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"150"),
        ],
    )

    status, headers, body = serve(application, scope, receive)

    assert (status, headers[b"content-type"]) == (413, b"application/json")
    # The body was never read: the connection must not carry another request.
    assert headers[b"connection"] == b"close"
    assert (
        body
        == b'{"error": {"code": "payload_too_large", "message": "The request body exceeds 100 bytes.", "detail": null}}'
    )
    assert receive.calls == 0
    application.bridge.close()


def test_lifespan_shutdown_waits_for_the_requests_running_on_djangos_threads_then_runs_thread_exit():
    release = threading.Event()
    order = []

    def slow_application(environ, start_response):
        order.append(f"released: {release.wait(2)}")
        start_response("200 OK", [])
        return [b""]

    bridge = WsgiBridge(slow_application, threads=2, thread_exit=lambda: order.append("thread exit"))

    async def run():
        lifespan_messages = asyncio.Queue()
        for kind in ("lifespan.startup", "lifespan.shutdown"):
            lifespan_messages.put_nowait({"type": kind})

        async def lifespan_send(message):
            order.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                # Set from the loop: a shutdown that blocked the loop would never let the request go.
                asyncio.get_running_loop().call_later(0.05, release.set)

        request = asyncio.ensure_future(bridge.serve(wsgi_environ(http_scope(raw_path=b"/slow/")), None, _discard))
        await asyncio.sleep(0)
        await bridge.lifespan(lifespan_messages.get, lifespan_send)
        await request

    asyncio.run(run())

    assert order == [
        "lifespan.startup.complete",
        "released: True",
        "thread exit",
        "thread exit",
        "lifespan.shutdown.complete",
    ]


async def _discard(message):
    pass
