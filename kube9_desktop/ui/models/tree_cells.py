"""What each cell of the cluster tree says: the row kinds, columns and roles, and one pure
function per row kind from a frozen view to a cell's value for a role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from kube9_desktop.engine.model import NodeView, PodView, StaleCopy, format_cpu, format_mem
from kube9_desktop.engine.usage import UsageJson
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui import usage_bars as bars
from kube9_desktop.ui.icons import status_color, status_icon

PENDING = -1  # the parent "node id" of pending pods


class ItemKind(IntEnum):
    NODE = 1
    PENDING_GROUP = 2
    POD = 3
    CONTAINER = 4
    DEPLOYMENT = 5  # rows of the workloads tree
    REPLICASET = 6
    STALE_COPY = 7  # a pod still running on an unreachable node, moved or replaced elsewhere
    SERVICE = 8  # rows of the services tree
    ENDPOINT = 9  # a Service's endpoint (its payload: the Service's id and the pod's)


# Row keys, for every kind of row, are made here and only here: ``payload << 4 | kind``,
# where a container's payload is ``pod id << 8 | its position`` (at most 256 containers) and
# an endpoint's ``Service id << 32 | pod id`` (a pod may back several Services).
KIND_BITS = 4
KIND_MASK = (1 << KIND_BITS) - 1
CONTAINER_BITS = 8
ENDPOINT_BITS = 32


def row_key(kind: ItemKind, obj_id: int, container: int = 0) -> int:
    if kind is ItemKind.CONTAINER:
        return container_key(obj_id, container)
    return (obj_id << KIND_BITS) | kind


def endpoint_key(service_id: int, pod_id: int) -> int:
    """The row key of a Service's endpoint: 3 under Service 2 is ``(2 << 32 | 3) << 4 | 9``."""
    return ((service_id << ENDPOINT_BITS | pod_id) << KIND_BITS) | ItemKind.ENDPOINT


# The same keys for the model's per-cell methods (index, parent, data): plain ints, no enum.
_NODE_KIND, _POD_KIND, _CONTAINER_KIND, _STALE_KIND = (
    int(ItemKind.NODE), int(ItemKind.POD), int(ItemKind.CONTAINER), int(ItemKind.STALE_COPY)
)  # fmt: skip


def node_key(node_id: int) -> int:
    return node_id << KIND_BITS | _NODE_KIND


def pod_key(pod_id: int) -> int:
    return pod_id << KIND_BITS | _POD_KIND


def container_key(pod_id: int, position: int) -> int:
    return (pod_id << CONTAINER_BITS | position) << KIND_BITS | _CONTAINER_KIND


def stale_key(pod_id: int) -> int:
    return pod_id << KIND_BITS | _STALE_KIND


def key_kind(key: int) -> int:
    return key & KIND_MASK


def key_id(key: int) -> int:
    """The node or pod id of a row key (a container's: its pod's; an endpoint's: its pod's)."""
    kind = key & KIND_MASK
    if kind == ItemKind.CONTAINER:
        return key >> (KIND_BITS + CONTAINER_BITS)
    if kind == ItemKind.ENDPOINT:
        return (key >> KIND_BITS) & ((1 << ENDPOINT_BITS) - 1)
    return key >> KIND_BITS


def endpoint_service(key: int) -> int:
    """The Service id of an endpoint's row key."""
    return key >> (KIND_BITS + ENDPOINT_BITS)


@dataclass(frozen=True, slots=True)
class TreeItem:
    """What a row stands for: a node, the pending group, a pod, one container of a pod, a
    Deployment, a ReplicaSet, or a stale copy of a pod (``id``: the copy's pod id)."""

    kind: ItemKind
    id: int = 0  # node, pod, Deployment or ReplicaSet id
    container: int = 0  # position of the container in the pod's spec

    @property
    def key(self) -> int:
        return row_key(self.kind, self.id, self.container)

    @staticmethod
    def from_key(key: int) -> TreeItem:
        kind = ItemKind(key_kind(key))
        if kind is ItemKind.CONTAINER:
            return TreeItem(kind, key_id(key), (key >> KIND_BITS) & ((1 << CONTAINER_BITS) - 1))
        return TreeItem(kind, key_id(key))


class Column(IntEnum):
    NAME = 0
    STATUS = 1
    CPU = 2
    MEMORY = 3
    PODS = 4
    INFO = 5


