"""DetailsPanel: everything about the selected node or pod, kept current while it is shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.events import Event
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.details_pages import NodePage, PodPage
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

RECENT_EVENTS = 12
EMPTY_TEXT = "Select a node or a pod in the tree to see its details."


def _label(name: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    return label


class DetailsPanel(QWidget):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailsPanel")
        self.bridge = bridge
        self.item: TreeItem | None = None
        self._events: list[Event] = []

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
        self.node_page = NodePage()
        self.pod_page = PodPage()
        self.pages = QStackedWidget()
        for page in (self.empty, self.node_page, self.pod_page):
            self.pages.addWidget(page)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.addWidget(self.title)
        inner_layout.addWidget(self.subtitle)
        inner_layout.addWidget(self.pages, 1)
        scroll.setWidget(inner)
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
        self._events = []
        self.refresh(with_events=True)

    def refresh(self, with_events: bool = True) -> None:
        item = self.item
        if item is not None and item.kind is ItemKind.NODE:
            node = self.bridge.node(item.id)
            if node is not None:
                if with_events:
                    events = self.bridge.events(node_id=node.id, limit=RECENT_EVENTS)
                    self._events = sorted(events, key=lambda e: e.id, reverse=True)
                pods = [p.name for p in map(self.bridge.pod, node.pod_ids) if p is not None]
                self.node_page.show_node(node, pods, self._events)
                self._set_title(node.name, f"{node.node_type} node", str(node.status))
                self.pages.setCurrentWidget(self.node_page)
                return
            self._gone(f"Node {item.id} no longer exists.")
            return
        if item is not None:
            pod = self.bridge.pod(item.id)
            if pod is not None:
                container = item.container if item.kind is ItemKind.CONTAINER else None
                self.pod_page.show_pod(pod, container)
                where = f"on {pod.node_name}" if pod.node_name else "waiting for a node"
                self._set_title(pod.name, f"pod {where}", str(pod.phase))
                self.pages.setCurrentWidget(self.pod_page)
                return
            self._gone(f"Pod {item.id} no longer exists.")
            return
        self.title.setText("Details")
        self.subtitle.setText("")
        self.pages.setCurrentWidget(self.empty)

    def _set_title(self, name: str, what: str, status: str) -> None:
        self.title.setText(name)
        color = status_color(status).name()
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
        elif item.kind is not ItemKind.NODE and item.id in changes.ids(Kind.POD):
            self.refresh(with_events=False)

    def _on_bridge_ticked(self) -> None:
        if self.item is not None and self.isVisible():
            self.refresh(with_events=False)
