"""The proxy's own thread and event loop: the listeners, their connections, the balancer.

The engine's loop never carries a proxied byte: it only builds tables (tables.py) and hands
the whole set over with ``apply``, which the proxy loop takes up at its next turn (the last
set wins when several arrive in between). Everything else here runs on the proxy loop and
touches nothing of the engine. A listener that cannot be bound (the address is taken, or a
port below 1024 without the privilege) is reported once through ``on_problem`` and tried
again every ``RETRY_BIND_S`` while a table still wants it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping

from kube9_desktop.engine.proxy.balancer import Balancer
from kube9_desktop.engine.proxy.splice import ClientSide
from kube9_desktop.engine.proxy.tables import Address, Backend, PortTable, ServiceTable

log = logging.getLogger(__name__)
RETRY_BIND_S = 5.0
BACKLOG = 1024
_ACCEPTING = "_accept_connection2"  # asyncio's task that sets an accepted connection up


class ProxyThread:
    def __init__(
        self,
        monotonic: Callable[[], float],
        on_problem: Callable[[str], None],
        *,
        connect_timeout: float = 2.0,
        retry_bind_s: float = RETRY_BIND_S,
    ) -> None:
        self.connect_timeout = connect_timeout
        self._retry_bind_s = retry_bind_s
        self._monotonic = monotonic
        self._on_problem = on_problem
        self._balancer = Balancer()
        self._tables: Mapping[int, ServiceTable] = {}
        self._routes: dict[Address, PortTable] = {}
        self._servers: dict[Address, asyncio.Server] = {}
        self._opening: set[Address] = set()
        self._failed: dict[Address, float] = {}  # -> when it may be tried again
        self._conns: set[ClientSide] = set()
        # client address -> the pod its connection went to (the traffic generator asks)
        self._routed: dict[Address, str] = {}
        self._pending: Mapping[int, ServiceTable] | None = None
        self.sent = self.applied = 0  # table sets handed over / taken up (synced when equal)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.listening: frozenset[Address] = frozenset()  # a snapshot, any thread may read

    # ---- the engine's side (any thread) -------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="service-proxy", daemon=True
        )
        self._thread.start()
        ready.wait()

    def apply(self, tables: Mapping[int, ServiceTable]) -> None:
        """Route by ``tables`` from now on (every Service's; the previous set is dropped)."""
        loop = self._loop
        if loop is None:
            return
        with self._lock:
            scheduled = self._pending is not None
            self._pending = tables
            self.sent += 1
        if not scheduled:
            loop.call_soon_threadsafe(self._take_pending)

    async def stop(self) -> None:
        """Close every listener and connection, end the loop and its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        done = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        await asyncio.wrap_future(done)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        self._loop = self._thread = None

    # ---- the proxy loop -------------------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        # Not asyncio.new_event_loop(): under the window, qasync's policy would make a Qt loop.
        loop = asyncio.SelectorEventLoop()
        self._loop = loop
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:  # (gather takes its loop from the tasks: this thread has no current one)
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        servers = list(self._servers.values())
        self._routes, self._tables, self.listening = {}, {}, frozenset()
        self._servers.clear()
        await self._close(servers)
        for conn in list(self._conns):
            conn.abort()
        # An abort closes its socket a loop turn later (connection_lost): let those turns run.
        for _ in range(3):
            await asyncio.sleep(0)

    @staticmethod
    async def _close(servers: list[asyncio.Server]) -> None:
        """Close listeners once no accepted connection is still being set up: Python 3.11's
        ``Server._attach`` asserts on a closed server, and the socket just accepted is then
        leaked open (its client would wait forever). With the routes gone, the ones set up
        meanwhile are reset by ``ClientSide.connection_made``."""
        current = asyncio.current_task()
        while True:
            accepting = [
                t for t in asyncio.all_tasks()
                if t is not current and getattr(t.get_coro(), "__name__", "") == _ACCEPTING
            ]  # fmt: skip
            if not accepting:
                break
            await asyncio.gather(*accepting, return_exceptions=True)
        for server in servers:  # in the same step as the check: no accept slips in between
            server.close()

    def _take_pending(self) -> None:
        with self._lock:
            tables, self._pending = self._pending, None
            sent = self.sent
        if tables is not None:
            self._apply(tables)
        self.applied = sent

    def _apply(self, tables: Mapping[int, ServiceTable]) -> None:
        for gone in set(self._tables) - set(tables):
            self._balancer.forget(gone)
        self._tables = tables
        routes = {a: pt for t in tables.values() for a, pt in t.listeners.items()}
        moved = {
            a for a, old in self._routes.items()
            if a not in routes or routes[a].service_id != old.service_id
        }  # fmt: skip
        self._routes = routes
        now = self._monotonic()
        closing = [self._servers.pop(a) for a in list(self._servers) if a not in routes]
        if closing:
            assert self._loop is not None
            self._loop.create_task(self._close(closing))
        self._failed = {a: t for a, t in self._failed.items() if a in routes}
        for address in routes:
            if address in self._servers or address in self._opening:
                continue
            if self._failed.get(address, 0.0) > now:
                continue
            self._opening.add(address)
            assert self._loop is not None
            self._loop.create_task(self._listen(address))
        if moved:
            for conn in list(self._conns):
                if conn.address in moved:
                    conn.abort()  # its Service (or that port of it) is gone
        self._snapshot()

    async def _listen(self, address: Address) -> None:
        host, port = address
        try:
            server = await asyncio.get_running_loop().create_server(
                lambda: ClientSide(self, address), host, port,
                backlog=BACKLOG, reuse_address=True,
            )  # fmt: skip
        except OSError as exc:
            first = address not in self._failed
            self._failed[address] = self._monotonic() + self._retry_bind_s
            asyncio.get_running_loop().call_later(self._retry_bind_s, self._retry, address)
            if first:
                table = self._routes.get(address)
                what = f"Service {table.service}" if table else "A Service"
                self._on_problem(
                    f"{what} cannot listen on {host}:{port} ({exc.strerror or exc}); "
                    "nothing answers there until it can"
                )
            return
        finally:
            self._opening.discard(address)
        if address not in self._routes:
            server.close()  # deleted while it was being bound
            return
        self._failed.pop(address, None)
        self._servers[address] = server
        self._snapshot()

    def _retry(self, address: Address) -> None:
        """A listener that could not be bound, tried again while a table still wants it."""
        if (
            address in self._routes
            and address not in self._servers
            and address not in self._opening
        ):
            self._failed[address] = 0.0
            self._opening.add(address)
            assert self._loop is not None
            self._loop.create_task(self._listen(address))

    def _snapshot(self) -> None:
        self.listening = frozenset(self._servers)

    # ---- what a connection asks (splice.Router) ---------------------------------------------

    def route(self, address: Address) -> PortTable | None:
        return self._routes.get(address)

    def pick(self, table: PortTable, client: str, tried: set[int]) -> Backend | None:
        return self._balancer.pick(table, client, self._monotonic(), tried)

    def pod_alive(self, service_id: int, pod_id: int) -> bool:
        table = self._tables.get(service_id)
        return table is not None and pod_id in table.pods

    def opened(self, conn: ClientSide) -> None:
        self._conns.add(conn)

    def closed(self, conn: ClientSide) -> None:
        self._conns.discard(conn)
        if conn.client is not None and conn.backend is not None:
            self._routed.pop(conn.client, None)

    def routed(self, conn: ClientSide) -> None:
        if conn.client is not None and conn.backend is not None:
            self._routed[conn.client] = conn.backend.pod_name

    def attribute(self, client: Address) -> str | None:
        """The pod a live connection from ``client`` (its ip, port) was sent to; any thread
        may ask (one dict read)."""
        return self._routed.get(client)
