"""The shown object's own events (a pod's, a Deployment's, a ReplicaSet's) in the details,
read from the store by object and refreshed when one about it is published."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kube9_desktop.engine.events import Event
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

RECENT = 20
KINDS = {
    ItemKind.POD: "Pod",
    ItemKind.CONTAINER: "Pod",
    ItemKind.DEPLOYMENT: "Deployment",
    ItemKind.REPLICASET: "ReplicaSet",
}


class ObjectEvents(QWidget):
    """Events about one object, newest first (nodes show theirs in their own page)."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ObjectEvents")
        self.bridge = bridge
        self.about: tuple[str, int] | None = None
        self.title = QLabel("<b>Events</b>")
        self.table = Table("ObjectEventsTable", ("Time", "Kind", "Message"), stretch=2)
        self.none = QLabel("No events about it yet.")
        self.none.setObjectName("ObjectEventsNone")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(self.none)
        self._reload = QTimer(self)
        self._reload.setSingleShot(True)
        self._reload.setInterval(200)  # a burst of events reads the store once
        self._reload.timeout.connect(self.refresh)
        bridge.event_published.connect(self._on_bridge_event_published)
        self.setVisible(False)

    def show_item(self, item: TreeItem | None) -> None:
        kind = KINDS.get(item.kind) if item is not None else None
        self.about = (kind, item.id) if kind and item is not None else None
        self.setVisible(self.about is not None)
        self.refresh()

    def refresh(self) -> None:
        if self.about is None:
            return
        events = self.bridge.events(about=self.about, limit=RECENT)
        events.sort(key=lambda e: e.id, reverse=True)
        self.table.set_rows([(fmt.clock(e.at), str(e.kind), e.message) for e in events])
        self.table.setVisible(bool(events))
        self.none.setVisible(not events)

    def _on_bridge_event_published(self, event: Event) -> None:
        if self.about is None:
            return
        kind, obj_id = self.about
        for ref in (event.object, event.related):
            if ref is not None and ref.kind == kind and ref.id == obj_id:
                self._reload.start()
                return
