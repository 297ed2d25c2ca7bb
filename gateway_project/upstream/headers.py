"""Which headers cross the gateway, in each direction."""

from django.conf import settings

from svc_common.client_ip import client_ip

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
FORWARDED_REQUEST_HEADERS = (
    "Content-Type",
    "Accept-Language",
    "If-None-Match",
    "If-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "Idempotency-Key",
)


def upstream_request_headers(request) -> dict:
    """Headers for an upstream call: a safe subset of the client's plus the forwarding ones."""
    headers = {
        "Accept": "application/json",
        "X-Request-ID": request.request_id,
        "X-Service-Token": settings.SERVICE_AUTH_TOKEN,
    }
    client_id = getattr(request, "client_id", None)
    if client_id is not None:
        headers["X-Client-ID"] = str(client_id)
    for name in FORWARDED_REQUEST_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    ip = client_ip(request)
    headers["X-Forwarded-For"] = f"{forwarded_for}, {request.META.get('REMOTE_ADDR')}" if forwarded_for else ip
    headers["X-Forwarded-Host"] = request.get_host()
    headers["X-Forwarded-Proto"] = request.scheme
    return headers


def returned_headers(upstream_headers) -> list[tuple[str, str]]:
    """Upstream response headers a client may see: end-to-end ones only."""
    named_in_connection = {
        token.strip().lower() for token in upstream_headers.get("connection", "").split(",") if token.strip()
    }
    return [
        (name, value)
        for name, value in upstream_headers.multi_items()
        if name.lower() not in NOT_RETURNED and name.lower() not in named_in_connection
    ]
