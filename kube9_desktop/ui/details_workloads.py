"""The details pages of a Deployment (rollout, conditions, ReplicaSets, history with a Roll
back button per kept revision, the rollout chart) and of a ReplicaSet (its pods)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QPushButton, QVBoxLayout, QWidget

from kube9_desktop.engine.deployments import TIMED_OUT
from kube9_desktop.engine.model import PodView, format_cpu, format_mem
from kube9_desktop.engine.workload_ops import Revision
from kube9_desktop.engine.workloads import DeploymentView, PodTemplate, ReplicaSetView
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.charts.rollout import RolloutChart, RolloutSampler
from kube9_desktop.ui.details_pages import group, value_label
from kube9_desktop.ui.details_table import Cell, Table
from kube9_desktop.ui.dialogs._fields import ERROR_STYLE
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.models.workload_cells import strategy_text
from kube9_desktop.ui.workload_status import (
    STALLED,
    images,
    pending_reasons,
    replicaset_word,
    rollout_state,
    wait_reason,
)


def _colored(word: str, color: str) -> str:
    return f"<b style='color:{status_color(color).name()}'>{word}</b>"


def _pairs(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items()) or "none"


def template_text(t: PodTemplate) -> str:
    return (
        f"{images(t.containers)} · {format_cpu(t.request.cpu_m)} CPU, "
        f"{format_mem(t.request.mem_mi)} per pod · labels {_pairs(t.labels)}"
    )


def condition_color(kind: str, status: str, reason: str) -> str:
    if reason == TIMED_OUT or (kind == "Available" and status == "False"):
        return "unhealthy"
    return {"True": "healthy", "False": "recovering"}.get(status, "pending")


class DeploymentPage(QWidget):
    rollback_requested = Signal(int, int)  # Deployment id, revision

    def __init__(self, sampler: RolloutSampler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DeploymentDetails")
        self.deployment_id: int | None = None
        self.rollout = value_label("DeploymentRollout")
        self.stall = value_label("DeploymentStall")
        self.replicas = value_label("DeploymentReplicas")
        self.strategy = value_label("DeploymentStrategy")
        self.selector = value_label("DeploymentSelector")
        self.template = value_label("DeploymentTemplate")
        self.created = value_label("DeploymentCreated")
        form = QFormLayout()
        for caption, widget in (
            ("Rollout", self.rollout),
            ("", self.stall),
            ("Replicas", self.replicas),
            ("Strategy", self.strategy),
            ("Selector", self.selector),
            ("Template", self.template),
            ("Created", self.created),
        ):
            form.addRow(caption, widget)
        self.chart = RolloutChart(sampler)
        self.conditions = Table(
            "DeploymentConditions", ("Condition", "Status", "Reason", "Message", "Updated"), 3
        )
        self.replicasets = Table(
            "DeploymentReplicaSets",
            ("ReplicaSet", "State", "Revision", "Desired", "Ready", "Available", "Images"),
            6,
        )
        self.history = Table(
            "DeploymentHistory", ("Revision", "ReplicaSet", "Images", "Created", ""), 2
        )
        self.rollback_buttons: dict[int, QPushButton] = {}  # revision -> its button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(group("Rollout over time", "DeploymentChartGroup", self.chart))
        layout.addWidget(group("Conditions", "DeploymentConditionsGroup", self.conditions))
        layout.addWidget(group("ReplicaSets", "DeploymentReplicaSetsGroup", self.replicasets))
        layout.addWidget(group("Revision history", "DeploymentHistoryGroup", self.history))
        layout.addStretch(1)

    def show_deployment(
        self,
        d: DeploymentView,
        rss: Sequence[ReplicaSetView],
        history: Sequence[Revision],
        new_pods: Sequence[PodView],
    ) -> None:
        """``new_pods``: the pods of its current ReplicaSet (a stall's reason is theirs)."""
        self.deployment_id = d.id
        self.chart.show_deployment(d.id)
        state = rollout_state(d)
        why = f" — {state.reason}: {state.message}" if state.reason else ""
        self.rollout.setText(f"{_colored(state.word, state.color)}{why}")
        waiting = pending_reasons(new_pods)
        if state.word == STALLED:
            text = "No progress within the deadline. " + (
                f"Its new pods wait: {'; '.join(waiting)}" if waiting else ""
            )
            self.stall.setStyleSheet(ERROR_STYLE)
        else:
            text = f"New pods waiting: {'; '.join(waiting)}" if waiting else ""
            self.stall.setStyleSheet("")
        self.stall.setText(text)
        self.stall.setVisible(bool(text.strip()))
        s = d.status
        self.replicas.setText(
            f"{d.spec.replicas} desired · {s.updated} up-to-date · {s.ready} ready · "
            f"{s.available} available · {s.unavailable} unavailable"
        )
        spec = d.spec
        self.strategy.setText(
            f"{strategy_text(d)} · min ready {spec.min_ready_seconds} s · progress deadline "
            f"{spec.progress_deadline_seconds} s · keeps {spec.revision_history_limit} old "
            f"revision(s)" + (" · paused" if spec.paused else "")
        )
        self.selector.setText(_pairs(spec.selector.match_labels))
        self.template.setText(f"revision {d.revision}: {template_text(spec.template)}")
        self.created.setText(fmt.clock(d.created_at))
        self.conditions.set_rows(
            [
                (
                    c.type,
                    (c.status, condition_color(c.type, c.status, c.reason)),
                    (c.reason, "unhealthy") if c.reason == TIMED_OUT else c.reason,
                    c.message,
                    fmt.clock(c.last_update),
                )
                for c in s.conditions
            ]
        )
        rows: list[tuple[Cell, ...]] = []
        for rs in sorted(rss, key=lambda r: -r.revision):
            word, color = replicaset_word(rs)
            rows.append(
                (
                    rs.name,
                    (word, color),
                    str(rs.revision) + (" (current)" if rs.revision == d.revision else ""),
                    str(rs.replicas),
                    str(rs.status.ready),
                    str(rs.status.available),
                    images(rs.template.containers),
                )
            )
        self.replicasets.set_rows(rows)
        self._show_history(d, history)

    def _show_history(self, d: DeploymentView, history: Sequence[Revision]) -> None:
        ordered = sorted(history, key=lambda r: -r.revision)
        rows = [
            (
                str(r.revision),
                r.replicaset,
                images(r.template.containers) + (f" · {r.change_cause}" if r.change_cause else ""),
                fmt.clock(r.created_at),
                "current" if r.current else "",
            )
            for r in ordered
        ]
        if not self.history.set_rows(rows):
            return
        self.rollback_buttons = {}
        for row, r in enumerate(ordered):
            self.history.removeCellWidget(row, 4)
            if r.current:
                continue
            button = QPushButton("Roll back")
            button.setObjectName(f"rollback_{r.revision}")
            button.setToolTip(
                f"Roll back to revision {r.revision} ({images(r.template.containers)})"
            )
            button.clicked.connect(
                lambda _c=False, d_id=d.id, rev=r.revision: self.rollback_requested.emit(d_id, rev)
            )
            self.history.setCellWidget(row, 4, button)
            self.rollback_buttons[r.revision] = button
        self.history.resizeColumnsToContents()


class ReplicaSetPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReplicaSetDetails")
        self.owner = value_label("ReplicaSetOwner")
        self.state = value_label("ReplicaSetState")
        self.replicas = value_label("ReplicaSetReplicas")
        self.selector = value_label("ReplicaSetSelector")
        self.template = value_label("ReplicaSetTemplate")
        self.created = value_label("ReplicaSetCreated")
        form = QFormLayout()
        for caption, widget in (
            ("Owner", self.owner),
            ("State", self.state),
            ("Replicas", self.replicas),
            ("Selector", self.selector),
            ("Template", self.template),
            ("Created", self.created),
        ):
            form.addRow(caption, widget)
        self.pods = Table("ReplicaSetPods", ("Pod", "Phase", "Ready", "Node, or why it waits"), 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(group("Pods", "ReplicaSetPodsGroup", self.pods))
        layout.addStretch(1)

    def show_replicaset(
        self, rs: ReplicaSetView, current: bool | None, pods: Sequence[PodView]
    ) -> None:
        """``current``: whether it is its Deployment's current revision (None: it has none)."""
        if rs.owner is None:
            self.owner.setText("none (a ReplicaSet of its own)")
        else:
            which = "current" if current else "old"
            self.owner.setText(f"Deployment {rs.owner.name} · revision {rs.revision} ({which})")
        word, color = replicaset_word(rs)
        self.state.setText(_colored(word, color))
        s = rs.status
        self.replicas.setText(
            f"{rs.replicas} desired · {s.replicas} current · {s.ready} ready · "
            f"{s.available} available (min ready {rs.min_ready_seconds} s)"
        )
        self.selector.setText(_pairs(rs.selector.match_labels))
        self.template.setText(template_text(rs.template))
        self.created.setText(fmt.clock(rs.created_at))
        self.pods.set_rows(
            [
                (
                    p.name,
                    (str(p.phase), str(p.phase)),
                    "yes" if p.ready else "no",
                    p.node_name or wait_reason(p),
                )
                for p in pods
            ]
        )
