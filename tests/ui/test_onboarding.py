"""An empty cluster offers a way in: "Add a node (Ctrl+N)" and "Start the demo cluster"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.demo import DEMO_NODES
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.preferences import Preferences
from tests.ui.helpers import open_window


def test_the_empty_tree_offers_a_node_and_the_demo_which_fill_it(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine
) -> None:
    panel = ClusterPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    hint = panel.empty_hint
    assert hint.isVisible()
    viewport = panel.tree.viewport().rect()
    assert viewport.contains(hint.geometry()), (viewport, hint.geometry())  # whole, on screen
    with qtbot.waitSignal(panel.add_node_requested, timeout=2000):
        qtbot.mouseClick(hint.add_node, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(hint.demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.model.node_ids()) == len(DEMO_NODES), timeout=30_000)
    assert not hint.isVisible()
    assert {n.name for n in ui_engine.nodes()} == {n.name for n in DEMO_NODES}
    qtbot.waitUntil(lambda: hint.demo.isEnabled(), timeout=30_000)  # the demo's task ended


def test_the_windows_empty_tree_button_opens_the_node_form(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, prefs: Preferences
) -> None:
    window = open_window(qtbot, bridge, prefs, ui_engine.settings)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.cluster.empty_hint.isVisible())
    qtbot.mouseClick(window.cluster.empty_hint.add_node, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(NodeForm) is not None)
    form = window.findChild(NodeForm)
    assert isinstance(form, NodeForm)
    form.reject()
