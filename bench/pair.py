"""A cache miss's lower bound: its two upstream calls sent together by a minimal client, no gateway.

One aggregate at a time, a raw HTTP/1.1 client on two keep-alive connections (asyncio, no HTTP library)
sends the users GET and the products GET of the same pair at once and waits for both. What remains is
what HAProxy and the two services need to answer two concurrent calls on this machine: no gateway,
whatever it is written in, answers a miss faster. The result has wrk's shape, so the report and the
verdicts read it like any other measurement.
"""

import asyncio
import statistics
import time
from urllib.parse import urlsplit

from .processes import BenchError
from .wrk import Target


async def _open(url: str):
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


def _request_bytes(target: Target, path: str) -> bytes:
    host = urlsplit(target.url).netloc
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{name}: {value}" for name, value in target.headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _exchange(connection, request: bytes) -> int:
    """Send one GET, read its whole answer (Content-Length framing); return the status."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    lengths = [int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")]
    if not lengths:
        raise BenchError(f"pair: an answer without Content-Length: {lines[0]!r}")
    await reader.readexactly(lengths[0])
    return int(lines[0].split()[1])


async def _pairs(users: Target, products: Target, duration: float) -> dict:
    connections = [await _open(users.url), await _open(products.url)]
    latencies, statuses, counter = [], {}, 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < duration:
            counter += 1
            object_id = counter % users.rotate_count + 1
            requests = [_request_bytes(target, target.rotate_pattern % object_id) for target in (users, products)]
            sent = time.perf_counter()
            answers = await asyncio.gather(*map(_exchange, connections, requests))
            latencies.append(time.perf_counter() - sent)
            # A pair counts as 2xx only when both calls were.
            status = max(answers)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        for _, writer in connections:
            writer.close()
    return _summary(latencies, statuses, time.perf_counter() - started)


def _summary(latencies: list[float], statuses: dict[int, int], seconds: float) -> dict:
    milliseconds = [value * 1000 for value in latencies]
    cuts = statistics.quantiles(milliseconds, n=1000, method="inclusive")
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1),
        "ok_rps": round(ok / seconds, 1),
        "latency_ms": {
            "min": round(min(milliseconds), 3),
            "mean": round(statistics.fmean(milliseconds), 3),
            "max": round(max(milliseconds), 3),
            "stdev": round(statistics.pstdev(milliseconds), 3),
            **{f"p{cut / 10:g}": round(cuts[cut - 1], 3) for cut in (500, 750, 900, 990, 999)},
        },
        "statuses": dict(sorted(statuses.items())),
        "non_2xx": len(latencies) - ok,
        "socket_errors": 0,
        "timeouts": 0,
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
    }


def run(users: Target, products: Target, duration: float) -> dict:
    """Pairs for `duration` seconds; a broken connection raises (the scenario records it as a failure)."""
    return asyncio.run(asyncio.wait_for(_pairs(users, products, duration), duration + 10))
