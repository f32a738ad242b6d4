"""The agent's HTTP to the engine: POST a heartbeat, GET a page of desired pods; never raises."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

# A heartbeat reply carries desired pods inline only up to 1 MiB (larger sets come in pages),
# so 4 MiB leaves room for everything else; a page is asked for with a pod count that fits.
MAX_REPLY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HeartbeatReply:
    """What came back: an HTTP status with a JSON object, or why there is none.

    ``status`` is None when no HTTP answer arrived (refused, timed out, reset); ``payload`` is
    None when the body was not a JSON object. ``error`` says what went wrong, never the body.
    ``too_large`` marks a body over the caller's cap (not read to its end).
    """

    status: int | None
    payload: dict[str, Any] | None
    error: str | None = None
    too_large: bool = False

    @property
    def reached(self) -> bool:
        return self.status is not None


class EngineClient(Protocol):
    """Anything that can talk to the engine for one node (the HTTP client, or a test double)."""

    timeout: float

    def send(self, report: bytes) -> HeartbeatReply: ...

    def get(self, path: str, max_bytes: int = MAX_REPLY_BYTES) -> HeartbeatReply: ...


class HeartbeatClient:
    """Talks to the engine for one node with its bearer token; never raises on a bad answer."""

    def __init__(
        self, api_url: str, node_id: int, token: str, timeout: float, *, ca_pem: str = ""
    ) -> None:
        """``ca_pem``: the cluster CA an https:// engine's certificate must chain to (else
        the system's trust store)."""
        parts = urlsplit(api_url)
        self._https = parts.scheme == "https"
        self._tls: ssl.SSLContext | None = None
        if self._https:
            self._tls = ssl.create_default_context(cadata=ca_pem or None)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._path = f"{self._base}/nodes/{node_id}/heartbeat"
        self._token = token
        self.timeout = timeout

    def send(self, report: bytes) -> HeartbeatReply:
        """POST one encoded report and read the reply within ``timeout`` seconds."""
        return self._request("POST", self._path, report, MAX_REPLY_BYTES)

    def get(self, path: str, max_bytes: int = MAX_REPLY_BYTES) -> HeartbeatReply:
        """GET ``path`` (relative to the API URL, e.g. ``/nodes/7/desired?…``) as this node."""
        return self._request("GET", self._base + path, None, max_bytes)

    def _request(
        self, method: str, path: str, body: bytes | None, max_bytes: int
    ) -> HeartbeatReply:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "Connection": "close",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = self._connect()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read(max_bytes + 1)
            status = response.status
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            return HeartbeatReply(None, None, describe_transport_error(exc))
        finally:
            connection.close()
        if len(raw) > max_bytes:
            return HeartbeatReply(status, None, f"reply larger than {max_bytes} bytes", True)
        return decode_reply(status, raw)

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._tls
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)


def decode_reply(status: int, body: bytes) -> HeartbeatReply:
    """Decode a reply body; a body that is not a JSON object yields ``payload=None``."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return HeartbeatReply(status, None, "reply is not JSON")
    if not isinstance(payload, dict):
        return HeartbeatReply(status, None, f"reply is JSON {type(payload).__name__}, not object")
    return HeartbeatReply(status, payload)


def describe_transport_error(exc: BaseException) -> str:
    """A short, secret-free description of why no reply arrived."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"
