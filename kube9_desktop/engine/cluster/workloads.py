"""ReplicaSet and Deployment steps: their rows and records, in one transaction each.

Deleting either cascades by default (a Deployment's ReplicaSets, a ReplicaSet's pods, in the
same commit) or orphans (``cascade=False``: the pods stay, their owner reference cleared), as
Kubernetes' ``propagationPolicy`` Foreground/Orphan does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.errors import Conflict, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import new_uid
from kube9_desktop.engine.state import DeploymentState, PodState, ReplicaSetState
from kube9_desktop.engine.workloads import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    DeploymentSpec,
    DeploymentStatus,
    PodTemplate,
    ReplicaSetSpec,
)


def _rs_cols(rs: ReplicaSetState) -> dict[str, Any]:
    return {
        "replicas": rs.spec.replicas,
        "labels": dict(rs.spec.labels),
        "annotations": dict(rs.spec.annotations),
        "revision": rs.revision,
        "generation": rs.generation,
    }


# ---- ReplicaSets -------------------------------------------------------------------------


def check_class(t: Txn, template: PodTemplate) -> None:
    """The template's PriorityClass exists (its pods would all be refused otherwise)."""
    name = template.priority_class_name
    if name and name not in t.state.priority_classes:
        raise UserError(
            f"template.priority_class_name: no PriorityClass with name {name} was found",
            field="template.priority_class_name",
        )


def create_replicaset(
    t: Txn,
    spec: ReplicaSetSpec,
    *,
    owner: DeploymentState | None = None,
    revision: int = 0,
    template_hash: str = "",
) -> ReplicaSetState:
    state = t.state
    if owner is None:
        check_class(t, spec.template)
    t.cluster.namespace(spec.namespace)
    if (spec.namespace, spec.name) in state.replicaset_ids:
        raise Conflict(f"A ReplicaSet named '{spec.name}' already exists", field="name")
    uid = new_uid()
    owner_ref = owner.ref() if owner is not None else None
    rs_id = t.store.insert_replicaset(
        uid=uid,
        namespace=spec.namespace,
        name=spec.name,
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
        replicas=spec.replicas,
        selector=spec.selector.to_json(),
        template=spec.template.to_json(),
        min_ready_seconds=spec.min_ready_seconds,
        owner_id=owner_ref.id if owner_ref else None,
        owner_uid=owner_ref.uid if owner_ref else None,
        owner_name=owner_ref.name if owner_ref else None,
        revision=revision,
        template_hash=template_hash,
        generation=1,
        resource_version=t.rv,
    )
    rs = ReplicaSetState(rs_id, uid, spec, t.now, owner_ref, revision, template_hash, 1, t.rv)
    state.add_replicaset(rs)
    t.undo(lambda: state.remove_replicaset(rs))
    t.added(Kind.REPLICASET, rs_id)
    if owner is not None:
        t.changed(Kind.DEPLOYMENT, owner.id)
    t.event(
        EventKind.REPLICASET_CREATED,
        f"ReplicaSet {spec.name} created with {spec.replicas} replica(s)"
        + (f" for Deployment {owner.name} (revision {revision})" if owner else ""),
        obj=rs.ref(),
        data={"replicas": spec.replicas, "revision": revision},
    )
    return rs


def update_replicaset(t: Txn, rs: ReplicaSetState, **changes: Any) -> None:
    """Change a ReplicaSet's spec fields (replicas, labels, annotations) and/or its revision."""
    revision = changes.pop("revision", rs.revision)
    new_spec = replace(rs.spec, **changes) if changes else rs.spec
    generation = rs.generation + (1 if new_spec != rs.spec else 0)
    t.set(rs, "spec", new_spec)
    t.set(rs, "revision", revision)
    t.set(rs, "generation", generation)
    t.set(rs, "resource_version", t.rv)
    t.store.update_replicaset(rs.id, **_rs_cols(rs), resource_version=t.rv)
    t.changed(Kind.REPLICASET, rs.id)
    if rs.owner is not None:
        t.changed(Kind.DEPLOYMENT, rs.owner.id)


def scale_replicaset(
    t: Txn, rs: ReplicaSetState, replicas: int, *, desired: int | None = None,
    max_total: int | None = None,
) -> int:  # fmt: skip
    """Set a ReplicaSet's replicas (a Deployment also records its desired and max replicas
    on it, as Kubernetes' annotations do); returns the old count."""
    before = rs.spec.replicas
    annotations = dict(rs.spec.annotations)
    if desired is not None:
        annotations[DESIRED_REPLICAS] = str(desired)
    if max_total is not None:
        annotations[MAX_REPLICAS] = str(max_total)
    if before == replicas and annotations == dict(rs.spec.annotations):
        return before
    update_replicaset(t, rs, replicas=replicas, annotations=annotations)
    return before


def touch_replicaset(t: Txn, rs: ReplicaSetState) -> None:
    """Its status (pods, ready, available) moved: a new resource version, no spec change."""
    t.set(rs, "resource_version", t.rv)
    t.store.update_replicaset(rs.id, resource_version=t.rv)
    t.changed(Kind.REPLICASET, rs.id)
    if rs.owner is not None:
        t.changed(Kind.DEPLOYMENT, rs.owner.id)


