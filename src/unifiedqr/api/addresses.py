"""Who is on the other end: the client address that rate limits are keyed by (issue 10 #2).

The address is the socket's peer unless that peer is one of ``UNIFIEDQR_TRUSTED_PROXIES``; then
``X-Forwarded-For`` is read **from the right**: each proxy appends the address it saw, so the
right-most entries were written by our proxies and everything left of the first address that is
not one of them was written by the client (and may be a lie). The client is therefore the
right-most untrusted hop; if every hop is trusted, the left-most one. A hop that is not an IP
address (``unknown``, garbage) stops the walk at the last hop we could believe.

Rate limits group IPv6 clients by their /64 (:func:`bucket`): one subscriber usually holds a
whole /64, and per-address limits keyed by single IPv6 addresses would be trivial to step around.
uvicorn's own ``--proxy-headers`` handling is switched off by ``serve``, so this is the one rule.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32


@functools.lru_cache(maxsize=16)
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in trusted)


def _ip(text: str) -> Address | None:
    """An IP address from a forwarded hop: ``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:443``."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in trusted)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: tuple[str, ...]) -> str:
    """The client's address (see the module docstring); ``peer`` is the socket's remote host."""
    current = _ip(peer)
    if current is None:
        return peer  # not an IP address (a test client, a Unix socket): use it as it is
    allowed = networks(trusted)
    if not allowed or not _trusted(current, allowed):
        return str(current)
    hops = [h for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops[-MAX_HOPS:]):
        address = _ip(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, allowed):
            break
    return str(current)


def bucket(address: str) -> str:
    """The rate-limit key of an address: itself for IPv4, its /64 for IPv6."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip) if ip is not None else address
