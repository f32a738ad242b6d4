"""One proxied connection: the client's side, the endpoint's side, bytes spliced both ways.

The client's transport stops reading until an endpoint is connected (its bytes wait in the
kernel); a connection an endpoint refuses (or that times out) is tried on the next backend,
and only when every backend failed is the client's connection reset. Each side pauses the
other's reading while its own write buffer is full, so a slow reader never makes the proxy
buffer without bound. An EOF is passed on as a half close; the connection ends when both
directions ended or either side is lost.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from kube9_desktop.engine.proxy.responder import VirtualResponder
from kube9_desktop.engine.proxy.tables import Address, Backend, PortTable


class Router(Protocol):
    """What a connection asks of the proxy thread (thread.py)."""

    connect_timeout: float

    def route(self, address: Address) -> PortTable | None: ...
    def pick(self, table: PortTable, client: str, tried: set[int]) -> Backend | None: ...
    def pod_alive(self, service_id: int, pod_id: int) -> bool: ...
    def opened(self, conn: ClientSide) -> None: ...
    def closed(self, conn: ClientSide) -> None: ...
    def routed(self, conn: ClientSide) -> None: ...


class ClientSide(asyncio.Protocol):
    __slots__ = (
        "_eof_in", "_eof_out", "_task", "address", "backend", "client", "router", "service_id",
        "transport", "upstream", "virtual",
    )  # fmt: skip

    def __init__(self, router: Router, address: Address) -> None:
        self.router = router
        self.address = address
        self.transport: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.virtual: VirtualResponder | None = None
        self.backend: Backend | None = None
        self.service_id = 0
        self.client: tuple[str, int] | None = None  # the client's address, as the proxy sees it
        self._task: asyncio.Task[None] | None = None
        self._eof_in = self._eof_out = False  # client sent EOF / endpoint sent EOF

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        table = self.router.route(self.address)
        if table is None or not table.backends:
            transport.abort()  # kube-proxy rejects: no endpoint, no connection
            return
        self.service_id = table.service_id
        peer = transport.get_extra_info("peername")
        self.client = (str(peer[0]), int(peer[1])) if peer else None
        client = self.client[0] if self.client else ""
        self.router.opened(self)
        first = self.router.pick(table, client, set())
        if first is not None and first.virtual:
            self._serve_virtually(first)  # no connect, no task: the common virtual case
            return
        transport.pause_reading()
        self._task = asyncio.get_running_loop().create_task(self._connect(table, client, first))

    def _serve_virtually(self, backend: Backend) -> None:
        assert self.transport is not None
        self.backend = backend
        self.router.routed(self)
        self.virtual = VirtualResponder(
            self.transport, backend.pod_id, backend.pod_name, backend.node_name,
            lambda pod: self.router.pod_alive(self.service_id, pod),
        )  # fmt: skip

    async def _connect(self, table: PortTable, client: str, backend: Backend | None) -> None:
        loop = asyncio.get_running_loop()
        tried: set[int] = set()
        while backend is not None:
            if backend.virtual:
                self._serve_virtually(backend)
                self._resume()
                return
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_connection(lambda: UpstreamSide(self), backend.ip, backend.port),
                    self.router.connect_timeout,
                )
            except (OSError, TimeoutError):
                tried.add(backend.pod_id)
                backend = self.router.pick(table, client, tried)
                continue
            assert isinstance(transport, asyncio.Transport)
            if self.transport is None or self.transport.is_closing():
                transport.close()  # the client left meanwhile
                return
            self.backend, self.upstream = backend, transport
            self.router.routed(self)
            self._resume()
            return
        if self.transport is not None:
            self.transport.abort()  # every endpoint refused: the client sees a reset

    def _resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.upstream is not None:
            self.upstream.write(data)
        elif self.virtual is not None:
            self.virtual.feed(data)

    def eof_received(self) -> bool:
        self._eof_in = True
        if self.upstream is not None and self.upstream.can_write_eof() and not self._eof_out:
            self.upstream.write_eof()
            return True  # keep the other direction open
        return False  # virtual, or both directions done: close

    def upstream_eof(self) -> None:
        self._eof_out = True
        if self.transport is None:
            return
        if self._eof_in or not self.transport.can_write_eof():
            self.transport.close()
            if self.upstream is not None:
                self.upstream.close()
        else:
            self.transport.write_eof()

    def pause_writing(self) -> None:
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and not self.upstream.is_closing():
            self.upstream.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self.upstream is not None:
            self.upstream.close()
        self.router.closed(self)

    def upstream_lost(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """The proxy stops or the Service is gone: end both sides now."""
        if self.upstream is not None:
            self.upstream.abort()
        if self.transport is not None:
            self.transport.abort()


class UpstreamSide(asyncio.Protocol):
    __slots__ = ("client", "transport")

    def __init__(self, client: ClientSide) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        client = self.client.transport
        if client is not None:
            client.write(data)

    def eof_received(self) -> bool:
        self.client.upstream_eof()
        return True

    def pause_writing(self) -> None:
        client = self.client.transport
        if client is not None:
            client.pause_reading()

    def resume_writing(self) -> None:
        client = self.client.transport
        if client is not None and not client.is_closing():
            client.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.upstream_lost()
