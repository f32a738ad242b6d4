"""What each cell of the flat pod list says and how it sorts: the columns, and pure functions
from a frozen pod view (plus its live usage) to a cell's text, sort key and filter text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from kube9_desktop.engine.model import PodView
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.icons import status_color, status_icon
from kube9_desktop.ui.models.tree_cells import pod_status

Usage = tuple[float, float]  # (CPU cores, memory MiB) of the latest report
SortKey = tuple[Any, ...]


class PodColumn(IntEnum):
    """In k9s's order: what a row is, how it does, what it uses; where and since when last."""

    NAME = 0
    NAMESPACE = 1
    STATUS = 2
    RESTARTS = 3
    CPU = 4
    MEMORY = 5
    NODE = 6
    AGE = 7


HEADERS = (
    "Name",
    "Namespace",
    "Status",
    "Restarts",
    "CPU",
    "Memory",
    "Node",
    "Age",
)
HEADER_TIPS = (
    "Pod name",
    "The pod's namespace",
    "Phase, or the reason it is in trouble (CrashLoopBackOff, Error…), as kubectl's STATUS",
    "Container restarts, summed over the pod's containers",
    "CPU cores used at the last report / requested (— : no report yet)",
    "Memory (MiB) used at the last report / requested (— : no report yet)",
    "The node the pod is bound to (empty while it waits for one)",
    "Time since the pod was created",
)
USAGE_COLUMNS = (PodColumn.CPU, PodColumn.MEMORY)
LIVE_COLUMNS = (*USAGE_COLUMNS, PodColumn.AGE)  # what changes with no event: repainted per tick
NUMERIC = (PodColumn.RESTARTS, PodColumn.AGE, *USAGE_COLUMNS)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY = Qt.ItemDataRole.DisplayRole
NO_USAGE = -1.0  # sorts a pod without a report below every reported figure


def restarts(pod: PodView) -> int:
    return sum(c.restarts for c in pod.containers)


def age_seconds(pod: PodView, now: datetime) -> float:
    return max(0.0, (now - pod.created_at).total_seconds())


def usage_text(column: int, pod: PodView, usage: Usage | None) -> str:
    """ "0.42/1.00" cores, "120/256 Mi": what it used at the last report over its request."""
    if column == PodColumn.CPU:
        used = "—" if usage is None else f"{usage[0]:.2f}"
        return f"{used}/{pod.request.cpu_m / 1000:.2f}"
    used = "—" if usage is None else f"{usage[1]:.0f}"
    return f"{used}/{pod.request.mem_mi} Mi"


def pod_list_cell(pod: PodView, usage: Usage | None, now: datetime, column: int, role: int) -> Any:
    if role == _DISPLAY:
        if column == PodColumn.NAME:
            return pod.name
        if column == PodColumn.NAMESPACE:
            return pod.namespace
        if column == PodColumn.NODE:
            return pod.node_name or ""
        if column == PodColumn.STATUS:
            return pod_status(pod)[0]
        if column == PodColumn.RESTARTS:
            return str(restarts(pod))
        if column == PodColumn.AGE:
            return fmt.short_age(age_seconds(pod, now))
        return usage_text(column, pod, usage)
    if column == PodColumn.STATUS:
        if role == Qt.ItemDataRole.DecorationRole:
            return status_icon(pod_status(pod)[1])
        if role == Qt.ItemDataRole.ForegroundRole:
            return status_color(pod_status(pod)[1])
    if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
        return _RIGHT
    if role == Qt.ItemDataRole.ToolTipRole:
        if column in USAGE_COLUMNS and usage is None:
            return "No usage reported for this pod yet"
        where = f"on {pod.node_name}" if pod.node_name else "waiting for a node"
        return f"Pod {pod.namespace}/{pod.name} {where}" + (
            f": {pod.status_reason}" if pod.status_reason else ""
        )
    return None


def _cpu(pod: PodView, usage: Usage | None) -> Any:
    return (NO_USAGE if usage is None else usage[0], pod.spec.request.cpu_m)


def _memory(pod: PodView, usage: Usage | None) -> Any:
    return (NO_USAGE if usage is None else usage[1], pod.spec.request.mem_mi)


# Per column, what a row sorts by first; Age ascending is youngest first, so it sorts by the
# creation time reversed.
PRIMARY: dict[int, Callable[[PodView, Usage | None], Any]] = {
    PodColumn.NAME: lambda pod, _u: pod.name.lower(),
    PodColumn.NAMESPACE: lambda pod, _u: pod.spec.namespace,
    PodColumn.NODE: lambda pod, _u: (pod.node_name or "").lower(),
    PodColumn.STATUS: lambda pod, _u: pod_status(pod)[0].lower(),
    PodColumn.RESTARTS: lambda pod, _u: restarts(pod),
    PodColumn.AGE: lambda pod, _u: -pod.created_at.timestamp(),
    PodColumn.CPU: _cpu,
    PodColumn.MEMORY: _memory,
}


def sort_key(pod: PodView, usage: Usage | None, column: int) -> SortKey:
    """What a row sorts by in ``column``, ascending: the column's value, then the name, then
    the id, so every key is unique and a row is found again by bisection. Numbers sort as
    numbers (restarts 10 after 9, "0.50" cores after "0.25"). No column: creation order."""
    primary = PRIMARY.get(column)
    if primary is None:
        return (pod.id,)
    return (primary(pod, usage), pod.name.lower(), pod.id)


def filter_text(pod: PodView) -> str:
    """What the filter box matches: name, namespace, node, status and images, lower case."""
    images = " ".join(c.image for c in pod.spec.containers)
    return (
        f"{pod.name} {pod.namespace} {pod.node_name or ''} {pod.phase} {pod.status_reason} {images}"
    ).lower()
