"""The whole system through manage_all.sh: HAProxy, 3 users, 3 products and 2 gateway replicas; and a browser."""

import os

import pytest

from browser import chromium
from support.stack import Stack

# Every port stays below 32768, where the kernel's ephemeral (outgoing) ports start: a listener there
# can find its port taken by some client connection. Two runs on one machine stay apart with
# E2E_PORT_BASE=18000. A stack takes its base to base+4 and base+1000 to base+1300; the extra stacks of
# some tests take base-8000 and base-6000.
PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "30000"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    stack = Stack(
        f"e2e{PORT_BASE}", PORT_BASE, tmp_path_factory.mktemp("e2e"), redis_db=12 if PORT_BASE == 30000 else 14
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
