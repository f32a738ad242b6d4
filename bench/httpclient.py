"""A lean keep-alive HTTP/1.1 client for benchmarks: pre-encoded requests over raw asyncio
streams, so the figures measure the engine, not a heavyweight client on the same two cores."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlparse


class Conn:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, base_url: str) -> Conn:
        url = urlparse(base_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(reader, writer, f"{url.hostname}:{url.port}")

    def request_bytes(self, method: str, path: str, token: str, body: Any = None) -> bytes:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one pre-encoded request, return (status, body)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")  # one await for all the headers
        status = int(head[9:12])  # b"HTTP/1.1 200 OK"
        length = 0
        at = head.lower().find(b"\r\ncontent-length:")
        if at >= 0:
            length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        status, raw = await self.send(self.request_bytes(method, path, token, body))
        return status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()

    def close(self) -> None:
        self.writer.close()
