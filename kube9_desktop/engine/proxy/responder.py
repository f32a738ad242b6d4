"""The answer of a virtual pod: it has no process, so the proxy replies for it itself.

Every HTTP/1.x request on the connection gets ``200 OK`` with the body ``pod <name> on
<node>\n`` and an ``X-Kube9-Pod: <name>`` header (HEAD: the headers only), keep-alive
unless the client asks to close (or speaks
HTTP/1.0 without keep-alive). A request body announced by Content-Length is read and
dropped; chunked bodies and bytes that are no HTTP get a 4xx and the connection closes. A
pod that leaves the Service's endpoints (deleted, its node failed) stops answering: its
connections close at their next request, as a stopped process's would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

HEAD_MAX = 16 * 1024


def reply(
    status: str, body: bytes, *, close: bool, head_only: bool = False, pod: bytes = b""
) -> bytes:
    headers = (
        b"HTTP/1.1 " + status.encode("ascii") + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + (b"X-Kube9-Pod: " + pod + b"\r\n" if pod else b"")
        + b"Content-Length: %d\r\n" % len(body) + (b"Connection: close\r\n" if close else b"")
        + b"\r\n"
    )  # fmt: skip
    return headers if head_only else headers + body


class VirtualResponder:
    """Parses requests as they arrive on ``transport`` and answers each (module docstring)."""

    __slots__ = ("_alive", "_body", "_buf", "_pod", "_pod_id", "_transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        pod_id: int,
        pod_name: str,
        node_name: str,
        alive: Callable[[int], bool],
    ) -> None:
        self._transport = transport
        self._pod_id = pod_id
        self._body = f"pod {pod_name} on {node_name}\n".encode()
        self._pod = pod_name.encode()
        self._alive = alive
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        while buf:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > HEAD_MAX:
                    self._fail("431 Request Header Fields Too Large")
                return
            head = bytes(buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                self._fail("400 Bad Request")
                return
            length, close = 0, parts[2] == "HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    if not value.isdigit():
                        self._fail("400 Bad Request")
                        return
                    length = int(value)
                elif name == "connection":
                    close = value == "close" or (close and value != "keep-alive")
                elif name == "transfer-encoding":
                    self._fail("411 Length Required")
                    return
            need = end + 4 + length
            if len(buf) < need:
                return  # the body is still arriving
            del buf[:need]
            if not self._alive(self._pod_id):
                self._transport.close()
                return
            self._transport.write(
                reply(
                    "200 OK", self._body, close=close, head_only=parts[0] == "HEAD", pod=self._pod
                )
            )
            if close:
                self._transport.close()
                return

    def _fail(self, status: str) -> None:
        self._buf.clear()
        self._transport.write(reply(status, status.encode() + b"\n", close=True))
        self._transport.close()
