"""Who is calling: the admin token (full access), a node token (its own node only), or nobody.

The admin token is generated once into ``<data-dir>/api-token`` (mode 0600) unless
``KUBE9_API_TOKEN`` sets it. Node tokens are ``k9n.<node id>.<secret>``; only their SHA-256
is stored, and the id lets us find the hash to compare without scanning every node.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kube9_desktop.engine.errors import EnvironmentProblem, Forbidden, Unauthorized

TOKEN_PREFIX = "k9n"
NODE_ID_DIGITS = 16  # node ids stay below 2**53; a longer number names no node


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_node_token(node_id: int) -> str:
    """A node token names its node, so auth finds the hash to compare without a scan."""
    return f"{TOKEN_PREFIX}.{node_id}.{secrets.token_urlsafe(24)}"


@dataclass(frozen=True, slots=True)
class Principal:
    admin: bool
    node_id: int | None = None


ADMIN = Principal(admin=True)


def load_or_create_admin_token(data_dir: Path, override: str | None) -> tuple[str, Path]:
    """The admin token and the file that holds it (written 0600 on first start)."""
    path = data_dir / "api-token"
    if override:
        return override, path
    try:
        if path.exists():
            token = path.read_text().strip()
            if token:
                os.chmod(path, 0o600)
                return token, path
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        os.chmod(path, 0o600)
        return token, path
    except OSError as exc:
        raise EnvironmentProblem(
            f"Cannot read or write the API token at {path}: {exc.strerror}. "
            "Choose a writable --data-dir or set KUBE9_API_TOKEN."
        ) from exc


def _token_bytes(token: str) -> bytes:
    """A token as bytes to compare, for any string: header bytes that are not UTF-8 reach us
    as surrogates (aiohttp decodes with surrogateescape), which plain .encode() refuses."""
    return token.encode("utf-8", "surrogatepass")


class Authenticator:
    """Maps a bearer token to a Principal; ``node_hash`` looks up a node's stored token hash.

    A node's token, once it hashed to the stored hash, is remembered with that hash: its next
    heartbeats compare the token instead of hashing it again. A new token (rotation, a
    relaunch) changes the stored hash, so the remembered one stops matching at once.
    """

    VERIFIED_MAX = 100_000

    def __init__(self, admin_token: str, node_hash: Callable[[int], str | None]) -> None:
        self._admin = _token_bytes(admin_token)
        self._node_hash = node_hash
        self._verified: dict[int, tuple[bytes, str, Principal]] = {}

    def identify(self, token: str | None) -> Principal:
        if token is None:
            raise Unauthorized(
                "Missing bearer token: send 'Authorization: Bearer <token>' (the token is in "
                "the api-token file of the data directory, or in the app's status bar)"
            )
        raw = _token_bytes(token)
        if hmac.compare_digest(raw, self._admin):
            return ADMIN
        if not token.isascii():  # node tokens are ASCII; this one is no token of ours
            raise Unauthorized("Invalid bearer token")
        prefix, _, rest = token.partition(".")
        node_part, _, _ = rest.partition(".")
        if prefix == TOKEN_PREFIX and node_part.isdigit() and len(node_part) <= NODE_ID_DIGITS:
            node_id = int(node_part)
            expected = self._node_hash(node_id)
            if expected is None:
                raise Unauthorized("Invalid bearer token")
            seen = self._verified.get(node_id)
            if seen is not None and seen[1] == expected and hmac.compare_digest(seen[0], raw):
                return seen[2]
            if hmac.compare_digest(hash_token(token), expected):
                if len(self._verified) >= self.VERIFIED_MAX:
                    self._verified.clear()
                principal = Principal(admin=False, node_id=node_id)
                self._verified[node_id] = (raw, expected, principal)
                return principal
        raise Unauthorized("Invalid bearer token")

    @staticmethod
    def require_admin(principal: Principal) -> None:
        if not principal.admin:
            raise Forbidden("A node token may only send its own node's heartbeats")

    @staticmethod
    def require_node(principal: Principal, node_id: int) -> None:
        if not principal.admin and principal.node_id != node_id:
            raise Forbidden(f"This node token is not valid for node {node_id}")
