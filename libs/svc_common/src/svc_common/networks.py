"""Address lists in settings (addresses or networks, e.g. 10.0.0.0/8) and whether an address is in one."""

import functools
import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def parse_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Each entry as a network (a bare address is a /32 or /128); blank entries are skipped."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def in_networks(address: str, entries: Iterable[str]) -> bool:
    """Whether `address` is in one of `entries`; an address that does not parse is in none."""
    return _in_networks(address, tuple(entries))


@functools.lru_cache(maxsize=1024)
def _in_networks(address: str, entries: tuple[str, ...]) -> bool:
    # Cached: every request asks about the same few peers (the proxies), and parsing costs microseconds.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in parse_networks(entries))
