"""The engine's frozen views as Kubernetes objects (core/v1, apps/v1), as an API server serves them.

Built on ``engine/manifests.py`` (metadata, pod specs, templates, selectors) and completed with
what a client expects of a served object: a pod's conditions, container states and host IP, a
node's conditions, addresses, capacity with its pod count and ``nodeInfo``, a namespace's
phase, endpoints grouped into subsets. Where the engine knows less than a kubelet (a
container's start time, its image id) the field is left out or empty, never invented.
"""

from __future__ import annotations

import platform
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.engine.manifests import (
    cpu_quantity,
    deployment_manifest,
    memory_quantity,
    metadata,
    pod_spec_manifest,
    pod_template,
    replicaset_manifest,
    taints_manifest,
    timestamp,
)
from kube9_desktop.engine.model import (
    ContainerStatus,
    NamespaceView,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodView,
)
from kube9_desktop.engine.priority import PriorityClassView
from kube9_desktop.engine.services import NODE_PORT, ServiceView
from kube9_desktop.engine.workloads import DeploymentView, ReplicaSetView

Obj = dict[str, Any]

# The Kubernetes release whose API this one follows; kubectl picks its version by it.
KUBE_MAJOR, KUBE_MINOR, KUBE_PATCH = 1, 31, 0
KUBE_GIT_VERSION = f"v{KUBE_MAJOR}.{KUBE_MINOR}.{KUBE_PATCH}"
# Every node runs on this machine: they share its loopback address (pods have their own).
NODE_ADDRESS = "127.0.0.1"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

PHASES = {
    PodPhase.PENDING: "Pending",
    PodPhase.SCHEDULED: "Pending",  # bound, its containers not started yet
    PodPhase.RUNNING: "Running",
    PodPhase.FAILED: "Failed",
    PodPhase.SUCCEEDED: "Succeeded",
    PodPhase.TERMINATING: "Running",  # still running until its node stops it
}
_UID_NAMESPACE = uuid.UUID("6f1c1d3e-8f0b-4c55-9a57-6b7e0f5d9a21")


def derived_uid(owner_uid: str, kind: str) -> str:
    """A stable uid for what Kube-9 keeps inside another object (a Service's endpoints)."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}/{owner_uid}"))


def _architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine or "amd64")


ARCHITECTURE = _architecture()
KERNEL = platform.release()


# ---- namespaces ------------------------------------------------------------------------------


def namespace_object(ns: NamespaceView) -> Obj:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": metadata(
            name=ns.name,
            namespace=None,
            uid=ns.uid,
            resource_version=ns.resource_version,
            created_at=ns.created_at,
            labels=ns.labels,
            annotations=ns.annotations,
        ),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


# ---- nodes -----------------------------------------------------------------------------------


def node_labels(n: NodeView) -> dict[str, str]:
    """The node's labels plus those every kubelet sets (hostname, os, arch), and the
    control-plane role label for a Kube-9 master (kubectl's ROLES reads it)."""
    labels = {
        "kubernetes.io/arch": ARCHITECTURE,
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        **n.labels,
    }
    if n.node_type is NodeType.MASTER:
        labels.setdefault(CONTROL_PLANE_LABEL, "")
    return labels


def node_ready(n: NodeView) -> tuple[str, str, str]:
    """The Ready condition's status, reason and message.

    Healthy: True. A node starting: False. A node the engine lost (no heartbeat, a failed
    kubelet or runtime, being recovered or given up on): Unknown, as the node lifecycle
    controller sets it when the kubelet stops posting, with the engine's reason as message.
    """
    if n.status is NodeStatus.HEALTHY:
        return "True", "KubeletReady", "kubelet is posting ready status"
    if n.status is NodeStatus.INITIALIZING:
        return "False", "KubeletNotReady", n.status_reason or "node is starting"
    return "Unknown", "NodeStatusUnknown", n.status_reason or f"node is {n.status}"


def node_info(n: NodeView) -> Obj:
    return {
        "machineID": "",
        "systemUUID": n.uid,
        "bootID": "",
        "kernelVersion": KERNEL,
        "osImage": f"Kube-9 Desktop {n.runtime} node",
        "containerRuntimeVersion": f"kube9-{n.runtime}://{__version__}",
        "kubeletVersion": KUBE_GIT_VERSION,
        "kubeProxyVersion": KUBE_GIT_VERSION,
        "operatingSystem": "linux",
        "architecture": ARCHITECTURE,
    }


def node_object(n: NodeView) -> Obj:
    capacity = {
        "cpu": cpu_quantity(n.capacity.cpu_m),
        "memory": memory_quantity(n.capacity.mem_mi),
        "pods": str(n.pod_limit),
    }
    status, reason, message = node_ready(n)
    condition: Obj = {"type": "Ready", "status": status, "reason": reason, "message": message}
    if n.last_heartbeat is not None:
        condition["lastHeartbeatTime"] = timestamp(n.last_heartbeat)
    spec: Obj = {"unschedulable": True} if n.cordoned else {}
    if n.taints:
        spec["taints"] = taints_manifest(n.taints)
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": metadata(
            name=n.name,
            namespace=None,
            uid=n.uid,
            resource_version=n.resource_version,
            created_at=n.created_at,
            labels=node_labels(n),
            annotations=n.annotations,
        ),
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [condition],
            "addresses": [
                {"type": "InternalIP", "address": NODE_ADDRESS},
                {"type": "Hostname", "address": n.name},
            ],
            "nodeInfo": node_info(n),
        },
    }


