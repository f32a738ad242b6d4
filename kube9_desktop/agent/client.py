"""One heartbeat over HTTP: POST the report, return the status and the decoded JSON reply."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

MAX_REPLY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HeartbeatReply:
    """What came back: an HTTP status with a JSON object, or why there is none.

    ``status`` is None when no HTTP answer arrived (refused, timed out, reset); ``payload`` is
    None when the body was not a JSON object. ``error`` says what went wrong, never the body.
    """

    status: int | None
    payload: dict[str, Any] | None
    error: str | None = None

    @property
    def reached(self) -> bool:
        return self.status is not None


class HeartbeatSender(Protocol):
    """Anything that can deliver an encoded heartbeat (the HTTP client, or a test double)."""

    timeout: float

    def send(self, report: bytes) -> HeartbeatReply: ...


class HeartbeatClient:
    """Posts heartbeats for one node with its bearer token; never raises on a bad answer."""

    def __init__(self, api_url: str, node_id: int, token: str, timeout: float) -> None:
        parts = urlsplit(api_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._path = f"{parts.path.rstrip('/')}/nodes/{node_id}/heartbeat"
        self._token = token
        self.timeout = timeout

    def send(self, report: bytes) -> HeartbeatReply:
        """POST one encoded report and read the reply within ``timeout`` seconds."""
        connection = self._connect()
        try:
            connection.request(
                "POST",
                self._path,
                body=report,
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            body = response.read(MAX_REPLY_BYTES + 1)
            status = response.status
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            return HeartbeatReply(None, None, describe_transport_error(exc))
        finally:
            connection.close()
        if len(body) > MAX_REPLY_BYTES:
            return HeartbeatReply(status, None, f"reply larger than {MAX_REPLY_BYTES} bytes")
        return decode_reply(status, body)

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
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
