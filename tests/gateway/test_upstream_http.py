"""The gateway's upstream HTTP/1.1 client (upstream.http) against small servers that misbehave on purpose."""

import asyncio

import pytest

from upstream import http


class Server:
    """An HTTP/1.1 server on loopback whose answers a test scripts; it counts connections and requests."""

    def __init__(self, answer):
        self.answer = answer  # async (reader, writer, request_head) -> None
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _serve(self, reader, writer):
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                self.requests.append(head + await reader.readexactly(length))
                await self.answer(reader, writer, head)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes = b'{"ok": true}', *, close_after: bool = False):
    async def answer(reader, writer, head):
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        if close_after:
            writer.close()

    return answer


def request(pool, method="GET", headers=None, body=None, read_timeout=2.0):
    return pool.request(method, "/api/users/1/", headers or {}, body, connect_timeout=1.0, read_timeout=read_timeout)


def test_sequential_requests_reuse_one_keep_alive_connection():
    async def scenario():
        async with Server(ok()) as server:
            pool = http.Pool("127.0.0.1", server.port, 4)
            responses = [await request(pool) for _ in range(3)]
            return server.connections, [(r.status, r.body, r.header("content-type")) for r in responses]

    connections, answers = asyncio.run(scenario())

    assert connections == 1
    assert answers == [(200, b'{"ok": true}', "application/json")] * 3


def test_a_pooled_connection_the_server_closed_is_stale_and_a_new_one_serves_the_next_request():
    async def scenario():
        async with Server(ok(close_after=True)) as server:
            pool = http.Pool("127.0.0.1", server.port, 4)
            first = await request(pool)
            await asyncio.sleep(0)  # the close reaches the client
            second = await request(pool)
            return server.connections, first.status, second.status

    assert asyncio.run(scenario()) == (2, 200, 200)


def test_a_connection_closed_after_the_request_was_sent_raises_stale_connection_only_if_reused():
    async def scenario():
        answers = iter([ok(), None])

        async def answer(reader, writer, head):
            step = next(answers)
            if step is None:
                writer.transport.abort()  # the request arrived, no answer: a reused connection went stale
            else:
                await step(reader, writer, head)

        async with Server(answer) as server:
            pool = http.Pool("127.0.0.1", server.port, 4)
            await request(pool)
            with pytest.raises(http.StaleConnection):
                await request(pool)
            return len(server.requests)

    assert asyncio.run(scenario()) == 2


def test_a_chunked_answer_is_read_whole():
    async def chunked(reader, writer, head):
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        await writer.drain()

    async def scenario():
        async with Server(chunked) as server:
            return (await request(http.Pool("127.0.0.1", server.port, 4))).body

    assert asyncio.run(scenario()) == b"hello world"


def test_an_answer_ended_by_closing_the_connection_is_read_whole():
    async def until_close(reader, writer, head):
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length")
        await writer.drain()
        writer.close()

    async def scenario():
        async with Server(until_close) as server:
            return (await request(http.Pool("127.0.0.1", server.port, 4))).body

    assert asyncio.run(scenario()) == b"no length"


def test_an_answer_that_does_not_complete_in_time_raises_read_timed_out():
    async def silent(reader, writer, head):
        await asyncio.sleep(5)

    async def scenario():
        async with Server(silent) as server:
            started = asyncio.get_running_loop().time()
            with pytest.raises(http.ReadTimedOut):
                await request(http.Pool("127.0.0.1", server.port, 4), read_timeout=0.2)
            return asyncio.get_running_loop().time() - started

    assert asyncio.run(scenario()) < 1.0


def test_a_refused_connection_raises_connect_failed():
    async def scenario():
        with pytest.raises(http.ConnectFailed):
            await request(http.Pool("127.0.0.1", 1, 4))

    asyncio.run(scenario())


def test_a_header_value_that_could_split_the_request_is_dropped():
    async def scenario():
        async with Server(ok()) as server:
            pool = http.Pool("127.0.0.1", server.port, 4)
            await request(pool, headers={"Accept-Language": "en\r\nX-Injected: 1", "X-Request-ID": "abcdefgh"})
            return server.requests[0]

    sent = asyncio.run(scenario())

    assert b"X-Injected" not in sent
    assert b"Accept-Language" not in sent
    assert b"X-Request-ID: abcdefgh\r\n" in sent


