"""Deployments, ReplicaSets and revisions to JSON, in the field names of their request bodies.

Templates show secrets masked, as pods do.
"""

from __future__ import annotations

from kube9_desktop.engine.api.serialize import container_extra_json
from kube9_desktop.engine.api.wire import Labels, interpod_json
from kube9_desktop.engine.api.wire_workloads import (
    DeploymentJson,
    ReplicaSetJson,
    RevisionJson,
    StrategyJson,
    TemplateJson,
)
from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.model import SECRET_MASK, cores
from kube9_desktop.engine.workload_ops import Revision
from kube9_desktop.engine.workloads import (
    DeploymentView,
    LabelSelector,
    PodTemplate,
    ReplicaSetView,
    Strategy,
    max_surge,
    max_unavailable,
)


def template_json(t: PodTemplate) -> TemplateJson:
    return {
        "labels": dict(t.labels),
        "annotations": dict(t.annotations),
        "cpu_cores_req": cores(t.request.cpu_m),
        "memory_mb_req": t.request.mem_mi,
        "termination_grace_period_s": t.termination_grace_s,
        "tolerations": [x.to_json() for x in t.tolerations],
        "node_selector": dict(t.node_selector),
        "node_affinity": t.node_affinity.to_json() if t.node_affinity else None,
        **interpod_json(t.interpod),
        "priority_class_name": t.priority_class_name,
        "containers": [
            {"name": c.name, "image": c.image, "cpu_req": cores(c.cpu_m), "memory_req": c.mem_mi,
             "command": list(c.command), "args": list(c.args), **container_extra_json(c)}
            for c in t.containers
        ],
        "volumes": [
            {"name": v.name, "type": v.type, "size": v.size, "path": v.path} for v in t.volumes
        ],
        "config": [
            {"name": i.name, "type": i.type, "key": i.key,
             "value": SECRET_MASK if i.is_secret else i.value}
            for i in t.config
        ],
    }  # fmt: skip


def selector_json(s: LabelSelector) -> Labels:
    return dict(s.match_labels)


def strategy_json(s: Strategy) -> StrategyJson:
    if s.type == "Recreate":
        return {"type": s.type}
    return {"type": s.type, "max_surge": s.max_surge, "max_unavailable": s.max_unavailable}


def replicaset_json(rs: ReplicaSetView) -> ReplicaSetJson:
    st = rs.status
    return {
        "id": rs.id,
        "uid": rs.uid,
        "name": rs.name,
        "namespace": rs.namespace,
        "labels": dict(rs.labels),
        "annotations": dict(rs.annotations),
        "owner": rs.owner.to_json() if rs.owner else None,
        "replicas": rs.replicas,
        "selector": selector_json(rs.selector),
        "template": template_json(rs.template),
        "min_ready_seconds": rs.min_ready_seconds,
        "revision": rs.revision,
        "pod_template_hash": rs.template_hash,
        "status": {
            "replicas": st.replicas,
            "fully_labeled_replicas": st.fully_labeled,
            "ready": st.ready,
            "available": st.available,
            "observed_generation": rs.generation,
        },
        "pod_ids": list(rs.pod_ids),
        "generation": rs.generation,
        "creation_timestamp": utc_iso(rs.created_at),
        "resource_version": str(rs.resource_version),
    }


def deployment_json(
    d: DeploymentView, replicasets: list[ReplicaSetView] | None = None
) -> DeploymentJson:
    spec, st = d.spec, d.status
    out: DeploymentJson = {
        "id": d.id,
        "uid": d.uid,
        "name": d.name,
        "namespace": d.namespace,
        "labels": dict(spec.labels),
        "annotations": dict(spec.annotations),
        "replicas": spec.replicas,
        "selector": selector_json(spec.selector),
        "template": template_json(spec.template),
        "strategy": strategy_json(spec.strategy),
        "strategy_resolved": {"max_surge": max_surge(spec.strategy, spec.replicas),
                              "max_unavailable": max_unavailable(spec.strategy, spec.replicas)},
        "min_ready_seconds": spec.min_ready_seconds,
        "progress_deadline_seconds": spec.progress_deadline_seconds,
        "revision_history_limit": spec.revision_history_limit,
        "paused": spec.paused,
        "revision": d.revision,
        "generation": d.generation,
        # The counts exactly as Kubernetes' DeploymentStatus defines them.
        "status": st.to_json(),
        "ready": f"{st.ready}/{spec.replicas}",
        "up_to_date": st.updated,
        "available": st.available,
        "replicaset_ids": list(d.replicaset_ids),
        "collision_count": d.collision_count,
        "creation_timestamp": utc_iso(d.created_at),
        "resource_version": str(d.resource_version),
    }  # fmt: skip
    if replicasets is not None:
        out["replicasets"] = [
            {"id": r.id, "name": r.name, "revision": r.revision, "replicas": r.replicas,
             "ready": r.status.ready, "available": r.status.available,
             "current": r.revision == d.revision}
            for r in sorted(replicasets, key=lambda r: r.revision)
        ]  # fmt: skip
    return out


def revision_json(r: Revision) -> RevisionJson:
    return {
        "revision": r.revision,
        "replicaset": r.replicaset,
        "replicaset_id": r.replicaset_id,
        "change_cause": r.change_cause,
        "images": [c.image for c in r.template.containers],
        "template": template_json(r.template),
        "replicas": r.replicas,
        "current": r.current,
        "creation_timestamp": utc_iso(r.created_at),
    }