# ---- pods ------------------------------------------------------------------------------------


def container_state(st: ContainerStatus | None, ready_since: datetime | None = None) -> Obj:
    """One container's ``state``: waiting (with CrashLoopBackOff while it backs off), running,
    or terminated with its exit code. A ready container's ``startedAt`` is when the engine
    saw its pod become ready (it started no later); the engine keeps no earlier time."""
    if st is None:
        return {"waiting": {"reason": "ContainerCreating"}}
    if st.crashing or st.state == "crashloop":
        waiting: Obj = {"reason": "CrashLoopBackOff"}
        if st.backoff_s is not None:
            waiting["message"] = f"back-off {st.backoff_s:g}s restarting failed container={st.name}"
        return {"waiting": waiting}
    if st.state == "running":
        return {"running": {"startedAt": timestamp(ready_since)} if ready_since else {}}
    if st.state == "terminated":
        terminated: Obj = {"exitCode": st.exit_code if st.exit_code is not None else 0}
        if st.reason:
            terminated["reason"] = st.reason
        return {"terminated": terminated}
    return {
        "waiting": {
            "reason": st.reason or ("Unknown" if st.state == "unknown" else "ContainerCreating")
        }
    }


def pod_conditions(p: PodView) -> list[Obj]:
    def cond(kind: str, ok: bool) -> Obj:
        return {"type": kind, "status": "True" if ok else "False"}

    bound = p.node_name is not None
    containers_ready = bound and bool(p.containers) and all(c.is_ready for c in p.containers)
    out = [cond("PodScheduled", bound)]
    if not bound and p.decision is not None and p.decision.node_id is None:
        out[0]["reason"] = "Unschedulable"
        reasons = sorted({r for c in p.decision.candidates for r in c.reasons})
        out[0]["message"] = "; ".join(reasons)[:1000] or "no node fits"
    if bound:
        out += [
            cond("Initialized", True),
            cond("ContainersReady", containers_ready),
            cond("Ready", p.ready),
        ]
    return out


def pod_object(p: PodView) -> Obj:
    statuses = {c.name: c for c in p.containers}
    status: Obj = {"phase": PHASES.get(p.phase, "Unknown"), "conditions": pod_conditions(p)}
    if p.reason:
        status["reason"] = p.reason
    if p.node_name is not None:
        status["hostIP"] = NODE_ADDRESS
        status["hostIPs"] = [{"ip": NODE_ADDRESS}]
    if p.ip:
        status["podIP"] = p.ip
        status["podIPs"] = [{"ip": p.ip}]
    if p.node_name is not None:
        status["startTime"] = timestamp(p.created_at)
        container_statuses = []
        for c in p.spec.containers:
            st = statuses.get(c.name)
            state = container_state(st, p.ready_since if st and st.is_ready else None)
            container_statuses.append(
                {
                    "name": c.name,
                    "image": c.image,
                    "imageID": "",
                    "ready": bool(st and st.is_ready),
                    "started": "running" in state,
                    "restartCount": st.restarts if st else 0,
                    "state": state,
                    "lastState": {},  # the engine keeps no exit code of a past run
                }
            )
        status["containerStatuses"] = container_statuses
    status["qosClass"] = "Burstable" if p.request.cpu_m or p.request.mem_mi else "BestEffort"
    spec = pod_spec_manifest(pod_template(p), p.node_name)
    spec["restartPolicy"] = "Always"
    spec["priority"] = p.spec.priority
    spec["preemptionPolicy"] = str(p.spec.preemption_policy)
    if p.nominated_node_name:
        status["nominatedNodeName"] = p.nominated_node_name
    _complete_volumes(spec)
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata(
            name=p.name,
            namespace=p.namespace,
            uid=p.uid,
            resource_version=p.resource_version,
            created_at=p.created_at,
            labels=p.labels,
            annotations=p.annotations,
            owner=p.owner,
        ),
        "spec": spec,
        "status": status,
    }


STARTED = datetime.now(UTC)  # when this process began serving (the built-ins' creation)


def priority_class_object(c: PriorityClassView) -> Obj:
    """A scheduling.k8s.io/v1 PriorityClass (the built-ins carry the creation time of none:
    the engine's start stands in for the API server's bootstrap)."""
    out: Obj = {
        "kind": "PriorityClass",
        "apiVersion": "scheduling.k8s.io/v1",
        "metadata": metadata(
            name=c.name, namespace=None, uid=c.uid, resource_version=c.resource_version,
            created_at=c.created_at or STARTED, labels={}, annotations={},
        ),
        "value": c.value,
        "preemptionPolicy": str(c.spec.preemption_policy),
    }  # fmt: skip
    if c.spec.global_default:
        out["globalDefault"] = True
    if c.spec.description:
        out["description"] = c.spec.description
    return out


