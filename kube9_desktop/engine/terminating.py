"""Pods deleted from the store whose processes may still be stopping on their node.

A deleted pod leaves the store in its commit, but on a process or Docker node its processes
get SIGTERM only when the agent next hears its desired set, and take up to the agent's grace
to exit. A rolling update that counted only stored pods would start the next new pod while the
old one still runs, and what really runs would exceed replicas + max_surge. So, as Kubernetes
does with ``podReplacementPolicy: TerminationComplete`` (KEP-3973, ``terminatingReplicas``),
the Deployment controller counts these pods against its surge, and Recreate waits for them.

A node's entries end when its agent reports that it holds the node's current desired set
(``generation``) with nothing left stopping (``terminating`` 0), when the node stops being
healthy (it is failing: its processes are gone or out of reach, and a rollout must not wait on
it), when the node is deleted, or ``LINGER_MAX_S`` after its grace period is over (an agent
that never says). Virtual
nodes stop pods at once and are never tracked. Kept in memory only: an engine restarted mid-
stop forgets them, and the next step may surge once more than the limit while they finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.model import NodeStatus, PodView

LINGER_MAX_S = 60.0  # past a pod's grace period: far beyond a few heartbeats


@dataclass(slots=True)
class _Stopping:
    replicaset_id: int | None  # its owner, if a ReplicaSet
    until: float  # when to stop waiting for its agent's word: its grace + LINGER_MAX_S


class TerminatingPods:
    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        on_released: Callable[[set[int]], None] = lambda _rs_ids: None,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.on_released = on_released  # ReplicaSet ids whose stopping pods are now gone
        self.by_node: dict[int, dict[int, _Stopping]] = {}
        self._counts: dict[int, int] = {}  # ReplicaSet id -> its stopping pods
        cluster.bus.subscribe_changes(self._on_changes)

    def count(self, replicaset_id: int) -> int:
        return self._counts.get(replicaset_id, 0)

    def __len__(self) -> int:
        return sum(len(pods) for pods in self.by_node.values())

    def _on_changes(self, changes: Changes) -> None:
        state = self.cluster.state
        now = self.clock.monotonic()
        for pod_id, view in changes.removed.get(Kind.POD, {}).items():
            if not isinstance(view, PodView) or view.node_id is None:
                continue
            node = state.nodes.get(view.node_id)
            if node is None or node.runtime == "virtual" or node.status is not NodeStatus.HEALTHY:
                continue
            owner = view.spec.owner
            rs_id = owner.id if owner is not None and owner.kind == "ReplicaSet" else None
            until = now + view.spec.termination_grace_s + LINGER_MAX_S
            self.by_node.setdefault(node.id, {})[pod_id] = _Stopping(rs_id, until)
            if rs_id is not None:
                self._counts[rs_id] = self._counts.get(rs_id, 0) + 1
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.release(node_id)
        for node_id in changes.changed.get(Kind.NODE, set()):
            node = state.nodes.get(node_id)
            if node_id in self.by_node and (node is None or node.status is not NodeStatus.HEALTHY):
                self.release(node_id)

    def reported(self, node_id: int, *, current: bool, terminating: int | None) -> None:
        """A heartbeat from ``node_id``: ``current``, it holds the node's desired set."""
        if current and not terminating and node_id in self.by_node:
            self.release(node_id)

    def sweep(self) -> None:
        """Forget entries past their grace period and LINGER_MAX_S."""
        now = self.clock.monotonic()
        for node_id, pods in list(self.by_node.items()):
            old = [pod_id for pod_id, s in pods.items() if s.until <= now]
            if old:
                self.release(node_id, old)

    def release(self, node_id: int, pod_ids: list[int] | None = None) -> None:
        pods = self.by_node.get(node_id)
        if not pods:
            self.by_node.pop(node_id, None)
            return
        released: set[int] = set()
        for pod_id in list(pods) if pod_ids is None else pod_ids:
            stopping = pods.pop(pod_id, None)
            if stopping is None or stopping.replicaset_id is None:
                continue
            rs_id = stopping.replicaset_id
            released.add(rs_id)
            left = self._counts.get(rs_id, 0) - 1
            if left > 0:
                self._counts[rs_id] = left
            else:
                self._counts.pop(rs_id, None)
        if not pods:
            del self.by_node[node_id]
        if released:
            self.on_released(released)
