"""Django's Redis cache in front of the monolith's reads (MONOLITH_CACHE=on), invalidated on write.

A cached view names what its answer depends on: `v:product:<id>` and `v:user:<id>` for the aggregate,
`v:products` for a list. A write bumps those counters with `cache.incr` once it commits (a post_save
receiver, transaction.on_commit), and a page's key holds their current values, so the first read after a
write's answer misses and is rebuilt from the database. This is the cache API's versioning applied per
object: the way a Django team invalidates per-view pages when a write cannot know every cached URL it
affects. A hit costs two cache round trips (the versions, then the page) and no query; `X-Cache` says which.
"""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse


def cached_view(depends_on: Callable[..., list[str]]):
    """Cache the view's 200 answers per URL and per version of what depends_on(**kwargs) names."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not settings.MONOLITH_CACHE:
                return view(request, *args, **kwargs)
            names = [f"v:{scope}" for scope in depends_on(**kwargs)]
            versions = cache.get_many(names)
            identity = "|".join([request.get_full_path(), *(str(versions.get(name, 0)) for name in names)])
            key = "page:" + hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
            page = cache.get(key)
            if page is not None:
                response = HttpResponse(page[0], content_type=page[1])
                response["X-Cache"] = "HIT"
                return response
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                response.render()
                cache.set(key, (response.content, response["Content-Type"]), settings.MONOLITH_CACHE_TTL)
            response["X-Cache"] = "MISS"
            return response

        return wrapped

    return decorator


def bump(*scopes: str) -> None:
    """Once the write commits: new versions of these scopes, so every page built from them is outdated."""

    def publish():
        for scope in scopes:
            cache.incr(f"v:{scope}", ignore_key_check=True)

    transaction.on_commit(publish)
