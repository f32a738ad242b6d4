"""The services tree with its filter box: the "Services" tab beside the workloads.

A tab of its own, as Lens and Headlamp keep "Network" apart from "Workloads": a pod shows
under each Service that selects it, whoever owns it, and the columns are kubectl's (type,
cluster IP, ports). Selecting a Service reports ``TreeItem(SERVICE, id)``, an endpoint its
pod's ``TreeItem``, so the details panel and the pod commands serve both.
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
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.service_cells import HEADERS
from kube9_desktop.ui.models.service_tree import ServiceTreeModel
from kube9_desktop.ui.models.tree_cells import ITEM_ROLE, TreeItem
from kube9_desktop.ui.models.workload_proxy import WorkloadFilterProxy

FILTER_DELAY_MS = 150
AUTO_EXPAND_ROWS = 50  # up to this many Services show their endpoints by themselves
WIDTHS = (200, 84, 72, 124, 100, 160)  # a pod's generated name fits in the first


class ServicesPanel(QWidget):
    selection_changed = Signal(object)  # TreeItem | None
    context_menu_requested = Signal(QPoint)  # global position

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ServicesPanel")
        self.tree = QTreeView(self)  # the view first, the model last: deleted in that order
        self.proxy = WorkloadFilterProxy(self)  # the same recursive filter and sort keys
        self.model = ServiceTreeModel(bridge, self)
        self.proxy.setSourceModel(self.model)

        self.filter = QLineEdit(self)
        self.filter.setObjectName("ServiceFilter")
        self.filter.setPlaceholderText("Filter by name, namespace, selector, IP or node")
        self.filter.setClearButtonEnabled(True)
        self._filter_delay = QTimer(self)
        self._filter_delay.setSingleShot(True)
        self._filter_delay.setInterval(FILTER_DELAY_MS)
        self._filter_delay.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_delay.start())
        self.filter.returnPressed.connect(self.apply_filter)

        self.tree.setObjectName("ServiceTree")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSortIndicatorClearable(True)
        self.tree.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.tree.setSortingEnabled(True)
        self.tree.setSelectionMode(QTreeView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in zip(range(len(HEADERS)), WIDTHS, strict=True):
            header.resizeSection(column, width)
        self._current: TreeItem | None = None
        self._restoring = False
        self.tree.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.changes_applied.connect(self._on_model_changes_applied)
        self.proxy.modelReset.connect(self._expand_all)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self._expand_all()

    # ---- selection -------------------------------------------------------------------

    def selected(self) -> TreeItem | None:
        rows = self.tree.selectionModel().selectedRows()
        item = rows[0].data(ITEM_ROLE) if rows else None
        return item if isinstance(item, TreeItem) else None

    def select(self, item: TreeItem) -> bool:
        """Select (and reveal) a Service, or a pod's first endpoint; False when not shown."""
        index = self.proxy.mapFromSource(self.model.index_of(item))
        if not index.isValid():
            return False
        self.tree.scrollTo(index)
        flags = QItemSelectionModel.SelectionFlag
        self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        return True

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.model.applying or self._restoring:
            return
        item = self.selected()
        if item != self._current:
            self._current = item
            self.selection_changed.emit(item)

    def _on_model_changes_applied(self) -> None:
        """Keep the selection on the same object when its row moved (or say it left)."""
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

    # ---- filter and expansion ----------------------------------------------------------

    def apply_filter(self) -> None:
        self._filter_delay.stop()
        self.proxy.set_filter_text(self.filter.text())
        self._expand_all()

    def _small(self) -> bool:
        return len(self.model.service_ids()) <= AUTO_EXPAND_ROWS

    def _expand_all(self) -> None:
        if self._small() or self.filter.text().strip():
            self.tree.expandAll()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """A new Service opens by itself (its endpoints show as they come)."""
        if not self._small():
            return
        if parent.isValid():
            self.tree.expand(parent)
            return
        for row in range(first, last + 1):
            self.tree.expand(self.proxy.index(row, 0, parent))

    def _on_tree_context_menu_requested(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag
            self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.context_menu_requested.emit(self.tree.viewport().mapToGlobal(pos))
