"""The services tree with its filter box: the "Services" tab beside the workloads.

A tab of its own, as Lens and Headlamp keep "Network" apart from "Workloads": a pod shows
under each Service that selects it, whoever owns it, and the columns are kubectl's (type,
cluster IP, ports). Selecting a Service reports ``TreeItem(SERVICE, id)``, an endpoint its
pod's ``TreeItem``, so the details panel and the pod commands serve both.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QWidget

from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.service_cells import HEADERS
from kube9_desktop.ui.models.service_tree import ServiceTreeModel
from kube9_desktop.ui.object_tree_panel import ObjectTreePanel

WIDTHS = (200, 84, 72, 124, 100, 160)  # a pod's generated name fits in the first


class ServicesPanel(ObjectTreePanel[ServiceTreeModel]):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(
            "Service", ServiceTreeModel(bridge), HEADERS, WIDTHS,
            "Filter by name, namespace, selector, IP or node", parent,
        )  # fmt: skip

    def top_level_count(self) -> int:
        return len(self.model.service_ids())

    def expand_everything(self) -> None:
        self.tree.expandAll()

    def expand_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        """A new Service opens by itself (its endpoints show as they come)."""
        if parent.isValid():
            self.tree.expand(parent)
            return
        for row in range(first, last + 1):
            self.tree.expand(self.proxy.index(row, 0, parent))
