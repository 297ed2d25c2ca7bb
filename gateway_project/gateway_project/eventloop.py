"""Django's threads reach the gateway's event loop: run a coroutine there and wait for its result.

Redis for the access step and every upstream call are asynchronous, written once, and run on an event loop.
Under the ASGI server that is the server's own loop (asgi.py attaches it); Django's views and middleware,
which run on the a2wsgi threads behind it, hand their coroutines to it. Without a server (the Django test
client, runserver, management commands) a loop of its own runs on a daemon thread.
"""

import asyncio
import threading

_lock = threading.Lock()
_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None


def attach(loop: asyncio.AbstractEventLoop) -> None:
    """The ASGI server's loop: coroutines from Django's threads run there from now on."""
    global _server_loop
    _server_loop = loop


def run_sync(coroutine, *, timeout: float | None = None):
    """Run a coroutine on the gateway's loop from a thread that is not running it, and return its result."""
    loop = _server_loop if _server_loop is not None and _server_loop.is_running() else _own()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise RuntimeError("run_sync() called on the event loop it would wait for; await the coroutine instead")
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result(timeout)
    except TimeoutError:
        future.cancel()
        raise


def _own() -> asyncio.AbstractEventLoop:
    global _own_loop
    with _lock:
        if _own_loop is None or _own_loop.is_closed():
            _own_loop = asyncio.new_event_loop()
            threading.Thread(target=_own_loop.run_forever, name="gateway-loop", daemon=True).start()
        return _own_loop
