"""The pages of the details panel: one node, or one pod with why it is where it is."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.components import COMPONENT_RECOVERING, component_states
from kube9_desktop.engine.constraints import Taint
from kube9_desktop.engine.events import Event
from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    SECRET_MASK,
    Decision,
    NodeStatus,
    NodeView,
    PodView,
    Preemption,
    format_cpu,
    format_mem,
)
from kube9_desktop.engine.noexecute import CONDITION_KEYS
from kube9_desktop.engine.scheduler import STRATEGIES
from kube9_desktop.engine.usage import UsageHistoryJson, UsageJson
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui import usage_bars as bars
from kube9_desktop.ui.details_table import Cell, Shown, Table
from kube9_desktop.ui.details_usage import UsageSection
from kube9_desktop.ui.icons import status_color


def group(title: str, name: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    box.setObjectName(name)
    layout = QVBoxLayout(box)
    for w in widgets:
        layout.addWidget(w)
    return box


def value_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class NodePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NodeDetails")
        self.type = value_label("NodeType")
        self.status = value_label("NodeStatus")
        self.faults = value_label("NodeFaults")
        self.heartbeat = value_label("NodeHeartbeat")
        self.recovery = value_label("NodeRecovery")
        self.runtime = value_label("NodeRuntime")
        self.scheduling = value_label("NodeScheduling")
        self.labels = value_label("NodeLabels")
        self.taints = value_label("NodeTaints")
        self.taints.setTextFormat(Qt.TextFormat.RichText)
        self.pods = value_label("NodePods")
        self.usage = UsageSection("NodeUsage", with_pods=True)
        form = QFormLayout()
        for caption, widget in (
            ("Type", self.type),
            ("Status", self.status),
            ("Faults", self.faults),
            ("Last heartbeat", self.heartbeat),
            ("Recovery attempts", self.recovery),
            ("Runtime", self.runtime),
            ("Scheduling", self.scheduling),
            ("Taints", self.taints),
            ("Labels", self.labels),
            ("Pods", self.pods),
        ):
            form.addRow(caption, widget)
        self.components = Table("NodeComponents", ("Component", "State", "Why"))
        self.events = QListWidget()
        self.events.setObjectName("NodeEvents")
        self.events.setWordWrap(True)
        self.events.setMinimumHeight(120)
        self._event_ids: list[int] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.usage)
        self.components_group = group("Components", "NodeComponentsGroup", self.components)
        layout.addWidget(self.components_group)
        layout.addWidget(group("Recent events", "NodeEventsGroup", self.events))
        layout.addStretch(1)

    def show_node(
        self,
        node: NodeView,
        pod_names: Sequence[str],
        events: Sequence[Event],
        history: UsageHistoryJson | None = None,
    ) -> None:
        """The node, with its usage's latest figures and 5 minutes of history (``history``)."""
        fresh = node.status in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING)
        self.components_group.setTitle(
            "Components" if fresh else "Components (as last reported by its agent)"
        )
        kind = "worker (runs pods)" if node.node_type == "worker" else "master (control plane)"
        self.type.setText(
            kind
            + ("" if node.schedulable or node.node_type != "worker" else " · not taking pods now")
        )
        color = status_color(str(node.status)).name()
        reason = f" — {node.status_reason}" if node.status_reason else ""
        self.status.setText(f"<b style='color:{color}'>{node.status}</b>{reason}")
        self.faults.setText(", ".join(node.faults) or "none")
        self.heartbeat.setText(
            "never"
            if node.last_heartbeat is None
            else f"{fmt.age(node.seconds_since_heartbeat)} ({fmt.clock(node.last_heartbeat)})"
        )
        self.recovery.setText(str(node.recovery_attempts))
        self.runtime.setText(
            f"{node.runtime} on engine {node.engine} · {node.runtime_handle or 'not running'}"
        )
        self.scheduling.setText(
            "cordoned: takes no new pods (those on it stay)" if node.cordoned
            else "schedulable" if node.schedulable
            else f"not taking pods while {node.status}"
        )  # fmt: skip
        self.taints.setText(taints_html(node.taints))
        self.labels.setText(", ".join(f"{k}={v}" for k, v in sorted(node.labels.items())) or "none")
        count = f"{len(pod_names)} / {node.pod_limit}"
        self.pods.setText(f"{count}: {', '.join(pod_names)}" if pod_names else count)
        usage = _latest(history)
        self.usage.show_usage(
            bars.node_cpu(node, usage), bars.node_memory(node, usage), history,
            bars.node_pods(node),
        )  # fmt: skip
        self.components.set_rows(
            [
                (c.name, (c.state, _COMPONENT_COLORS.get(c.state, "failed")), c.reason)
                for c in component_states(node.components, node.component_faults)
            ]
        )
        ids = [e.id for e in events]
        if ids != self._event_ids:
            self._event_ids = ids
            self.events.clear()
            for e in events:
                self.events.addItem(f"{fmt.clock(e.at)}  {e.kind}  {e.message}")


class PodPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PodDetails")
        self.node = value_label("PodNode")
        self.phase = value_label("PodPhase")
        self.ip = value_label("PodIp")
        self.request = value_label("PodRequest")
        self.created = value_label("PodCreated")
        self.priority = value_label("PodPriority")
        self.usage = UsageSection("PodUsage", with_pods=False)
        form = QFormLayout()
        for caption, widget in (
            ("Node", self.node),
            ("Phase", self.phase),
            ("IP", self.ip),
            ("Requests", self.request),
            ("Created", self.created),
            ("Priority", self.priority),
        ):
            form.addRow(caption, widget)
        self.containers = Table(
            "PodContainers", ("Container", "State", "Restarts", "Exit", "Requests"), stretch=0
        )
        self.volumes = Table("PodVolumes", ("Volume", "Type", "Size", "Path"))
        self.config = Table("PodConfig", ("Name", "Type", "Key", "Value"))
        self.decision = value_label("SchedulingSummary")
        self.candidates = Table("SchedulingCandidates", ("Node", "Fits", "Free before", "Reasons"))
        self.omitted = value_label("SchedulingOmitted")
        self.preemption = value_label("PreemptionSummary")
        self.preemption_nodes = Table(
            "PreemptionNodes", ("Node", "Preemption", "Victims or reasons"), stretch=2
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.usage)
        layout.addWidget(group("Containers", "PodContainersGroup", self.containers))
        layout.addWidget(
            group("Why it is here", "PodScheduling", self.decision, self.candidates, self.omitted,
                  self.preemption, self.preemption_nodes)
        )  # fmt: skip
        self.volumes_group = group("Volumes", "PodVolumesGroup", self.volumes)
        self.config_group = group("Configuration", "PodConfigGroup", self.config)
        layout.addWidget(self.volumes_group)
        layout.addWidget(self.config_group)
        layout.addStretch(1)

    def show_pod(
        self, pod: PodView, container: int | None = None, history: UsageHistoryJson | None = None
    ) -> None:
        self.node.setText(pod.node_name or "none — waiting for capacity")
        color = status_color("failed" if pod.in_trouble else str(pod.phase)).name()
        reason = f" — {html.escape(pod.status_reason)}" if pod.status_reason else ""
        self.phase.setText(f"<b style='color:{color}'>{pod.phase}</b>{reason}")
        self.ip.setText(pod.ip)
        self.request.setText(
            f"{format_cpu(pod.request.cpu_m)} CPU, {format_mem(pod.request.mem_mi)} "
            f"({pod.spec.kind})"
        )
        self.created.setText(fmt.clock(pod.created_at))
        self.priority.setText(priority_text(pod))
        usage = _latest(history)
        self.usage.show_usage(bars.pod_cpu(pod, usage), bars.pod_memory(pod, usage), history)
        rows: list[tuple[Cell, ...]] = []
        for spec, status in zip(pod.spec.containers, pod.containers, strict=False):
            command = " ".join((*spec.command, *spec.args))
            image = spec.image + (f" · {command}" if command else "")
            requests = f"{format_cpu(spec.cpu_m)} CPU, {format_mem(spec.mem_mi)}"
            rows.append(
                (
                    Shown(f"{spec.name} · {image}", tip=f"{spec.name}\n{image}"),
                    (fmt.container_state(status), fmt.container_color(status)),
                    str(status.restarts),
                    "" if status.exit_code is None else str(status.exit_code),
                    requests,
                )
            )
        self.containers.set_rows(rows)
        if container is not None and container < len(rows):
            self.containers.selectRow(container)
        self.volumes.set_rows(
            [
                (v.name, v.type, "" if v.size is None else f"{v.size} GB", v.path or "")
                for v in pod.spec.volumes
            ]
        )
        self.volumes_group.setVisible(bool(pod.spec.volumes))
        self.config.set_rows(
            [
                (c.name, c.type, c.key, SECRET_MASK if c.is_secret else c.value)
                for c in pod.spec.config
            ]
        )
        self.config_group.setVisible(bool(pod.spec.config))
        self._show_decision(pod)

    def _show_decision(self, pod: PodView) -> None:
        decision = pod.decision
        self.decision.setText(explain(pod, decision))
        if decision is None:
            self.candidates.set_rows([])
            self.omitted.setText("")
            return
        rows: list[tuple[Cell, ...]] = []
        for c in decision.candidates:
            chosen = c.node_id == decision.node_id
            fits: Cell = ("chosen" if chosen else "yes", "healthy") if c.fits else ("no", "failed")
            rows.append(
                (
                    c.node_name,
                    fits,
                    f"{format_cpu(c.free_cpu_m)} CPU, {format_mem(c.free_mem_mi)}",
                    Shown("; ".join(c.reasons), tip="\n".join(c.reasons))
                    if c.reasons
                    else fits_text(c.scores),
                )
            )
        self.candidates.set_rows(rows)
        self.omitted.setText(
            f"{decision.omitted} more node(s) were considered and are not listed."
            if decision.omitted
            else ""
        )
        self.omitted.setVisible(bool(decision.omitted))
        self._show_preemption(decision.preemption)

    def _show_preemption(self, pre: Preemption | None) -> None:
        self.preemption.setVisible(pre is not None)
        self.preemption_nodes.setVisible(pre is not None)
        if pre is None:
            self.preemption_nodes.set_rows([])
            return
        if pre.node_name is None:
            self.preemption.setText(
                f"Preemption (priority {pre.priority:,}) found no node where removing "
                "lower-priority pods would help:"
            )
        else:
            victims = ", ".join(html.escape(v.pod) for v in pre.victims)
            self.preemption.setText(
                f"Preempted {victims} on <b>{html.escape(pre.node_name)}</b> to make room "
                f"(priority {pre.priority:,} over theirs; nominated node {pre.node_name}):"
            )
        rows: list[tuple[Cell, ...]] = []
        for n in pre.nodes:
            what = PREEMPTION_OUTCOMES.get(n.outcome, n.outcome)
            outcome: Cell = (what, "healthy") if n.outcome == "chosen" else what
            if n.victims:
                detail = ", ".join(f"{v.pod} ({v.priority:,})" for v in n.victims)
            else:
                detail = "; ".join(n.reasons)
            rows.append((n.node_name, outcome, Shown(detail, tip=detail.replace("; ", "\n"))))
        self.preemption_nodes.set_rows(rows)


