"""The "What if these fail?" action: the engine's what-if preview of the selected nodes shown
over the tree (each affected pod's status says its would-be node, or pending and why) and the
CPU chart (the projected allocation), with a banner to dismiss it or inject it for real."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.what_if import Fate, PodFate, WhatIf
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.models.cluster_tree import ClusterTreeModel
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem


def mark_of(fate: PodFate) -> tuple[str, str]:
    """The tree's mark for one pod (and its tooltip): where it would go, or why it would wait."""
    if fate.fate is Fate.PENDING:
        why = "; ".join(f"{n}: {', '.join(r)}" for n, r in sorted((fate.reasons or {}).items()))
        return "⌛ pending", f"No node would take it: {why or 'no node left'}"
    if fate.fate is Fate.STAYS:
        return "• stays", "It tolerates the failed node's taints: it is not evicted (for now)"
    if fate.fate is Fate.REPLACED:
        tip = f"Its {fate.owner} would replace it with {fate.replacement} on {fate.node}"
        return f"↻ {fate.node}", tip
    return f"→ {fate.node}", f"It would be rebound to {fate.node}"


def summary(result: WhatIf, names: list[str]) -> str:
    counts = {f: len(result.by_fate(f)) for f in Fate}
    moved = counts[Fate.MOVES] + counts[Fate.REPLACED]
    head = f"What if {', '.join(names)} failed: "
    if result.evictions_paused:
        return head + "every worker would be down, evictions would pause and every pod stays"
    return head + (
        f"{moved} pod(s) would move, {counts[Fate.PENDING]} would be pending"
        + (f", {counts[Fate.STAYS]} stay" if counts[Fate.STAYS] else "")
        + f" (preview at resource version {result.resource_version})"
    )


class WhatIfBanner(QFrame):
    """The preview's banner above the tree: what it says, Inject now and Dismiss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WhatIfBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel(self)
        self.text.setObjectName("WhatIfSummary")
        self.text.setWordWrap(True)
        self.inject = QPushButton("&Inject now", self)
        self.inject.setObjectName("WhatIfInject")
        self.inject.setToolTip("Crash these nodes for real; the incident records whether the "
                               "outcome matched the preview")  # fmt: skip
        self.dismiss = QPushButton("&Dismiss", self)
        self.dismiss.setObjectName("WhatIfDismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.inject)
        layout.addWidget(self.dismiss)
        self.hide()


class WhatIfActions(QObject):
    message_posted = Signal(str, str)  # level, text (the window's message banner)
    shown = Signal(object)  # the WhatIf now overlaid (None: dismissed)

    def __init__(
        self, bridge: EngineBridge, window: QWidget, model: ClusterTreeModel,
        banner: WhatIfBanner, selected: Callable[[], list[TreeItem]],
    ) -> None:  # fmt: skip
        super().__init__(window)
        self.bridge = bridge
        self.model = model
        self.banner = banner
        self._selected = selected
        self.result: WhatIf | None = None
        self.action = new_action(
            self, window, "WhatIfAction", "&What if these fail?", None,
            "Preview where the pods of the selected nodes would go if those nodes failed now "
            "(nothing changes)", self._on_action_triggered,
        )  # fmt: skip
        banner.dismiss.clicked.connect(self.dismiss)
        banner.inject.clicked.connect(self._on_inject_clicked)
        self.refresh()

    def node_ids(self) -> list[int]:
        return sorted({i.id for i in self._selected() if i.kind is ItemKind.NODE})

    def refresh(self) -> None:
        ids = self.node_ids() if self.bridge.attached else []
        enable(self.action, bool(ids), "select one or more nodes first")

    def _on_action_triggered(self) -> None:
        ids = self.node_ids()
        if not ids:
            return
        try:
            result = self.bridge.what_if(ids)
        except Kube9Error as exc:
            self.message_posted.emit("error", f"What if: {exc.message}")
            return
        self.show(result)

    def show(self, result: WhatIf) -> None:
        self.result = result
        names = [n.name for n in result.nodes if n.failing]
        marks = {f.pod_id: mark_of(f) for f in result.pods}
        self.model.set_what_if(marks, set(result.fail_nodes))
        self.banner.text.setText(summary(result, names))
        self.banner.inject.setEnabled(True)
        self.banner.show()
        self.shown.emit(result)

    def dismiss(self) -> None:
        self.result = None
        self.model.set_what_if({}, set())
        self.banner.hide()
        self.shown.emit(None)

    def _on_inject_clicked(self) -> None:
        result = self.result
        if result is None:
            return
        self.banner.inject.setEnabled(False)
        self.banner.text.setText(self.banner.text.text() + " — injecting…")

        def done(found: list[str]) -> None:
            if found:
                self.message_posted.emit(
                    "error", "The failure did not end as previewed: " + "; ".join(found)
                )
            else:
                self.message_posted.emit("info", "The failure ended as the preview said "
                                         "(recorded on the incident)")  # fmt: skip
            self.dismiss()

        def failed(exc: Kube9Error) -> None:
            self.message_posted.emit("error", f"Inject now: {exc.message}")
            self.banner.inject.setEnabled(True)

        self.bridge.run("Inject now", lambda e: e.inject_what_if(result), done, failed)
