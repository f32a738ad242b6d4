"""Filtering and sorting for the cluster tree: recursive, case-insensitive, Pending group last."""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from kube9_desktop.ui.models.cluster_tree import ClusterTreeModel
from kube9_desktop.ui.models.tree_cells import FILTER_ROLE, PENDING_KEY, SORT_ROLE, Column

AnyIndex = QModelIndex | QPersistentModelIndex


class ClusterFilterProxy(QSortFilterProxyModel):
    """Shows rows whose name, status, type, faults or images contain the filter text, with
    their ancestors (recursive filtering) and their children (a matching node keeps its pods).
    The Pending group hides while no pod waits."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._filtering = False  # whether a filter text is set
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setDynamicSortFilter(True)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filter_text(self, text: str) -> None:
        """Filter by ``text`` (the only way this proxy's filter is set)."""
        self._filtering = bool(text.strip())
        self.setFilterFixedString(text.strip())

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        """Asked for every row of every dataChanged (1,000 node rows each second): without a
        filter it answers at once, the Pending group by its count, the rest True."""
        model = self.sourceModel()
        if (
            not source_parent.isValid()
            and isinstance(model, ClusterTreeModel)
            and source_row == model.pending_row()
            and model.pending_count() == 0
        ):
            return False
        if not self._filtering:
            return True
        return super().filterAcceptsRow(source_row, source_parent)

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        """Asked for every row a view lays out: answered from the source, without sorting the
        children as the base class would. Exact here: a shown row keeps all its children
        (auto-accepted) or is shown because one of them matches."""
        model = self.sourceModel()
        if parent.isValid() and model is not None:
            return model.hasChildren(self.mapToSource(parent))
        return super().hasChildren(parent)

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        """Compare by the model's sort keys; the Pending group stays last in either order."""
        if left.internalId() == PENDING_KEY or right.internalId() == PENDING_KEY:
            descending = self.sortOrder() is Qt.SortOrder.DescendingOrder
            return (left.internalId() == PENDING_KEY) == descending
        model = self.sourceModel()
        if isinstance(model, ClusterTreeModel):
            if left.column() == Column.NAME:
                return model.name_of(left.internalId()) < model.name_of(right.internalId())
            a, b = model.sort_key(left), model.sort_key(right)
            if a is not None and b is not None:
                return bool(a < b)
        return super().lessThan(left, right)
