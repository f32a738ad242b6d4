"""Node steps and operations, each a function of an open transaction.

``update_node`` is the one way a node's stored fields change: every field it accepts has its
column, so memory and the store can never disagree (no ``setattr`` of arbitrary fields).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import incidents, placement
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster.base import epoch_generation
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.constraints import (
    CONTROL_PLANE_TAINT,
    Taint,
    TaintEffect,
    taints_json,
    tolerated,
)
from kube9_desktop.engine.errors import Conflict
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.meta import new_uid
from kube9_desktop.engine.model import (
    MIB_PER_CORE_DEFAULT,
    NodeSpec,
    NodeStatus,
    NodeType,
    Resources,
    components_for,
    format_cpu,
    format_mem,
)
from kube9_desktop.engine.outcomes import DeletedNode, DrainStep
from kube9_desktop.engine.state import ClusterState, NodeState, PodState
from kube9_desktop.engine.tokens import hash_token, new_node_token

# memory attribute -> (column, how the column stores it)
_COLUMNS: dict[str, tuple[str, Any]] = {
    "status": ("status", str),
    "status_reason": ("status_reason", str),
    "components": ("components", dict),
    "runtime": ("runtime", str),
    "runtime_handle": ("runtime_handle", lambda v: v),
    "recovery_attempts": ("recovery_attempts", int),
    "cordoned": ("unschedulable", bool),
    "token_hash": ("token_hash", str),
    "labels": ("labels", dict),
    "annotations": ("annotations", dict),
    "taints": ("taints", taints_json),
}


# ---- steps -----------------------------------------------------------------------------


def update_node(t: Txn, node: NodeState, **fields: Any) -> None:
    """Change stored fields of a node: its row and its record, in this transaction.

    The scheduling index follows (status, components and cordon decide eligibility); its undo
    is registered first so that it runs last, after the fields are back.
    """
    state = t.state
    t.undo(lambda: state.reindex(node))
    if "labels" in fields:  # the pod-topology books count pods by their nodes' labels
        t.undo(state.topology.reset)
    cols: dict[str, Any] = {}
    for attr, value in fields.items():
        column, store_as = _COLUMNS[attr]  # a KeyError here is a bug: no such stored field
        t.set(node, attr, value)
        cols[column] = store_as(value)
    t.set(node, "resource_version", t.rv)
    cols["resource_version"] = t.rv
    t.store.update_node(node.id, **cols)
    state.reindex(node)
    if "labels" in fields:
        state.topology.reset()
    t.changed(Kind.NODE, node.id)


def set_status(
    t: Txn,
    node: NodeState,
    status: NodeStatus,
    reason: str,
    kind: EventKind = EventKind.NODE_STATUS,
    *,
    message: str | None = None,
    data: Mapping[str, Any] | None = None,
    recovery_attempts: int | None = None,
    silent: bool | None = None,
) -> Event:
    """A node's status change with its event; the components it was decided on are stored too.

    The node's condition taints follow its status in the same commit (noexecute.py: not-ready,
    or unreachable when ``silent``, its heartbeats overdue; None keeps the kind it has), so a
    node is never healthy with them nor unhealthy without. They evict nothing here: the health
    monitor and the taint eviction controller do, on their own timing. A node turning healthy
    gets the pending pods that now fit, in the same commit.
    """
    previous = node.status
    fields: dict[str, Any] = {"status": status, "status_reason": reason,
                              "components": dict(node.components)}  # fmt: skip
    if recovery_attempts is not None:
        fields["recovery_attempts"] = recovery_attempts
    current = noexecute.condition_of(node.taints)
    key = noexecute.condition_key(
        status, current == noexecute.UNREACHABLE if silent is None else silent, current
    )
    taints = noexecute.with_condition(node.taints, key)
    if taints != node.taints:
        fields["taints"] = taints
    update_node(t, node, **fields)
    extra = {"condition_taint": key} if key != current else {}
    ev = t.event(
        kind,
        message or f"Node {node.name} is {status}" + (f": {reason}" if reason else ""),
        obj=node.ref(),
        data={"status": str(status), "previous": str(previous), **extra, **(data or {})},
    )
    if status is NodeStatus.HEALTHY:
        placement.place_pending(t)
    return ev


def set_condition(t: Txn, node: NodeState, key: str | None) -> bool:
    """Swap the node's condition taints (not-ready <-> unreachable) as its heartbeats stop or
    resume while it stays unhealthy; False when it already carried them."""
    taints = noexecute.with_condition(node.taints, key)
    if taints == node.taints:
        return False
    update_node(t, node, taints=taints)
    t.event(
        EventKind.NODE_TAINTED,
        f"Node {node.name} taints: {', '.join(map(str, taints)) or 'none'}",
        obj=node.ref(),
        data={"taints": taints_json(taints), "condition_taint": key},
    )
    return True


def set_components(t: Txn, node: NodeState, components: Mapping[str, str]) -> None:
    update_node(t, node, components=dict(components))


def set_runtime_handle(t: Txn, node: NodeState, handle: str | None, message: str) -> None:
    update_node(t, node, runtime_handle=handle, runtime=t.cluster.config.runtime)
    t.event(EventKind.NODE_STARTED, message, obj=node.ref(), data={"handle": handle})


def set_recovery_attempts(t: Txn, node: NodeState, attempts: int) -> None:
    update_node(t, node, recovery_attempts=attempts)


def rotate_token(t: Txn, node: NodeState) -> str:
    """A fresh token for a node this process must (re)launch; the old one stops working."""
    token = new_node_token(node.id)
    update_node(t, node, token_hash=hash_token(token))
    tokens = t.cluster.tokens
    t.after_commit(lambda: tokens.__setitem__(node.id, token))
    return token


def default_taints(node_type: NodeType) -> tuple[Taint, ...]:
    """kubeadm's: a master keeps pods off unless they tolerate the control-plane taint."""
    return (CONTROL_PLANE_TAINT,) if node_type is NodeType.MASTER else ()


