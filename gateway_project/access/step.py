"""The access step: token check, rate limit and page-cache lookup of an /api/ request, in one Redis round trip.

It runs before any view, on the event loop: the ASGI application awaits it for every /api/ request, and
Django's AccessMiddleware runs it through eventloop.run_sync when a request reached Django without a
decision (the test client, runserver) or must be decided again (after the database verified a token, whose
record remember() stores first).
"""

import asyncio
import dataclasses
import itertools
import os
import secrets
import time

from redis.exceptions import RedisError

from django.conf import settings

from clients.rates import policy_for
from clients.records import Record, client_record_key, token_record_key
from clients.tokens import is_well_formed, token_hash
from svc_common.breaker import redis_breaker

from . import pages, routes
from .decision import Decision, Failure, RateState, Verdict
from .pages import CachedPage, Fill, Part
from .redis_client import loop_redis

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The keys with no TTL that the scripts list with the time they may go (svc_common/gcra.lua).
EXPIRY_SET = "gw:expiry"
# How long a verification may take between the access script's ticket and the record's store.
TICKET_MS = 10_000
# How long a verification holds back the other requests for the same record ("pending"), and how often they look
# for its result: past this, a request that waited verifies by itself.
VERIFY_WAIT_MS = 2_000
VERIFY_POLL_SECONDS = 0.01


def route_group(request) -> str:
    """Which configured limit applies: token creation, reads or writes."""
    if request.method == "POST" and routes.TOKEN_PATH.match(request.path):
        return "auth"
    return "read" if request.method in SAFE_METHODS else "write"


def presented_key(request) -> tuple[str | None, Failure | None]:
    """The key from `Authorization: Token <key>`, or why there is none."""
    header = request.header("HTTP_AUTHORIZATION")
    if not header:
        return None, Failure.MISSING
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not is_well_formed(key):
        return None, Failure.MALFORMED
    return key, None


async def decide(request, *, database_down: bool = False) -> Decision:
    """The access step for a request (an access.request.AccessRequest). With database_down (the database
    failed to verify the token), a record verified within TOKEN_RECORD_GRACE_SECONDS is used as verified."""
    group = route_group(request)
    record_key = None
    if group != "auth":
        key, failure = presented_key(request)
        if failure is not None:
            return Decision(Verdict.UNAUTHENTICATED, failure=failure)
        record_key = token_record_key(token_hash(key))
    spec = pages.spec_for(request) if group == "read" else None
    grace_ms = settings.TOKEN_RECORD_GRACE_SECONDS * 1000 if database_down else 0
    return await _run(group, record_key, request.client_ip, spec, guessable=True, grace_ms=grace_ms)


async def decide_for_client(request, client_id: int) -> Decision:
    """The access step for a request whose API client Django has already authenticated (a person's session):
    the same script, with the client's record in place of a token's, so both meter one bucket. Django has
    checked the person, so an unverified client record costs the address nothing."""
    group = route_group(request)
    spec = pages.spec_for(request) if group == "read" else None
    return await _run(group, client_record_key(client_id), request.client_ip, spec, guessable=False)


async def remember(request, record_key: str, ticket: str, record: Record, *, guessable: bool) -> bool:
    """Cache a verified record (a token's, guessable, or a session's client's), unless it was dropped since the
    ticket was issued (a revocation); a token's gives the address back the "auth" step its verification took."""
    if not redis_breaker.available():
        return False
    auth = policy_for("auth")
    keys = [record_key, _address_key(request.client_ip) if guessable else "", EXPIRY_SET]
    args = [ticket, record.client_id, record.limit, record.period_ms, int(record.unlimited), record.expires_ms]
    args += [settings.TOKEN_RECORD_TTL_SECONDS * 1000, auth.limit, auth.period_ms]
    args += [settings.TOKEN_RECORD_GRACE_SECONDS * 1000]
    try:
        return await loop_redis().script("record_store", keys, args) == 1
    except RedisError as exc:
        redis_breaker.trip(exc)
        return False


async def end_verification(record_key: str) -> None:
    """The database did not verify the record (an unknown token, or it failed): the requests waiting for it stop
    waiting and are each metered and checked on their own."""
    if not redis_breaker.available():
        return
    try:
        await loop_redis().execute("HDEL", record_key, "verifying_until")
    except RedisError as exc:
        redis_breaker.trip(exc)


async def give_back(request) -> None:
    """Give the address back the "auth" step a token's verification took: the database failed, not the token."""
    if not redis_breaker.available():
        return
    auth = policy_for("auth")
    try:
        await loop_redis().script("give_back", [_address_key(request.client_ip)], [auth.limit, auth.period_ms])
    except RedisError as exc:
        redis_breaker.trip(exc)


