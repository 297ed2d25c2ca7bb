"""The whole system through manage_all.sh: HAProxy, 3 users, 3 products and 2 gateway replicas; and a browser.

The shared stack runs on a PostgreSQL and a Redis of the session's own, so the fault tests (and the drill)
may restart them; the machine's shared servers are never touched.
"""

import os

import pytest

from browser import chromium
from support.postgres_server import PostgresServer
from support.redis_server import RedisServer
from support.stack import Stack

# Every port stays below 32768, where the kernel's ephemeral (outgoing) ports start: a listener there
# can find its port taken by some client connection. Two runs on one machine stay apart with
# E2E_PORT_BASE=18000. A stack takes its base to base+4 and base+1000 to base+1300; the extra stacks of
# some tests take base-8000 and base-6000.
PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "30000"))
# The catalogue is larger than every load of the session together: each fresh aggregate reads a user and a
# product no one has read, since the gateway composes an aggregate from its parts' pages. The tests' loads
# take the older half upward (Stack.pairs); the drill, last, the newer half (test_drill.py, --read-ids).
SEED_COUNT = 20_000


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer(host_auth="trust")  # the stack connects as postgres, as on the machine's server
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory, postgres, redis_server):
    stack = Stack(
        f"e2e{PORT_BASE}",
        PORT_BASE,
        tmp_path_factory.mktemp("e2e"),
        postgres_port=postgres.port,
        redis_url=redis_server.url,
        seed_count=SEED_COUNT,
    )
    stack.up()
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def browser():
    reason = chromium.missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    browser = chromium.Browser()
    yield browser
    browser.quit()


@pytest.fixture
def page(browser):
    """The browser with no cookies: every service on 127.0.0.1 shares the cookie jar (ports do not split it)."""
    browser.driver.delete_all_cookies()
    return browser


def pytest_collection_modifyitems(items):
    """The drill reads across the whole catalogue and restarts Redis and PostgreSQL: it runs last, after the
    tests that rely on ids no one has read."""
    items.sort(key=lambda item: item.module.__name__ == "test_drill")
