"""The window's "What if these fail?": select nodes, preview, see the marks on the tree and
the CPU chart's projected allocation, dismiss; preview again and inject now, and the incident
says the outcome matched."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import Column
from kube9_desktop.ui.what_if import WhatIfBanner
from tests.ui.helpers import (
    busiest_worker,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    find_row,
    select,
    walk,
    window_fixture,  # noqa: F401
)

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def marked(window: MainWindow) -> dict[str, str]:
    """Every tree row showing a what-if mark in its status: its name -> the mark."""
    model = window.cluster.proxy
    found = {}
    for index in walk(model):
        status = str(index.siblingAtColumn(Column.STATUS).data() or "")
        if status[:1] in ("→", "↻", "⌛", "•", "✖"):
            found[str(index.data())] = status
    return found


def open_preview(qtbot: QtBot, window: MainWindow, row: QModelIndex) -> None:
    """Right-click the row and choose "What if these fail?" as a user would."""
    tree = window.cluster.tree
    tree.customContextMenuRequested.emit(tree.visualRect(row).center())
    menu = child(window, QMenu, "ClusterContextMenu")
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if a.objectName() == "WhatIfAction")
    assert action.isEnabled(), action.toolTip()
    click(qtbot, menu, menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())
    assert QApplication.activePopupWidget() is None


def test_preview_marks_the_tree_and_chart_then_dismiss_then_inject_now_matches(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    victim = busiest_worker(demo)
    pods = {p.name for p in demo.cluster.pod_views() if p.node_name == victim}
    assert pods
    action = window.what_if.action
    window.cluster.tree.selectionModel().clearSelection()
    qtbot.waitUntil(lambda: not action.isEnabled())
    assert "select one or more nodes" in action.toolTip()
    select(qtbot, window, victim)
    assert action.isEnabled()
    # Ctrl+click a second node: both are selected, the preview takes both.
    other = next(n.name for n in demo.cluster.node_views()
                 if n.name != victim and n.node_type == "worker")  # fmt: skip
    tree = window.cluster.tree
    second = find_row(tree.model(), other)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ControlModifier, tree.visualRect(second).center())  # fmt: skip
    qtbot.waitUntil(lambda: len(window.what_if.node_ids()) == 2)
    # Back to the one node, then preview it from the context menu.
    select(qtbot, window, victim)
    qtbot.waitUntil(lambda: len(window.what_if.node_ids()) == 1)
    rv = demo.cluster.resource_version
    open_preview(qtbot, window, find_row(tree.model(), victim))
    banner = child(window, WhatIfBanner, "WhatIfBanner")
    qtbot.waitUntil(banner.isVisible)
    text = child(banner, QLabel, "WhatIfSummary").text()
    assert text.startswith(f"What if {victim} failed:") and "would move" in text
    marks = marked(window)
    assert marks[victim].startswith("✖")
    tree.expand(find_row(tree.model(), victim))  # its pods' rows
    qtbot.waitUntil(lambda: pods <= set(marked(window)))
    assert all(marked(window)[p][0] in "→↻⌛•" for p in pods)
    fates = {f.name: f for f in window.what_if.result.pods}  # type: ignore[union-attr]
    for p in pods:
        assert fates[p].node is None or fates[p].node in marked(window)[p]
    assert window.charts.cpu_card.note.text().startswith("what-if:")
    assert window.charts.what_if_line is not None
    assert demo.cluster.resource_version >= rv  # (heartbeats go on; the preview wrote nothing)
    click(qtbot, child(banner, QPushButton, "WhatIfDismiss"))
    qtbot.waitUntil(lambda: not banner.isVisible())
    assert marked(window) == {} and window.charts.what_if_line is None
    assert window.charts.cpu_card.note.text() == ""
    # Preview again, and inject it for real: the incident records that it matched.
    select(qtbot, window, victim)
    open_preview(qtbot, window, find_row(tree.model(), victim))
    qtbot.waitUntil(banner.isVisible)
    click(qtbot, child(banner, QPushButton, "WhatIfInject"))
    message = child(window, QLabel, "MessageText")
    qtbot.waitUntil(lambda: "ended as the preview said" in message.text(), timeout=30_000)
    qtbot.waitUntil(lambda: not banner.isVisible())
    victim_id = next(n.id for n in demo.cluster.node_views() if n.name == victim)
    (incident,) = [i for i in demo.incidents() if i.incident.node_id == victim_id]
    assert incident.what_if_matched is True
    assert any(e.kind == "what_if_checked" and "matched" in e.message for e in incident.events)
