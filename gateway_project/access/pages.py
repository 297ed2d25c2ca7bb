"""The page cache's entries: what a page's key holds, which invalidation counters guard it, and storing,
releasing and waiting for a page (single flight). The lookup itself is in the access script.

Only the JSON answer to a GET is stored, and it is shared by every client: no cached answer depends on the
caller (the services never see who asks for a GET). A HEAD is looked up, and fetched, as the GET it
describes (nginx's proxy_cache_convert_head), so it never stores an empty body.
"""

import asyncio
import dataclasses
import functools
import hashlib
import json
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from django.conf import settings

from svc_common.breaker import redis_breaker

from . import routes
from .redis_client import loop_redis

CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
JSON = "application/json"
WAIT_POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class PageSpec:
    key: str
    lock_key: str
    generation_keys: tuple[str, ...]
    # An aggregate's parts: the detail pages of its user and product (one per generation key, in order), which
    # its lookup also reads, so a miss can be composed from them.
    part_specs: tuple["PageSpec", ...] = ()


@dataclass(frozen=True, slots=True)
class CachedPage:
    etag: str
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # what the view set besides Content-Type (e.g. a service's Allow)

    @classmethod
    def from_stored(cls, etag: bytes, content_type: bytes, body: bytes, headers: bytes | None) -> "CachedPage":
        extra = tuple(map(tuple, json.loads(headers))) if headers and headers != b"[]" else ()
        return cls(etag.decode(), content_type.decode(), body, extra)


@dataclass(frozen=True, slots=True)
class Part:
    """A part of an aggregate: the detail page it is cached as, its counter's value when the lookup read it, and
    its body when that page is cached and current."""

    spec: PageSpec
    generation: str
    body: bytes | None

    def fill(self) -> "Fill":
        """What storing this part, fetched now, takes: its counter as read before the fetch, and no lock."""
        return Fill(self.spec, self.generation, None, False)


@dataclass(frozen=True, slots=True)
class Fill:
    """A page to fetch and store: the invalidation counters read before the fetch, and the lock it holds."""

    spec: PageSpec
    generations: str
    owner: str | None  # the fill lock's value when this request holds it
    stale: bool  # an older copy exists (X-Cache: STALE rather than MISS)
    parts: tuple[Part, ...] = ()  # an aggregate's parts, as the lookup found them

    @property
    def composed(self) -> bool:
        """An aggregate whose parts are all cached and current: answered without calling any service."""
        return bool(self.parts) and all(part.body is not None for part in self.parts)

    @property
    def cache_state(self) -> str:
        """X-Cache of the answer: HIT when composed from cached parts, STALE when an older copy existed, else MISS."""
        if self.composed:
            return "HIT"
        return "STALE" if self.stale else "MISS"


def _spec(identity: str, generation_keys: tuple[str, ...]) -> PageSpec:
    digest = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    return PageSpec(f"gw:page:{digest}", f"gw:fill:{digest}", generation_keys)


@functools.lru_cache(maxsize=4096)
def aggregate_spec(user_id: str, product_id: str) -> PageSpec:
    """The aggregate's spec; cached, since hot pairs repeat and the spec never changes."""
    return _spec(f"agg|{user_id}|{product_id}", (f"inv:users:{user_id}", f"inv:products:{product_id}"))


def spec_for(request) -> PageSpec | None:
    """The page a GET or HEAD of a known route reads, or None when the request must not use the cache.

    The key holds everything that can change the answer: the route and its canonical query (the route's
    own parameters, sorted; nothing else reaches the service) and, for proxied pages whose links name the
    host, host, scheme and Accept-Language.
    """
    if request.method not in CACHEABLE_METHODS or not settings.PAGE_CACHE_ENABLED or not wants_json(request):
        return None
    route = request.route
    if route is None or routes.has_encoded_separator(request.raw_path):
        return None
    host = request.host
    if route.service is None:
        if host is None:
            return aggregate_spec(*route.ids)
        return aggregate_with_parts(*route.ids, request.scheme, host, request.header("HTTP_ACCEPT_LANGUAGE"))
    if host is None:
        return None
    query = routes.canonical_query(route.template, request.query)
    object_id = route.ids[0] if route.ids else None
    return proxied_spec(route.service, object_id, query, request.scheme, host, request.header("HTTP_ACCEPT_LANGUAGE"))


