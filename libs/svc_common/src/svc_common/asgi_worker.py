"""gunicorn's asgi worker, stopping the way gthread does: idle keep-alive connections do not hold it open.

On SIGTERM the asgi worker stops accepting and waits, up to graceful_timeout, until every connection is
closed, idle keep-alive ones included: HAProxy's pooled connections kept a stopping gateway replica
waiting its whole graceful timeout (20 s), and the arbiter's SIGKILL at that deadline skipped the
lifespan shutdown. gthread gives kept-alive connections STOP_KEEPALIVE_LINGER (2 s) to bring one more
request, then closes them; this worker does the same.

It reaches into gunicorn's ASGIProtocol (its idle state and keep-alive close), so gunicorn is pinned
exactly; tests/deploy/test_entrypoint.py stops a gateway holding an idle connection and times it.
"""

import weakref

from gunicorn.workers.gasgi import ASGIWorker as GunicornASGIWorker
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER


class ASGIWorker(GunicornASGIWorker):
    """See the module docstring."""

    def _setup_event_loop(self):
        super()._setup_event_loop()
        self.protocols = weakref.WeakSet()
        create_server = self.loop.create_server

        async def create_tracked_server(protocol_factory, *args, **kwargs):
            def tracked_protocol():
                protocol = protocol_factory()
                self.protocols.add(protocol)
                return protocol

            return await create_server(tracked_protocol, *args, **kwargs)

        self.loop.create_server = create_tracked_server

    async def _shutdown(self):
        self.loop.call_later(STOP_KEEPALIVE_LINGER, self.close_idle_connections)
        await super()._shutdown()

    def close_idle_connections(self) -> None:
        """Close the connections waiting for a next request; a busy one closes after its answer."""
        for protocol in list(self.protocols):
            idle = protocol._awaiting_request and not protocol._request_ready.is_set()
            if idle and not protocol._finishing_calls:
                protocol._keepalive_timeout()
