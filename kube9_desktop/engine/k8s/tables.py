"""Server-side printing: ``meta.k8s.io/v1`` Tables, with the columns kubectl shows for Kubernetes.

kubectl asks with ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the cells
as given: priority-0 columns by default, priority-1 ones too with ``-o wide``; with ``-A`` it
adds NAMESPACE from each row's object (a ``PartialObjectMetadata`` by default). Each kind's
cells are one small function over the served object, the way Kubernetes' own printers
(pkg/printers/internalversion) read the object, so the table can never disagree with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
NONE = "<none>"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str
    priority: int = 0
    type: str = "string"
    format: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME = Column("Name", "Name must be unique within a namespace.", format="name")
AGE = Column(
    "Age",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration``: the AGE column.

    Worked examples: 59 s -> "59s", 119 s -> "119s", 150 s -> "2m30s", 600 s -> "10m",
    3 h 5 m -> "3h5m", 9 h -> "9h", 50 h -> "2d2h", 10 days -> "10d", 800 days -> "2y70d".
    """
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age(obj: Obj, now: datetime) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return NONE
    at = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((now - at).total_seconds())


# ---- per kind --------------------------------------------------------------------------------


def pod_status_reason(pod: Obj) -> str:
    """kubectl's STATUS of a pod (printPod): the phase, or the pod's reason, or the last
    container's waiting or terminated reason; ``Terminating`` while it is being deleted."""
    status = pod.get("status", {})
    reason = status.get("reason") or status.get("phase", "Unknown")
    running = False
    for c in reversed(status.get("containerStatuses", [])):
        state = c.get("state", {})
        if "waiting" in state and state["waiting"].get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or (
                f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t['exitCode']}"
            )
        elif "running" in state and c.get("ready"):
            running = True
    if reason == "Completed" and running:
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        )
        reason = "Running" if ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_cells(pod: Obj, now: datetime) -> list[Any]:
    spec, status = pod["spec"], pod.get("status", {})
    statuses = status.get("containerStatuses", [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    return [
        pod["metadata"]["name"],
        f"{ready}/{len(spec.get('containers', []))}",
        pod_status_reason(pod),
        str(restarts),
        age(pod, now),
        status.get("podIP") or NONE,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        NONE,
    ]


POD_COLUMNS = (
    NAME,
    Column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "The aggregate status of the containers in this pod."),
    Column("Restarts", "The number of times the containers in this pod have been restarted."),
    AGE,
    Column("IP", "IP address allocated to the pod.", priority=1),
    Column("Node", "The node this pod is bound to.", priority=1),
    Column("Nominated Node", "The node a preempting pod is nominated to.", priority=1),
    Column("Readiness Gates", "Extra conditions the pod's readiness waits for.", priority=1),
)


def _node_cells(node: Obj, now: datetime) -> list[Any]:
    status = node["status"]
    ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
    # printNode: Ready when True, NotReady for False and Unknown alike, Unknown without one
    text = "Unknown" if ready is None else "Ready" if ready["status"] == "True" else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    addresses = {a["type"]: a["address"] for a in status.get("addresses", [])}
    info = status.get("nodeInfo", {})
    return [
        node["metadata"]["name"],
        text,
        ",".join(node_roles_of(node)) or NONE,
        age(node, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", NONE),
        addresses.get("ExternalIP", NONE),
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


def node_roles_of(node: Obj) -> list[str]:
    """``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role`` labels (kubectl's ROLES)."""
    labels = node["metadata"].get("labels", {})
    roles = {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")}
    if legacy := labels.get("kubernetes.io/role"):
        roles.add(legacy)
    roles.discard("")
    return sorted(roles)


NODE_COLUMNS = (
    NAME,
    Column("Status", "The status of the node"),
    Column("Roles", "The roles of the node"),
    AGE,
    Column("Version", "Kubelet Version reported by the node."),
    Column("Internal-IP", "List of addresses reachable to the node.", priority=1),
    Column("External-IP", "List of addresses reachable to the node.", priority=1),
    Column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    Column("Kernel-Version", "Kernel Version reported by the node.", priority=1),
    Column("Container-Runtime", "Container Runtime Version reported by the node.", priority=1),
)


def _namespace_cells(ns: Obj, now: datetime) -> list[Any]:
    return [ns["metadata"]["name"], ns["status"]["phase"], age(ns, now)]


NAMESPACE_COLUMNS = (
    NAME,
    Column("Status", "The status of the namespace"),
    AGE,
)


def _containers_images(template: Obj) -> tuple[str, str]:
    containers = template.get("spec", {}).get("containers", [])
    names = ",".join(c["name"] for c in containers)
    return names, ",".join(c.get("image", "") for c in containers)


def selector_text(selector: Obj) -> str:
    """A label selector as kubectl's SELECTOR column writes it (``metav1.FormatLabelSelector``)."""
    parts = [f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items())]
    for e in selector.get("matchExpressions", []):
        op, key, values = e["operator"], e["key"], e.get("values", [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        else:
            parts.append(f"!{key}")
    return ",".join(parts) or NONE


def _deployment_cells(d: Obj, now: datetime) -> list[Any]:
    spec, st = d["spec"], d.get("status", {})
    containers, images = _containers_images(spec["template"])
    return [
        d["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        age(d, now),
        containers,
        images,
        selector_text(spec.get("selector", {})),
    ]


DEPLOYMENT_COLUMNS = (
    NAME,
    Column("Ready", "Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "Total number of non-terminated pods targeted by this deployment that "
        "have the desired template spec.",
        type="integer",
    ),
    Column(
        "Available",
        "Total number of available pods (ready for at least minReadySeconds) "
        "targeted by this deployment.",
        type="integer",
    ),
    AGE,
    Column("Containers", "Names of each container in the template.", priority=1),
    Column("Images", "Images referenced by each container in the template.", priority=1),
    Column("Selector", "Label selector for pods.", priority=1),
)


def _replicaset_cells(rs: Obj, now: datetime) -> list[Any]:
    spec, st = rs["spec"], rs.get("status", {})
    containers, images = _containers_images(spec["template"])
    return [
        rs["metadata"]["name"],
        spec.get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age(rs, now),
        containers,
        images,
        selector_text(spec.get("selector", {})),
    ]


REPLICASET_COLUMNS = (
    NAME,
    Column("Desired", "Number of desired pods.", type="integer"),
    Column("Current", "Number of actual replicas.", type="integer"),
    Column("Ready", "The number of ready replicas for this replica set.", type="integer"),
    AGE,
    Column("Containers", "Names of each container in the template.", priority=1),
    Column("Images", "Images referenced by each container in the template.", priority=1),
    Column("Selector", "Label selector for pods.", priority=1),
)


def service_ports_text(spec: Obj) -> str:
    """``80/TCP``, ``80:30000/TCP`` for a node port, comma-separated (kubectl's PORT(S))."""
    out = []
    for p in spec.get("ports", []):
        node_port = f":{p['nodePort']}" if p.get("nodePort") else ""
        out.append(f"{p['port']}{node_port}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or NONE


def _service_cells(svc: Obj, now: datetime) -> list[Any]:
    spec = svc["spec"]
    selector = ",".join(f"{k}={v}" for k, v in sorted(spec.get("selector", {}).items()))
    return [
        svc["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or NONE,
        NONE,
        service_ports_text(spec),
        age(svc, now),
        selector or NONE,
    ]


SERVICE_COLUMNS = (
    NAME,
    Column("Type", "The type of the service."),
    Column("Cluster-IP", "The IP address of the service."),
    Column("External-IP", "External IPs of the service."),
    Column("Port(s)", "The ports of the service."),
    AGE,
    Column("Selector", "The selector of the service's pods.", priority=1),
)


def endpoints_text(ep: Obj, most: int = 3) -> str:
    """Ready addresses as ``ip:port``, at most three then ``+ N more...`` (formatEndpoints)."""
    pairs = [
        f"{a['ip']}:{p['port']}"
        for s in ep.get("subsets", [])
        for p in (s.get("ports") or [{"port": ""}])
        for a in s.get("addresses", [])
    ]
    if not pairs:
        return NONE
    text = ",".join(pairs[:most])
    return text + (f" + {len(pairs) - most} more..." if len(pairs) > most else "")


def _endpoints_cells(ep: Obj, now: datetime) -> list[Any]:
    return [ep["metadata"]["name"], endpoints_text(ep), age(ep, now)]


ENDPOINTS_COLUMNS = (
    NAME,
    Column("Endpoints", "Endpoints of the service."),
    AGE,
)


def _since(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return NONE
    at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((now - at).total_seconds())


def _event_cells(ev: Obj, now: datetime) -> list[Any]:
    obj = ev["involvedObject"]
    return [
        _since(ev.get("lastTimestamp"), now),
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{obj['kind'].lower()}/{obj['name']}",
        obj.get("fieldPath", ""),
        ev.get("source", {}).get("component", ""),
        ev.get("message", ""),
        _since(ev.get("firstTimestamp"), now),
        ev.get("count", 1),
        ev["metadata"]["name"],
    ]


def _lease_cells(lease: Obj, now: datetime) -> list[Any]:
    return [lease["metadata"]["name"], lease["spec"].get("holderIdentity", ""), age(lease, now)]


LEASE_COLUMNS = (NAME, Column("Holder", "The holder of the lease."), AGE)


def _slice_cells(sl: Obj, now: datetime) -> list[Any]:
    ports = ",".join(str(p["port"]) for p in sl.get("ports", [])) or NONE
    ips = [a for e in sl.get("endpoints", []) for a in e["addresses"]]
    shown = ",".join(ips[:3]) + (f" + {len(ips) - 3} more..." if len(ips) > 3 else "")
    return [sl["metadata"]["name"], sl["addressType"], ports, shown or NONE, age(sl, now)]


SLICE_COLUMNS = (
    NAME,
    Column("AddressType", "The type of addresses held by this EndpointSlice."),
    Column("Ports", "The ports of this EndpointSlice."),
    Column("Endpoints", "The first few endpoints of this EndpointSlice."),
    AGE,
)


EVENT_COLUMNS = (
    Column("Last Seen", "The last time the event was seen."),
    Column("Type", "Type of this event (Normal, Warning)."),
    Column("Reason", "Why the action was taken."),
    Column("Object", "The object this event is about."),
    Column("Subobject", "The part of the object this event is about.", priority=1),
    Column("Source", "The component reporting this event.", priority=1),
    Column("Message", "A human-readable description of the status of this operation."),
    Column("First Seen", "The first time the event was seen.", priority=1),
    Column("Count", "The number of times this event has occurred.", priority=1, type="integer"),
    Column("Name", "Name must be unique within a namespace.", priority=1, format="name"),
)


@dataclass(frozen=True, slots=True)
class Printer:
    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime], list[Any]]


def _priority_class_cells(c: Obj, now: datetime) -> list[Any]:
    return [
        c["metadata"]["name"], c["value"], bool(c.get("globalDefault")), age(c, now),
        c.get("preemptionPolicy", "PreemptLowerPriority"),
    ]  # fmt: skip


PRIORITY_CLASS_COLUMNS = (
    NAME,
    Column("Value", "value is the integer value of this priority class.", type="integer"),
    Column(
        "Global-Default",
        "globalDefault specifies whether this PriorityClass should be "
        "considered as the default priority.",
        type="boolean",
    ),
    AGE,
    Column(
        "PreemptionPolicy",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
        priority=1,
    ),
)


PRINTERS: dict[str, Printer] = {
    "Pod": Printer(POD_COLUMNS, _pod_cells),
    "Node": Printer(NODE_COLUMNS, _node_cells),
    "Namespace": Printer(NAMESPACE_COLUMNS, _namespace_cells),
    "Deployment": Printer(DEPLOYMENT_COLUMNS, _deployment_cells),
    "ReplicaSet": Printer(REPLICASET_COLUMNS, _replicaset_cells),
    "Service": Printer(SERVICE_COLUMNS, _service_cells),
    "Endpoints": Printer(ENDPOINTS_COLUMNS, _endpoints_cells),
    "Event": Printer(EVENT_COLUMNS, _event_cells),
    "Lease": Printer(LEASE_COLUMNS, _lease_cells),
    "EndpointSlice": Printer(SLICE_COLUMNS, _slice_cells),
    "PriorityClass": Printer(PRIORITY_CLASS_COLUMNS, _priority_class_cells),
}

# What the API server prints for a kind without a printer of its own: name and age.
DEFAULT_PRINTER = Printer((NAME, AGE), lambda obj, now: [obj["metadata"]["name"], age(obj, now)])

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def partial_metadata(obj: Obj, version: str) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj["metadata"],
    }


def table(
    kind: str,
    objects: list[Obj],
    list_meta: Obj,
    now: datetime,
    *,
    include: str = "Metadata",
    version: str = "v1",
) -> Obj:
    """A Table of ``objects``; each row's ``object`` per ``includeObject`` (None, Metadata,
    Object), as the API server's ``transformObject`` does."""
    printer = PRINTERS.get(kind, DEFAULT_PRINTER)
    rows = []
    for obj in objects:
        row: Obj = {"cells": printer.cells(obj, now)}
        if include == "Object":
            row["object"] = obj
        elif include == "Metadata":
            row["object"] = partial_metadata(obj, version)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": list_meta,
        "columnDefinitions": [c.definition() for c in printer.columns],
        "rows": rows,
    }
