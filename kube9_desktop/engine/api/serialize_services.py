"""Services to JSON, in the field names of their request bodies."""

from __future__ import annotations

from kube9_desktop.engine.api.wire_services import ServiceJson
from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.services import ServiceView


def service_json(v: ServiceView) -> ServiceJson:
    spec = v.spec
    return {
        "id": v.id,
        "uid": v.uid,
        "name": v.name,
        "namespace": v.namespace,
        "labels": dict(spec.labels),
        "annotations": dict(spec.annotations),
        "selector": dict(spec.selector),
        "type": spec.type,
        "cluster_ip": v.cluster_ip,
        "ports": [
            {"name": p.name, "port": p.port, "target_port": p.target_port,
             "protocol": p.protocol, "node_port": p.node_port}
            for p in spec.ports
        ],
        "session_affinity": spec.session_affinity,
        "endpoints": [
            {"pod_id": e.pod_id, "pod_name": e.pod_name, "node_id": e.node_id,
             "node_name": e.node_name, "ip": e.ip, "ready": e.ready,
             "ports": [{"name": p.name, "port": p.port} for p in e.ports]}
            for e in v.endpoints
        ],
        "ready_endpoints": len(v.ready_endpoints),
        "creation_timestamp": utc_iso(v.created_at),
        "resource_version": str(v.resource_version),
    }  # fmt: skip