USAGE_COLUMNS = (Column.CPU, Column.MEMORY, Column.PODS)  # painted as bars (BAR_ROLE)
HEADERS = ("Name", "Status", "CPU", "Memory", "Pods", "Info")
HEADER_TIPS = (
    "Node, pod or container",
    "Node status (with fault labels), pod phase, container state",
    "Nodes: cores used / requested by their pods of allocatable. Pods: used / requested "
    "(the bar's marker is the request). Containers: request",
    "Nodes: memory used (RSS) / requested by their pods of allocatable. Pods: used / "
    "requested. Containers: request",
    "Nodes: pods / the node's pod limit (kube9.io/max-pods, else 110)",
    "Heartbeat age, pod IP and readiness, restarts and exit codes",
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
ITEM_ROLE = Qt.ItemDataRole.UserRole + 3
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4
BAR_ROLE = Qt.ItemDataRole.UserRole + 5  # a usage_bars.Bar for the usage columns' delegate
PENDING_KEY = TreeItem(ItemKind.PENDING_GROUP).key
_DISPLAY = Qt.ItemDataRole.DisplayRole
VOLATILE_ROLES = [
    _DISPLAY,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
    STATUS_ROLE,
    BAR_ROLE,
]
_USAGE_ROLES = (_DISPLAY, SORT_ROLE, BAR_ROLE, Qt.ItemDataRole.ToolTipRole)
# The cell functions run for every role of every painted cell: plain ints, not enum members
# (an enum member's lookup is a Python call, 140-200 ns, several per cell).
_DECORATION, _FOREGROUND, _TOOLTIP, _ALIGNMENT = (
    int(r) for r in (
        Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole,
    )
)  # fmt: skip
_NAME, _STATUS, _CPU, _MEMORY, _PODS, _INFO = (int(c) for c in Column)
_USAGE_COLUMNS = frozenset(int(c) for c in USAGE_COLUMNS)
_POD_BARS = frozenset((_CPU, _MEMORY))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def pending_cell(count: int, column: int, role: int) -> Any:
    """The Pending group's row."""
    if role in (_DISPLAY, SORT_ROLE):
        if column == _NAME:
            return "Pending" if role == _DISPLAY else "\uffff"
        if column == _STATUS:
            return f"{count} waiting for capacity" if role == _DISPLAY else count
        return "" if role == _DISPLAY else 0
    if role == FILTER_ROLE:
        return "pending"
    if role == _DECORATION and column == _NAME:
        return status_icon("pending", hollow=True)
    if role == _TOOLTIP:
        return "Pods no node can take yet; each is placed as soon as capacity appears"
    if role == STATUS_ROLE:
        return "pending"
    return None


def wants_usage(column: int, role: int) -> bool:
    """Whether a node's or pod's cell needs its usage figures (read only then)."""
    return column in _USAGE_COLUMNS and role in _USAGE_ROLES


def _bar_value(bar: bars.Bar, role: int) -> Any:
    if role == _DISPLAY:
        return bar.text
    if role == SORT_ROLE:
        return -1.0 if bar.used is None else bar.used
    if role == BAR_ROLE:
        return bar
    return bar.tip


def node_bar(node: NodeView, column: int, usage: UsageJson | None) -> bars.Bar:
    if column == _CPU:
        return bars.node_cpu(node, usage)
    if column == _MEMORY:
        return bars.node_memory(node, usage)
    return bars.node_pods(node)


def node_cell(node: NodeView, column: int, role: int, usage: UsageJson | None = None) -> Any:
    if column in _USAGE_COLUMNS and role in _USAGE_ROLES:
        return _bar_value(node_bar(node, column, usage), role)
    if role == _DISPLAY:
        if column == _NAME:
            return node.name
        if column == _STATUS:
            return fmt.node_status(node)
        return f"{node.node_type} · {fmt.node_heartbeat(node)}"
    if role == _DECORATION and column == _STATUS:
        return status_icon(str(node.status))
    if role == _FOREGROUND and column == _STATUS:
        return status_color(str(node.status))
    if role == SORT_ROLE:
        if column == _NAME:
            return node.name
        return str(node.status) if column == _STATUS else node.seconds_since_heartbeat or 0.0
    if role == FILTER_ROLE:
        return f"{node.name} {node.status} {node.node_type} {' '.join(node.faults)}"
    if role == STATUS_ROLE:
        return str(node.status)
    if role == _TOOLTIP:
        return node.status_reason or f"{node.node_type} node {node.name} is {node.status}"
    if role == _ALIGNMENT and column in _USAGE_COLUMNS:
        return _RIGHT
    return None


def pod_status(pod: PodView) -> tuple[str, str]:
    """The Status column's text and colour key: as kubectl's STATUS, a crash loop or a failure
    shows its reason (CrashLoopBackOff, Refused by the node agent…) in the failure colour."""
    if pod.in_trouble:
        return (pod.status_reason or str(pod.phase)), "failed"
    return str(pod.phase), str(pod.phase)


def pod_cell(pod: PodView, column: int, role: int, usage: UsageJson | None = None) -> Any:
    if column in _POD_BARS and role in _USAGE_ROLES:
        bar = bars.pod_cpu(pod, usage) if column == _CPU else bars.pod_memory(pod, usage)
        return _bar_value(bar, role)
    if role == BAR_ROLE:
        return bars.BLANK if column == _PODS else None
    if role == _DISPLAY:
        return (pod.name, pod_status(pod)[0], "", "", "", fmt.pod_summary(pod))[column]
    if role == _DECORATION and column == _STATUS:
        return status_icon(pod_status(pod)[1])
    if role == _FOREGROUND and column == _STATUS:
        return status_color(pod_status(pod)[1])
    if role == SORT_ROLE:
        return (pod.name, str(pod.phase), 0.0, 0.0, 0.0, pod.ip)[column]
    if role == FILTER_ROLE:
        images = " ".join(c.image for c in pod.spec.containers)
        return f"{pod.name} {pod.phase} {pod.status_reason} {images}"
    if role == STATUS_ROLE:
        return str(pod.phase)
    if role == _TOOLTIP:
        where = f"on {pod.node_name}" if pod.node_name else "waiting for a node"
        return f"Pod {pod.name} ({pod.spec.kind}) {where}" + (
            f": {pod.status_reason}" if pod.status_reason else ""
        )
    if role == _ALIGNMENT and column in _POD_BARS:
        return _RIGHT
    return None


def container_cell(pod: PodView, position: int, column: int, role: int) -> Any:
    spec, status = pod.spec.containers[position], pod.containers[position]
    if role == _DISPLAY:
        info = " · ".join(p for p in (spec.image, fmt.container_summary(status)) if p)
        state = "CrashLoopBackOff" if status.crashing else status.state
        cpu, mem = format_cpu(spec.cpu_m), format_mem(spec.mem_mi)
        return (spec.name, state, cpu, mem, "", info)[column]
    if role == _DECORATION and column == _STATUS:
        return status_icon(fmt.container_color(status), hollow=True)
    if role == _FOREGROUND and column == _STATUS:
        return status_color(fmt.container_color(status))
    if role == SORT_ROLE:
        return (spec.name, status.state, spec.cpu_m, spec.mem_mi, 0, status.restarts)[column]
    if role == FILTER_ROLE:
        return f"{spec.name} {spec.image}"
    if role == STATUS_ROLE:
        return status.state
    if role == _TOOLTIP:
        return f"Container {spec.name} of pod {pod.name}: {status.state}"
    if role == _ALIGNMENT and column in _POD_BARS:
        return _RIGHT
    return None


STALE_TEXT = "stale copy — node unreachable, stops when the partition heals"


@cache
def _italic() -> QFont:
    font = QFont()
    font.setItalic(True)
    return font


def stale_summary(copy: StaleCopy) -> str:
    """Where the copy's replacement runs, in words (the tree's Info and the details)."""
    if copy.replaced_by is None:
        return "no replacement (deleted, or its ReplicaSet has not made one yet)"
    if copy.replaced_by == copy.pod_id:
        where = f"on {copy.replaced_by_node}" if copy.replaced_by_node else "pending"
        return f"the same pod now runs {where}"
    where = f" on {copy.replaced_by_node}" if copy.replaced_by_node else " (pending)"
    return f"replaced by {copy.replaced_by_name}{where}"


def stale_cell(copy: StaleCopy, column: int, role: int) -> Any:
    """A stale copy under its unreachable node: italic, grey, saying what replaced it."""
    if role == _DISPLAY:
        return (copy.name, "Stale copy", "", "", "", f"{STALE_TEXT} · {stale_summary(copy)}")[
            column
        ]
    if role == Qt.ItemDataRole.FontRole:
        return _italic()
    if role == Qt.ItemDataRole.DecorationRole and column == Column.STATUS:
        return status_icon("terminating", hollow=True)
    if role == Qt.ItemDataRole.ForegroundRole and column == Column.STATUS:
        return status_color("terminating")
    if role == SORT_ROLE:
        return (copy.name, "stale", 0.0, 0.0, 0.0, "")[column]
    if role == FILTER_ROLE:
        return f"{copy.name} stale split brain"
    if role == STATUS_ROLE:
        return "stale"
    if role == Qt.ItemDataRole.ToolTipRole:
        return (
            f"Pod {copy.name} still runs on {copy.node_name}, which the engine cannot reach: "
            f"a {STALE_TEXT}. {stale_summary(copy).capitalize()}."
        )
    return None


def replacement_note(copy: StaleCopy) -> str:
    return f"replacement of a stale copy on {copy.node_name}"


def replacement_cell(copy: StaleCopy, column: int, role: int, value: Any) -> Any:
    """A pod's cell (``value``) with the mark of a pod whose old copy still runs elsewhere."""
    if role == _DISPLAY and column == Column.INFO:
        return f"{replacement_note(copy)} · {value}"
    if role == Qt.ItemDataRole.ToolTipRole:
        return (
            f"{value}. It is the {replacement_note(copy)} ({copy.name} still runs there, "
            "out of reach, until the partition heals)"
        )
    if role == FILTER_ROLE:
        return f"{value} replacement stale"
    return value