# ---- operations ------------------------------------------------------------------------


def set_taints(
    t: Txn, node: NodeState, taints: tuple[Taint, ...]
) -> placement.EvictionResult | None:
    """Replace a node's taints; pending pods that now fit are placed in the same commit.

    Pods on the node that do not tolerate one of its NoExecute taints are evicted in the same
    commit (moved, or replaced by their ReplicaSet), as Kubernetes' taint manager does for a
    pod with no matching toleration. A pod whose tolerations match with toleration_seconds
    stays that long (taint_eviction.py moves it then). None: the taints were already so.
    """
    before = node.taints
    if before == taints:
        return None
    update_node(t, node, taints=taints)
    t.event(
        EventKind.NODE_TAINTED,
        f"Node {node.name} taints: {', '.join(map(str, taints)) or 'none'}",
        obj=node.ref(),
        data={"taints": taints_json(taints), "previous": taints_json(before)},
    )
    # The condition taints' evictions are the health monitor's (its timing and guard).
    no_execute = [
        x for x in taints
        if x.effect is TaintEffect.NO_EXECUTE and x.key not in noexecute.CONDITION_KEYS
    ]  # fmt: skip
    moved = placement.EvictionResult((), ())
    if no_execute:
        doomed = [
            p for p in t.state.pods_of(node)
            if any(not tolerated(x, p.spec.tolerations) for x in no_execute)
        ]  # fmt: skip
        if doomed:
            shown = ", ".join(str(x) for x in no_execute)
            moved = placement.evict_pods(
                t, node, doomed, reason=f"node {node.name} has the taint {shown}"
            )
    placement.place_pending(t)
    return moved


def set_cordoned(t: Txn, node: NodeState, cordoned: bool) -> bool:
    """Cordon (no new pods; those on it stay) or uncordon; False when it already was so."""
    if node.cordoned is cordoned:
        return False
    update_node(t, node, cordoned=cordoned)
    kind = EventKind.NODE_CORDONED if cordoned else EventKind.NODE_UNCORDONED
    t.event(
        kind,
        f"Node {node.name} cordoned: no new pods (those on it stay)"
        if cordoned
        else f"Node {node.name} uncordoned: it takes new pods again",
        obj=node.ref(),
    )
    if not cordoned:
        placement.place_pending(t)
    return True


# What the DaemonSet controller gives its pods, so a cordoned node keeps them: kubectl drain
# leaves such pods (--ignore-daemonsets), and so does ours.
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", TaintEffect.NO_SCHEDULE)


def drain_pod(t: Txn, node: NodeState, pod: PodState) -> DrainStep:
    """Send one of a cordoned node's pods away, if it can go: a bare pod moves to the
    scheduler's choice, a ReplicaSet's is deleted (graceful termination, as any deletion) for
    its ReplicaSet to make again; a daemon-like pod, or one no other node would take, stays
    and says why (kubectl drain's report)."""
    if tolerated(UNSCHEDULABLE_TAINT, pod.spec.tolerations):
        return DrainStep(
            pod.name, pod.id, "left", daemon_like=True,
            reason=f"daemon-like: it tolerates {UNSCHEDULABLE_TAINT}, as a DaemonSet's pods do",
        )  # fmt: skip
    decision = t.cluster.decide(
        pod.request, pod.spec.constraints, namespace=pod.namespace, labels=pod.labels
    )
    if decision.node_id is None:
        reasons = {n: list(r) for n, r in decision.reasons.items() if n != node.name}
        return DrainStep(pod.name, pod.id, "left", reason="no other node fits", reasons=reasons)
    why = f"node {node.name} is being drained"
    if t.state.owner_of(pod) is not None:
        pod_ops.delete_pod(t, pod, why=f"evicted ({why}); its ReplicaSet replaces it")
        return DrainStep(pod.name, pod.id, "replaced")
    current = t.state.open_incidents.get(node.id)
    target = placement.move(t, pod, reason=why, incident_id=current.id if current else None)
    return DrainStep(pod.name, pod.id, "moved", to=target.name if target else None)