def test_a_body_is_sent_with_its_length():
    async def scenario():
        async with Server(ok()) as server:
            await request(http.Pool("127.0.0.1", server.port, 4), "POST", {"Content-Type": "application/json"}, b"{}")
            return server.requests[0]

    sent = asyncio.run(scenario())

    assert sent.startswith(b"POST /api/users/1/ HTTP/1.1\r\nHost: 127.0.0.1:")
    assert sent.endswith(b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


def test_an_answer_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1000)

    async def scenario():
        async with Server(ok(b"x" * 5000)) as server:
            with pytest.raises(http.ProtocolFailed):
                await request(http.Pool("127.0.0.1", server.port, 4))

    asyncio.run(scenario())


def test_an_invalid_answer_raises_protocol_failed():
    async def garbage(reader, writer, head):
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    async def scenario():
        async with Server(garbage) as server:
            with pytest.raises(http.ProtocolFailed):
                await request(http.Pool("127.0.0.1", server.port, 4))

    asyncio.run(scenario())


# The one replay the gateway makes (upstream.clients): a stale pooled connection, for a request safe to resend.


def in_turn(*steps):
    """A server's handler that answers each request with the next of `steps`."""
    answers = iter(steps)

    async def answer(reader, writer, head):
        await next(answers)(reader, writer, head)

    return answer


async def abort(reader, writer, head):
    """The connection closes without an answer (a pooled connection gone stale)."""
    writer.transport.abort()


async def cut_short(reader, writer, head):
    """The answer's head and half its body, then the connection aborts (a replica killed mid-answer)."""
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"half": ')
    await writer.drain()
    writer.transport.abort()


@pytest.mark.parametrize(
    ("method", "headers", "replayed"),
    [
        ("GET", {}, True),
        ("DELETE", {}, True),
        ("POST", {"Idempotency-Key": "k-1"}, True),
        ("POST", {}, False),
        ("PATCH", {}, False),
    ],
)
def test_a_stale_connection_is_replayed_once_only_for_a_request_safe_to_resend(settings, method, headers, replayed):
    from upstream.clients import call
    from upstream.exceptions import UpstreamUnavailable

    async def scenario():
        async with Server(in_turn(ok(), abort, ok())) as server:
            settings.USERS_SERVICE_URL = f"http://127.0.0.1:{server.port}"
            await call("users", "GET", "/api/users/1/", headers={})
            try:
                outcome = (await call("users", method, "/api/users/1/", headers=headers, content=b"{}")).status
            except UpstreamUnavailable as exc:
                outcome = exc.default_code
            return outcome, len(server.requests)

    assert asyncio.run(scenario()) == ((200, 3) if replayed else ("upstream_unavailable", 2))


def test_the_replay_after_a_stale_connection_takes_a_new_one_even_when_other_pooled_ones_went_stale_too(settings):
    # As at an HAProxy reload: every idle connection of the old worker closes at once.
    from upstream.clients import call

    answered: dict = {}

    async def one_answer_per_connection(reader, writer, head):
        if answered.get(writer):
            writer.transport.abort()
            return
        answered[writer] = True
        await ok()(reader, writer, head)

    async def scenario():
        async with Server(one_answer_per_connection) as server:
            settings.USERS_SERVICE_URL = f"http://127.0.0.1:{server.port}"
            await asyncio.gather(*(call("users", "GET", "/api/users/1/", headers={}) for _ in range(2)))
            replayed = await call("users", "GET", "/api/users/1/", headers={})
            return replayed.status, server.connections

    assert asyncio.run(scenario()) == (200, 3)


@pytest.mark.parametrize(
    ("method", "headers", "replayed"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("DELETE", {}, False),
        ("POST", {"Idempotency-Key": "k-1"}, False),
    ],
)
def test_an_answer_cut_short_is_asked_again_once_only_for_a_safe_method_and_counted(
    settings, method, headers, replayed
):
    from prometheus_client import REGISTRY

    from upstream.clients import call
    from upstream.exceptions import UpstreamUnavailable

    def replays():
        labels = {"service": "users", "reason": "answer_cut_short"}
        return REGISTRY.get_sample_value("gateway_upstream_replays_total", labels) or 0

    before = replays()

    async def scenario():
        async with Server(in_turn(cut_short, ok())) as server:
            settings.USERS_SERVICE_URL = f"http://127.0.0.1:{server.port}"
            try:
                outcome = (await call("users", method, "/api/users/1/", headers=headers)).status
            except UpstreamUnavailable as exc:
                outcome = exc.default_code
            return outcome, len(server.requests), server.connections

    expected = (200, 2, 2) if replayed else ("upstream_unavailable", 1, 1)
    assert asyncio.run(scenario()) == expected
    assert replays() - before == (1 if replayed else 0)
