"""Which registry hosts may be spoken to over plain HTTP: docker's rule."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _bare_host(host: str) -> str:
    """``[::1]:5000`` -> ``::1``; ``localhost:5000`` -> ``localhost``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def allows_plain_http(host: str, insecure: Iterable[str] = ()) -> bool:
    """Whether ``host`` (``name[:port]``) may be spoken to over plain HTTP, as docker decides.

    Loopback hosts may; so may hosts listed in ``insecure``, by ``name``, ``name:port`` or
    a CIDR range containing the host's IP address.
    """
    bare = _bare_host(host).lower()
    if bare in LOOPBACK:
        return True
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    for entry in insecure:
        entry = entry.strip().lower()
        if entry in (host.lower(), bare):
            return True
        if "/" in entry and address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False
