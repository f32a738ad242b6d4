"""The event timeline dock: the event log (newest at the bottom, filterable by node, pod and
kind) and, beside it, for an event that belongs to a failure, that failure's timeline with
durations, and for a Deployment's event, its rollout's steps and duration."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.events import Event
from kube9_desktop.engine.timeline import Timeline
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.models.events import (
    EVENT_ROLE,
    KIND_GROUPS,
    PAGE,
    EventFilterProxy,
    EventLogModel,
)
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.rollout_panel import RolloutPanel

HINT = (
    "Select an event that belongs to a failure to see its timeline, or a Deployment's event "
    "to see its rollout."
)
OBJECT_ITEMS = {"Deployment": ItemKind.DEPLOYMENT, "ReplicaSet": ItemKind.REPLICASET}


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


class TimelinePanel(QWidget):
    """One failure: injected -> detected -> last pod rebound -> recovered, with durations."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IncidentPanel")
        self.bridge = bridge
        self.incident_id: int | None = None
        self.title = QLabel(HINT)
        self.title.setObjectName("IncidentTitle")
        self.title.setWordWrap(True)
        self.durations = QLabel()
        self.durations.setObjectName("IncidentDurations")
        self.durations.setWordWrap(True)
        self.milestones = Table("IncidentTimeline", ("Milestone", "At", "After the start"))
        self.milestones.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.durations)
        layout.addWidget(self.milestones)
        layout.addStretch(1)

    def show_incident(self, incident_id: int | None) -> None:
        self.incident_id = incident_id
        self.refresh()

    def refresh(self) -> None:
        timeline = self.bridge.timeline(self.incident_id) if self.incident_id else None
        if timeline is None:
            self.title.setText(HINT)
            self.durations.setText("")
            self.milestones.hide()
            return
        inc = timeline.incident
        outcome = inc.outcome or ("open" if inc.closed_at is None else "closed")
        self.title.setText(f"<b>Failure #{inc.id}</b>: {inc.mode} of {inc.node_name} — {outcome}")
        self.durations.setText(durations_text(timeline))
        start = timeline.started_at
        rows = []
        for name, at in milestones(timeline):
            after = "" if at is None else _seconds((at - start).total_seconds())
            rows.append((name, fmt.clock(at) if at else "not yet", after))
        self.milestones.set_rows(rows)
        self.milestones.show()


def milestones(timeline: Timeline) -> list[tuple[str, datetime | None]]:
    rows: list[tuple[str, datetime | None]] = [
        ("Injected", timeline.injected_at),
        ("Detected", timeline.detected_at),
        ("Evictions started", timeline.eviction_at),
        ("Last pod rebound", timeline.last_rebound_at),
        ("Recovered", timeline.recovered_at),
    ]
    if timeline.failed_at is not None:
        rows.append(("Failed (recovery budget spent)", timeline.failed_at))
    return rows


def durations_text(timeline: Timeline) -> str:
    d = timeline.durations()
    parts = [
        f"detected after {_seconds(d['detect_s'])}",
        f"pods rebound {_seconds(d['rebind_s'])} after detection",
        f"recovered after {_seconds(d['recover_s'])}",
        f"total {_seconds(d['total_s'])}",
    ]
    moved = (
        f"{timeline.pods_moved} pod(s) moved, {timeline.pods_pending} left pending, "
        f"{timeline.restart_attempts} restart attempt(s)"
    )
    return " · ".join(parts) + f"<br>{moved}"


