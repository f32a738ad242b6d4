"""The engine's side of the proxy: follows commits, builds tables, hands them to the thread.

It subscribes to the engine's committed ``Changes``: a Service changed (its spec, or its
endpoints, which move in the very commit that moves a pod or its node) gets a new table; a
node whose kube_proxy fault began or ended gets new tables for every Service with an
endpoint there. The whole set then goes to the thread in one reference (thread.py), so an
endpoint a commit removed (a node detected failed) gets no new connection once the proxy
loop takes the set up, a turn of that loop later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.proxy.tables import Address, ServiceTable, table_of
from kube9_desktop.engine.proxy.thread import ProxyThread
from kube9_desktop.engine.services import ServiceView

log = logging.getLogger(__name__)


class ServiceProxy:
    def __init__(
        self,
        services: Callable[[], Iterable[ServiceView]],
        find_service: Callable[[int], ServiceView | None],
        *,
        virtual: bool,
        proxy_faulted: Callable[[int], bool],
        monotonic: Callable[[], float],
        on_problem: Callable[[str], None],
        node_dead: Callable[[int], bool] = lambda _node_id: False,
    ) -> None:
        self._services = services
        self._find = find_service
        self._virtual = virtual
        self._faulted = proxy_faulted
        self._blocked: set[int] = set()  # nodes whose kube_proxy is faulted
        self._node_dead = node_dead
        self._dead: set[int] = set()  # virtual nodes killed or frozen (no process answers)
        self._tables: dict[int, ServiceTable] = {}
        self.thread = ProxyThread(monotonic, on_problem)
        self.started = False

    @property
    def listening(self) -> frozenset[Address]:
        """The addresses bound now (cluster IP:port, 127.0.0.1:node port)."""
        return self.thread.listening

    def attribute(self, client: Address) -> str | None:
        """Which endpoint's pod a live connection from ``client`` (ip, port) went to."""
        return self.thread.attribute(client)

    def synced(self) -> bool:
        """Whether the thread routes by the latest tables (tests wait on this)."""
        return self.thread.applied == self.thread.sent

    def start(self) -> None:
        self.thread.start()
        self.started = True
        self._tables = {v.id: self._table(v) for v in self._services()}
        self.thread.apply(dict(self._tables))

    async def stop(self) -> None:
        self.started = False
        await self.thread.stop()

    def _table(self, view: ServiceView) -> ServiceTable:
        return table_of(
            view, virtual=self._virtual, blocked_nodes=self._blocked, dead_nodes=self._dead
        )

    def on_changes(self, changes: Changes) -> None:
        if not self.started:
            return
        ids = changes.ids(Kind.SERVICE)
        flipped = set()
        for node_id in changes.ids(Kind.NODE):
            if self._faulted(node_id) != (node_id in self._blocked):
                flipped.add(node_id)
                self._blocked ^= {node_id}
            if self._node_dead(node_id) != (node_id in self._dead):
                flipped.add(node_id)
                self._dead ^= {node_id}
        if flipped:
            ids |= {sid for sid, t in self._tables.items() if t.nodes & flipped}
        if not ids:
            return
        for sid in ids:
            view = self._find(sid)
            if view is None:
                self._tables.pop(sid, None)
            else:
                self._tables[sid] = self._table(view)
        self.thread.apply(dict(self._tables))
