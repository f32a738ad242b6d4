"""Placement steps: bind a pod where the scheduler says, evict a node, place pending pods.

Each move is one step of the transaction it runs in, so evicting a node's 40 pods is one
commit, and the scheduler's choice for the next pod already counts the ones moved before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.constraints import PodConstraints, Taint
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import PodPhase
from kube9_desktop.engine.state import NodeState, PodState


@dataclass(frozen=True)
class EvictionResult:
    rebound: tuple[tuple[str, str], ...]  # (pod, new node)
    pending: tuple[str, ...]
    replaced: tuple[str, ...] = ()  # pods of ReplicaSets: deleted, their ReplicaSet replaces them


def largest_first(pods: Iterable[PodState]) -> list[PodState]:
    return sorted(pods, key=lambda p: (-p.request.cpu_m, -p.request.mem_mi, p.id))


def _remember(t: Txn, pod: PodState) -> None:
    """Undo for a move: the pod back on its old node with its old phase, report and decision."""
    state = t.state
    old_node = state.nodes.get(pod.node_id) if pod.node_id is not None else None
    saved = (pod.phase, pod.reason, pod.decision, dict(pod.containers), pod.resource_version,
             pod.ready_since)  # fmt: skip

    def restore() -> None:
        if old_node is not None:
            state.bind(pod, old_node)
        elif pod.node_id is not None:
            state.unbind(pod)
        pod.phase, pod.reason, pod.decision, containers, pod.resource_version, pod.ready_since = (
            saved
        )
        pod.containers = containers

    t.undo(restore)


def move(
    t: Txn, pod: PodState, *, reason: str, incident_id: int | None,
    constraints: PodConstraints | None = None,
) -> NodeState | None:  # fmt: skip
    """Bind ``pod`` to the scheduler's choice, or make it pending; returns the new node.

    ``constraints``: decide by these instead of the pod's own (a pod whose toleration of a
    taint ran out is placed as if it did not tolerate it, so it does not land back there).
    """
    state = t.state
    old = state.nodes.get(pod.node_id) if pod.node_id is not None else None
    decision = t.cluster.decide(
        pod.request,
        pod.spec.constraints if constraints is None else constraints,
        namespace=pod.namespace,
        labels=pod.labels,
    )
    target = state.nodes.get(decision.node_id) if decision.node_id is not None else None
    if target is None and old is None:
        return None  # still pending; nothing changes, nothing to record
    old_name = old.name if old else None
    _remember(t, pod)
    decision_json = decision.to_json()
    if target is not None:
        t.store.update_pod(
            pod.id, node_id=target.id, phase=str(PodPhase.SCHEDULED), reason="",
            decision=decision_json, report=None, resource_version=t.rv, ready_since=None,
        )  # fmt: skip
        state.bind(pod, target)
        pod.phase, pod.reason = PodPhase.SCHEDULED, ""
        kind = EventKind.POD_REBOUND if old else EventKind.POD_BOUND
        msg = (
            f"Pod {pod.name} moved from {old_name} to {target.name} ({reason})"
            if old
            else f"Pod {pod.name} placed on {target.name} ({reason})"
        )
        t.event(
            kind, msg, obj=pod.ref(), related=target.ref(), incident_id=incident_id,
            data={"from": old_name, "to": target.name, "from_id": old.id if old else None},
        )  # fmt: skip
    else:
        assert old is not None
        why = "; ".join(f"{n}: {', '.join(r)}" for n, r in decision.reasons.items())
        t.store.update_pod(
            pod.id, node_id=None, phase=str(PodPhase.PENDING), reason="no node fits",
            decision=decision_json, report=None, resource_version=t.rv, ready_since=None,
        )  # fmt: skip
        state.unbind(pod)
        pod.phase, pod.reason = PodPhase.PENDING, "no node fits"
        t.event(
            EventKind.POD_PENDING, f"Pod {pod.name} is pending: no node fits ({reason})",
            obj=pod.ref(), related=old.ref(), incident_id=incident_id,
            data={"from": old_name, "reasons": decision.reasons, "why": why},
        )  # fmt: skip
    pod.decision = decision
    pod.containers = {}
    pod.ready_since = None
    pod.resource_version = t.rv
    t.changed(Kind.POD, pod.id)
    for node in (old, target):
        if node is not None:
            t.changed(Kind.NODE, node.id)
    return target


def evict(t: Txn, node: NodeState, *, reason: str) -> EvictionResult:
    """Move every pod off ``node`` (largest request first): rebind, or leave pending.

    A pod a ReplicaSet keeps is deleted instead, and its ReplicaSet makes a new one that the
    scheduler places (what Kubernetes does after an eviction); bare pods move as they are.
    """
    return evict_pods(t, node, t.state.pods_of(node), reason=reason)


def evict_pods(
    t: Txn, node: NodeState, pods: Iterable[PodState], *, reason: str,
    expired: tuple[Taint, ...] = (),
) -> EvictionResult:  # fmt: skip
    """``evict`` for some of the node's pods only (those a NoExecute taint sends away).

    ``expired``: taints whose toleration ran out; a bare pod moves as if it did not tolerate
    them (a ReplicaSet's replacement is a new pod, and may come back, as in Kubernetes).
    """
    from kube9_desktop.engine.cluster import pods as pod_ops  # pods.py imports this module

    rebound: list[tuple[str, str]] = []
    pending: list[str] = []
    replaced: list[str] = []
    current = t.state.open_incidents.get(node.id)
    incident = current.id if current is not None else None
    for pod in largest_first(pods):
        if t.state.owner_of(pod) is not None:
            pod_ops.delete_pod(t, pod, why=f"evicted ({reason}); its ReplicaSet replaces it")
            replaced.append(pod.name)
            continue
        constraints = None
        if expired:
            kept = tuple(
                x for x in pod.spec.tolerations
                if x.toleration_seconds is None or not any(x.tolerates(e) for e in expired)
            )  # fmt: skip
            constraints = replace(pod.spec.constraints, tolerations=kept)
        target = move(t, pod, reason=reason, incident_id=incident, constraints=constraints)
        if target is None:
            pending.append(pod.name)
        else:
            rebound.append((pod.name, target.name))
    return EvictionResult(tuple(rebound), tuple(pending), tuple(replaced))


def by_priority(pods: Iterable[PodState]) -> list[PodState]:
    """The scheduling queue's order: highest priority first, then the oldest (creation)."""
    return sorted(pods, key=lambda p: (-p.spec.priority, p.id))


def place_pending(t: Txn) -> int:
    """Try to place every pending pod (highest priority first, then the oldest); returns how
    many were placed."""
    state = t.state
    if not state.pending or not len(state.indexes):
        return 0
    placed = 0
    for pod in by_priority(state.pending_pods()):
        if not len(state.indexes):
            break  # nothing eligible is left: the rest stay pending, unchanged
        if move(t, pod, reason="capacity became available", incident_id=None) is not None:
            placed += 1
    return placed
