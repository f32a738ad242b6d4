"""``coordination.k8s.io/v1`` leases in ``kube-node-lease``: one per node, named after it,
renewed by its heartbeats (``renewTime`` is the last one the engine heard), lasting the
grace period after which the engine declares a silent node unhealthy. Read only: the
engine renews them, as each kubelet renews its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kube9_desktop.engine.k8s.objects import derived_uid
from kube9_desktop.engine.manifests import timestamp
from kube9_desktop.engine.model import NodeView

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

Obj = dict[str, Any]
NAMESPACE = "kube-node-lease"


@dataclass(frozen=True, slots=True)
class NodeLease:
    node: NodeView
    duration_s: int

    @property
    def id(self) -> int:
        return self.node.id


def _duration(engine: Engine) -> int:
    return max(1, round(engine.settings.effective_grace_period))


def leases(engine: Engine, namespace: str | None) -> list[NodeLease]:
    if namespace not in (None, NAMESPACE):
        return []
    duration = _duration(engine)
    return [NodeLease(n, duration) for n in engine.nodes()]


def find_lease(engine: Engine, namespace: str, name: str) -> NodeLease | None:
    node = engine.find_node_named(name) if namespace == NAMESPACE else None
    return NodeLease(node, _duration(engine)) if node is not None else None


def micro_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_object(lease: NodeLease) -> Obj:
    node = lease.node
    spec: Obj = {"holderIdentity": node.name, "leaseDurationSeconds": lease.duration_s}
    if node.last_heartbeat is not None:
        spec["renewTime"] = micro_time(node.last_heartbeat)
    return {
        "kind": "Lease",
        "apiVersion": "coordination.k8s.io/v1",
        "metadata": {
            "name": node.name,
            "namespace": NAMESPACE,
            "uid": derived_uid(node.uid, "Lease"),
            "resourceVersion": str(node.resource_version),
            "creationTimestamp": timestamp(node.created_at),
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid}
            ],
        },
        "spec": spec,
    }
