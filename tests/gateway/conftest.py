"""The gateway runs in-process; the user and product services it calls are real gunicorn processes.

A request to the gateway is served one of two ways, and the `served_by` fixture runs a test both ways:
- "event loop": through the ASGI application a worker serves (gateway_project.application), as uvicorn calls it;
- "django": through Django's test client, with no event loop in front (AccessMiddleware decides alone).
Django's threads behind the event loop see only committed data, so those tests use transactional databases.
"""

import asyncio
from dataclasses import dataclass

import pytest
from django_redis import get_redis_connection

from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.utils.crypto import get_random_string

from support.asgi_client import AsgiClient, shared_loop
from support.stack import Stack
from svc_common.breaker import redis_breaker

WAYS = ("event loop", "django")


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """users and products, one replica each, on their own ports and databases."""
    stack = Stack("gwsuite", 20000, tmp_path_factory.mktemp("gwsuite"), redis_db=9)
    # The in-process gateway passes its Host, "testserver", on to the services.
    stack.env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver,other.example"
    stack.env["SERVICE_AUTH_TOKEN"] = "test-service-credential"
    # Same Redis database as the in-process gateway (settings_test), so the services' invalidations reach it.
    stack.up("--direct", "--services", "users,products")
    yield stack
    stack.down()


@pytest.fixture(autouse=True)
def upstream_urls(services, settings):
    settings.USERS_SERVICE_URL = services.url("users")
    settings.PRODUCTS_SERVICE_URL = services.url("products")


@pytest.fixture(autouse=True)
def clean_redis(settings):
    """Each test starts with no rate-limit state or cached token records (a Redis db of its own)."""
    redis_breaker.reset()
    get_redis_connection("default").flushdb()


@pytest.fixture
def point_redis_at(settings):
    """Call it to point the gateway's Redis (the default cache) elsewhere for the rest of the test: by default at a
    port where nothing listens."""

    def point(location: str = "redis://127.0.0.1:1/0") -> None:
        settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": location}}

    return point


@pytest.fixture
def issue_token(db):
    """Factory: (client, key) for a new API client with the given limits."""
    from clients.services import api_client_get_or_create, api_client_update, token_issue

    def issue(username: str = "tester", *, rate: str = "", unlimited: bool = False, ttl=None):
        api_client = api_client_get_or_create(username=username)
        api_client_update(client=api_client, rate_limit=rate, unlimited=unlimited)
        return api_client, token_issue(client=api_client, ttl=ttl)[1]

    return issue


@pytest.fixture(scope="session")
def application(django_db_setup):
    """The gateway's ASGI application, as gateway_project/asgi.py builds it (after the test database, so that its
    threads' connections are closed before the database is dropped)."""
    from gateway_project.application import GatewayApplication

    application = GatewayApplication(get_wsgi_application(), threads=4)
    yield application
    # As at a worker's shutdown: Django's threads close their database connections, so the test database can go.
    asyncio.run_coroutine_threadsafe(application.shutdown(), shared_loop()).result(10)


@pytest.fixture(params=WAYS)
def served_by(request) -> str:
    return request.param


@pytest.fixture
def make_client(served_by, application, transactional_db):
    """Factory: a client for the way this test serves requests, with default headers (HTTP_AUTHORIZATION=...)."""

    def make(**defaults):
        # Django's test client skips CSRF checks unless told otherwise; a server never does.
        return (
            AsgiClient(application, **defaults)
            if served_by == "event loop"
            else Client(enforce_csrf_checks=True, **defaults)
        )

    return make


@pytest.fixture
def authed(make_client):
    """Factory: a client that presents this token."""
    return lambda key, **defaults: make_client(HTTP_AUTHORIZATION=f"Token {key}", **defaults)


@pytest.fixture
def client(issue_token, authed):
    """A client that authenticates as an unlimited API client."""
    _, key = issue_token("unlimited-tester", unlimited=True)
    return authed(key)


@pytest.fixture
def anonymous(make_client):
    return make_client()


@dataclass
class Person:
    """A gateway user logged in with a session: their API client, a client sending their cookies, and the CSRF
    token a page would give their browser."""

    api_client: object
    browser: object
    csrf_token: str


@pytest.fixture
def log_in(issue_token, make_client):
    """Factory: a Person whose API client has these limits, logged in (a session made by Django's login())."""

    def make(username: str = "person", *, rate: str = "", unlimited: bool = False, **defaults) -> Person:
        api_client, _ = issue_token(username, rate=rate, unlimited=unlimited)
        login = Client()
        login.force_login(api_client.user)
        csrf_token = get_random_string(32)  # a CSRF secret, as Django's CSRF cookie holds
        cookies = f"{django_settings.SESSION_COOKIE_NAME}={login.cookies[django_settings.SESSION_COOKIE_NAME].value}"
        cookies += f"; {django_settings.CSRF_COOKIE_NAME}={csrf_token}"
        return Person(api_client, make_client(HTTP_COOKIE=cookies, **defaults), csrf_token)

    return make


@pytest.fixture
def silent_server():
    """A TCP listener that accepts connections and never answers: a hung upstream."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def redirecting_server():
    """An HTTP server on loopback that answers every request with a redirect elsewhere."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://internal.example/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
