"""HTTP-side auth helpers: the bearer header and the Host allow-list (DNS rebinding).

Who a token belongs to is the engine's business (``engine/tokens.py``).
"""

from __future__ import annotations

from kube9_desktop.engine.errors import Unauthorized

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is no header.

    Another scheme (``Basic ...``) or a bare ``Bearer`` is refused here with a message saying
    what to send, rather than reported as a missing token.
    """
    if not header or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        plain = scheme.isascii() and scheme.isalnum() and len(scheme) <= 20
        shown = f" (got scheme {scheme!r})" if plain else ""
        raise Unauthorized(
            f"Malformed Authorization header{shown}: send 'Authorization: Bearer <token>'"
        )
    if not value.strip():
        raise Unauthorized(
            "Malformed Authorization header: no token after 'Bearer'; "
            "send 'Authorization: Bearer <token>'"
        )
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
