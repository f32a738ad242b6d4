"""Every pod in one flat table (the "Pods" tab), sorted and filtered by the model itself.

The model, not a QSortFilterProxyModel, keeps the order: a proxy compares rows through Python
(``lessThan`` or ``data``) and took 1.3 s to sort 20,000 pods here, and re-filtered every row a
refresh named. Here the shown pods are a list ordered by a unique sort key per row
(``pod_list_cells.sort_key``), so a row is found by bisection, a sort or a new filter is one
``sorted`` (tens of milliseconds) announced as a layout change, and a ``ChangeSet`` becomes
row-level removes, inserts and ``dataChanged`` ranges. Usage and ages change without events:
they are read once per bridge tick and repainted with one ``dataChanged``; the rows re-sort on
that tick only when the list is sorted by a usage column.

Rows map onto the ascending list directly, or from its end while the order is descending.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.model import PodView
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.pod_list_cells import (
    HEADER_TIPS,
    HEADERS,
    LIVE_COLUMNS,
    USAGE_COLUMNS,
    SortKey,
    Usage,
    filter_text,
    pod_list_cell,
    sort_key,
)
from kube9_desktop.ui.models.tree_cells import ITEM_ROLE, ItemKind, TreeItem

AnyIndex = QModelIndex | QPersistentModelIndex
_COLUMNS = len(HEADERS)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TICK_ROLES = [_DISPLAY, Qt.ItemDataRole.ToolTipRole]
RESORT_BATCH = 2000  # a burst naming more pods than this is applied as one re-sort


class PodListModel(QAbstractTableModel):
    changes_applied = Signal()  # a ChangeSet (or a tick's re-sort) became row updates

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.applying = False  # True while a ChangeSet becomes rows (views settle afterwards)
        self._views: dict[int, PodView] = {}  # every pod, shown or filtered out
        self._usage: dict[int, Usage] = {}
        self._haystacks: dict[int, str] = {}  # pod id -> filter_text
        self._keys: list[SortKey] = []  # the shown pods' keys, ascending
        self._key_of: dict[int, SortKey] = {}  # shown pod id -> its key in _keys
        self._column = -1  # the sort column (-1: creation order)
        self._descending = False
        self._needle = ""
        self._now = datetime.now(UTC)
        self._live = False  # reading usage each tick: only while a view shows the list
        bridge.engine_attached.connect(self.reload)
        bridge.cluster_changed.connect(self.apply_changes)
        bridge.ticked.connect(self.refresh_live)
        if bridge.attached:
            self.reload()

    # ---- rows ------------------------------------------------------------------------

    def _pos(self, row: int) -> int:
        return len(self._keys) - 1 - row if self._descending else row

    def pod_id_at(self, row: int) -> int:
        return int(self._keys[self._pos(row)][-1])

    def row_of(self, pod_id: int) -> int:
        """The row showing ``pod_id``; -1 when it is filtered out or unknown."""
        key = self._key_of.get(pod_id)
        if key is None:
            return -1
        return self._pos(bisect_left(self._keys, key))

    def index_of(self, pod_id: int, column: int = 0) -> QModelIndex:
        row = self.row_of(pod_id)
        return QModelIndex() if row < 0 else self.index(row, column)

    def pod_ids(self) -> list[int]:
        """The shown pods, top to bottom."""
        ids = [int(k[-1]) for k in self._keys]
        return ids[::-1] if self._descending else ids

    def pod_count(self) -> int:
        """Every pod, shown or not."""
        return len(self._views)

    def view(self, pod_id: int) -> PodView | None:
        """The pod's view as the list last read it."""
        return self._views.get(pod_id)

    @property
    def sort_column(self) -> int:
        return self._column

    # ---- Qt's table interface ----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation is not Qt.Orientation.Horizontal or not 0 <= section < _COLUMNS:
            return None
        if role == _DISPLAY:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return None
        pod_id = self.pod_id_at(index.row())
        if role == ITEM_ROLE:
            return TreeItem(ItemKind.POD, pod_id)
        view = self._views[pod_id]
        return pod_list_cell(view, self._usage.get(pod_id), self._now, index.column(), role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order by ``column`` (-1: creation order); the view calls it on a header click.

        The order is kept up to date row by row (and on each tick for usage), so asking again
        for the order in force changes nothing (``QTableView.sortByColumn`` asks twice)."""
        column = column if 0 <= column < _COLUMNS else -1
        descending = order is Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._column, self._descending):
            return
        self._column, self._descending = column, descending
        self._relayout()

    def set_filter_text(self, text: str) -> None:
        """Show only pods whose name, namespace, node, status or images contain ``text``."""
        needle = text.strip().lower()
        if needle != self._needle:
            self._needle = needle
            self._relayout()

    # ---- whole reads -------------------------------------------------------------------

    def reload(self) -> None:
        """Read every pod again (only when an engine attaches)."""
        self.beginResetModel()
        self._now = datetime.now(UTC)
        self._views = {v.id: v for v in self.bridge.pods()}
        self._haystacks = {i: filter_text(v) for i, v in self._views.items()}
        self._usage = self._read_usage()
        self._rebuild()
        self.endResetModel()

    def _read_usage(self) -> dict[int, Usage]:
        """The listed pods' usage, in one read (20,000 reads of one pod took 50 ms a tick)."""
        views = self._views
        return {p: u for p, u in self.bridge.pod_usages().items() if p in views}

    def _shown(self, pod_id: int) -> bool:
        return not self._needle or self._needle in self._haystacks[pod_id]

    def _key(self, pod_id: int) -> SortKey:
        return sort_key(self._views[pod_id], self._usage.get(pod_id), self._column)

    def _rebuild(self) -> None:
        usage, column = self._usage.get, self._column
        views: Iterable[tuple[int, PodView]] = self._views.items()
        if self._needle:
            views = [(i, v) for i, v in views if self._needle in self._haystacks[i]]
        self._key_of = {i: sort_key(v, usage(i), column) for i, v in views}
        self._keys = sorted(self._key_of.values())

    def _relayout(self) -> None:
        """Re-sort and re-filter every row as one layout change; the selection and the current
        row follow their pods (a pod filtered out leaves them)."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        ids = [self.pod_id_at(i.row()) if i.isValid() else -1 for i in before]
        self._rebuild()
        after = []
        for index, pod_id in zip(before, ids, strict=True):
            row = self.row_of(pod_id) if pod_id >= 0 else -1
            after.append(QModelIndex() if row < 0 else self.index(row, index.column()))
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    # ---- updates -----------------------------------------------------------------------

    def apply_changes(self, changes: ChangeSet) -> None:
        """The pods a burst named: re-read, then removed, inserted or repainted row by row."""
        pod_ids = changes.ids(Kind.POD)
        if not pod_ids:
            return
        self.applying = True
        try:
            if len(pod_ids) > RESORT_BATCH:
                for pod_id in pod_ids:
                    self._reread(pod_id)
                self._relayout()
            else:
                self._apply_rows(sorted(pod_ids))
        finally:
            self.applying = False
        self.changes_applied.emit()

    def _reread(self, pod_id: int) -> PodView | None:
        view = self.bridge.pod(pod_id)
        if view is None:
            self._views.pop(pod_id, None)
            self._haystacks.pop(pod_id, None)
            self._usage.pop(pod_id, None)
        else:
            self._views[pod_id] = view
            self._haystacks[pod_id] = filter_text(view)
        return view

    def _apply_rows(self, pod_ids: Iterable[int]) -> None:
        """Rows that leave go first, in runs of neighbours (a bulk delete of a selected block
        is one remove); then rows come in one by one where their keys say."""
        repaint: list[int] = []  # pods that kept their row
        leaving: list[int] = []  # positions in _keys
        coming: list[tuple[int, SortKey]] = []
        for pod_id in pod_ids:
            old = self._key_of.get(pod_id)
            view = self._reread(pod_id)
            new = self._key(pod_id) if view is not None and self._shown(pod_id) else None
            if old is not None and old == new:
                repaint.append(pod_id)
                continue
            if old is not None:
                leaving.append(bisect_left(self._keys, old))
                del self._key_of[pod_id]
            if new is not None:
                coming.append((pod_id, new))
        self._remove_positions(leaving)
        for pod_id, key in coming:
            self._insert_row(pod_id, key)
        rows = [self.row_of(p) for p in repaint]
        if rows:
            top, bottom = self.index(min(rows), 0), self.index(max(rows), _COLUMNS - 1)
            self.dataChanged.emit(top, bottom, [])

    def _remove_positions(self, positions: list[int]) -> None:
        """Remove the rows at these positions of ``_keys``, each run of neighbours at once,
        the last run first so that the positions before it still hold."""
        runs: list[list[int]] = []
        for pos in sorted(positions):
            if runs and pos == runs[-1][1] + 1:
                runs[-1][1] = pos
            else:
                runs.append([pos, pos])
        for first, last in reversed(runs):
            rows = sorted((self._pos(first), self._pos(last)))
            self.beginRemoveRows(QModelIndex(), rows[0], rows[1])
            del self._keys[first : last + 1]
            self.endRemoveRows()

    def _insert_row(self, pod_id: int, key: SortKey) -> None:
        pos = bisect_left(self._keys, key)
        row = len(self._keys) - pos if self._descending else pos
        self.beginInsertRows(QModelIndex(), row, row)
        self._keys.insert(pos, key)
        self._key_of[pod_id] = key
        self.endInsertRows()

    def set_live(self, live: bool) -> None:
        """Read usage and ages on each tick (a view shows the list) or not (it is hidden:
        20,000 usage reads a second would be spent on nothing); back to live, read at once."""
        was, self._live = self._live, live
        if live and not was:
            self.refresh_live()

    def refresh_live(self) -> None:
        """Once per bridge tick: ages and usage repaint; sorted by usage, the rows re-sort."""
        if not self._live:
            return
        self._now = datetime.now(UTC)
        usage = self._read_usage()
        moved = usage != self._usage
        self._usage = usage
        if moved and self._column in USAGE_COLUMNS:
            self._relayout()
            self.changes_applied.emit()
        if self._keys:
            top = self.index(0, min(LIVE_COLUMNS))
            bottom = self.index(len(self._keys) - 1, max(LIVE_COLUMNS))
            self.dataChanged.emit(top, bottom, _TICK_ROLES)
