"""Cordon, Uncordon and Drain for the selected node (the tree's context menu and the Cluster
menu), each through the engine's own operation, with its result in the message banner."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeView
from kube9_desktop.engine.outcomes import Drained
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem


def drain_text(drained: Drained) -> tuple[str, str]:
    """The banner's level and text for a drain's report: info when every pod moved; else an
    error (it stays until closed, as kubectl drain fails) naming each pod that stayed and why."""
    return ("info" if not drained.left else "error"), drained.message


class NodeActions(QObject):
    message_posted = Signal(str, str)  # level, text (the banner)

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.item: TreeItem | None = None
        self.cordon = new_action(
            self, window, "CordonAction", "C&ordon", None,
            "Cordon the selected node: no new pods (those on it stay)", self._on_cordon_triggered,
        )  # fmt: skip
        self.uncordon = new_action(
            self, window, "UncordonAction", "&Uncordon", None,
            "Uncordon the selected node: it takes new pods again", self._on_uncordon_triggered,
        )  # fmt: skip
        self.drain = new_action(
            self, window, "DrainAction", "Dr&ain", None,
            "Drain the selected node: cordon it and move every pod that can go elsewhere",
            self._on_drain_triggered,
        )  # fmt: skip
        self.draining: set[int] = set()
        bridge.engine_attached.connect(lambda: self.set_selection(self.item))
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        self.set_selection(None)

    def add_to(self, menu: QMenu) -> None:
        menu.addActions([self.cordon, self.uncordon, self.drain])

    def selected_node(self) -> NodeView | None:
        if self.item is None or self.item.kind is not ItemKind.NODE or not self.bridge.attached:
            return None
        return self.bridge.node(self.item.id)

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        node = self.selected_node()
        pick = "select a node first"
        enable(self.cordon, node is not None and not node.cordoned,
               pick if node is None else "it is cordoned already")  # fmt: skip
        enable(self.uncordon, node is not None and node.cordoned,
               pick if node is None else "it is not cordoned")  # fmt: skip
        drain_why = (
            pick if node is None
            else "a drain of it is under way" if node.id in self.draining
            else None
        )  # fmt: skip
        enable(self.drain, drain_why is None, drain_why or "")

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        if self.item is not None and self.item.id in changes.ids(Kind.NODE):
            self.set_selection(self.item)

    def _set_cordoned(self, cordoned: bool) -> None:
        node = self.selected_node()
        if node is None:
            return
        word = "Cordon" if cordoned else "Uncordon"

        async def op(e: Engine) -> tuple[NodeView, bool]:
            return e.set_node_cordoned(node.id, cordoned)

        def done(result: tuple[NodeView, bool]) -> None:
            view, changed = result
            past = "cordoned" if cordoned else "uncordoned"
            self.message_posted.emit(
                "info",
                (f"Node {view.name} {past}" if changed else f"Node {view.name} was already {past}")
                + (": no new pods (those on it stay)" if cordoned and changed else ""),
            )

        self.bridge.run(f"{word} {node.name}", op, done)

    def _on_cordon_triggered(self) -> None:
        self._set_cordoned(True)

    def _on_uncordon_triggered(self) -> None:
        self._set_cordoned(False)

    def _on_drain_triggered(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        node_id = node.id
        self.draining.add(node_id)
        self.set_selection(self.item)

        def finish() -> None:
            self.draining.discard(node_id)
            self.set_selection(self.item)

        def done(drained: Drained) -> None:
            finish()
            self.message_posted.emit(*drain_text(drained))

        def failed(exc: object) -> None:
            finish()
            self.message_posted.emit("error", f"Drain {node.name}: {getattr(exc, 'message', exc)}")

        self.bridge.run(f"Drain {node.name}", lambda e: e.drain_node(node_id), done, failed)
