"""Django's threads reach the gateway's event loop (gateway_project.eventloop)."""

import asyncio
import threading

import pytest

from gateway_project import eventloop


async def where() -> str:
    return threading.current_thread().name


@pytest.fixture(autouse=True)
def no_server_loop(monkeypatch):
    """As outside a server: no loop attached (other tests of the session run one)."""
    monkeypatch.setattr(eventloop, "_server_loop", None)


def test_without_a_server_loop_a_coroutine_runs_on_the_gateways_own_loop_thread():
    assert eventloop.run_sync(where()) == "gateway-loop"


def test_a_coroutine_runs_on_the_attached_server_loop_while_it_runs():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="server-loop", daemon=True)
    thread.start()
    eventloop.attach(loop)
    try:
        assert eventloop.run_sync(where()) == "server-loop"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    assert eventloop.run_sync(where()) == "gateway-loop"  # a stopped server loop is not waited on


def test_run_sync_on_the_loop_it_would_wait_for_refuses_instead_of_deadlocking():
    async def nested():
        eventloop.attach(asyncio.get_running_loop())
        with pytest.raises(RuntimeError, match="await the coroutine instead"):
            eventloop.run_sync(where())

    asyncio.run(nested())


def test_an_exception_of_the_coroutine_reaches_the_caller():
    async def fail():
        raise ValueError("from the loop")

    with pytest.raises(ValueError, match="from the loop"):
        eventloop.run_sync(fail())