async def wait_for_fill(decision: Decision) -> Decision:
    """A WAIT settled: the page another request fetched (HIT), or, if it did not come in time, a fetch of our own
    that stores its answer without touching the other request's lock (FILL)."""
    fill = decision.fill
    if fill.composed:
        # An aggregate whose parts are cached: composed at once, no need to wait for the other request's fetch.
        return Decision(Verdict.FILL, decision.client_id, decision.rate, fill=dataclasses.replace(fill, owner=None))
    page = await pages.wait(fill=fill)
    if page is not None:
        return Decision(Verdict.HIT, decision.client_id, decision.rate, page=page)
    return Decision(Verdict.FILL, decision.client_id, decision.rate, fill=dataclasses.replace(fill, owner=None))


async def _run(
    group: str,
    record_key: str | None,
    client_ip: str,
    spec: pages.PageSpec | None,
    *,
    guessable: bool,
    grace_ms: int = 0,
) -> Decision:
    if not redis_breaker.available():
        return Decision(Verdict.UNAVAILABLE)
    policy, auth = policy_for(group), policy_for("auth")
    unique = _unique_value()
    keys = [record_key or "", _address_key(client_ip), EXPIRY_SET]
    keys += (
        [spec.key, spec.lock_key, *spec.generation_keys, *(part.key for part in spec.part_specs)] if spec else ["", ""]
    )
    generation_count = len(spec.generation_keys) if spec else 0
    args = [group, policy.limit, policy.period_ms, auth.limit, auth.period_ms, settings.PAGE_CACHE_LOCK_MS, unique]
    args += [TICKET_MS, int(guessable), generation_count, grace_ms, VERIFY_WAIT_MS, 0]
    waited_out = time.monotonic() + VERIFY_WAIT_MS / 1000
    while True:
        try:
            reply = await loop_redis().script("access", keys, args)
        except RedisError as exc:
            redis_breaker.trip(exc)
            return Decision(Verdict.UNAVAILABLE)
        if reply[0] != b"pending":
            return _decision(reply, group, spec, unique)
        # Another request is verifying this record: its result comes within VERIFY_WAIT_MS. A request that has
        # waited that long (the claim renewed by others meanwhile) verifies by itself.
        await asyncio.sleep(VERIFY_POLL_SECONDS)
        args[-1] = int(time.monotonic() >= waited_out)


def _address_key(client_ip: str) -> str:
    """The "auth" rate key of an address: token creation and tokens the database must verify."""
    return f"gw:rl:auth:ip:{client_ip}"


def _decision(reply: list, group: str, spec: pages.PageSpec | None, owner: str) -> Decision:
    """The script's reply (access.lua states its shape) as a Decision."""
    verdict = reply[0]
    if verdict == b"miss":
        return Decision(Verdict.UNVERIFIED, ticket=reply[1].decode())
    if verdict == b"expired":
        return Decision(Verdict.UNAUTHENTICATED, failure=Failure.EXPIRED)
    client_id = int(reply[1]) if reply[1] else None
    # With no client, a limit is the address's "auth" one (token creation, or a token to verify).
    rate = RateState(group if client_id else "auth", *(int(value) for value in reply[2:7]))
    if verdict == b"limited":
        return Decision(Verdict.LIMITED, client_id, rate)
    page = reply[7:]
    if not page:
        return Decision(Verdict.BYPASS, client_id, rate)
    if page[0] == b"hit":
        return Decision(Verdict.HIT, client_id, rate, page=CachedPage.from_stored(*page[1:5]))
    generations = page[1].decode()
    parts = tuple(
        Part(part_spec, generation, body)
        for part_spec, generation, body in zip(spec.part_specs, generations.split(","), page[3:], strict=False)
    )
    holds_lock = page[0] == b"fill"
    # The lock's value names the counters this request read (access.lua).
    fill = Fill(spec, generations, f"{owner}@{generations}" if holds_lock else None, page[2] == b"stale", parts)
    return Decision(Verdict.FILL if holds_lock else Verdict.WAIT, client_id, rate, fill=fill)


_unique_values = {"pid": None, "prefix": "", "counter": itertools.count()}


def _unique_value() -> str:
    """Unique per request across replicas and forks (a fill lock's value, a ticket): a random per-process
    prefix and a counter."""
    if _unique_values["pid"] != os.getpid():
        _unique_values.update(pid=os.getpid(), prefix=secrets.token_hex(6), counter=itertools.count())
    return f"{_unique_values['prefix']}:{next(_unique_values['counter'])}"
