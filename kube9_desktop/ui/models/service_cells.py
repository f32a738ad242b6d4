"""What each cell of the services tree says: its columns (as ``kubectl get svc`` and
``kubectl get endpointslices`` name them) and one pure function per row kind, from frozen
views."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from kube9_desktop.engine.services import NODE_PORT, Endpoint, ServicePort, ServiceView
from kube9_desktop.ui.icons import status_color, status_icon
from kube9_desktop.ui.models.tree_cells import FILTER_ROLE, SORT_ROLE, STATUS_ROLE


class SColumn(IntEnum):
    NAME = 0
    READY = 1
    TYPE = 2
    ADDRESS = 3
    PORTS = 4
    INFO = 5


HEADERS = ("Name", "Ready", "Type", "Address", "Ports", "Info")
HEADER_TIPS = (
    "Service and its endpoints (the pods its selector picks)",
    "Endpoints ready, of all its endpoints; an endpoint: whether it gets traffic",
    "ClusterIP (reached inside the cluster) or NodePort (also on 127.0.0.1:<node port>)",
    "The Service's cluster IP; an endpoint's pod IP",
    "port → target port (node port); an endpoint: the pod's port for each",
    "Namespace and selector; an endpoint's node",
)
_DISPLAY = Qt.ItemDataRole.DisplayRole


def port_text(p: ServicePort, service_type: str) -> str:
    """ "80→8080", "http 80→web", "80:30001→8080" (a NodePort's node port after the colon)."""
    node = f":{p.node_port}" if service_type == NODE_PORT and p.node_port else ""
    name = f"{p.name} " if p.name else ""
    return f"{name}{p.port}{node}→{p.target_port}"


def ports_text(s: ServiceView) -> str:
    return ", ".join(port_text(p, s.spec.type) for p in s.spec.ports)


def selector_text(s: ServiceView) -> str:
    return ", ".join(f"{k}={v}" for k, v in s.spec.selector.items()) or "none"


def service_state(s: ServiceView) -> tuple[str, str]:
    """(word, status colour): every endpoint ready, some, or none to send traffic to."""
    ready, total = len(s.ready_endpoints), len(s.endpoints)
    if not s.spec.selector:
        return "no selector", "terminating"
    if total == 0:
        return "no endpoints", "unhealthy"
    if ready == 0:
        return "none ready", "unhealthy"
    if ready < total:
        return "some ready", "recovering"
    return "ready", "healthy"


def endpoint_word(e: Endpoint) -> tuple[str, str]:
    return ("ready", "running") if e.ready else ("not ready", "pending")


def endpoint_address(e: Endpoint) -> str:
    """ "127.244.0.3:8080" (the first port), the pod's IP and where the Service sends to."""
    return f"{e.ip}:{e.ports[0].port}" if e.ports else e.ip


def service_cell(s: ServiceView, column: int, role: int) -> Any:
    word, color = service_state(s)
    ready, total = len(s.ready_endpoints), len(s.endpoints)
    if role == _DISPLAY:
        return (
            s.name,
            f"{ready}/{total}",
            s.spec.type,
            s.cluster_ip,
            ports_text(s),
            f"{s.namespace} · {selector_text(s)}",
        )[column]
    if role == Qt.ItemDataRole.DecorationRole and column == SColumn.READY:
        return status_icon(color)
    if role == Qt.ItemDataRole.ForegroundRole and column == SColumn.READY:
        return status_color(color)
    if role == SORT_ROLE:
        return (s.name, ready, s.spec.type, s.cluster_ip, ports_text(s), s.namespace)[column]
    if role == FILTER_ROLE:
        return f"{s.name} {s.namespace} {s.spec.type} {s.cluster_ip} {selector_text(s)} {word}"
    if role == STATUS_ROLE:
        return word
    if role == Qt.ItemDataRole.ToolTipRole:
        return (
            f"Service {s.name} in {s.namespace} ({s.spec.type}, {s.cluster_ip}): {word}, "
            f"{ready} of {total} endpoint(s) ready; selector {selector_text(s)}"
        )
    return None


def endpoint_cell(e: Endpoint, column: int, role: int) -> Any:
    """One endpoint under its Service: its pod, ready or not, its address and node."""
    word, color = endpoint_word(e)
    if role == _DISPLAY:
        ports = ", ".join(f"{p.name} {p.port}" if p.name else str(p.port) for p in e.ports)
        return (e.pod_name, word, "", endpoint_address(e), ports, f"on {e.node_name}")[column]
    if role == Qt.ItemDataRole.DecorationRole and column == SColumn.READY:
        return status_icon(color)
    if role == Qt.ItemDataRole.ForegroundRole and column == SColumn.READY:
        return status_color(color)
    if role == SORT_ROLE:
        return (e.pod_name, int(e.ready), "", e.ip, "", e.node_name)[column]
    if role == FILTER_ROLE:
        return f"{e.pod_name} {word} {e.ip} {e.node_name}"
    if role == STATUS_ROLE:
        return word
    if role == Qt.ItemDataRole.ToolTipRole:
        why = (
            "gets traffic"
            if e.ready
            else "gets no traffic until every container runs and passes its readiness probe"
        )
        return f"Pod {e.pod_name} on {e.node_name} at {endpoint_address(e)}: {word} — {why}"
    return None
