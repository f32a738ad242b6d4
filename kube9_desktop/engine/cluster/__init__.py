"""The cluster's operations, composed of transaction steps; each method here is one commit.

    nodes.py       create, delete, status, runtime handle, token, recovery attempts
    pods.py        create (one or many), delete, phase and container status
    placement.py   bind to the scheduler's choice, evict a node, place pending pods
    priority.py    PriorityClasses, a pod's priority at creation, carrying out a preemption
    namespaces.py  system namespaces, create, delete (with their pods)
    incidents.py   open and close a node's incident record
    txn.py         the transaction: store rows + working copy with undo, one commit, then publish

To combine operations into one commit, open ``cluster.transaction()`` and call the step
functions with it; the methods below do exactly that for one operation each.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from kube9_desktop.engine.cluster import incidents, namespaces, nodes, placement, pods, priority
from kube9_desktop.engine.cluster.base import ClusterBase, ClusterConfig, epoch_generation
from kube9_desktop.engine.cluster.placement import EvictionResult, largest_first
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.constraints import Taint
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import (
    ClusterSummary,
    ContainerStatus,
    NodeSpec,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodSpec,
    Resources,
)
from kube9_desktop.engine.outcomes import (
    CreatedNode,
    CreatedPod,
    DeletedNode,
    DeletedPod,
    DrainStep,
    NamespaceOutcome,
)
from kube9_desktop.engine.priority import PriorityClassSpec, PriorityClassView
from kube9_desktop.engine.state import NodeState, PodState

T = TypeVar("T")

__all__ = [
    "Cluster",
    "ClusterConfig",
    "CreatedNode",
    "CreatedPod",
    "DeletedNode",
    "DeletedPod",
    "EvictionResult",
    "NamespaceOutcome",
    "Txn",
    "epoch_generation",
    "largest_first",
]


def _take(dirty: dict[int, T], limit: int | None) -> dict[int, T]:
    """Remove and return up to ``limit`` of the oldest entries of a dirty map (all: None)."""
    if limit is None or len(dirty) <= limit:
        taken = dict(dirty)
        dirty.clear()
        return taken
    return {k: dirty.pop(k) for k in list(itertools.islice(dirty, limit))}


class Cluster(ClusterBase):
    # ---- nodes -------------------------------------------------------------------------

    def create_node(self, spec: NodeSpec) -> CreatedNode:
        with self.transaction() as t:
            node, token = nodes.create_node(t, spec)
        return CreatedNode(self.node_view(node), token, t.changes)

    def set_taints(self, node_id: int, taints: tuple[Taint, ...]) -> NodeView:
        node = self.node(node_id)
        with self.transaction() as t:
            nodes.set_taints(t, node, taints)
        return self.node_view(node)

    def set_cordoned(self, node_id: int, cordoned: bool) -> tuple[NodeView, bool]:
        """The node as it now is, and whether this changed it."""
        node = self.node(node_id)
        with self.transaction() as t:
            changed = nodes.set_cordoned(t, node, cordoned)
        return self.node_view(node), changed

    def drain_pod(self, node_id: int, pod_id: int) -> DrainStep | None:
        """One pod of a drain, in its own commit (None: it left the node meanwhile)."""
        node = self.node(node_id)
        pod = self.state.pods.get(pod_id)
        if pod is None or pod.node_id != node.id:
            return None
        with self.transaction() as t:
            return nodes.drain_pod(t, node, pod)

    def set_condition(self, node: NodeState, key: str | None) -> bool:
        with self.transaction() as t:
            return nodes.set_condition(t, node, key)

    def delete_node(self, node_id: int, *, force: bool = False) -> DeletedNode:
        with self.transaction() as t:
            return nodes.delete_node(t, self.node(node_id), force=force)

    def set_status(
        self,
        node: NodeState,
        status: NodeStatus,
        reason: str,
        kind: EventKind = EventKind.NODE_STATUS,
        *,
        message: str | None = None,
        data: Mapping[str, Any] | None = None,
        recovery_attempts: int | None = None,
        detected: str | None = None,
        close_incident: str | None = None,
        silent: bool | None = None,
    ) -> Event:
        """A status change with its event. ``detected`` (a mode): the node was found failing,
        so its event joins the incident awaiting that detection, or a new one opens;
        ``close_incident`` (an outcome) closes the node's incident after."""
        with self.transaction() as t:
            if detected:
                incidents.detected(t, node, detected)
            ev = nodes.set_status(
                t, node, status, reason, kind, message=message, data=data,
                recovery_attempts=recovery_attempts, silent=silent,
            )  # fmt: skip
            if close_incident:
                incidents.close_incident(t, node, close_incident)
        return ev

    def set_components(self, node: NodeState, components: Mapping[str, str]) -> None:
        with self.transaction() as t:
            nodes.set_components(t, node, components)

    def set_runtime_handle(self, node: NodeState, handle: str | None, message: str) -> None:
        with self.transaction() as t:
            nodes.set_runtime_handle(t, node, handle, message)

    def set_recovery_attempts(self, node: NodeState, attempts: int) -> None:
        with self.transaction() as t:
            nodes.set_recovery_attempts(t, node, attempts)

    def rotate_token(self, node: NodeState) -> str:
        with self.transaction() as t:
            return nodes.rotate_token(t, node)

    def open_incident(self, node: NodeState, mode: str) -> int:
        with self.transaction() as t:
            return incidents.open_incident(t, node, mode)

    def close_incident(self, node: NodeState, outcome: str) -> int | None:
        with self.transaction() as t:
            return incidents.close_incident(t, node, outcome)

    def record_event(
        self,
        kind: EventKind,
        message: str,
        *,
        node: NodeState | None = None,
        pod: PodState | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Event:
        """Store and publish an event that changes nothing else."""
        with self.transaction() as t:
            if pod is not None:
                host = node or (
                    self.state.nodes.get(pod.node_id) if pod.node_id is not None else None
                )
                related = host.ref() if host is not None else None
                return t.event(kind, message, obj=pod.ref(), related=related, data=data)
            return t.event(kind, message, obj=node.ref() if node else None, data=data)

    # ---- pods --------------------------------------------------------------------------

    def create_pod(self, spec: PodSpec) -> CreatedPod:
        with self.transaction() as t:
            return pods.create_pod(t, spec)

    def create_pods(self, specs: Sequence[PodSpec]) -> list[CreatedPod]:
        with self.transaction() as t:
            return pods.create_pods(t, specs)

    def delete_pod(self, pod_id: int) -> DeletedPod:
        with self.transaction() as t:
            return pods.delete_pod(t, self.pod(pod_id))

    def delete_pods(self, pod_ids: Iterable[int]) -> list[DeletedPod]:
        """Delete several pods in one commit, pending pods placed once at its end; ids that
        are gone already are skipped (the result names the pods deleted)."""
        with self.transaction() as t:
            found = [p for p in map(self.state.pods.get, pod_ids) if p is not None]
            return [pods.delete_pod(t, pod) for pod in found]

    def replace_pod(self, pod_id: int, spec: PodSpec) -> CreatedPod:
        """``kubectl replace --force`` in one commit: the new pod, or (refused) the old one kept."""
        with self.transaction() as t:
            return pods.replace_pod(t, self.pod(pod_id), spec)

    def set_pod_status(
        self,
        changes: Iterable[tuple[PodState, PodPhase, str, dict[str, ContainerStatus] | None]],
    ) -> None:
        with self.transaction() as t:
            pods.set_pod_status(t, changes)

    # ---- moving pods -------------------------------------------------------------------

    def evict(self, node: NodeState, *, reason: str) -> EvictionResult:
        with self.transaction() as t:
            return placement.evict(t, node, reason=reason)

    def place_pending(self) -> int:
        if not self.state.pending or not len(self.state.indexes):
            return 0
        with self.transaction() as t:
            return placement.place_pending(t)

    # ---- priority classes --------------------------------------------------------------

    def create_priority_class(self, spec: PriorityClassSpec) -> PriorityClassView:
        with self.transaction() as t:
            return priority.create_priority_class(t, spec)

    def delete_priority_class(self, name: str) -> PriorityClassView:
        with self.transaction() as t:
            return priority.delete_priority_class(t, name)

    # ---- namespaces --------------------------------------------------------------------

    def ensure_system_namespaces(self) -> list[str]:
        with self.transaction() as t:
            return namespaces.ensure_system_namespaces(t)

    def create_namespace(
        self, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
    ) -> NamespaceOutcome:
        with self.transaction() as t:
            return namespaces.create_namespace(t, name, labels, annotations)

    def delete_namespace(self, name: str) -> NamespaceOutcome:
        with self.transaction() as t:
            return namespaces.delete_namespace(t, self.namespace(name))

    # ---- batched writes ----------------------------------------------------------------

    def flush(self, limit: int | None = None) -> bool:
        """Write batched heartbeat times (they never commit one by one).

        With ``limit``, at most that many per call (the rest stays dirty), so a flush of
        100,000 never holds the loop for long. True once nothing is left.
        """
        beats = _take(self.dirty_heartbeats, limit)
        try:
            self.store.flush_heartbeats(beats)
        except Exception:
            self.dirty_heartbeats = {**beats, **self.dirty_heartbeats}
            raise
        return not self.dirty_heartbeats

    # ---- summary -----------------------------------------------------------------------

    def summary(self, runtime: str, runtime_reason: str = "") -> ClusterSummary:
        """Counts and totals; read a few times a second by the window, so the 20,000 pods
        are counted in C (``Counter`` over their phases), not in a Python loop."""
        by_status: dict[str, int] = {str(s): 0 for s in NodeStatus}
        cap_cpu = cap_mem = alloc_cpu = alloc_mem = 0
        for n in self.state.nodes.values():
            by_status[str(n.status)] += 1
            if n.node_type is NodeType.WORKER:
                cap_cpu += n.capacity.cpu_m
                cap_mem += n.capacity.mem_mi
                alloc_cpu += n.allocated.cpu_m
                alloc_mem += n.allocated.mem_mi
        phases = Counter(map(attrgetter("phase"), self.state.pods.values()))
        by_phase: dict[str, int] = {str(p): phases.get(p, 0) for p in PodPhase}
        return ClusterSummary(
            nodes_by_status=by_status,
            pods_by_phase=by_phase,
            capacity=Resources(cap_cpu, cap_mem),
            allocated=Resources(alloc_cpu, alloc_mem),
            node_count=len(self.state.nodes),
            pod_count=len(self.state.pods),
            runtime=runtime,
            runtime_reason=runtime_reason,
            scheduler=self.config.scheduler,
            resource_version=self.resource_version,
        )