class EventDock(QDockWidget):
    item_requested = Signal(object)  # TreeItem of an event's pod or node (double-click)

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__("Events", parent)
        self.setObjectName("EventsDock")
        self.bridge = bridge
        self.model = EventLogModel(bridge, self)
        self.proxy = EventFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter = QLineEdit()
        self.filter.setObjectName("EventFilter")
        self.filter.setPlaceholderText("Filter by node, pod or text")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.kinds = QComboBox()
        self.kinds.setObjectName("EventKindFilter")
        self.kinds.addItems(list(KIND_GROUPS))
        self.kinds.currentTextChanged.connect(self._on_kinds_text_changed)

        self.table = QTableView()
        self.table.setObjectName("EventTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((96, 130, 90, 110)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.proxy.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)
        # Follow the newest events until the user scrolls away or picks one; this shows it.
        self.follow = QToolButton()
        self.follow.setObjectName("EventFollow")
        self.follow.setCheckable(True)
        self.follow.setChecked(True)
        self.follow.setText("● Following")
        self.follow.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.follow.setToolTip("Keep the newest event in view (off while you scroll back)")
        self.follow.toggled.connect(self._on_follow_toggled)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)
        # The log holds the newest events; older ones are read from the store a page at a time.
        self.older = QToolButton()
        self.older.setObjectName("EventLoadOlder")
        self.older.setText("Load older")
        self.older.setToolTip(f"Read the {PAGE:,} events before the oldest one shown")
        self.older.clicked.connect(self._on_older_clicked)
        self.model.modelReset.connect(self._update_older)
        self.model.rowsRemoved.connect(self._update_older)  # rows beyond MAX_ROWS left
        self._update_older()

        self.timeline = TimelinePanel(bridge)
        self.rollout = RolloutPanel(bridge)
        self.side = QStackedWidget()
        self.side.setObjectName("EventsSide")
        self.side.addWidget(self.timeline)
        self.side.addWidget(self.rollout)
        self._refresh_timeline = QTimer(self)
        self._refresh_timeline.setSingleShot(True)
        self._refresh_timeline.setInterval(150)
        self._refresh_timeline.timeout.connect(self.timeline.refresh)
        bridge.event_published.connect(self._on_bridge_event_published)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.kinds)
        top.addWidget(self.older)
        top.addWidget(self.follow)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("EventsSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.setWidget(body)
        self.table.scrollToBottom()

    def selected_event(self) -> Event | None:
        rows = self.table.selectionModel().selectedRows()
        event = rows[0].data(EVENT_ROLE) if rows else None
        return event if isinstance(event, Event) else None

    def _on_kinds_text_changed(self, text: str) -> None:
        self.proxy.set_kinds(KIND_GROUPS.get(text))

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        event = self.selected_event()
        obj = event.object if event is not None else None
        if event is not None and obj is not None and obj.kind == "Deployment":
            self.rollout.show_rollout(obj.id, event.id)
            self.side.setCurrentWidget(self.rollout)
            return
        self.timeline.show_incident(event.incident_id if event else None)
        self.side.setCurrentWidget(self.timeline)

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        event = index.data(EVENT_ROLE)
        if isinstance(event, Event):
            obj = event.object
            if obj is not None and obj.kind in OBJECT_ITEMS:
                self.item_requested.emit(TreeItem(OBJECT_ITEMS[obj.kind], obj.id))
            elif event.pod_id is not None:
                self.item_requested.emit(TreeItem(ItemKind.POD, event.pod_id))
            elif event.node_id is not None:
                self.item_requested.emit(TreeItem(ItemKind.NODE, event.node_id))

    @property
    def following(self) -> bool:
        return self.follow.isChecked()

    def _at_bottom(self) -> bool:
        bar = self.table.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def _on_follow_toggled(self, on: bool) -> None:
        # The words say the state too: a checked tool button looks alike in some styles.
        self.follow.setText("● Following" if on else "Follow")
        if on:
            self.table.clearSelection()
            self.table.scrollToBottom()

    def _on_scroll_value_changed(self, _value: int) -> None:
        # Scrolling back stops following; scrolling to the end (nothing picked) resumes it.
        picked = self.table.selectionModel().hasSelection()
        self.follow.setChecked(self._at_bottom() and not picked)

    def _on_rows_about_to_be_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        # Only the user's own scrolling (valueChanged) or pick stops following: before the
        # table is laid out it is "not at the bottom" without anyone having scrolled.
        if self.following and self.table.selectionModel().hasSelection():
            self.follow.setChecked(False)

    def _on_rows_inserted(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if self.following:
            self.table.scrollToBottom()

    def _on_older_clicked(self) -> None:
        """Older events go on top, and the view shows where they meet the ones shown before."""
        self.follow.setChecked(False)
        added = self.model.load_older()
        if added:
            self.table.updateGeometries()  # the scroll range, now, not at the next layout
            boundary = self.proxy.mapFromSource(self.model.index(added - 1, 0))
            if boundary.isValid():
                self.table.scrollTo(boundary, QAbstractItemView.ScrollHint.PositionAtBottom)
            else:
                self.table.scrollToTop()  # the filter hides the loaded ones: show the top
        self._update_older()

    def _update_older(self, *_signal_args: object) -> None:
        more = self.model.has_older
        self.older.setEnabled(more)
        self.older.setText("Load older" if more else "No older events")

    def _on_bridge_event_published(self, event: Event) -> None:
        current = self.timeline.incident_id
        if current is not None and event.incident_id == current:
            self._refresh_timeline.start()
