"""Views to JSON, in the original Kube-9 field names (cores and MB on the wire); the shapes
are in wire.py, which the OpenAPI document shows."""

from __future__ import annotations

from typing_extensions import TypedDict

from kube9_desktop.engine.api.wire import (
    NamespaceJson,
    NodeHealthJson,
    NodeJson,
    PodHealthJson,
    PodJson,
    PortJson,
    ProbeJson,
    SummaryJson,
    interpod_json,
)
from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.constraints import taints_json
from kube9_desktop.engine.model import (
    ClusterSummary,
    ContainerSpec,
    ContainerStatus,
    NamespaceView,
    NodeView,
    PodView,
    cores,
)
from kube9_desktop.engine.usage import UsageJson


def node_json(n: NodeView, usage: UsageJson | None = None) -> NodeJson:
    free = n.free
    return {
        "id": n.id,
        "name": n.name,
        "node_type": str(n.node_type),
        "cpu_cores_total": cores(n.capacity.cpu_m),
        "cpu_cores_avail": cores(free.cpu_m),
        "memory_mb_total": n.capacity.mem_mi,
        "memory_mb_avail": free.mem_mi,
        "health_status": str(n.status),
        "status_reason": n.status_reason,
        "components": dict(n.components),
        "hosted_pods": len(n.pod_ids),
        "pod_ids": list(n.pod_ids),
        "last_heartbeat": utc_iso(n.last_heartbeat),
        "seconds_since_heartbeat": n.seconds_since_heartbeat,
        "recovery_attempts": n.recovery_attempts,
        "runtime": n.runtime,
        "engine": n.engine,
        "container_id": n.runtime_handle,
        "faults": list(n.faults),
        "schedulable": n.schedulable,
        "unschedulable": n.cordoned,
        "uid": n.uid,
        "labels": dict(n.labels),
        "annotations": dict(n.annotations),
        "creation_timestamp": utc_iso(n.created_at),
        "resource_version": str(n.resource_version),
        "usage": usage,
        "pod_limit": n.pod_limit,
        "stale_pods": [
            {
                "pod_id": c.pod_id,
                "name": c.name,
                "namespace": c.namespace,
                "since": utc_iso(c.since),
                "replaced_by": c.replaced_by,
                "replaced_by_name": c.replaced_by_name,
                "replaced_by_node": c.replaced_by_node,
            }
            for c in n.stale_pods
        ],
        "taints": taints_json(n.taints),
    }


def node_health_json(n: NodeView) -> NodeHealthJson:
    return {
        "node_id": n.id,
        "node_name": n.name,
        "node_type": str(n.node_type),
        "health_status": str(n.status),
        "status_reason": n.status_reason,
        "component_status": dict(n.components),
        "pods_count": len(n.pod_ids),
        "last_heartbeat": utc_iso(n.last_heartbeat),
        "seconds_since_heartbeat": n.seconds_since_heartbeat,
        "faults": list(n.faults),
    }


def pod_json(p: PodView, node_type: str | None = None, usage: UsageJson | None = None) -> PodJson:
    statuses = {c.name: c for c in p.containers}
    return {
        "id": p.id,
        "uid": p.uid,
        "name": p.name,
        "namespace": p.namespace,
        "labels": dict(p.labels),
        "annotations": dict(p.annotations),
        "resource_version": str(p.resource_version),
        "node": None
        if p.node_id is None
        else {"id": p.node_id, "name": p.node_name, "type": node_type or "worker"},
        "health_status": str(p.phase),
        "reason": p.status_reason,
        "cpu_cores_req": cores(p.request.cpu_m),
        "memory_mb_req": p.request.mem_mi,
        "ip_address": p.ip,
        "type": p.spec.kind,
        "termination_grace_period_s": p.spec.termination_grace_s,
        "tolerations": [t.to_json() for t in p.spec.tolerations],
        "node_selector": dict(p.spec.node_selector),
        "node_affinity": p.spec.node_affinity.to_json() if p.spec.node_affinity else None,
        **interpod_json(p.spec.interpod),
        "priority_class_name": p.spec.priority_class_name,
        "priority": p.spec.priority,
        "preemption_policy": str(p.spec.preemption_policy),
        "nominated_node_name": p.nominated_node_name,
        "containers": [
            {
                "id": i + 1,
                "name": c.name,
                "image": c.image,
                "cpu": cores(c.cpu_m),
                "memory": c.mem_mi,
                "command": list(c.command),
                "args": list(c.args),
                "status": statuses[c.name].state if c.name in statuses else "waiting",
                "restarts": statuses[c.name].restarts if c.name in statuses else 0,
                "exit_code": statuses[c.name].exit_code if c.name in statuses else None,
                "ready": statuses[c.name].is_ready if c.name in statuses else False,
                **crash_json(statuses.get(c.name)),
                **container_extra_json(c),
            }
            for i, c in enumerate(p.spec.containers)
        ],
        "volumes": [
            {"name": v.name, "type": v.type, "size": v.size, "path": v.path} for v in p.spec.volumes
        ],
        "config": [
            {"name": c.name, "type": c.type, "key": c.key, "value": c.shown_value}
            for c in p.spec.config
        ],
        "created_at": utc_iso(p.created_at),
        "creation_timestamp": utc_iso(p.created_at),
        "owner": p.owner.to_json() if p.owner else None,
        "ready": p.ready,
        "ready_since": utc_iso(p.ready_since),
        "usage": usage,
    }


