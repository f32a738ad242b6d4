"""The workloads tree with its filter box: the "Workloads" tab beside the node tree.

A tab of its own rather than a second group in the node tree: pods there hang under the node
that runs them, here under the ReplicaSet that keeps them, and the columns differ (kubectl's
replica counts here, CPU and memory there); Lens and Headlamp keep the two views apart too.
Selecting a row reports the same ``TreeItem`` the node tree would, so the details panel and
the actions serve both.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QWidget

from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.tree_cells import ITEM_ROLE, ItemKind, TreeItem
from kube9_desktop.ui.models.workload_cells import HEADERS
from kube9_desktop.ui.models.workload_tree import WorkloadTreeModel
from kube9_desktop.ui.object_tree_panel import ObjectTreePanel

WIDTHS = (176, 104, 58, 50, 74, 68, 200)


class WorkloadsPanel(ObjectTreePanel[WorkloadTreeModel]):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(
            "Workload", WorkloadTreeModel(bridge), HEADERS, WIDTHS,
            "Filter by name, state or image", parent,
        )  # fmt: skip

    def top_level_count(self) -> int:
        return len(self.model.deployment_ids())

    def expand_everything(self) -> None:
        self.tree.expandRecursively(QModelIndex(), 2)

    def expand_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """New Deployments and ReplicaSets open by themselves (their pods show)."""
        for row in range(first, last + 1):
            index = self.proxy.index(row, 0, parent)
            item = index.data(ITEM_ROLE)
            if isinstance(item, TreeItem) and item.kind in (
                ItemKind.DEPLOYMENT,
                ItemKind.REPLICASET,
            ):
                self.tree.expand(index)
                if parent.isValid():
                    self.tree.expand(parent)
