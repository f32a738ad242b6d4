"""DetailsPanel: everything about the selected node, pod, Deployment, ReplicaSet or Service,
kept current while it is shown."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.events import Event
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.charts.rollout import RolloutSampler
from kube9_desktop.ui.details_pages import NodePage, PodPage
from kube9_desktop.ui.details_services import ServicePage
from kube9_desktop.ui.details_workloads import DeploymentPage, ReplicaSetPage
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.log_actions import logs_refusal
from kube9_desktop.ui.models.service_cells import service_state
from kube9_desktop.ui.models.tree_cells import (
    STALE_TEXT,
    ItemKind,
    TreeItem,
    replacement_note,
    stale_summary,
)
from kube9_desktop.ui.object_events import ObjectEvents
from kube9_desktop.ui.workload_status import rollout_state

RECENT_EVENTS = 12
EMPTY_TEXT = "Select a node, a pod, a Deployment or a Service in a tree to see its details."


def _label(name: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    return label


class PageStack(QStackedWidget):
    """A stack as tall as the page shown, word wrap included: QStackedWidget takes its tallest
    page's height (the hint and a pod's events sat below a node-page-high gap) and knows no
    height-for-width (a wrapped hint in a narrow pane was clipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(self._fit)

    def _fit(self, _index: int = 0) -> None:
        current = self.currentWidget()
        shown = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        ignored = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        for i in range(self.count()):
            page = self.widget(i)
            if page is not None:
                page.setSizePolicy(shown if page is current else ignored)
        self._fit_wrapped()
        self.updateGeometry()

    def addWidget(self, page: QWidget) -> int:
        index = super().addWidget(page)
        self._fit()
        return index

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_wrapped()

    def _fit_wrapped(self) -> None:
        """A word-wrapped page (the hint) is as tall as its lines at this width: the stack's
        layout asks pages for no height-for-width, so a long hint in a narrow pane was clipped."""
        current = self.currentWidget()
        if isinstance(current, QLabel) and current.wordWrap():
            current.setMinimumHeight(max(0, current.heightForWidth(self.width())))


class DetailsPanel(QWidget):
    rollback_requested = Signal(int, int)  # Deployment id, revision (a history row's button)
    yaml_requested = Signal(object)  # the shown TreeItem ("View YAML")
    logs_requested = Signal(object)  # the shown pod's or container's TreeItem ("Logs")

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailsPanel")
        self.bridge = bridge
        self.rollouts = RolloutSampler(bridge, self)  # samples every Deployment, shown or not
        self.item: TreeItem | None = None
        self._events: list[Event] = []
        # What the shown Deployment or ReplicaSet is made of: changes to these refresh it.
        self._watched: dict[Kind, set[int]] = {k: set() for k in Kind}

        self.title = _label("DetailsTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = _label("DetailsSubtitle")
        self.subtitle.setWordWrap(True)

        self.empty = _label("DetailsEmpty", EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stale_page = _label("DetailsStaleCopy")  # a stale copy's row: what and why
        self.stale_page.setWordWrap(True)
        self.split_note = _label("DetailsSplitBrain")  # a node's copies, a pod's replacement
        self.split_note.setWordWrap(True)
        self.split_note.setVisible(False)
        self.node_page = NodePage()
        self.pod_page = PodPage()
        self.deployment_page = DeploymentPage(self.rollouts)
        self.deployment_page.rollback_requested.connect(self.rollback_requested.emit)
        self.replicaset_page = ReplicaSetPage()
        self.service_page = ServicePage()
        self.pages = PageStack()
        for page in (
            self.empty,
            self.node_page,
            self.pod_page,
            self.deployment_page,
            self.replicaset_page,
            self.service_page,
            self.stale_page,
        ):
            self.pages.addWidget(page)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        self.yaml_button = QPushButton("View YAML")
        self.yaml_button.setObjectName("DetailsYamlButton")
        self.yaml_button.setToolTip("Show this object as a Kubernetes manifest (Ctrl+Shift+Y)")
        self.yaml_button.clicked.connect(lambda _c=False: self.yaml_requested.emit(self.item))
        self.logs_button = QPushButton("Logs")
        self.logs_button.setObjectName("DetailsLogsButton")
        self.logs_button.setToolTip("Show this pod's container output (Ctrl+L)")
        self.logs_button.clicked.connect(lambda _c=False: self.logs_requested.emit(self.item))
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.logs_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.yaml_button, 0, Qt.AlignmentFlag.AlignTop)
        inner_layout.addLayout(header)
        inner_layout.addWidget(self.subtitle)
        inner_layout.addWidget(self.split_note)
        inner_layout.addWidget(self.pages)
        self.object_events = ObjectEvents(bridge)  # under the page, not below a stretch
        inner_layout.addWidget(self.object_events)
        inner_layout.addStretch(1)
        scroll.setWidget(inner)
        self.scroll_area = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        bridge.ticked.connect(self._on_bridge_ticked)  # heartbeat age: no event says it
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        bridge.engine_attached.connect(self.refresh)
        self.show_item(None)

    def show_item(self, item: TreeItem | None) -> None:
        """Show a node, a pod (or a pod for one of its containers), or the hint."""
        if item is not None and item.kind is ItemKind.PENDING_GROUP:
            item = None
        self.item = item
        self.yaml_button.setVisible(item is not None and item.kind is not ItemKind.STALE_COPY)
        self.object_events.show_item(item)
        self._events = []
        self.refresh(with_events=True)
        # Another object starts at its top, not at the previous one's scroll position.
        self.scroll_area.verticalScrollBar().setValue(0)
        self.scroll_area.horizontalScrollBar().setValue(0)

    def refresh(self, with_events: bool = True) -> None:
        item = self.item
        self.logs_button.setVisible(False)  # a pod's page shows it
        self._note_split_brain(item)
        if item is not None and item.kind is ItemKind.STALE_COPY:
            self._show_stale_copy(item.id)
            return
        if item is not None and item.kind is ItemKind.DEPLOYMENT:
            self._show_deployment(item.id)
            return
        if item is not None and item.kind is ItemKind.REPLICASET:
            self._show_replicaset(item.id)
            return
        if item is not None and item.kind is ItemKind.SERVICE:
            self._show_service(item.id)
            return
        if item is not None and item.kind is ItemKind.NODE:
            node = self.bridge.node(item.id)
            if node is not None:
                if with_events:
                    events = self.bridge.events(node_id=node.id, limit=RECENT_EVENTS)
                    self._events = sorted(events, key=lambda e: e.id, reverse=True)
                pods = [p.name for p in map(self.bridge.pod, node.pod_ids) if p is not None]
                history = self.bridge.node_usage_history(node.id)
                self.node_page.show_node(node, pods, self._events, history)
                self._set_title(node.name, f"{node.node_type} node", str(node.status))
                self.pages.setCurrentWidget(self.node_page)
                return
            self._gone(f"Node {item.id} no longer exists.")
            return
        if item is not None:
            pod = self.bridge.pod(item.id)
            if pod is not None:
                container = item.container if item.kind is ItemKind.CONTAINER else None
                history = self.bridge.pod_usage_history(pod.id)
                self.pod_page.show_pod(pod, container, history)
                where = f"on {pod.node_name}" if pod.node_name else "waiting for a node"
                self._set_title(pod.name, f"pod {where}", str(pod.phase))
                self.logs_button.setVisible(True)
                why_not = logs_refusal(pod)
                self.logs_button.setEnabled(why_not is None)
                self.logs_button.setToolTip(
                    "Show this pod's container output (Ctrl+L)"
                    + (f" — {why_not}" if why_not else "")
                )
                self.pages.setCurrentWidget(self.pod_page)
                return
            self._gone(f"Pod {item.id} no longer exists.")
            return
        self.title.setText("Details")
        self.subtitle.setText("")
        self.pages.setCurrentWidget(self.empty)

    def _note_split_brain(self, item: TreeItem | None) -> None:
        """Above a node's or a pod's page: the copies that run twice while a node is cut off."""
        note = ""
        if item is not None and item.kind is ItemKind.NODE:
            node = self.bridge.node(item.id)
            if node is not None and node.stale_pods:
                names = ", ".join(c.name for c in node.stale_pods)
                note = f"Still running here, out of reach: {names} — {STALE_TEXT}."
        elif item is not None and item.kind in (ItemKind.POD, ItemKind.CONTAINER):
            copy = self.bridge.stale_copy_replaced_by(item.id)
            if copy is not None:
                note = (
                    f"This pod is the {replacement_note(copy)}: {copy.name} still runs on "
                    f"{copy.node_name}, out of reach, until the partition heals."
                )
        self.split_note.setText(note)
        self.split_note.setVisible(bool(note))

    def _show_stale_copy(self, pod_id: int) -> None:
        copy = self.bridge.stale_copy(pod_id)
        if copy is None:
            self._gone(f"The stale copy of pod {pod_id} has stopped.")
            return
        self.stale_page.setText(
            f"Pod {copy.name} ({copy.namespace}) still runs on {copy.node_name}, which has "
            f"been unreachable since {copy.since:%H:%M:%S} UTC: a {STALE_TEXT}.\n\n"
            f"{stale_summary(copy).capitalize()}. Until then both copies run (split brain); "
            f"when the partition heals, the node's agent stops this one and it leaves the tree."
        )
        self._set_title(copy.name, f"stale copy on {copy.node_name}", "stale copy", "terminating")
        self.pages.setCurrentWidget(self.stale_page)

    def _show_deployment(self, deployment_id: int) -> None:
        d = self.bridge.deployment(deployment_id)
        if d is None:
            self._gone(f"Deployment {deployment_id} no longer exists.")
            return
        rss = [r for r in map(self.bridge.replicaset, d.replicaset_ids) if r is not None]
        current = next((r for r in rss if r.revision == d.revision), None)
        pods = [] if current is None else [p for p in map(self.bridge.pod, current.pod_ids) if p]
        self._watch({d.id}, {r.id for r in rss}, {p for r in rss for p in r.pod_ids})
        history = self.bridge.deployment_history(d.id)
        self.deployment_page.show_deployment(d, rss, history, pods)
        state = rollout_state(d)
        self._set_title(d.name, f"Deployment in {d.namespace}", state.word, state.color)
        self.pages.setCurrentWidget(self.deployment_page)

    def _show_replicaset(self, rs_id: int) -> None:
        rs = self.bridge.replicaset(rs_id)
        if rs is None:
            self._gone(f"ReplicaSet {rs_id} no longer exists.")
            return
        owner = self.bridge.deployment(rs.owner.id) if rs.owner is not None else None
        current = None if owner is None else owner.revision == rs.revision
        pods = [p for p in map(self.bridge.pod, rs.pod_ids) if p is not None]
        self._watch({rs.owner.id} if rs.owner else set(), {rs.id}, set(rs.pod_ids))
        self.replicaset_page.show_replicaset(rs, current, pods)
        what = f"ReplicaSet of {rs.owner.name}" if rs.owner is not None else "ReplicaSet"
        word = "current" if current else "old" if current is False else "on its own"
        self._set_title(rs.name, what, word, "running" if current else "terminating")
        self.pages.setCurrentWidget(self.replicaset_page)

    def _show_service(self, service_id: int) -> None:
        svc = self.bridge.service(service_id)
        if svc is None:
            self._gone(f"Service {service_id} no longer exists.")
            return
        self.service_page.show_service(svc)
        word, color = service_state(svc)
        self._set_title(svc.name, f"{svc.spec.type} Service in {svc.namespace}", word, color)
        self.pages.setCurrentWidget(self.service_page)

    def _watch(self, deployments: set[int], replicasets: set[int], pods: set[int]) -> None:
        self._watched[Kind.DEPLOYMENT] = deployments
        self._watched[Kind.REPLICASET] = replicasets
        self._watched[Kind.POD] = pods

    def _set_title(self, name: str, what: str, status: str, color_of: str = "") -> None:
        self.title.setText(name)
        color = status_color(color_of or status).name()
        self.subtitle.setText(f"{what} · <b style='color:{color}'>{status}</b>")

    def _gone(self, message: str) -> None:
        self.title.setText("Details")
        self.subtitle.setText("")
        self.empty.setText(f"{message}\n\n{EMPTY_TEXT}")
        self.pages.setCurrentWidget(self.empty)

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        item = self.item
        if item is None:
            return
        if item.kind is ItemKind.NODE and item.id in changes.ids(Kind.NODE):
            self.refresh(with_events=True)
        elif item.kind is ItemKind.STALE_COPY and changes.ids(Kind.NODE):
            self.refresh(with_events=False)  # its node's list may have dropped it
        elif item.kind in (ItemKind.POD, ItemKind.CONTAINER) and item.id in changes.ids(Kind.POD):
            self.refresh(with_events=False)
        elif item.kind in (ItemKind.DEPLOYMENT, ItemKind.REPLICASET) and (
            changes.ids(Kind.DEPLOYMENT) & self._watched[Kind.DEPLOYMENT]
            or changes.ids(Kind.REPLICASET) & self._watched[Kind.REPLICASET]
            or changes.ids(Kind.POD) & self._watched[Kind.POD]
        ):
            self.refresh(with_events=False)  # its counts follow its ReplicaSets and pods
        elif item.kind is ItemKind.SERVICE and item.id in changes.ids(Kind.SERVICE):
            self.refresh(with_events=False)  # its endpoints moved (or it was edited)

    def _on_bridge_ticked(self) -> None:
        if self.item is not None and self.isVisible():
            self.refresh(with_events=False)
