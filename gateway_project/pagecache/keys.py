"""What a cached page depends on: its key, and the services' invalidation counters it must match."""

import functools
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings

AGGREGATE_PATH = re.compile(r"^/api/([1-9][0-9]{0,17})/([1-9][0-9]{0,17})/?$")
_PROXY = re.compile(r"^/api/(users|products)(?:/([1-9][0-9]{0,17}))?/?(.*)$")
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class PageSpec:
    key: str
    lock_key: str
    generation_keys: tuple[str, ...]


def _spec(identity: str, generation_keys: tuple[str, ...]) -> PageSpec:
    digest = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    return PageSpec(f"gw:page:{digest}", f"gw:fill:{digest}", generation_keys)


@functools.lru_cache(maxsize=4096)
def aggregate_spec(user_id: str, product_id: str) -> PageSpec:
    """The aggregate's spec; cached, since hot pairs repeat and the spec never changes."""
    return _spec(f"agg|{user_id}|{product_id}", (f"inv:users:{user_id}", f"inv:products:{product_id}"))


def spec_for(request) -> PageSpec | None:
    """The page-cache spec of a GET, or None when the request must not be cached.

    No cached response depends on the caller (the services never see who asks for a GET), so
    entries are shared by every client. The key holds everything the gateway forwards that can
    change a response: path, query string and, for proxied pages whose links name the host,
    host, scheme and Accept-Language.
    """
    if request.method not in CACHEABLE_METHODS or not settings.PAGE_CACHE_ENABLED:
        return None
    path = request.path_info
    match = AGGREGATE_PATH.match(path)
    if match:
        return aggregate_spec(*match.groups())
    match = _PROXY.match(path)
    if match is None:
        return None
    service, object_id, rest = match.groups()
    generation = f"inv:{service}:{object_id}" if object_id and not rest else f"inv:{service}:*"
    identity = "|".join(
        [
            "proxy",
            request.scheme,
            request.get_host(),
            path.rstrip("/"),
            request.META.get("QUERY_STRING", ""),
            request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        ]
    )
    return _spec(identity, (generation,))