def _complete_volumes(spec: Obj) -> None:
    """``hostPath`` requires a path in core/v1; a Kube-9 hostPath volume may have none."""
    for v in spec.get("volumes", ()):
        if v.get("hostPath") == {}:
            v["hostPath"] = {"path": ""}


# ---- services and endpoints ------------------------------------------------------------------


def service_object(v: ServiceView) -> Obj:
    s = v.spec
    ports = []
    for p in s.ports:
        port: Obj = {"protocol": p.protocol, "port": p.port, "targetPort": p.target_port}
        if p.name:
            port = {"name": p.name, **port}
        if s.type == NODE_PORT and p.node_port is not None:
            port["nodePort"] = p.node_port
        ports.append(port)
    spec: Obj = {"ports": ports}
    if s.selector:
        spec["selector"] = dict(sorted(s.selector.items()))
    spec |= {
        "clusterIP": v.cluster_ip,
        "clusterIPs": [v.cluster_ip],
        "type": s.type,
        "sessionAffinity": s.session_affinity,
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
    }
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": metadata(
            name=v.name,
            namespace=v.namespace,
            uid=v.uid,
            resource_version=v.resource_version,
            created_at=v.created_at,
            labels=s.labels,
            annotations=s.annotations,
        ),
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def endpoints_object(v: ServiceView) -> Obj:
    """core/v1 Endpoints of a Service: one subset per distinct set of resolved ports, ready
    pods under ``addresses``, the others under ``notReadyAddresses``."""
    subsets: dict[tuple[tuple[str, int], ...], Obj] = {}
    for e in v.endpoints:
        key = tuple((p.name, p.port) for p in e.ports)
        subset = subsets.setdefault(
            key,
            {
                "ports": [
                    {**({"name": name} if name else {}), "port": port, "protocol": "TCP"}
                    for name, port in key
                ]
            },
        )
        address = {
            "ip": e.ip,
            "nodeName": e.node_name,
            "targetRef": {"kind": "Pod", "namespace": v.namespace, "name": e.pod_name},
        }
        subset.setdefault("addresses" if e.ready else "notReadyAddresses", []).append(address)
    out: Obj = {
        "kind": "Endpoints",
        "apiVersion": "v1",
        "metadata": metadata(
            name=v.name,
            namespace=v.namespace,
            uid=derived_uid(v.uid, "Endpoints"),
            resource_version=v.resource_version,
            created_at=v.created_at,
            labels=v.spec.labels,
            annotations={},
        ),
    }
    if subsets:
        out["subsets"] = [
            {k: s[k] for k in ("addresses", "notReadyAddresses", "ports") if k in s}
            for s in subsets.values()
        ]
    return out


SLICE_SUFFIX = "-kube9"  # a Service's one EndpointSlice: <service>-kube9


def endpointslice_object(v: ServiceView) -> Obj:
    """discovery.k8s.io/v1 EndpointSlice of a Service: one slice holding every endpoint (the
    EndpointSlice controller would cut slices of 100), each with its ready/serving
    conditions, its node and its pod; the ports of its first endpoint (all share the
    Service's named ports unless their pods resolve a named port differently)."""
    ports: list[Obj] = []
    if v.endpoints:
        ports = [{**({"name": p.name} if p.name else {}), "port": p.port, "protocol": "TCP"}
                 for p in v.endpoints[0].ports]  # fmt: skip
    endpoints = [
        {
            "addresses": [e.ip],
            "conditions": {"ready": e.ready, "serving": e.ready, "terminating": False},
            "nodeName": e.node_name,
            "targetRef": {"kind": "Pod", "namespace": v.namespace, "name": e.pod_name},
        }
        for e in v.endpoints
    ]
    meta = metadata(
        name=v.name + SLICE_SUFFIX,
        namespace=v.namespace,
        uid=derived_uid(v.uid, "EndpointSlice"),
        resource_version=v.resource_version,
        created_at=v.created_at,
        labels={**v.spec.labels, "kubernetes.io/service-name": v.name,
                "endpointslice.kubernetes.io/managed-by": "kube9-desktop"},
        annotations={},
    )  # fmt: skip
    meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Service", "name": v.name,
                                "uid": v.uid, "controller": True,
                                "blockOwnerDeletion": True}]  # fmt: skip
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": meta,
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }


# ---- apps/v1 ---------------------------------------------------------------------------------


def deployment_object(d: DeploymentView) -> Obj:
    out = deployment_manifest(d)
    out["metadata"]["generation"] = d.generation
    _complete_volumes(out["spec"]["template"]["spec"])
    return _kind_first(out)


def replicaset_object(rs: ReplicaSetView) -> Obj:
    out = replicaset_manifest(rs)
    out["metadata"]["generation"] = rs.generation
    _complete_volumes(out["spec"]["template"]["spec"])
    return _kind_first(out)


def _kind_first(obj: Mapping[str, Any]) -> Obj:
    """kind, apiVersion, then the rest: the order the API server writes."""
    return {
        "kind": obj["kind"],
        "apiVersion": obj["apiVersion"],
        **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")},
    }