class _CrashJson(TypedDict):
    reason: str
    last_reason: str | None
    backoff_s: float | None
    next_restart_at: str | None


def crash_json(status: ContainerStatus | None) -> _CrashJson:
    """Why a container waits or how its last run ended (Kubernetes' words), and its back-off."""
    if status is None:
        return {"reason": "", "last_reason": None, "backoff_s": None, "next_restart_at": None}
    return {
        "reason": "CrashLoopBackOff" if status.crashing else status.reason,
        "last_reason": status.last_reason or None,
        "backoff_s": status.backoff_s,
        "next_restart_at": utc_iso(status.next_restart_at),
    }


class _ContainerExtras(TypedDict, total=False):
    ports: list[PortJson]
    readiness_probe: ProbeJson
    liveness_probe: ProbeJson


def container_extra_json(c: ContainerSpec) -> _ContainerExtras:
    """Ports and probes in the request's field names (absent when the container has none)."""
    out: _ContainerExtras = {}
    if c.ports:
        out["ports"] = [
            {"name": p.name, "container_port": p.container_port, "protocol": p.protocol}
            for p in c.ports
        ]
    if c.readiness is not None:
        out["readiness_probe"] = c.readiness.to_json()
    if c.liveness is not None:
        out["liveness_probe"] = c.liveness.to_json()
    return out


def pod_health_json(p: PodView) -> PodHealthJson:
    return {
        "pod_id": p.id,
        "pod_name": p.name,
        "overall_status": str(p.phase),
        "reason": p.reason,
        "node": None if p.node_id is None else {"id": p.node_id, "name": p.node_name},
        "containers": [
            {"name": c.name, "status": c.state, "restarts": c.restarts, "exit_code": c.exit_code}
            for c in p.containers
        ],
        "last_report": utc_iso(p.last_report),
    }


def summary_json(s: ClusterSummary) -> SummaryJson:
    return {
        "nodes": {"total": s.node_count, "by_status": dict(s.nodes_by_status)},
        "pods": {"total": s.pod_count, "by_phase": dict(s.pods_by_phase)},
        "cpu_cores": {"capacity": cores(s.capacity.cpu_m), "allocated": cores(s.allocated.cpu_m)},
        "memory_mb": {"capacity": s.capacity.mem_mi, "allocated": s.allocated.mem_mi},
        "runtime": s.runtime,
        "runtime_reason": s.runtime_reason,
        "scheduler": s.scheduler,
        "heartbeats_per_s": round(s.heartbeats_per_s, 1),
        "evictions_paused": s.evictions_paused,
        "resource_version": str(s.resource_version),
        # What the engine adds (Engine.summary); named here so the reply keeps its shape.
        "api_url": s.extra.get("api_url"),
        "runtime_available": bool(s.extra.get("runtime_available", True)),
        "runtime_problem": s.extra.get("runtime_problem"),
        "grace_period_s": s.extra.get("grace_period_s", 0.0),
        "heartbeat_interval_s": s.extra.get("heartbeat_interval_s", 0.0),
    }


def namespace_json(ns: NamespaceView) -> NamespaceJson:
    return {
        "id": ns.id,
        "uid": ns.uid,
        "name": ns.name,
        "labels": dict(ns.labels),
        "annotations": dict(ns.annotations),
        "creation_timestamp": utc_iso(ns.created_at),
        "resource_version": str(ns.resource_version),
        "pods": ns.pod_count,
        "status": "Active",
    }
