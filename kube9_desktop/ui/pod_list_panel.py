"""The "Pods" tab: every pod in one sortable table beside the node and workload trees, with
the same filter box, several rows selectable at once for the bulk actions, and its columns
(shown, widths) and sort order kept in the preferences.

A table rather than a third tree: it answers "which pods restart most, use most CPU, are
oldest" across nodes, as k9s's pod view and Lens's Pods page do.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.pod_list import PodListModel
from kube9_desktop.ui.models.pod_list_cells import HEADERS, PodColumn
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.preferences import Preferences

FILTER_DELAY_MS = 150
WIDTHS = (140, 80, 96, 62, 76, 92, 90, 48)


class PodListPanel(QWidget):
    selection_changed = Signal(list)  # the selected pod ids, top to bottom
    pod_activated = Signal(object)  # TreeItem: a row double-clicked or Enter pressed on it
    context_menu_requested = Signal(QPoint)  # global position

    def __init__(self, bridge: EngineBridge, prefs: Preferences, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("PodListPanel")
        self.prefs = prefs
        self.table = QTableView(self)  # the view first, the model last: deleted in that order
        self.model = PodListModel(bridge, self)

        self.filter = QLineEdit(self)
        self.filter.setObjectName("PodListFilter")
        self.filter.setPlaceholderText("Filter by name, namespace, node, status or image")
        self.filter.setClearButtonEnabled(True)
        self._filter_delay = QTimer(self)
        self._filter_delay.setSingleShot(True)
        self._filter_delay.setInterval(FILTER_DELAY_MS)
        self._filter_delay.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_delay.start())
        self.filter.returnPressed.connect(self.apply_filter)

        table = self.table
        table.setObjectName("PodListTable")
        table.setModel(self.model)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        table.verticalHeader().hide()
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring
        rows.setDefaultSectionSize(table.fontMetrics().height() + 6)
        header = table.horizontalHeader()
        header.setObjectName("PodListHeader")
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in zip(range(len(HEADERS)), WIDTHS, strict=True):
            header.resizeSection(column, width)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_context_menu_requested)
        header.setSortIndicator(PodColumn.NAME, Qt.SortOrder.AscendingOrder)
        self.restore_columns()
        table.setSortingEnabled(True)  # sorts by the (restored) indicator at once
        header.sortIndicatorChanged.connect(lambda _c, _o: self.save_columns())
        self.column_menu = self._build_column_menu()

        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        table.activated.connect(self._on_table_activated)
        table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.changes_applied.connect(self._on_selection_changed)
        self.model.layoutChanged.connect(self._on_selection_changed)  # a filter hid some
        self._selected: list[int] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(table)

    def showEvent(self, event: QShowEvent) -> None:
        self.model.set_live(True)
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.model.set_live(False)  # another tab is shown: no usage reads meanwhile
        super().hideEvent(event)

    # ---- selection -------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        """The selected pods, top to bottom."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.pod_id_at(r) for r in rows]

    def selected(self) -> TreeItem | None:
        """The pod the details should show: the current row if selected, else the first."""
        current = self.table.currentIndex()
        if current.isValid() and self.table.selectionModel().isRowSelected(current.row()):
            return TreeItem(ItemKind.POD, self.model.pod_id_at(current.row()))
        ids = self.selected_ids()
        return TreeItem(ItemKind.POD, ids[0]) if ids else None

    def select_pods(self, pod_ids: list[int]) -> None:
        """Select exactly these pods (those shown), the first one current."""
        selection = QItemSelection()
        for pod_id in pod_ids:
            index = self.model.index_of(pod_id)
            if index.isValid():
                selection.select(index, index.siblingAtColumn(len(HEADERS) - 1))
        flags = QItemSelectionModel.SelectionFlag
        model = self.table.selectionModel()
        model.select(selection, flags.ClearAndSelect | flags.Rows)
        if pod_ids and (first := self.model.index_of(pod_ids[0])).isValid():
            model.setCurrentIndex(first, flags.NoUpdate)
            self.table.scrollTo(first)

    def _on_selection_changed(self, *_: object) -> None:
        if self.model.applying:
            return  # rows leaving one run at a time: settled once, on changes_applied
        ids = self.selected_ids()
        if ids != self._selected:
            self._selected = ids
            self.selection_changed.emit(ids)

    def _on_table_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.pod_activated.emit(TreeItem(ItemKind.POD, self.model.pod_id_at(index.row())))

    def _on_table_context_menu_requested(self, pos: QPoint) -> None:
        """A right click on an unselected row selects it alone (as file managers do); on a
        selected row it keeps the selection, so the menu acts on all of it."""
        index = self.table.indexAt(pos)
        if index.isValid() and not self.table.selectionModel().isRowSelected(index.row()):
            flags = QItemSelectionModel.SelectionFlag
            self.table.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.context_menu_requested.emit(self.table.viewport().mapToGlobal(pos))

    # ---- filter ----------------------------------------------------------------------

    def apply_filter(self) -> None:
        """Apply the filter box now (typing applies it after a short pause)."""
        self._filter_delay.stop()
        self.model.set_filter_text(self.filter.text())

    # ---- columns and sort order, kept in the preferences ------------------------------

    def _build_column_menu(self) -> QMenu:
        menu = QMenu("Columns", self)
        menu.setObjectName("PodListColumnsMenu")
        header = self.table.horizontalHeader()
        for column, title in enumerate(HEADERS):
            action = QAction(title, menu)
            action.setObjectName(f"PodListColumn{column}")
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setEnabled(column != PodColumn.NAME)  # a row always says which pod it is
            action.toggled.connect(lambda on, c=column: self.set_column_shown(c, on))
            menu.addAction(action)
        return menu

    def set_column_shown(self, column: int, shown: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(column, not shown)
        self.save_columns()

    def _on_header_context_menu_requested(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        for action in self.column_menu.actions():
            column = int(action.objectName().removeprefix("PodListColumn"))
            action.setChecked(not header.isSectionHidden(column))
        self.column_menu.popup(header.mapToGlobal(pos))

    def save_columns(self) -> None:
        self.prefs.save_pod_list_header(self.table.horizontalHeader().saveState())

    def restore_columns(self) -> None:
        state = self.prefs.pod_list_header()
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