PREEMPTION_OUTCOMES = {
    "chosen": "chosen",
    "candidate": "would need",
    "not_helpful": "not helpful",
    "no_victims": "no victims",
}


def priority_text(pod: PodView) -> str:
    """ "1,000 (high)", "0": the pod's priority and the class it came from."""
    spec = pod.spec
    text = f"{spec.priority:,}"
    if spec.priority_class_name:
        text += f" ({spec.priority_class_name})"
    if str(spec.preemption_policy) == "Never":
        text += ", never preempts"
    return text


SCORE_NAMES = {
    "prefer_no_schedule_taints": "untolerated PreferNoSchedule taints",
    "node_affinity": "node affinity",
    "pod_affinity": "pod affinity",
    "topology_spread": "pods of its spread here",
}


def fits_text(scores: tuple[tuple[str, int], ...]) -> str:
    """A fitting node's verdict with the ranking's parts: "fits · pod affinity 20"."""
    parts = [f"{SCORE_NAMES.get(name, name)} {value}" for name, value in scores]
    return " · ".join(("fits", *parts))


_COMPONENT_COLORS = {COMPONENT_RUNNING: "running", COMPONENT_RECOVERING: "recovering"}


def taints_html(taints: Sequence[Taint]) -> str:
    """One taint a line in kubectl's spelling, the engine's condition taints (not-ready,
    unreachable) last, followed by one short note saying they follow the node's health
    (a note per line wrapped each taint in two at 1024 px)."""
    if not taints:
        return "none"
    shown = sorted(taints, key=lambda t: t.key in CONDITION_KEYS)  # stable: theirs first
    lines = [html.escape(str(t)) for t in shown]
    condition = sum(1 for t in taints if t.key in CONDITION_KEYS)
    if condition:
        lines.append(f"<i>(the last {condition} come and go with the node's health)</i>")
    return "<br>".join(lines)


def _latest(history: UsageHistoryJson | None) -> UsageJson | None:
    return history["current"] if history is not None else None


def explain(pod: PodView, decision: Decision | None) -> str:
    """One sentence on why the pod is where it is."""
    if decision is None:
        if pod.node_name:
            return f"On {pod.node_name} (the scheduling decision was not recorded)."
        return "Not scheduled yet."
    strategy = STRATEGIES.get(decision.strategy)
    how = f"{decision.strategy} ({strategy.summary})" if strategy else decision.strategy
    when = f" at {fmt.clock(decision.at)}" if decision.at else ""
    if decision.node_name:
        fitting = sum(1 for c in decision.candidates if c.fits)
        return (
            f"Placed on <b>{decision.node_name}</b> by {how}{when}: {fitting} of "
            f"{len(decision.candidates)} listed node(s) fit; each node's view is below."
        )
    return (
        f"No node fits ({how}{when}): the pod waits as pending and is placed as soon as "
        "capacity appears. Every node's reasons are below."
    )
