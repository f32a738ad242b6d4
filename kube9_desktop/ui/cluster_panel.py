"""The cluster tree with its filter box: the window's left side.

It owns the model and the proxy, reports the selected item, keeps the model told which
parents are open (for the 1 Hz refresh), and opens small clusters fully.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.cluster_proxy import ClusterFilterProxy
from kube9_desktop.ui.models.cluster_tree import ClusterTreeModel
from kube9_desktop.ui.models.tree_cells import (
    BAR_ROLE,
    HEADERS,
    ITEM_ROLE,
    USAGE_COLUMNS,
    ItemKind,
    TreeItem,
)
from kube9_desktop.ui.onboarding import EmptyClusterHint
from kube9_desktop.ui.usage_bars import UsageBarDelegate
from kube9_desktop.ui.what_if import WhatIfBanner

WIDTHS = (125, 105, 104, 140, 60, 220)  # Name, Status, CPU, Memory, Pods, Info
AUTO_EXPAND_NODES = 50  # clusters up to this size open fully; bigger ones start collapsed
FILTER_DELAY_MS = 150


class SteadyTreeView(QTreeView):
    """A tree that scrolls rows into view but never sideways: selecting a cell in a right-hand
    column used to scroll the Name column out of sight."""

    def scrollTo(
        self,
        index: QModelIndex | QPersistentModelIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        bar = self.horizontalScrollBar()
        kept = bar.value()
        super().scrollTo(index, hint)
        bar.setValue(kept)


class ClusterPanel(QWidget):
    selection_changed = Signal(object)  # TreeItem | None
    context_menu_requested = Signal(QPoint)  # global position
    add_node_requested = Signal()  # the empty cluster's "Add a node"
    rows_selected = Signal()  # the set of selected rows changed (several may be)

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ClusterPanel")
        # Created view first, model last, so that they are deleted in that order.
        self.tree = SteadyTreeView(self)
        self.proxy = ClusterFilterProxy(self)
        self.model = ClusterTreeModel(bridge, self)
        self.proxy.setSourceModel(self.model)

        self.filter = QLineEdit(self)
        self.filter.setObjectName("ClusterFilter")
        self.filter.setPlaceholderText("Filter by name, status, type or image  (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self._filter_delay = QTimer(self)
        self._filter_delay.setSingleShot(True)
        self._filter_delay.setInterval(FILTER_DELAY_MS)
        self._filter_delay.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.filter.returnPressed.connect(self.apply_filter)

        self.tree.setObjectName("ClusterTree")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        # Unsorted (the model's order: creation order, Pending last) until a header is clicked;
        # a third click returns to it.
        self.tree.header().setSortIndicatorClearable(True)
        self.tree.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.tree.setSortingEnabled(True)
        # Several rows may be selected (Ctrl/Shift+click) for "What if these fail?"; the
        # details and the single-object actions follow the current row.
        self.tree.setSelectionMode(QTreeView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in zip(range(len(HEADERS)), WIDTHS, strict=True):
            header.resizeSection(column, width)
        self.bars = UsageBarDelegate(BAR_ROLE, self.tree)
        for column in USAGE_COLUMNS:
            self.tree.setItemDelegateForColumn(column, self.bars)
        self.tree.expanded.connect(lambda index: self._on_tree_expanded(index, True))
        self.tree.collapsed.connect(lambda index: self._on_tree_expanded(index, False))
        self._current: TreeItem | None = None
        self._restoring = False
        self.tree.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.changes_applied.connect(self._on_model_changes_applied)
        self.proxy.modelReset.connect(self._on_model_reset)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.what_if_banner = WhatIfBanner(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.what_if_banner)
        layout.addWidget(self.tree)
        self.empty_hint = EmptyClusterHint(bridge, self.tree.viewport())
        self.empty_hint.add_node_requested.connect(self.add_node_requested)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved):
            signal.connect(self._update_empty_hint)
        self._on_model_reset()
        self._update_empty_hint()

    # ---- selection -------------------------------------------------------------------

    def selected(self) -> TreeItem | None:
        """The item under the tree's selection (None when nothing is selected): the current
        row when several are selected."""
        model = self.tree.selectionModel()
        rows = model.selectedRows()
        if not rows:
            return None
        current = model.currentIndex()
        if (
            len(rows) > 1
            and current.isValid()
            and model.isRowSelected(current.row(), current.parent())
        ):
            rows = [current.siblingAtColumn(0)]
        item = rows[0].data(ITEM_ROLE)
        return item if isinstance(item, TreeItem) else None

    def selected_items(self) -> list[TreeItem]:
        """Every selected row's item (several nodes for "What if these fail?")."""
        found = (i.data(ITEM_ROLE) for i in self.tree.selectionModel().selectedRows())
        return [item for item in found if isinstance(item, TreeItem)]

    def select(self, item: TreeItem) -> bool:
        """Select (and reveal) an item; False when it is not shown."""
        index = self.proxy.mapFromSource(self.model.index_of(item))
        if not index.isValid():
            return False
        self.tree.scrollTo(index)
        flags = QItemSelectionModel.SelectionFlag
        self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        return True

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.model.applying or self._restoring:
            return  # a moved row leaves and comes back; changes_applied settles it
        self.rows_selected.emit()
        item = self.selected()
        if item != self._current:
            self._current = item
            self.selection_changed.emit(item)

    def _on_model_changes_applied(self) -> None:
        """Keep the selection on the same node or pod when its row moved (or say it left)."""
        if self._current is None or self.selected() == self._current:
            return
        self._restoring = True
        try:
            found = self.select(self._current)
        finally:
            self._restoring = False
        if not found:
            self._current = self.selected()
            self.selection_changed.emit(self._current)

    # ---- filter ----------------------------------------------------------------------

    def _on_filter_text_changed(self, _text: str) -> None:
        self._filter_delay.start()

    def apply_filter(self) -> None:
        """Apply the filter box now (typing applies it after a short pause)."""
        self._filter_delay.stop()
        self.proxy.set_filter_text(self.filter.text())
        if self.filter.text().strip() or len(self.model.node_ids()) <= AUTO_EXPAND_NODES:
            self._expand_top_level()

    # ---- expansion -------------------------------------------------------------------

    def _on_tree_expanded(self, index: QModelIndex | QPersistentModelIndex, open_: bool) -> None:
        self.model.set_expanded(self.proxy.mapToSource(index), open_)

    def _update_empty_hint(self, *_: object) -> None:
        self.empty_hint.setVisible(not self.model.node_ids())

    def _on_model_reset(self) -> None:
        if len(self.model.node_ids()) <= AUTO_EXPAND_NODES:
            self._expand_top_level()

    def _expand_top_level(self) -> None:
        for row in range(self.proxy.rowCount()):
            self.tree.expand(self.proxy.index(row, 0))

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """New nodes (and the Pending group) open by themselves in small clusters."""
        if parent.isValid() or len(self.model.node_ids()) > AUTO_EXPAND_NODES:
            return
        for row in range(first, last + 1):
            index = self.proxy.index(row, 0)
            if isinstance(item := index.data(ITEM_ROLE), TreeItem) and item.kind in (
                ItemKind.NODE,
                ItemKind.PENDING_GROUP,
            ):
                self.tree.expand(index)

    def _on_tree_context_menu_requested(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag
            self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.context_menu_requested.emit(self.tree.viewport().mapToGlobal(pos))
