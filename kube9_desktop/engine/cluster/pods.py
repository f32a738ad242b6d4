"""Pod steps and operations, each a function of an open transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import placement, priority
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.errors import Conflict, Unschedulable, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import new_uid
from kube9_desktop.engine.model import (
    ContainerStatus,
    PodPhase,
    PodSpec,
    format_cpu,
    format_mem,
)
from kube9_desktop.engine.outcomes import CreatedPod, DeletedPod
from kube9_desktop.engine.state import PodState


def report_json(containers: Iterable[ContainerStatus]) -> list[dict[str, Any]]:
    """Container statuses as stored with the pod (reasons included, so restarts keep them)."""
    return [
        {"name": c.name, "state": c.state, "exit_code": c.exit_code, "restarts": c.restarts,
         "reason": c.reason, "ready": c.ready,
         **({"last_reason": c.last_reason} if c.last_reason else {}),
         **({"backoff_s": c.backoff_s, "backoff_since": c.backoff_since.timestamp()}
            if c.backoff_s is not None and c.backoff_since is not None else {})}
        for c in containers
    ]  # fmt: skip


def create_pod(t: Txn, spec: PodSpec, *, allow_pending: bool = False) -> CreatedPod:
    """Validate against the books, schedule, insert and bind one pod.

    Its priority is resolved from its class first (an unknown class is refused). A pod that
    fits nowhere may preempt lower-priority pods (``priority.preempt``: they are deleted in
    this commit and the pod binds to the node nominated); else it is refused with every
    node's reasons, unless ``allow_pending`` (a controller's replica): then it waits as
    pending, its decision saying why.
    """
    t.cluster.namespace(spec.namespace)  # NotFound names it
    if (spec.namespace, spec.name) in t.state.pod_ids:
        where = f" in namespace '{spec.namespace}'" if spec.namespace != "default" else ""
        raise Conflict(f"A pod named '{spec.name}' already exists{where}", field="name")
    spec = priority.with_priority(t, spec)
    decision = t.cluster.decide(
        spec.request, spec.constraints, namespace=spec.namespace, labels=spec.labels
    )
    if decision.node_id is None and t.state.nodes:
        found = priority.preempt(t, spec)
        if found is not None and found.node_id is not None:
            decision = t.cluster.decide(
                spec.request, spec.constraints, namespace=spec.namespace, labels=spec.labels
            )
        if found is not None:
            decision = replace(decision, preemption=found)
    if decision.node_id is None and not allow_pending:
        raise Unschedulable(
            f"No available worker node can fit pod '{spec.name}' (requests "
            f"{format_cpu(spec.request.cpu_m)} CPU, {format_mem(spec.request.mem_mi)})",
            reasons=decision.reasons or {"(cluster)": ["no worker nodes: add a worker node first"]},
        )
    node = t.state.nodes[decision.node_id] if decision.node_id is not None else None
    state = t.state
    ip = state.ips.allocate()
    t.undo(lambda: state.ips.unallocate(ip))
    # Built and encoded once: stored with the pod and sent back to the caller as is.
    decision_json = decision.to_json()
    decision_text = json.dumps(decision_json)
    uid = new_uid()
    phase = PodPhase.SCHEDULED if node is not None else PodPhase.PENDING
    reason = "" if node is not None else "no node fits"
    pod_id = t.store.insert_pod(
        spec, uid=uid, ip=ip, node_id=node.id if node else None, phase=str(phase),
        decision=decision_json, decision_text=decision_text, resource_version=t.rv,
        reason=reason,
    )  # fmt: skip
    pod = PodState(
        id=pod_id,
        uid=uid,
        spec=spec,
        ip=ip,
        phase=phase,
        created_at=t.now,
        node_id=node.id if node else None,
        decision=decision,
        reason=reason,
        resource_version=t.rv,
        service_env=state.service_env(spec.namespace),
    )
    state.add_pod(pod)
    t.undo(lambda: state.remove_pod(pod))
    t.added(Kind.POD, pod_id)
    owner = state.owner_of(pod)
    if owner is not None:
        t.changed(Kind.REPLICASET, owner.id)
    data = {"cpu_m": spec.request.cpu_m, "mem_mi": spec.request.mem_mi, "ip": ip}
    pre = decision.preemption
    if node is not None:
        t.changed(Kind.NODE, node.id)
        preempted = (
            f", preempting {', '.join(v.pod for v in pre.victims)}"
            if pre is not None and pre.victims else ""
        )  # fmt: skip
        t.event(
            EventKind.POD_CREATED,
            f"Pod {spec.name} created and assigned to {node.name} ({decision.strategy}"
            f"{preempted})",
            obj=pod.ref(), related=node.ref(), data=data,
        )  # fmt: skip
    else:
        why = "; ".join(f"{n}: {', '.join(r)}" for n, r in decision.reasons.items())
        t.event(
            EventKind.POD_PENDING,
            f"Pod {spec.name} created, pending: no node fits"
            + (f" ({why})" if why else " (no worker nodes)"),
            obj=pod.ref(), data={**data, "reasons": decision.reasons},
        )  # fmt: skip
    return CreatedPod(state.pod_view(pod), decision, t.changes, decision_text)


def create_pods(t: Txn, specs: Sequence[PodSpec]) -> list[CreatedPod]:
    """Several pods in one commit: all of them, or (one refused) none of them."""
    names: set[tuple[str, str]] = set()
    for i, spec in enumerate(specs):
        key = (spec.namespace, spec.name)
        if key in names:
            raise Conflict(f"[{i}].name: '{spec.name}' is given twice", field=f"[{i}].name")
        names.add(key)
    return [create_pod(t, spec) for spec in specs]


def replace_pod(t: Txn, pod: PodState, spec: PodSpec) -> CreatedPod:
    """Delete ``pod`` and create ``spec`` in its place, in the caller's transaction.

    The name and namespace stay (a replace is of the same object); a pod a ReplicaSet keeps is
    refused, since its owner would only stamp another copy from its own template.
    """
    owner = t.state.owner_of(pod)
    if owner is not None:
        raise UserError(
            f"Pod {pod.name} is kept by ReplicaSet {owner.name}: edit its template "
            "(its Deployment) instead of the pod"
        )
    if (spec.name, spec.namespace) != (pod.spec.name, pod.spec.namespace):
        raise UserError(
            f"metadata.name/namespace: a replace keeps the pod's name ({pod.spec.namespace}/"
            f"{pod.spec.name}); create a new pod to rename it",
            field="name",
        )
    delete_pod(t, pod, why="replaced by an edited spec")
    return create_pod(t, spec)


def delete_pod(t: Txn, pod: PodState, *, why: str = "") -> DeletedPod:
    """Delete a pod (its node's agent stops it on its next heartbeat); room goes to pending."""
    state = t.state
    node = state.nodes.get(pod.node_id) if pod.node_id is not None else None
    view = state.pod_view(pod)
    owner = state.owner_of(pod)
    t.store.delete_pod(pod.id)
    t.event(
        EventKind.POD_DELETED,
        f"Pod {pod.name} deleted"
        + (f" from {node.name}" if node else "")
        + (f": {why}" if why else ""),
        obj=pod.ref(),
        related=node.ref() if node else None,
    )
    if owner is not None:
        t.changed(Kind.REPLICASET, owner.id)
    bound_to, containers = pod.node_id, pod.containers
    state.remove_pod(pod)  # (unbinding clears the pod's node and container statuses)

    def restore() -> None:
        pod.node_id, pod.containers = bound_to, containers
        state.add_pod(pod)

    t.undo(restore)
    t.removed(Kind.POD, pod.id, view)
    if node is not None:
        t.changed(Kind.NODE, node.id)
    t.once_before_commit("place_pending", lambda: placement.place_pending(t))
    return DeletedPod(view, t.changes)


def set_pod_status(
    t: Txn, changes: Iterable[tuple[PodState, PodPhase, str, dict[str, ContainerStatus] | None]]
) -> None:
    """Phase and container status changes of several pods (one agent report) as one write.

    Each entry is (pod, phase, reason, containers or None for unchanged containers); a phase
    change gets an event, a container-only change (a restart counted) is stored quietly.
    """
    rows: list[dict[str, Any]] = []
    for pod, phase, reason, containers in changes:
        phase_changed = not (pod.phase is phase and pod.reason == reason)
        if not phase_changed and containers is None:
            continue
        saved = (pod.phase, pod.reason, pod.containers, pod.resource_version, pod.ready_since)

        def restore(p: PodState = pod, s: tuple[Any, ...] = saved) -> None:
            p.phase, p.reason, p.containers, p.resource_version, p.ready_since = s

        t.undo(restore)
        previous = pod.phase
        pod.phase, pod.reason = phase, reason
        if containers is not None:
            pod.containers = containers
        ready = pod.reported_ready()
        if ready and pod.ready_since is None:
            pod.ready_since = t.now
        elif not ready:
            pod.ready_since = None
        pod.resource_version = t.rv
        rows.append({
            "b_id": pod.id, "phase": str(phase), "reason": reason,
            "report": report_json(pod.containers.values()), "last_report": t.now,
            "resource_version": t.rv, "ready_since": pod.ready_since,
        })  # fmt: skip
        t.changed(Kind.POD, pod.id)
        if phase_changed:
            node = t.state.nodes.get(pod.node_id) if pod.node_id is not None else None
            t.event(
                EventKind.POD_PHASE,
                f"Pod {pod.name} is {phase}" + (f": {reason}" if reason else ""),
                obj=pod.ref(),
                related=node.ref() if node else None,
                data={"phase": str(phase), "previous": str(previous)},
            )
    if rows:
        t.store.update_pods(rows)
