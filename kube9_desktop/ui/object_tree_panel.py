"""A tree of one kind of object with its filter box: what the Workloads and Services tabs share.

The filter applies after a short pause in typing (or at Enter); the selection follows its
object when rows move and says so when it leaves; a right click selects the row under the
pointer before the menu opens. Subclasses say which rows open by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from kube9_desktop.ui.models.tree_cells import ITEM_ROLE, TreeItem
from kube9_desktop.ui.models.workload_proxy import WorkloadFilterProxy

FILTER_DELAY_MS = 150
AUTO_EXPAND_ROWS = 50  # up to this many top-level rows open by themselves


class TreeSource(Protocol):
    """The tree models (workloads, services): a QAbstractItemModel with these."""

    applying: bool  # a change set is being applied: selection signals are not the user's
    changes_applied: Any  # a Signal(): a change set was applied

    def index_of(self, item: TreeItem) -> QModelIndex: ...


M = TypeVar("M", bound=TreeSource)


class ObjectTreePanel(QWidget, Generic[M]):
    selection_changed = Signal(object)  # TreeItem | None
    context_menu_requested = Signal(QPoint)  # global position

    def __init__(
        self,
        name: str,
        model: M,
        headers: Sequence[str],
        widths: Sequence[int],
        placeholder: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Panel")
        self.tree = QTreeView(self)  # the view first, the model last: deleted in that order
        self.proxy = WorkloadFilterProxy(self)  # a recursive filter and kubectl's sort keys
        self.model = model
        source = cast(QAbstractItemModel, model)
        source.setParent(self)
        self.proxy.setSourceModel(source)

        self.filter = QLineEdit(self)
        self.filter.setObjectName(f"{name}Filter")
        self.filter.setPlaceholderText(placeholder)
        self.filter.setClearButtonEnabled(True)
        self._filter_delay = QTimer(self)
        self._filter_delay.setSingleShot(True)
        self._filter_delay.setInterval(FILTER_DELAY_MS)
        self._filter_delay.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _t: self._filter_delay.start())
        self.filter.returnPressed.connect(self.apply_filter)

        self.tree.setObjectName(f"{name}Tree")
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
        for column, width in zip(range(len(headers)), widths, strict=True):
            header.resizeSection(column, width)
        self._current: TreeItem | None = None
        self._restoring = False
        self.tree.selectionModel().selectionChanged.connect(self._on_selection_changed)
        model.changes_applied.connect(self._on_model_changes_applied)
        self.proxy.modelReset.connect(self._expand_all)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self._expand_all()

    # ---- what a subclass says ------------------------------------------------------------

    def top_level_count(self) -> int:
        raise NotImplementedError

    def expand_everything(self) -> None:
        """Open every row that opens by itself (small trees, or while filtering)."""
        raise NotImplementedError

    def expand_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        raise NotImplementedError

    # ---- selection -------------------------------------------------------------------

    def selected(self) -> TreeItem | None:
        rows = self.tree.selectionModel().selectedRows()
        item = rows[0].data(ITEM_ROLE) if rows else None
        return item if isinstance(item, TreeItem) else None

    def select(self, item: TreeItem) -> bool:
        """Select (and reveal) an item; False when it is not shown."""
        index = self.proxy.mapFromSource(self.model.index_of(item))
        if not index.isValid():
            return False
        self.tree.scrollTo(index)
        flags = QItemSelectionModel.SelectionFlag
        self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        return True

    def clear_selection(self) -> None:
        self.tree.selectionModel().clearSelection()

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
        return self.top_level_count() <= AUTO_EXPAND_ROWS

    def _expand_all(self) -> None:
        if self._small() or self.filter.text().strip():
            self.expand_everything()

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._small():
            self.expand_inserted(parent, first, last)

    def _on_tree_context_menu_requested(self, pos: QPoint) -> None:
        index = self.tree.indexAt(pos)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag
            self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.context_menu_requested.emit(self.tree.viewport().mapToGlobal(pos))
