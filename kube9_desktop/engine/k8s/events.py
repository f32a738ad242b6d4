"""The engine's event log as core/v1 ``Event`` objects (``kubectl get events``, and the Events
of ``kubectl describe pod|node|deployment``).

Each engine event becomes one Event about its object (a pod, node, Deployment, ReplicaSet,
Service or namespace), with the reason and type Kubernetes' own components use where one
exists (the scheduler's ``Scheduled`` and ``FailedScheduling`` with every node's verdict, the
node controller's ``NodeNotReady``, the Deployment controller's ``ScalingReplicaSet``...), and
the engine's sentence as its message. Events of a cluster-scoped object (a node) live in
``default``, as Kubernetes puts them. Engine-wide events (start, runtime) have no object and
are not served.
"""

from __future__ import annotations

import uuid
from typing import Any

from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.manifests import timestamp

Obj = dict[str, Any]
_UID_NAMESPACE = uuid.UUID("0b8a4f4e-2f57-4f0e-9c7c-5c1f3a9e6d10")
API_VERSION_OF = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1"}
CLUSTER_SCOPED = frozenset({"Node", "Namespace"})

# (reason, type, reporting component) per engine event kind; the rest: their own name.
K8S_EVENT: dict[EventKind, tuple[str, str, str]] = {
    EventKind.POD_CREATED: ("Scheduled", "Normal", "default-scheduler"),
    EventKind.POD_BOUND: ("Scheduled", "Normal", "default-scheduler"),
    EventKind.POD_REBOUND: ("Scheduled", "Normal", "default-scheduler"),
    EventKind.POD_PENDING: ("FailedScheduling", "Warning", "default-scheduler"),
    EventKind.POD_DELETED: ("Killing", "Normal", "kubelet"),
    EventKind.POD_KILLED: ("Killing", "Warning", "kubelet"),
    EventKind.POD_PREEMPTED: ("Preempted", "Normal", "default-scheduler"),
    EventKind.POD_RESTARTED: ("BackOff", "Warning", "kubelet"),
    EventKind.NODE_CREATED: ("RegisteredNode", "Normal", "node-controller"),
    EventKind.NODE_READY: ("NodeReady", "Normal", "kubelet"),
    EventKind.NODE_RECOVERED: ("NodeReady", "Normal", "kubelet"),
    EventKind.NODE_DETECTED: ("NodeNotReady", "Warning", "node-controller"),
    EventKind.NODE_FAILED: ("NodeNotReady", "Warning", "node-controller"),
    EventKind.RECOVERY_ATTEMPT: ("Rebooted", "Warning", "kube9-recovery"),
    EventKind.EVICTION_STARTED: ("NodeControllerEviction", "Normal", "node-controller"),
    EventKind.FAULT_INJECTED: ("FaultInjected", "Warning", "kube9-faults"),
    EventKind.SPLIT_BRAIN: ("SplitBrain", "Warning", "kube9-engine"),
    EventKind.REPLICASET_SCALED: ("SuccessfulCreate", "Normal", "replicaset-controller"),
    EventKind.DEPLOYMENT_SCALED: ("ScalingReplicaSet", "Normal", "deployment-controller"),
    EventKind.DEPLOYMENT_STALLED: ("ProgressDeadlineExceeded", "Warning", "deployment-controller"),
    EventKind.DEPLOYMENT_ROLLED_BACK: ("DeploymentRollback", "Normal", "deployment-controller"),
    EventKind.DRIFT: ("Drift", "Warning", "kube9-engine"),
}


def camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))


def reason_of(ev: Event) -> tuple[str, str, str]:
    found = K8S_EVENT.get(ev.kind)
    if found is not None:
        if ev.kind is EventKind.REPLICASET_SCALED and "delet" in ev.message.lower():
            return ("SuccessfulDelete", found[1], found[2])
        return found
    if ev.kind is EventKind.POD_PHASE:
        failed = "failed" in ev.message.lower()
        return ("Failed", "Warning", "kubelet") if failed else ("Started", "Normal", "kubelet")
    return (camel(str(ev.kind)), "Normal", "kube9-engine")


def event_name(ev: Event) -> str:
    assert ev.object is not None
    return f"{ev.object.name}.{ev.id:016x}"  # fixed width: names sort as the events came


def event_id_of(name: str) -> int | None:
    """The engine event id an Event's name ends in (None: no name of ours)."""
    _, dot, tail = name.rpartition(".")
    if not dot or not tail or len(tail) > 16:
        return None
    try:
        return int(tail, 16)
    except ValueError:
        return None


def event_namespace(ev: Event) -> str:
    assert ev.object is not None
    if ev.object.kind in CLUSTER_SCOPED or not ev.object.namespace:
        return "default"
    return ev.object.namespace


def event_object(ev: Event) -> Obj:
    """``ev`` as a core/v1 Event (``ev.object`` must be set)."""
    ref = ev.object
    assert ref is not None
    reason, kind, component = reason_of(ev)
    involved: Obj = {
        "kind": ref.kind,
        "name": ref.name,
        "uid": ref.uid,
        "apiVersion": API_VERSION_OF.get(ref.kind, "v1"),
    }
    if ref.kind not in CLUSTER_SCOPED and ref.namespace:
        involved["namespace"] = ref.namespace
    at = timestamp(ev.at)
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": event_name(ev),
            "namespace": event_namespace(ev),
            "uid": str(uuid.uuid5(_UID_NAMESPACE, str(ev.id))),
            "resourceVersion": str(ev.resource_version),
            "creationTimestamp": at,
        },
        "involvedObject": involved,
        "reason": reason,
        "message": ev.message,
        "source": {"component": component},
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
        "type": kind,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
    }