def create_node(t: Txn, spec: NodeSpec) -> tuple[NodeState, str]:
    if spec.name in t.state.node_ids:
        raise Conflict(f"A node named '{spec.name}' already exists", field="name")
    capacity = spec.capacity
    if capacity.mem_mi <= 0:
        capacity = Resources(capacity.cpu_m, -(-capacity.cpu_m * MIB_PER_CORE_DEFAULT // 1000))
    components = {c: "unknown" for c in components_for(spec.node_type)}
    taints = default_taints(spec.node_type) if spec.taints is None else spec.taints
    uid = new_uid()
    runtime = t.cluster.config.runtime
    node_id = t.store.insert_node(
        uid=uid,
        name=spec.name,
        node_type=str(spec.node_type),
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
        cpu_m=capacity.cpu_m,
        mem_mi=capacity.mem_mi,
        status=str(NodeStatus.INITIALIZING),
        components=components,
        runtime=runtime,
        token_hash=secrets.token_hex(16),  # replaced below, once the id (part of it) is known
        unschedulable=False,
        resource_version=t.rv,
        taints=taints_json(taints),
        engine=spec.engine or "local",
    )
    token = new_node_token(node_id)
    t.store.update_node(node_id, token_hash=hash_token(token))
    node = NodeState(
        id=node_id,
        uid=uid,
        name=spec.name,
        node_type=spec.node_type,
        capacity=capacity,
        status=NodeStatus.INITIALIZING,
        token_hash=hash_token(token),
        created_at=t.now,
        runtime=runtime,
        components=components,
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
        resource_version=t.rv,
        generation=epoch_generation(),
        taints=taints,
        engine=spec.engine or "local",
    )
    t.state.add_node(node)
    t.undo(lambda: t.state.remove_node(node))
    tokens = t.cluster.tokens
    t.after_commit(lambda: tokens.__setitem__(node_id, token))
    t.added(Kind.NODE, node_id)
    t.event(
        EventKind.NODE_CREATED,
        f"Node {spec.name} created ({spec.node_type}, {format_cpu(capacity.cpu_m)} CPU, "
        f"{format_mem(capacity.mem_mi)})",
        obj=node.ref(),
        data={"cpu_m": capacity.cpu_m, "mem_mi": capacity.mem_mi},
    )
    return node, token


def delete_refusal(state: ClusterState, node: NodeState, force: bool) -> Conflict | None:
    """Why deleting ``node`` is refused now (None: allowed). The UI asks the same rule."""
    if node.pod_ids and node.status is NodeStatus.HEALTHY and not force:
        n = len(node.pod_ids)
        return Conflict(
            f"Cannot delete node with {n} running pod{'s' if n != 1 else ''}. Delete or "
            "move them first, or add ?force=true to evict them to other nodes.",
            pods=sorted(state.pods[p].name for p in node.pod_ids),
        )
    return None


def delete_node(t: Txn, node: NodeState, *, force: bool = False) -> DeletedNode:
    """Move the node's pods away (or make them pending) and delete it: one commit."""
    refusal = delete_refusal(t.state, node, force)
    if refusal is not None:
        raise refusal
    view = t.cluster.node_view(node)
    t.set(node, "deleting", True)  # fit says why it is unschedulable
    update_node(t, node, cordoned=True)  # no pod of its own lands back on it
    moved = placement.evict(t, node, reason=f"node {node.name} is being deleted")
    incidents.close_incident(t, node, "deleted")
    t.event(
        EventKind.NODE_DELETED,
        f"Node {node.name} deleted"
        + (f"; {len(moved.rebound)} pod(s) moved" if moved.rebound else "")
        + (f", {len(moved.pending)} pending" if moved.pending else ""),
        obj=node.ref(),
        incident_id=None,
    )
    t.store.delete_node(node.id)
    t.state.remove_node(node)
    t.undo(lambda: t.state.add_node(node))
    t.removed(Kind.NODE, node.id, view)
    cluster = t.cluster

    def forget() -> None:
        cluster.tokens.pop(node.id, None)
        cluster.deleted_token_hashes[node.id] = node.token_hash
        if len(cluster.deleted_token_hashes) > 10_000:
            cluster.deleted_token_hashes.pop(next(iter(cluster.deleted_token_hashes)))
        cluster.dirty_heartbeats.pop(node.id, None)

    t.after_commit(forget)
    return DeletedNode(node.name, moved.rebound, moved.pending, t.changes)
