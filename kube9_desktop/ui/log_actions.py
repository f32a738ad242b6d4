"""Show Logs (Ctrl+L): a log window per (pod, container) for the selected pod or container,
raised when asked for again; disabled, with the reason, while the selection has no output."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.model import PodView
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.log_view import LogView
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem


def logs_refusal(pod: PodView | None) -> str | None:
    """Why the selection has no logs to show (None: it has)."""
    if pod is None:
        return "select a pod first"
    if pod.node_id is None:
        return f"pod {pod.name} is not on a node yet: it has no output"
    return None


class LogActions(QObject):
    """ "Show Logs" (Ctrl+L) for the selected pod or container: one window per (pod,
    container), raised when asked for again."""

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.item: TreeItem | None = None
        self.views: list[LogView] = []
        self.show_logs = new_action(
            self, window, "ShowLogsAction", "Show &Logs", "Ctrl+L",
            "Show the selected pod's container output", self._on_show_logs_triggered,
        )  # fmt: skip
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        bridge.engine_attached.connect(lambda: self.set_selection(self.item))
        self.set_selection(None)

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.show_logs)

    def selected_pod(self) -> PodView | None:
        if self.item is None or self.item.kind not in (ItemKind.POD, ItemKind.CONTAINER):
            return None
        return self.bridge.pod(self.item.id)

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        why_not = logs_refusal(self.selected_pod())
        enable(self.show_logs, why_not is None, why_not or "")

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        if self.item is not None and self.item.id in changes.ids(Kind.POD):
            self.set_selection(self.item)

    def open_for(self, item: TreeItem | None) -> LogView | None:
        """The window for a pod's row (its first container) or a container's row."""
        if item is None or item.kind not in (ItemKind.POD, ItemKind.CONTAINER):
            return None
        pod = self.bridge.pod(item.id)
        if pod is None or not pod.spec.containers:
            return None
        index = item.container if item.kind is ItemKind.CONTAINER else 0
        return self.open_logs(pod.id, pod.spec.containers[index].name)

    def open_logs(self, pod_id: int, container: str) -> LogView | None:
        pod = self.bridge.pod(pod_id)
        if pod is None or logs_refusal(pod) is not None:
            return None
        for view in self.views:
            if view.key == (pod_id, container):
                view.show()
                view.raise_()
                view.activateWindow()
                return view
        view = LogView(self.bridge, pod, container, self.window)
        self.views.append(view)
        view.destroyed.connect(lambda _o=None, v=view: self._forget(v))
        view.show()
        return view

    def _forget(self, view: LogView) -> None:
        if view in self.views:
            self.views.remove(view)

    def _on_show_logs_triggered(self) -> None:
        self.open_for(self.item)
