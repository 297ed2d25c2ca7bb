"""The request as the access step sees it: method, path and the WSGI-style META it reads, built from an ASGI
scope on the event loop or taken from Django's request on its threads."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from svc_common.client_ip import client_ip
from svc_common.request_id import incoming_request_id
from upstream.headers import EnvironRequest

from . import routes

# The headers the access step, the page cache and the upstream calls read, under their WSGI names.
_META_NAMES = {
    name.lower().replace("_", "-").encode("latin-1"): f"HTTP_{name}"
    for name in (
        "AUTHORIZATION",
        "ACCEPT",
        "ACCEPT_LANGUAGE",
        "IF_NONE_MATCH",
        "ORIGIN",
        "HOST",
        "X_FORWARDED_FOR",
        "X_FORWARDED_HOST",
        "X_FORWARDED_PROTO",
        "X_REQUEST_ID",
        "IDEMPOTENCY_KEY",
        "TRANSFER_ENCODING",
    )
}
_META_NAMES[b"content-length"] = "CONTENT_LENGTH"


class MetaRequest(HttpRequest):
    """Django's own host, scheme and HTTPS logic (ALLOWED_HOSTS, USE_X_FORWARDED_HOST, SECURE_PROXY_SSL_HEADER)
    over a META mapping, without building a whole request."""

    def __init__(self, meta: dict, path: str = "/", method: str = "GET"):
        super().__init__()
        self.META = meta
        self.path = self.path_info = path
        self.method = method

    def _get_scheme(self) -> str:
        return self.META.get("wsgi.url_scheme", "http")


@dataclass(frozen=True, slots=True)
class AccessRequest:
    method: str
    path: str  # decoded, as PATH_INFO
    raw_path: str  # as sent, still percent-encoded: encoded separators are judged on it
    query: str
    meta: dict
    request_id: str

    @classmethod
    def from_scope(cls, scope: dict) -> "AccessRequest":
        """From an ASGI http scope: only the headers the access step reads, as a WSGI server would name them."""
        server = scope.get("server") or ("localhost", 80)
        client = scope.get("client") or ("", 0)
        meta = {
            "REMOTE_ADDR": client[0],
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]),
            "wsgi.url_scheme": scope.get("scheme", "http"),
        }
        for name, value in scope["headers"]:
            key = _META_NAMES.get(name)
            if key is not None:
                value = value.decode("latin-1")
                meta[key] = f"{meta[key]},{value}" if key in meta else value
        raw_path = (scope.get("raw_path") or scope["path"].encode()).partition(b"?")[0].decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        request_id = incoming_request_id(EnvironRequest(meta))
        return cls(scope["method"], scope["path"], raw_path, query, meta, request_id)

    @classmethod
    def from_django(cls, request) -> "AccessRequest":
        return cls(
            request.method,
            request.path_info,
            raw_path(request).partition("?")[0],
            request.META.get("QUERY_STRING", ""),
            request.META,
            request.request_id,
        )

    @property
    def route(self) -> routes.Route | None:
        return routes.match(self.path)

    @property
    def client_ip(self) -> str:
        return client_ip(EnvironRequest(self.meta))

    @property
    def host(self) -> str | None:
        """The host Django would see (X-Forwarded-Host from trusted setups), or None when ALLOWED_HOSTS refuses it."""
        return _host(
            self.meta.get("HTTP_X_FORWARDED_HOST"),
            self.meta.get("HTTP_HOST"),
            self.meta.get("SERVER_NAME"),
            self.meta.get("SERVER_PORT"),
            tuple(settings.ALLOWED_HOSTS),
            settings.USE_X_FORWARDED_HOST,
        )

    @property
    def scheme(self) -> str:
        """http or https, as Django would say (SECURE_PROXY_SSL_HEADER from the edge)."""
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        forwarded = self.meta.get(proxy_header[0]) if proxy_header else None
        return _scheme(proxy_header, forwarded, self.meta.get("wsgi.url_scheme", "http"))

    @property
    def declares_body(self) -> bool:
        """Whether the request says a body follows (a GET rarely does): only Django reads, or refuses, bodies."""
        return self.meta.get("CONTENT_LENGTH", "") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in self.meta

    def header(self, name: str) -> str:
        """A request header by its WSGI name, e.g. "HTTP_AUTHORIZATION"; empty when absent."""
        return self.meta.get(name, "")


@functools.lru_cache(maxsize=64)
def _scheme(proxy_header: tuple | None, forwarded: str | None, url_scheme: str) -> str:
    meta = {"wsgi.url_scheme": url_scheme}
    if forwarded is not None:
        meta[proxy_header[0]] = forwarded
    return MetaRequest(meta).scheme


@functools.lru_cache(maxsize=256)
def _host(
    forwarded: str | None, host: str | None, server: str | None, port: str | None, allowed: tuple, use_forwarded: bool
) -> str | None:
    meta = {key: value for key, value in (("HTTP_HOST", host), ("SERVER_NAME", server), ("SERVER_PORT", port)) if value}
    if forwarded:
        meta["HTTP_X_FORWARDED_HOST"] = forwarded
    try:
        return MetaRequest(meta).get_host()
    except DisallowedHost:
        return None


def raw_path(request) -> str:
    """The path as the client sent it, still percent-encoded: gunicorn's RAW_URI, or the ASGI scope's raw_path
    (a2wsgi keeps the scope in the environ); else Django's re-encoding, which cannot tell %2F from /."""
    if "RAW_URI" in request.META:
        return request.META["RAW_URI"]
    scope = request.META.get("asgi.scope")
    if scope is not None and scope.get("raw_path"):
        return scope["raw_path"].decode("latin-1")
    return request.get_full_path()
