"""The client's address: X-Forwarded-For is believed only from a trusted proxy (TRUSTED_PROXIES)."""

from django.conf import settings

from .networks import in_networks


def is_trusted_proxy(address: str) -> bool:
    """Whether an address is in TRUSTED_PROXIES (addresses or networks, e.g. 10.0.0.0/8 for a pod network)."""
    return in_networks(address, settings.TRUSTED_PROXIES)


def client_ip(request) -> str:
    """The client address: X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and is_trusted_proxy(peer):
        # The proxy appends the address it saw; earlier entries are the client's own claims.
        return forwarded.split(",")[-1].strip() or peer
    return peer
