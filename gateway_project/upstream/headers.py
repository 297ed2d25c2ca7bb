"""Which headers cross the gateway, in each direction."""

from django.conf import settings

# RFC 9110 §7.6.1 hop-by-hop headers, plus ones the gateway recomputes or must not leak.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_RETURNED = HOP_BY_HOP | {"content-length", "content-encoding", "server", "date", "set-cookie", "x-request-id"}
# Client request headers passed on, with where WSGI keeps each (PEP 3333: Content-Type has no HTTP_ prefix).
FORWARDED_REQUEST_HEADERS = {
    "Content-Type": "CONTENT_TYPE",
    "Accept-Language": "HTTP_ACCEPT_LANGUAGE",
    "If-None-Match": "HTTP_IF_NONE_MATCH",
    "If-Match": "HTTP_IF_MATCH",
    "If-Modified-Since": "HTTP_IF_MODIFIED_SINCE",
    "If-Unmodified-Since": "HTTP_IF_UNMODIFIED_SINCE",
    "Idempotency-Key": "HTTP_IDEMPOTENCY_KEY",
}


def upstream_request_headers(meta, *, request_id: str, client_id: int | None, host: str, scheme: str) -> dict:
    """Headers for an upstream call: a safe subset of the client's (from a WSGI environ or Django's META), the
    Host the client sent (as a reverse proxy passes it on: the service builds its links with it) and the scheme.
    No X-Forwarded-For or X-Forwarded-Host: the service frontends state the caller's address themselves and
    believe neither from anyone (docs/security.md, "Client addresses")."""
    headers = {
        "Accept": "application/json",
        "X-Request-ID": request_id,
        "X-Service-Token": settings.SERVICE_AUTH_TOKEN,
    }
    if client_id is not None:
        headers["X-Client-ID"] = str(client_id)
    for name, key in FORWARDED_REQUEST_HEADERS.items():
        value = meta.get(key)
        if value:
            headers[name] = value
    headers["Host"] = host
    headers["X-Forwarded-Proto"] = scheme
    return headers


def django_request_headers(request) -> dict:
    """upstream_request_headers() for a Django request (after the access step, which names its client)."""
    return upstream_request_headers(
        request.META,
        request_id=request.request_id,
        client_id=getattr(request, "client_id", None),
        host=request.get_host(),
        scheme=request.scheme,
    )


def returned_headers(upstream_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Upstream response headers a client may see: end-to-end ones only."""
    connection = ",".join(value for name, value in upstream_headers if name.lower() == "connection")
    named_in_connection = {token.strip().lower() for token in connection.split(",") if token.strip()}
    return [
        (name, value)
        for name, value in upstream_headers
        if name.lower() not in NOT_RETURNED and name.lower() not in named_in_connection
    ]


class EnvironRequest:
    """What svc_common's helpers read of a request (META), from a WSGI environ or Django's META."""

    __slots__ = ("META",)

    def __init__(self, meta):
        self.META = meta
