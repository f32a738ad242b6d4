"""HTTP-side auth helpers: the bearer header and the Host allow-list (DNS rebinding).

Who a token belongs to is the engine's business (``engine/tokens.py``).
"""

from __future__ import annotations

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def host_allowed(host_header: str | None, extra: frozenset[str]) -> bool:
    """Refuse foreign Host headers (DNS rebinding): loopback names plus configured ones."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in LOOPBACK_HOSTS or name in extra