@functools.lru_cache(maxsize=4096)
def proxied_spec(service: str, object_id: str | None, query: str, scheme: str, host: str, language: str) -> PageSpec:
    """A service's list (object_id None) or detail page, as the gateway proxies it."""
    path = f"/api/{service}/{object_id}/" if object_id else f"/api/{service}/"
    identity = "|".join(["proxy", scheme, host, path, query, language])
    return _spec(identity, (f"inv:{service}:{object_id or '*'}",))


@functools.lru_cache(maxsize=4096)
def aggregate_with_parts(user_id: str, product_id: str, scheme: str, host: str, language: str) -> PageSpec:
    """The aggregate's spec with its parts: the user's and the product's detail pages, as a client of this host
    and language would read them through the gateway."""
    parts = (
        proxied_spec("users", user_id, "", scheme, host, language),
        proxied_spec("products", product_id, "", scheme, host, language),
    )
    return dataclasses.replace(aggregate_spec(user_id, product_id), part_specs=parts)


def wants_json(request) -> bool:
    """Only JSON is cached: a browser asking for HTML first gets the browsable API, never a shared page."""
    return accepts_json(request.header("HTTP_ACCEPT"))


def accepts_json(accept: str) -> bool:
    """The one test of who gets JSON (and the page cache) and who gets the browsable API: HTML not asked for."""
    return "text/html" not in accept


# Headers of an answer that the page cache recomputes, rather than stores with the page.
OWN_HEADERS = frozenset({"content-type", "content-length", "etag", "cache-control", "vary", "x-cache"})


def cacheable_page(status: int, headers: list[tuple[str, str]], body: bytes) -> CachedPage | None:
    """The page an answer makes when every client may see it (a 200 JSON answer no upstream marked private or
    uncacheable, setting no cookie), with the headers it carries besides those the cache recomputes."""
    named = {name.lower(): value for name, value in headers}
    cache_control = named.get("cache-control", "")
    if (
        status != 200
        or not named.get("content-type", "").startswith(JSON)
        or "private" in cache_control
        or "no-store" in cache_control
        or "set-cookie" in named
    ):
        return None
    extra = tuple((name, value) for name, value in headers if name.lower() not in OWN_HEADERS)
    return CachedPage(etag_for(body), named["content-type"], body, extra)


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


async def store(*, fill: Fill, page: CachedPage) -> None:
    """Store a page with the counters read *before* it was fetched (a write that lands meanwhile makes the entry
    stale at once), and give up the fill lock if this request still holds it."""
    if not redis_breaker.available():
        return
    headers = json.dumps(page.headers)
    args = [
        fill.generations,
        page.etag,
        page.content_type,
        page.body,
        headers,
        settings.PAGE_CACHE_TTL,
        fill.owner or "",
    ]
    try:
        await loop_redis().script("page_store", [fill.spec.key, fill.spec.lock_key], args)
    except RedisError as exc:
        redis_breaker.trip(exc)


async def store_all(pages: list[tuple[Fill, CachedPage]]) -> None:
    """Store several fetched pages (an aggregate's parts), each with the counters read before its fetch."""
    for fill, page in pages:
        await store(fill=fill, page=page)


async def release(*, fill: Fill) -> None:
    """Give up the fill lock without storing (the answer was not cacheable), if this request still holds it."""
    if fill.owner is None or not redis_breaker.available():
        return
    try:
        await loop_redis().script("page_release", [fill.spec.lock_key], [fill.owner])
    except RedisError as exc:
        redis_breaker.trip(exc)


async def wait(*, fill: Fill) -> CachedPage | None:
    """Poll briefly for the page another request is fetching; None if it does not arrive in time, or as soon as
    that request gives up its lock without storing it (page_wait.lua)."""
    deadline = time.monotonic() + settings.PAGE_CACHE_WAIT_SECONDS
    redis = loop_redis()
    while time.monotonic() < deadline and redis_breaker.available():
        await asyncio.sleep(WAIT_POLL_SECONDS)
        try:
            seen = await redis.script("page_wait", [fill.spec.key, fill.spec.lock_key], [fill.generations])
        except RedisError as exc:
            redis_breaker.trip(exc)
            return None
        if seen[0] == b"hit":
            return CachedPage.from_stored(*seen[1:])
        if seen[0] == b"gone":
            return None
    return None
