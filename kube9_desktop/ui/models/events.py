"""The event log as a table model (oldest first, newest at the bottom) and its filter.

It holds the newest events (up to ``MAX_ROWS`` rows as they arrive) and pages back through the
store on request (``load_older``: ``PAGE`` events before the oldest one shown), so the whole
history can be read without keeping it all in memory from the start."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.icons import status_color

AnyIndex = QModelIndex | QPersistentModelIndex
EVENT_ROLE = Qt.ItemDataRole.UserRole + 1
HEADERS = ("Time", "Kind", "Node", "Pod", "Message")
HISTORY = 500  # events read from the store when an engine attaches
MAX_ROWS = 20_000  # the oldest rows leave beyond this (repeats count in one row)
PAGE = 2000  # events read from the store per "Load older events"
# A repeat of the same object's same event within this window adds to its row ("×N"), as
# kubectl counts an event; drift varies only in the pod ids it names, so it counts per node.
COLLAPSE_WINDOW = timedelta(minutes=10)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2

K = EventKind
FAILURE_KINDS = frozenset(
    {
        K.FAULT_INJECTED,
        K.NODE_DETECTED,
        K.NODE_FAILED,
        K.EVICTION_STARTED,
        K.EVICTIONS_PAUSED,
        K.POD_KILLED,
    }
)
RECOVERY_KINDS = frozenset({K.NODE_RECOVERED, K.NODE_READY, K.FAULT_HEALED, K.EVICTIONS_RESUMED})
SCHEDULING_KINDS = frozenset(
    {K.POD_CREATED, K.POD_DELETED, K.POD_BOUND, K.POD_REBOUND, K.POD_PENDING}
)
WORKLOAD_KINDS = frozenset(k for k in K if k.value.startswith(("deployment_", "replicaset_")))
KIND_COLORS = {
    K.DEPLOYMENT_STALLED: "unhealthy",
    K.DEPLOYMENT_COMPLETE: "healthy",
    K.DEPLOYMENT_SCALED: "scheduled",
    K.DEPLOYMENT_ROLLED_BACK: "recovering",
    K.DEPLOYMENT_PAUSED: "pending",
    K.SERVICE_CREATED: "scheduled",
    K.SERVICE_DELETED: "terminating",
}
KIND_GROUPS: dict[str, frozenset[EventKind] | None] = {
    "All events": None,
    "Failures and recovery": FAILURE_KINDS | RECOVERY_KINDS | {K.RECOVERY_ATTEMPT, K.POD_RESTARTED},
    "Scheduling": SCHEDULING_KINDS,
    "Nodes": frozenset(k for k in K if k.value.startswith("node_")),
    "Pods": frozenset(k for k in K if k.value.startswith("pod_")),
    "Workloads (rollouts)": WORKLOAD_KINDS,
    "Services": frozenset(k for k in K if k.value.startswith("service_")),
    **{f"Only {k.value}": frozenset({k}) for k in K},
}


def kind_status(kind: EventKind) -> str:
    """The status colour an event kind is shown in."""
    if kind in KIND_COLORS:
        return KIND_COLORS[kind]
    if kind in FAILURE_KINDS:
        return "unhealthy"
    if kind in RECOVERY_KINDS:
        return "healthy"
    if kind is K.RECOVERY_ATTEMPT:
        return "recovering"
    if kind is K.POD_PENDING:
        return "pending"
    if kind in SCHEDULING_KINDS:
        return "scheduled"
    return ""


def repeat_key(event: Event) -> Hashable:
    """What makes two events the same one seen again (same object, kind and message)."""
    obj = (event.object.kind, event.object.id) if event.object else None
    related = (event.related.kind, event.related.id) if event.related else None
    message = "" if event.kind is K.DRIFT else event.message
    return (event.kind, obj, related, message)


class EventLogModel(QAbstractTableModel):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._events: list[Event] = []
        self._counts: list[int] = []  # per row: how many events it stands for
        self._first_at: list[Any] = []  # per row: when the first of them happened
        self._first_id: list[int] = []  # per row: the id of the first of them
        self.has_older = False  # the store may hold events older than any shown
        self._base = 0  # rows dropped from the top so far: a row's absolute number - _base
        self._last_row: dict[Hashable, int] = {}  # repeat key -> absolute row
        self._last_id = 0
        bridge.engine_attached.connect(self.reload)
        bridge.event_published.connect(self.append)
        if bridge.attached:
            self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._events, self._counts, self._first_at, self._first_id = [], [], [], []
        self._base, self._last_row = 0, {}
        history = self.bridge.events(limit=HISTORY)
        self.has_older = len(history) == HISTORY
        for event in sorted(history, key=lambda e: e.id):
            if self._repeat_row(event) is None:
                self._add(event)
        self._last_id = self._events[-1].id if self._events else 0
        self.endResetModel()

    def _repeat_row(self, event: Event) -> int | None:
        """Count ``event`` into the row of its last repeat (returns that row), if recent."""
        absolute = self._last_row.get(repeat_key(event))
        row = None if absolute is None else absolute - self._base
        if row is None or row < 0 or event.at - self._events[row].at > COLLAPSE_WINDOW:
            return None
        self._events[row] = event  # the newest words and time; the count says how many
        self._counts[row] += 1
        return row

    def _add(self, event: Event) -> None:
        self._last_row[repeat_key(event)] = self._base + len(self._events)
        self._events.append(event)
        self._counts.append(1)
        self._first_at.append(event.at)
        self._first_id.append(event.id)

    def load_older(self) -> int:
        """Put the page of events just before the oldest one shown on top; returns the rows
        added. Going back in time, an event folds into the earliest row of its repeats when
        within the window of that row's first (the same rule as forward, mirrored)."""
        before = min(self._first_id) if self._first_id else 0  # rows may fold older ones in
        page = self.bridge.events(before=before, limit=PAGE)
        self.has_older = len(page) == PAGE
        earliest: dict[Hashable, int] = {}  # key -> absolute row of its first row shown
        for row in range(len(self._events) - 1, -1, -1):
            earliest[repeat_key(self._events[row])] = self._base + row
        new: list[list[Any]] = []  # [event, count, first_at, first_id], newest first
        new_at: dict[Hashable, int] = {}  # key -> its earliest new row (index into new)
        folded: set[int] = set()  # existing rows that counted older events in
        for event in sorted(page, key=lambda e: e.id, reverse=True):
            key = repeat_key(event)
            if key in new_at:
                later = new[new_at[key]]
                if later[2] - event.at <= COLLAPSE_WINDOW:
                    later[1], later[2], later[3] = later[1] + 1, event.at, event.id
                    continue
            elif key in earliest:
                at = earliest[key] - self._base
                if self._first_at[at] - event.at <= COLLAPSE_WINDOW:
                    self._counts[at] += 1
                    self._first_at[at], self._first_id[at] = event.at, event.id
                    folded.add(at)
                    continue
            new_at[key] = len(new)
            new.append([event, 1, event.at, event.id])
        for at in folded:
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(HEADERS) - 1))
        if not new:
            return 0
        new.reverse()
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self._events[:0] = [r[0] for r in new]
        self._counts[:0] = [r[1] for r in new]
        self._first_at[:0] = [r[2] for r in new]
        self._first_id[:0] = [r[3] for r in new]
        self._base -= len(new)
        for offset in range(len(new) - 1, -1, -1):  # a key seen only here: its newest row
            self._last_row.setdefault(repeat_key(new[offset][0]), self._base + offset)
        self.endInsertRows()
        return len(new)

    def append(self, event: Event) -> None:
        if event.id and event.id <= self._last_id:
            return  # already read with the history
        self._last_id = max(self._last_id, event.id)
        repeat = self._repeat_row(event)
        if repeat is not None:
            self.dataChanged.emit(self.index(repeat, 0), self.index(repeat, len(HEADERS) - 1))
            return
        row = len(self._events)
        self.beginInsertRows(QModelIndex(), row, row)
        self._add(event)
        self.endInsertRows()
        excess = len(self._events) - MAX_ROWS
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            for gone in self._events[:excess]:  # their keys go too, or the map only grows
                key = repeat_key(gone)
                if self._last_row.get(key, self._base + excess) < self._base + excess:
                    del self._last_row[key]
            del self._events[:excess], self._counts[:excess], self._first_at[:excess]
            del self._first_id[:excess]
            self._base += excess
            self.has_older = True
            self.endRemoveRows()

    def count_at(self, row: int) -> int:
        return self._counts[row] if 0 <= row < len(self._counts) else 0

    def event_at(self, row: int) -> Event | None:
        return self._events[row] if 0 <= row < len(self._events) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation is Qt.Orientation.Horizontal
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        event = self.event_at(index.row()) if index.isValid() else None
        if event is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            count = self._counts[index.row()]
            values = (
                fmt.clock(event.at),
                str(event.kind),
                event.node_name or "",
                event.pod_name or "",
                event.message if count == 1 else f"×{count}  {event.message}",
            )
            return values[column]
        if role == EVENT_ROLE:
            return event
        if role == COUNT_ROLE:
            return self._counts[index.row()]
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            status = kind_status(event.kind)
            return status_color(status) if status else None
        if role == Qt.ItemDataRole.ToolTipRole:
            incident = f"\n(part of failure #{event.incident_id})" if event.incident_id else ""
            count = self._counts[index.row()]
            first = self._first_at[index.row()]
            seen = f"\n{count} times since {fmt.clock(first)}" if count > 1 else ""
            return f"{event.message}{incident}{seen}"
        return None


class EventFilterProxy(QSortFilterProxyModel):
    """Keeps events whose node, pod or message contains the text, of the chosen kinds."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._kinds: frozenset[EventKind] | None = None

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def set_kinds(self, kinds: frozenset[EventKind] | None) -> None:
        self._refilter(lambda: setattr(self, "_kinds", kinds))

    def _refilter(self, change: Callable[[], None]) -> None:
        if not hasattr(self, "endFilterChange"):  # Qt before 6.10
            change()
            self.invalidateFilter()
            return
        self.beginFilterChange()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        event = model.event_at(source_row) if isinstance(model, EventLogModel) else None
        if event is None:
            return False
        if self._kinds is not None and event.kind not in self._kinds:
            return False
        if not self._text:
            return True
        text = self._text
        return (
            text in (event.node_name or "").lower()
            or text in (event.pod_name or "").lower()
            or text in event.message.lower()
        )
