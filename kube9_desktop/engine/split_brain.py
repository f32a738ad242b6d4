"""Split brain: pods still running on an unreachable node after the engine moved or replaced them.

A partitioned node keeps running what it last held while the engine, hearing nothing, declares
it unhealthy and evicts: a bare pod moves (it keeps its id) and a ReplicaSet's pod is deleted
and replaced by a new one. Until the partition heals and the node's agent stops them, both
copies run. Kubernetes shows the old pod as ``Terminating``/``Unknown`` until the node returns;
here the old copy is listed on its node (``NodeView.stale_pods``) beside the pod that took its
place.

When a partitioned node is found silent, the pods it last reported running are noted; those
that then leave the node (moved, deleted) are its stale copies. A ReplicaSet's copy is paired
with the next pod that ReplicaSet creates (first gone, first paired). A node's copies end when
its agent reports that it holds the node's current desired set with nothing left stopping
(the same signal ``terminating.py`` waits for), when the node is restarted (its processes die)
or deleted. Kept in memory only: after an engine restart they are unknown, though the agent
still stops them when it is heard again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus, PodPhase, StaleCopy
from kube9_desktop.engine.state import NodeState

SHOWN_NAMES = 5  # pod names an event lists before "and N more"


@dataclass(slots=True)
class _Copy:
    name: str
    namespace: str
    replicaset_id: int | None
    replaced_by: int | None  # a bare pod: its own id; a ReplicaSet's: paired when created


@dataclass(slots=True)
class _Unreachable:
    name: str
    since: datetime
    copies: dict[int, _Copy]  # pod id -> what was reported running there


class StaleCopies:
    """The engine's books of stale copies, per unreachable node; shown on its node view."""

    def __init__(self, cluster: Cluster, partitioned: Callable[[int], bool]) -> None:
        self.cluster = cluster
        self._partitioned = partitioned
        self.by_node: dict[int, _Unreachable] = {}
        self._announce: set[tuple[int, int]] = set()  # (node id, pod id) paired, not yet said
        cluster.stale_copies = self.of
        cluster.bus.subscribe_changes(self._on_changes)

    # ---- the read ------------------------------------------------------------------------

    def of(self, node_id: int) -> tuple[StaleCopy, ...]:
        """The node's stale copies (by pod id), each with the pod that replaced it."""
        found = self.by_node.get(node_id)
        if found is None:
            return ()
        state = self.cluster.state
        out = []
        for pod_id, copy in sorted(found.copies.items()):
            pod = state.pods.get(pod_id)
            if pod is not None and pod.node_id == node_id:
                continue  # not moved (yet): it is simply the node's pod
            new = state.pods.get(copy.replaced_by) if copy.replaced_by is not None else None
            out.append(
                StaleCopy(
                    pod_id=pod_id,
                    name=copy.name,
                    namespace=copy.namespace,
                    node_id=node_id,
                    node_name=found.name,
                    since=found.since,
                    replaced_by=new.id if new is not None else None,
                    replaced_by_name=new.name if new is not None else None,
                    replaced_by_node=state.node_name(new.node_id) if new is not None else None,
                )
            )
        return tuple(out)

    def find(self, pod_id: int) -> StaleCopy | None:
        """The stale copy of pod ``pod_id`` (the first unreachable node's, if two)."""
        return next((c for c in self._all() if c.pod_id == pod_id), None)

    def replaced_by(self, pod_id: int) -> StaleCopy | None:
        """The stale copy that pod ``pod_id`` replaces, if any."""
        return next((c for c in self._all() if c.replaced_by == pod_id), None)

    def _all(self) -> list[StaleCopy]:
        return [c for node_id in sorted(self.by_node) for c in self.of(node_id)]

    # ---- learning from commits -----------------------------------------------------------

    def _on_changes(self, changes: Changes) -> None:
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.by_node.pop(node_id, None)
        nodes = self.cluster.state.nodes
        for node_id in changes.ids(Kind.NODE):
            node = nodes.get(node_id)
            if node is None:
                continue
            if node.status in (NodeStatus.RECOVERING, NodeStatus.INITIALIZING):
                self.by_node.pop(node_id, None)  # a restart ends its processes
            elif (
                node.status is NodeStatus.UNHEALTHY
                and node_id not in self.by_node
                and self._partitioned(node_id)
            ):
                self._note(node)
        if self.by_node and Kind.POD in changes.added:
            self._pair(changes.added[Kind.POD])

    def _note(self, node: NodeState) -> None:
        """The node was found silent: what it last reported running may soon run twice."""
        state = self.cluster.state
        copies = {}
        for pod in state.pods_of(node):
            if pod.phase is not PodPhase.RUNNING:
                continue
            owner = state.owner_of(pod)
            copies[pod.id] = _Copy(
                pod.name, pod.spec.namespace, owner.id if owner is not None else None,
                None if owner is not None else pod.id,
            )  # fmt: skip
        if copies:
            self.by_node[node.id] = _Unreachable(node.name, self.cluster.clock.now(), copies)

    def _pair(self, added: set[int]) -> None:
        """New pods of a ReplicaSet whose copies were deleted off an unreachable node."""
        state = self.cluster.state
        waiting: dict[int, list[tuple[int, int]]] = {}  # ReplicaSet id -> (node, pod), in order
        for node_id, found in self.by_node.items():
            for pod_id, copy in sorted(found.copies.items()):
                gone = pod_id not in state.pods
                if copy.replicaset_id is not None and copy.replaced_by is None and gone:
                    waiting.setdefault(copy.replicaset_id, []).append((node_id, pod_id))
        if not waiting:
            return
        for pod_id in sorted(added):
            pod = state.pods.get(pod_id)
            owner = state.owner_of(pod) if pod is not None else None
            queue = waiting.get(owner.id) if owner is not None else None
            if not queue:
                continue
            node_id, stale_id = queue.pop(0)
            self.by_node[node_id].copies[stale_id].replaced_by = pod_id
            if not self._announce:
                asyncio.get_running_loop().call_soon(self._say_paired)
            self._announce.add((node_id, stale_id))

    def _say_paired(self) -> None:
        """One commit for the pairings of a burst: the window redraws both rows from it."""
        pairs, self._announce = self._announce, set()
        with self.cluster.transaction() as t:
            for node_id, stale_id in sorted(pairs):
                found = self.by_node.get(node_id)
                copy = found.copies.get(stale_id) if found is not None else None
                new = self.cluster.state.pods.get(copy.replaced_by or 0) if copy else None
                node = self.cluster.state.nodes.get(node_id)
                if found is None or copy is None or new is None or node is None:
                    continue
                t.event(
                    EventKind.SPLIT_BRAIN,
                    f"Pod {new.name} replaces {copy.name}, which still runs on unreachable node "
                    f"{node.name} until the partition heals",
                    obj=new.ref(), related=node.ref(),
                    data={"stale_pod_id": stale_id, "stale_pod": copy.name},
                )  # fmt: skip
                t.changed(Kind.NODE, node_id)
                t.changed(Kind.POD, new.id)

    # ---- the heal ------------------------------------------------------------------------

    def reported(self, node_id: int, *, current: bool, terminating: int | None) -> None:
        """A heartbeat got through: holding its current pods with none stopping, the node
        has stopped every stale copy."""
        if not current or terminating or node_id not in self.by_node:
            return
        stale = self.of(node_id)
        del self.by_node[node_id]
        node = self.cluster.state.nodes.get(node_id)
        if not stale or node is None:
            return
        names = [c.name for c in stale]
        more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
        with self.cluster.transaction() as t:
            t.event(
                EventKind.SPLIT_BRAIN,
                f"Node {node.name} stopped its stale copies of {', '.join(names[:SHOWN_NAMES])}"
                f"{more}: the partition healed, one copy of each runs again",
                obj=node.ref(),
                data={"stopped": [c.pod_id for c in stale]},
            )
            t.changed(Kind.NODE, node_id)
            for c in stale:
                if c.replaced_by is not None:
                    t.changed(Kind.POD, c.replaced_by)