def _orphan(t: Txn, pod: PodState) -> None:
    state = t.state
    owner = state.owner_of(pod)
    spec = pod.spec
    t.set(pod, "spec", replace(spec, owner=None))
    if owner is not None:
        owner.pod_ids.discard(pod.id)
        t.undo(lambda: owner.pod_ids.add(pod.id))
    t.store.update_pod(pod.id, owner_kind=None, owner_id=None, owner_uid=None, owner_name=None,
                       resource_version=t.rv)  # fmt: skip
    t.set(pod, "resource_version", t.rv)
    t.changed(Kind.POD, pod.id)


def delete_replicaset(t: Txn, rs: ReplicaSetState, *, cascade: bool = True) -> int:
    """Delete a ReplicaSet and (cascade) its pods, or leave them ownerless; returns pods gone."""
    state = t.state
    pods = [state.pods[p] for p in sorted(rs.pod_ids)]
    for pod in pods:
        if cascade:
            pod_ops.delete_pod(t, pod, why=f"its ReplicaSet {rs.name} was deleted")
        else:
            _orphan(t, pod)
    t.store.delete_replicaset(rs.id)
    state.remove_replicaset(rs)
    t.undo(lambda: state.add_replicaset(rs))
    t.removed(Kind.REPLICASET, rs.id, None)
    if rs.owner is not None:
        t.changed(Kind.DEPLOYMENT, rs.owner.id)
    t.event(
        EventKind.REPLICASET_DELETED,
        f"ReplicaSet {rs.name} deleted"
        + (f" with {len(pods)} pod(s)" if cascade and pods else "")
        + (f"; its {len(pods)} pod(s) kept" if not cascade and pods else ""),
        obj=rs.ref(),
    )
    return len(pods) if cascade else 0


# ---- Deployments -------------------------------------------------------------------------


def _deployment_cols(d: DeploymentState) -> dict[str, Any]:
    spec = d.spec
    return {
        "labels": dict(spec.labels),
        "annotations": dict(spec.annotations),
        "replicas": spec.replicas,
        "selector": spec.selector.to_json(),
        "template": spec.template.to_json(),
        "strategy": spec.strategy.to_json(),
        "min_ready_seconds": spec.min_ready_seconds,
        "progress_deadline_seconds": spec.progress_deadline_seconds,
        "revision_history_limit": spec.revision_history_limit,
        "paused": spec.paused,
        "status": d.status.to_json(),
        "revision": d.revision,
        "generation": d.generation,
        "collision_count": d.collision_count,
    }


def create_deployment(t: Txn, spec: DeploymentSpec) -> DeploymentState:
    state = t.state
    t.cluster.namespace(spec.namespace)
    check_class(t, spec.template)
    if (spec.namespace, spec.name) in state.deployment_ids:
        raise Conflict(f"A Deployment named '{spec.name}' already exists", field="name")
    uid = new_uid()
    d = DeploymentState(0, uid, spec, t.now, DeploymentStatus(), 0, 1, 0, t.rv)
    d.id = t.store.insert_deployment(
        uid=uid, namespace=spec.namespace, name=spec.name, **_deployment_cols(d),
        resource_version=t.rv,
    )  # fmt: skip
    state.add_deployment(d)
    t.undo(lambda: state.remove_deployment(d))
    t.added(Kind.DEPLOYMENT, d.id)
    t.event(
        EventKind.DEPLOYMENT_CREATED,
        f"Deployment {spec.name} created: {spec.replicas} replica(s), {spec.strategy.type}",
        obj=d.ref(),
        data={"replicas": spec.replicas, "strategy": spec.strategy.to_json()},
    )
    return d


def update_deployment(
    t: Txn, d: DeploymentState, *, spec: DeploymentSpec | None = None,
    status: DeploymentStatus | None = None, revision: int | None = None,
    collision_count: int | None = None,
) -> None:  # fmt: skip
    """Write a Deployment's spec (a change bumps its generation), status or revision; only
    the columns that changed are written (status updates come at every rollout step)."""
    cols: dict[str, Any] = {}
    if spec is not None and spec.template != d.spec.template:
        check_class(t, spec.template)
    if spec is not None and spec != d.spec:
        t.set(d, "spec", spec)
        t.set(d, "generation", d.generation + 1)
        cols.update(_deployment_cols(d))
    if status is not None and status != d.status:
        t.set(d, "status", status)
        cols["status"] = status.to_json()
    if revision is not None and revision != d.revision:
        t.set(d, "revision", revision)
        cols["revision"] = revision
    if collision_count is not None and collision_count != d.collision_count:
        t.set(d, "collision_count", collision_count)
        cols["collision_count"] = collision_count
    t.set(d, "resource_version", t.rv)
    t.store.update_deployment(d.id, **cols, resource_version=t.rv)
    t.changed(Kind.DEPLOYMENT, d.id)


def delete_deployment(t: Txn, d: DeploymentState, *, cascade: bool = True) -> int:
    """Delete a Deployment with its ReplicaSets, and their pods unless ``cascade`` is False."""
    state = t.state
    gone = 0
    for rs_id in sorted(d.replicaset_ids):
        gone += delete_replicaset(t, state.replicasets[rs_id], cascade=cascade)
    t.store.delete_deployment(d.id)
    state.remove_deployment(d)
    t.undo(lambda: state.add_deployment(d))
    t.removed(Kind.DEPLOYMENT, d.id, None)
    t.event(
        EventKind.DEPLOYMENT_DELETED,
        f"Deployment {d.name} deleted"
        + (f" with {gone} pod(s)" if gone else "")
        + ("" if cascade else "; its pods were kept"),
        obj=d.ref(),
    )
    return gone
