"""What each cell of the workloads tree says: its columns (as ``kubectl get deploy`` and
``kubectl get rs`` name them) and one pure function per row kind, from frozen views."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.workloads import ROLLING_UPDATE, DeploymentView, ReplicaSetView
from kube9_desktop.ui.icons import status_color, status_icon
from kube9_desktop.ui.models.tree_cells import FILTER_ROLE, SORT_ROLE, STATUS_ROLE
from kube9_desktop.ui.workload_status import images, replicaset_word, rollout_state, wait_reason


class WColumn(IntEnum):
    NAME = 0
    STATUS = 1
    DESIRED = 2
    READY = 3
    UP_TO_DATE = 4
    AVAILABLE = 5
    INFO = 6


HEADERS = ("Name", "Status", "Desired", "Ready", "Up-to-date", "Available", "Info")
HEADER_TIPS = (
    "Deployment, its ReplicaSets (one per template revision) and their pods",
    "Rollout state (complete, progressing, stalled, paused), ReplicaSet state, pod phase",
    "Replicas asked for (spec.replicas)",
    "Pods ready, of those desired (as kubectl's READY); pods: whether it is ready",
    "Pods made from the current template (the newest revision)",
    "Pods ready for at least minReadySeconds",
    "Revision, strategy and images; a pod's node and address",
)
COUNT_COLUMNS = (WColumn.DESIRED, WColumn.READY, WColumn.UP_TO_DATE, WColumn.AVAILABLE)
_DISPLAY = Qt.ItemDataRole.DisplayRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def strategy_text(d: DeploymentView) -> str:
    s = d.spec.strategy
    if s.type != ROLLING_UPDATE:
        return s.type
    return f"{s.type} (surge {s.max_surge}, unavailable {s.max_unavailable})"


def deployment_cell(d: DeploymentView, column: int, role: int) -> Any:
    state = rollout_state(d)
    status, spec = d.status, d.spec
    if role == _DISPLAY:
        return (
            d.name,
            state.word,
            str(spec.replicas),
            f"{status.ready}/{spec.replicas}",
            str(status.updated),
            str(status.available),
            f"rev {d.revision} · {images(spec.template.containers)}",
        )[column]
    if role == Qt.ItemDataRole.DecorationRole and column == WColumn.STATUS:
        return status_icon(state.color)
    if role == Qt.ItemDataRole.ForegroundRole and column == WColumn.STATUS:
        return status_color(state.color)
    if role == SORT_ROLE:
        return (d.name, state.word, spec.replicas, status.ready, status.updated,
                status.available, d.revision)[column]  # fmt: skip
    if role == FILTER_ROLE:
        return f"{d.name} {d.namespace} {state.word} {images(spec.template.containers)}"
    if role == STATUS_ROLE:
        return state.word
    if role == Qt.ItemDataRole.ToolTipRole:
        why = f"{state.reason}: {state.message}" if state.reason else "no rollout yet"
        return f"Deployment {d.name} in {d.namespace}, {strategy_text(d)} — {why}"
    if role == Qt.ItemDataRole.TextAlignmentRole and column in COUNT_COLUMNS:
        return _RIGHT
    return None


def replicaset_cell(rs: ReplicaSetView, current: bool | None, column: int, role: int) -> Any:
    """A ReplicaSet's row; ``current``: whether it is its Deployment's newest revision (None
    for a ReplicaSet without a Deployment)."""
    word, color = replicaset_word(rs)
    status = rs.status
    updated = status.replicas if current is not False else 0
    if role == _DISPLAY:
        which = "" if current is None else (" · current" if current else " · old")
        info = f"rev {rs.revision}{which} · {images(rs.template.containers)}"
        if current is None:
            info = f"no Deployment · {images(rs.template.containers)}"
        return (rs.name, word, str(rs.replicas), f"{status.ready}/{rs.replicas}", str(updated),
                str(status.available), info)[column]  # fmt: skip
    if role == Qt.ItemDataRole.DecorationRole and column == WColumn.STATUS:
        return status_icon(color, hollow=not current)
    if role == Qt.ItemDataRole.ForegroundRole and column == WColumn.STATUS:
        return status_color(color)
    if role == SORT_ROLE:
        return (rs.name, word, rs.replicas, status.ready, updated, status.available,
                rs.revision)[column]  # fmt: skip
    if role == FILTER_ROLE:
        return f"{rs.name} {word} {images(rs.template.containers)}"
    if role == STATUS_ROLE:
        return word
    if role == Qt.ItemDataRole.ToolTipRole:
        owner = f"of Deployment {rs.owner.name}" if rs.owner else "without a Deployment"
        return (
            f"ReplicaSet {rs.name} {owner}, revision {rs.revision}: {status.replicas} pod(s), "
            f"{status.ready} ready, {status.available} available of {rs.replicas}"
        )
    if role == Qt.ItemDataRole.TextAlignmentRole and column in COUNT_COLUMNS:
        return _RIGHT
    return None


def workload_pod_cell(pod: PodView, column: int, role: int) -> Any:
    """A pod under its ReplicaSet: phase, readiness and where it runs (or why it waits)."""
    phase = str(pod.phase)
    if role == _DISPLAY:
        if column == WColumn.NAME:
            return pod.name
        if column == WColumn.STATUS:
            return phase
        if column == WColumn.READY:
            return "yes" if pod.ready else "no"
        if column == WColumn.INFO:
            if pod.node_name:
                return f"on {pod.node_name} · {pod.ip}"
            return pod.reason or "waiting for a node"
        return ""
    if role == Qt.ItemDataRole.DecorationRole and column == WColumn.STATUS:
        return status_icon(phase)
    if role == Qt.ItemDataRole.ForegroundRole and column == WColumn.STATUS:
        return status_color(phase)
    if role == SORT_ROLE:
        return (pod.name, phase, 0, int(pod.ready), 0, 0, pod.node_name or "")[column]
    if role == FILTER_ROLE:
        return f"{pod.name} {phase} {pod.node_name or 'pending'}"
    if role == STATUS_ROLE:
        return phase
    if role == Qt.ItemDataRole.ToolTipRole:
        where = f"on {pod.node_name}" if pod.node_name else "waiting for a node"
        return f"Pod {pod.name} {where}" + (f": {wait_reason(pod)}" if not pod.node_name else "")
    if role == Qt.ItemDataRole.TextAlignmentRole and column in COUNT_COLUMNS:
        return _RIGHT
    return None
