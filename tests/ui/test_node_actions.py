"""Cordon, Uncordon and Drain from the node's context menu, and what the details panel shows
of a node's scheduling: its taints (the unhealthy node's condition taints too), labels and
pods against its limit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import Column
from tests.ui.helpers import (
    busiest_worker,
    cell,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    node_id,
    parent_name,
    select,
    tree_model,
    window_fixture,  # noqa: F401
)

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def context_menu(qtbot: QtBot, window: MainWindow, name: str) -> QMenu:
    tree = window.cluster.tree
    model = tree.model()
    index = next(
        model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data() == name
    )
    tree.customContextMenuRequested.emit(tree.visualRect(index).center())
    menu = child(window, QMenu, "ClusterContextMenu")
    qtbot.waitUntil(menu.isVisible)
    return menu


def choose(qtbot: QtBot, window: MainWindow, node: str, action_name: str) -> None:
    """Right-click the node's row and click the action in its context menu."""
    menu = context_menu(qtbot, window, node)
    action = next(a for a in menu.actions() if a.objectName() == action_name)
    assert action.isEnabled(), action.toolTip()
    click(qtbot, menu, menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())
    assert QApplication.activePopupWidget() is None


def banner(window: MainWindow) -> str:
    return child(window, QLabel, "MessageText").text()


def test_cordon_uncordon_and_drain_from_the_context_menu(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    victim = busiest_worker(demo)
    pods = [p.name for p in demo.cluster.pod_views() if p.node_name == victim]
    assert pods
    select(qtbot, window, victim)
    a = window.node_commands
    assert a.cordon.isEnabled() and not a.uncordon.isEnabled() and a.drain.isEnabled()
    assert "not cordoned" in a.uncordon.toolTip()

    choose(qtbot, window, victim, "CordonAction")
    qtbot.waitUntil(lambda: demo.node(node_id(demo, victim)).cordoned)
    qtbot.waitUntil(lambda: f"Node {victim} cordoned" in banner(window))
    scheduling = child(window, QLabel, "NodeScheduling")
    qtbot.waitUntil(lambda: scheduling.text().startswith("cordoned"))
    assert not a.cordon.isEnabled() and a.uncordon.isEnabled()

    choose(qtbot, window, victim, "UncordonAction")
    qtbot.waitUntil(lambda: not demo.node(node_id(demo, victim)).cordoned)
    qtbot.waitUntil(lambda: scheduling.text() == "schedulable")

    choose(qtbot, window, victim, "DrainAction")
    qtbot.waitUntil(lambda: f"Node {victim} drained" in banner(window), timeout=10_000)
    assert demo.node(node_id(demo, victim)).cordoned
    model = tree_model(window)
    # Every demo pod fits on the other workers: each left (a bare pod moved, a replica made
    # again elsewhere), and the banner says how many.
    qtbot.waitUntil(lambda: not [p for p in demo.cluster.pod_views() if p.node_name == victim],
                    timeout=10_000)  # fmt: skip
    assert f"{len(pods)} pod(s) evicted" in banner(window)
    qtbot.waitUntil(lambda: all(parent_name(model, p) != victim for p in pods), timeout=10_000)
    pods_label = child(window, QLabel, "NodePods")
    limit = demo.node(node_id(demo, victim)).pod_limit
    qtbot.waitUntil(lambda: pods_label.text() == f"0 / {limit}")


def test_a_drain_that_leaves_pods_says_which_and_why(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    victim = busiest_worker(demo)
    others = [n.id for n in demo.cluster.node_views() if n.name != victim]
    for other in others:
        demo.set_node_cordoned(other, True)  # nowhere to go
    select(qtbot, window, victim)
    choose(qtbot, window, victim, "DrainAction")
    qtbot.waitUntil(lambda: "could not move" in banner(window), timeout=10_000)
    assert "no other node fits" in banner(window)
    assert window.messages.level == "error"  # stays until closed, as kubectl drain fails
    assert [p for p in demo.cluster.pod_views() if p.node_name == victim]  # they stayed


def test_the_details_show_taints_labels_and_an_unhealthy_nodes_condition_taints(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    select(qtbot, window, "master-1")
    taints = child(window, QLabel, "NodeTaints")
    qtbot.waitUntil(lambda: "node-role.kubernetes.io/control-plane:NoSchedule" in taints.text())
    select(qtbot, window, "worker-3")
    labels = child(window, QLabel, "NodeLabels")
    qtbot.waitUntil(lambda: taints.text() == "none")
    assert (
        labels.text()
        == ", ".join(
            f"{k}={v}" for k, v in sorted(demo.node(node_id(demo, "worker-3")).labels.items())
        )
        or labels.text() == "none"
    )
    demo.set_node_taints(node_id(demo, "worker-3"), ())
    # A partition: heartbeats lost, the unreachable taints appear, and go when it heals.
    menu = window.commands.failure_menu
    menu.popup(window.mapToGlobal(QPoint(200, 200)))
    qtbot.waitExposed(menu)
    click(qtbot, menu, menu.actionGeometry(window.commands.partition).center())
    qtbot.waitUntil(
        lambda: "node.kubernetes.io/unreachable:NoExecute" in taints.text(), timeout=5000
    )
    assert "node.kubernetes.io/unreachable:NoSchedule" in taints.text()
    assert "the last 2 come and go with the node's health" in taints.text()
    assert str(cell(tree_model(window), "worker-3", Column.STATUS)).startswith("unhealthy")
    window.commands.recover.trigger()
    qtbot.waitUntil(lambda: taints.text() == "none", timeout=10_000)


def test_the_settings_checkbox_turns_the_kubernetes_defaults_on_in_the_engine(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    assert demo.kubernetes_defaults is False
    child(window, QAction, "SettingsAction").trigger()
    qtbot.waitUntil(lambda: window.findChild(SettingsDialog) is not None)
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(child(dialog, QCheckBox, "kubernetes_default_tolerations"),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    qtbot.mouseClick(child(dialog, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo.kubernetes_defaults is True)
    assert "Applied now" in banner(window)
