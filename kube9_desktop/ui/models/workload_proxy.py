"""Filtering and sorting for the workloads tree: recursive, case-insensitive."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from kube9_desktop.ui.models.tree_cells import FILTER_ROLE, SORT_ROLE

AnyIndex = QModelIndex | QPersistentModelIndex


class WorkloadFilterProxy(QSortFilterProxyModel):
    """Rows whose name, state or images contain the filter text, with their ancestors and
    children; sorted by the cells' sort keys (unsorted: the model's creation order)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setDynamicSortFilter(True)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filter_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is not None and b is not None and type(a) is type(b):
            return bool(a < b)
        return super().lessThan(left, right)
