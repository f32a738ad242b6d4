"""Taint eviction: pods that tolerate a node's NoExecute taints for toleration_seconds leave
when that time is up (Kubernetes' TaintEvictionController).

The decision is ``noexecute.verdict``, a pure function of the taints' addition times, the
pod's tolerations and its arrival; this controller keeps those times as books of its own
(never stored: at start every taint and pod counts from then, as the health monitor's
deadlines do) and, on a tick, evicts the pods whose time is up through ``cluster``.

Who evicts what: a pod that does not tolerate a NoExecute taint at all goes in the commit that
sets a user's taint (``cluster/nodes.set_taints``), or at the health monitor's eviction of an
unhealthy node (its timing, guard and ``eviction_delay`` unchanged); this controller moves the
rest when due, and any untolerating pod left behind (a condition taint swapped after the
monitor's eviction, the Kubernetes defaults turned off) once the monitor has nothing pending.
While evictions are paused (every worker silent at once) it evicts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, tick_forever
from kube9_desktop.engine.cluster import Cluster, placement
from kube9_desktop.engine.constraints import Taint, TaintEffect, Toleration
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.state import NodeState, PodState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaintEvictionConfig:
    tick: float = 0.25

    def __post_init__(self) -> None:
        if self.tick <= 0:
            raise ValueError("tick must be positive")


@dataclass(slots=True)
class NodeTaints:
    """When each of a node's NoExecute taints was added, and when pods arrived after that."""

    added: dict[Taint, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)  # pod id -> since


class TaintEvictionController:
    """``paused()``: evictions are held (the health monitor's guard); ``pending(node_id)``:
    the health monitor still has an eviction due on that node (its timing comes first)."""

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        config: TaintEvictionConfig,
        *,
        extra_tolerations: Callable[[], tuple[Toleration, ...]] = lambda: (),
        paused: Callable[[], bool] = lambda: False,
        pending: Callable[[int], bool] = lambda _node_id: False,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.config = config
        self.extra_tolerations = extra_tolerations
        self.paused = paused
        self.pending = pending
        self.books: dict[int, NodeTaints] = {}
        self._task: asyncio.Task[None] | None = None
        cluster.bus.subscribe_changes(self._on_changes)

    # ---- books -------------------------------------------------------------------------

    def _sync_node(self, node: NodeState, now: float) -> None:
        no_execute = [t for t in node.taints if t.effect is TaintEffect.NO_EXECUTE]
        books = self.books.get(node.id)
        if not no_execute:
            self.books.pop(node.id, None)
            return
        if books is None:
            books = self.books[node.id] = NodeTaints()
            for pod_id in node.pod_ids:
                books.arrived[pod_id] = float("-inf")  # on it before: count from the taint
        books.added = {t: books.added.get(t, now) for t in no_execute}
        for pod_id in [p for p in books.arrived if p not in node.pod_ids]:
            del books.arrived[pod_id]
        for pod_id in node.pod_ids:
            books.arrived.setdefault(pod_id, now)

    def _on_changes(self, changes: Changes) -> None:
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.books.pop(node_id, None)
        now = self.clock.monotonic()
        nodes = self.cluster.state.nodes
        for node_id in changes.ids(Kind.NODE):
            node = nodes.get(node_id)
            if node is not None and (node.taints or node_id in self.books):
                self._sync_node(node, now)

    def deadlines(self, node_id: int) -> dict[int, noexecute.Verdict]:
        """Each pod's verdict on the node (for the API, the window and tests)."""
        node = self.cluster.state.nodes.get(node_id)
        books = self.books.get(node_id)
        if node is None or books is None:
            return {}
        return {p.id: self._verdict(p, books) for p in self.cluster.state.pods_of(node)}

    def _verdict(self, pod: PodState, books: NodeTaints) -> noexecute.Verdict:
        tolerations = noexecute.with_defaults(pod.spec.tolerations, self.extra_tolerations())
        since = books.arrived.get(pod.id, self.clock.monotonic())
        return noexecute.verdict(books.added, tolerations, since)

    # ---- running -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            now = self.clock.monotonic()
            for node in self.cluster.state.nodes.values():
                if node.taints:
                    self._sync_node(node, now)
            self._task = asyncio.create_task(
                tick_forever(self.tick, self.config.tick, "taint eviction"), name="taint-eviction"
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def tick(self) -> None:
        if self.paused():
            return
        now = self.clock.monotonic()
        for node_id in list(self.books):
            node = self.cluster.state.nodes.get(node_id)
            if node is None or not node.pod_ids:
                continue
            try:
                self._check(node, now)
            except Exception:
                log.exception("taint eviction on node %s failed", node.name)

    def _check(self, node: NodeState, now: float) -> None:
        books = self.books[node.id]
        held = self.pending(node.id)
        due: list[tuple[PodState, noexecute.Verdict]] = []
        for pod in self.cluster.state.pods_of(node):
            v = self._verdict(pod, books)
            if v.action is noexecute.Action.EVICT and held:
                continue  # the health monitor's eviction is still due: its timing first
            if noexecute.due(v, now):
                due.append((pod, v))
        if not due:
            return
        with self.cluster.transaction() as t:
            taints = sorted({str(v.taint) for _, v in due})
            t.event(
                EventKind.EVICTION_STARTED,
                f"Evicting {len(due)} pod(s) from {node.name}: their toleration of "
                f"{', '.join(taints)} is up",
                obj=node.ref(),
                data={"pods": len(due), "taints": taints, "by": "taint_eviction"},
            )
            placement.evict_pods(
                t, node, [p for p, _ in due],
                reason=f"toleration of the taint {', '.join(taints)} on {node.name} is up",
                expired=tuple({v.taint for _, v in due if v.taint is not None}),
            )  # fmt: skip
