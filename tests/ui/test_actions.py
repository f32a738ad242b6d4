"""The window's commands, driven as a user would: toolbar clicks, menus and shortcuts."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QMessageBox, QPushButton, QToolButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.dialogs.about import AboutDialog
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.pod_manifest import PodDraft
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import Column
from tests.ui.helpers import (
    busiest_worker,
    cell,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    names_in,
    node_id,
    parent_name,
    press,
    select,
    tree_model,
    type_text,
    window_fixture,  # noqa: F401
)

pytestmark = [
    # The offscreen platform cannot raise or grab for popups (menus); not a problem of ours.
    pytest.mark.qt_log_ignore("This plugin does not support"),
]
SECRET = "pa55-w0rd-xyz"


def toolbar_button(window: MainWindow, action: Any) -> QToolButton:
    button = window.toolbar.widgetForAction(action)
    assert isinstance(button, QToolButton)
    return button


def status_of(window: MainWindow, name: str) -> str:
    return str(cell(tree_model(window), name, Column.STATUS))


def record_events(bridge: EngineBridge) -> list[Event]:
    seen: list[Event] = []
    bridge.event_published.connect(seen.append)
    return seen


def confirm_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
    box = child(window, QMessageBox, "ConfirmDelete")
    qtbot.waitExposed(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    return box


def test_actions_follow_the_selection_and_its_state(qtbot: QtBot, window: MainWindow) -> None:
    a = window.commands
    assert a.add_node.isEnabled() and a.create_pod.isEnabled()
    for action in (a.simulate_failure, a.kill_pod, a.recover, a.delete):
        assert not action.isEnabled()
    assert "Select a node" in a.simulate_failure.toolTip()

    select(qtbot, window, "worker-1")
    assert a.simulate_failure.isEnabled() and a.hang.isEnabled() and a.delete.isEnabled()
    assert not a.kill_pod.isEnabled() and not a.recover.isEnabled()
    assert "nothing to recover" in a.recover.toolTip()

    select(qtbot, window, "web-1")
    assert a.kill_pod.isEnabled() and a.delete.isEnabled()
    assert not a.simulate_failure.isEnabled() and not a.recover.isEnabled()


def test_add_node_through_the_form_from_the_toolbar(qtbot: QtBot, window: MainWindow) -> None:
    click(qtbot, toolbar_button(window, window.commands.add_node))
    qtbot.waitUntil(lambda: window.findChild(NodeForm) is not None)
    form = child(window, NodeForm, "NodeForm")
    qtbot.waitExposed(form)
    type_text(qtbot, form.name, "worker-9")
    type_text(qtbot, form.cpu, "2")
    click(qtbot, child(form, QPushButton, "submit"))
    model = tree_model(window)
    qtbot.waitUntil(lambda: "worker-9" in names_in(model), timeout=5000)
    qtbot.waitUntil(lambda: status_of(window, "worker-9") == "healthy", timeout=5000)
    # used (none reported yet, or 0) / requested of allocatable
    assert str(cell(model, "worker-9", Column.CPU)).endswith("/0 of 2")
    assert "Node worker-9 added" in child(window, QLabel, "MessageText").text()


def test_the_node_form_places_a_node_on_the_engine_chosen(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    click(qtbot, toolbar_button(window, window.commands.add_node))
    qtbot.waitUntil(lambda: window.findChild(NodeForm) is not None)
    form = child(window, NodeForm, "NodeForm")
    qtbot.waitExposed(form)
    engines = [form.engine.itemText(i) for i in range(form.engine.count())]
    assert engines == ["any — the one with the fewest nodes", "local — up, 4 node(s)"]
    type_text(qtbot, form.name, "worker-8")
    type_text(qtbot, form.cpu, "1")
    form.engine.setCurrentIndex(1)
    assert form.body()["engine"] == "local"
    click(qtbot, child(form, QPushButton, "submit"))
    qtbot.waitUntil(lambda: "worker-8" in names_in(tree_model(window)), timeout=5000)
    node = demo.cluster.state.node_by_name("worker-8")
    assert node is not None and node.engine == "local"


def test_create_pod_through_the_form_shows_its_secret_masked(
    qtbot: QtBot, window: MainWindow
) -> None:
    press(qtbot, window, "Ctrl+Shift+N")
    qtbot.waitUntil(lambda: window.findChild(PodForm) is not None)
    form = child(window, PodForm, "PodForm")
    qtbot.waitExposed(form)
    form.fill(
        PodDraft(
            name="billing",
            cpu="0.5",
            containers=[{"name": "app", "image": "python:3.12", "cpu": "0.5", "memory": "128"}],
            config=[
                {"name": "mode", "type": "env", "key": "MODE", "value": "live"},
                {"name": "api-key", "type": "secret", "key": "API_KEY", "value": SECRET},
            ],
        )
    )
    click(qtbot, child(form, QPushButton, "submit"))
    model = tree_model(window)
    qtbot.waitUntil(lambda: parent_name(model, "billing") not in (None, "Pending"), timeout=5000)
    select(qtbot, window, "billing")
    config = child(window.details, Table, "PodConfig")
    assert config.texts(3) == ["live", "******"]
    shown = [label.text() for label in window.findChildren(QLabel)]
    for table in window.findChildren(Table):
        shown += [text for column in range(table.columnCount()) for text in table.texts(column)]
    assert not any(SECRET in text for text in shown)


def test_one_click_crash_from_the_toolbar_moves_pods_and_recovers(
    qtbot: QtBot, window: MainWindow, demo: Engine, demo_bridge: EngineBridge
) -> None:
    victim = busiest_worker(demo)
    pods = [p.name for p in demo.cluster.pod_views() if p.node_name == victim]
    assert pods
    events = record_events(demo_bridge)
    select(qtbot, window, victim)
    button = child(window, QToolButton, "SimulateFailureButton")
    click(qtbot, button, QPoint(12, button.height() // 2))
    qtbot.waitUntil(lambda: any(e.kind is EventKind.FAULT_INJECTED for e in events))
    qtbot.waitUntil(lambda: status_of(window, victim) == "unhealthy", timeout=5000)
    model = tree_model(window)
    qtbot.waitUntil(lambda: all(parent_name(model, p) not in (None, victim) for p in pods))
    qtbot.waitUntil(lambda: status_of(window, victim) == "healthy", timeout=10_000)
    kinds = [e.kind for e in events if e.node_name == victim]
    assert kinds.index(EventKind.NODE_DETECTED) < kinds.index(EventKind.NODE_RECOVERED)
    assert demo.cluster.state.nodes[node_id(demo, victim)].status == "healthy"


def test_partition_from_the_failure_menu_then_recover(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    select(qtbot, window, "worker-3")
    menu = window.commands.failure_menu
    menu.popup(window.mapToGlobal(QPoint(200, 200)))
    qtbot.waitExposed(menu)
    partition = window.commands.partition
    assert partition.text() == "&Partition for 30 s"
    click(qtbot, menu, menu.actionGeometry(partition).center())
    qtbot.waitUntil(
        lambda: status_of(window, "worker-3") == "unhealthy · partitioned", timeout=5000
    )
    assert window.commands.recover.isEnabled()
    press(qtbot, window, "Ctrl+R")
    qtbot.waitUntil(lambda: status_of(window, "worker-3") == "healthy", timeout=10_000)
    assert "is being restarted (healed: partition)" in child(window, QLabel, "MessageText").text()


def test_hang_by_its_shortcut_is_detected_and_repaired(
    qtbot: QtBot, window: MainWindow, demo: Engine, demo_bridge: EngineBridge
) -> None:
    events = record_events(demo_bridge)
    select(qtbot, window, "worker-2")
    press(qtbot, window, "Ctrl+Shift+H")
    qtbot.waitUntil(lambda: "hung" in status_of(window, "worker-2"), timeout=3000)
    qtbot.waitUntil(
        lambda: any(
            e.kind is EventKind.NODE_DETECTED and e.node_name == "worker-2" for e in events
        ),
        timeout=5000,
    )
    qtbot.waitUntil(lambda: status_of(window, "worker-2") == "healthy", timeout=10_000)


def test_delete_node_asks_first_and_cancel_keeps_it(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    victim = busiest_worker(demo)
    pods = [p.name for p in demo.cluster.pod_views() if p.node_name == victim]
    select(qtbot, window, victim)
    press(qtbot, window, "Delete")
    box = confirm_box(qtbot, window)
    assert box.text() == f"Delete node {victim}? Its {len(pods)} pods will be moved to other nodes."
    click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is None)
    model = tree_model(window)
    assert victim in names_in(model)

    click(qtbot, toolbar_button(window, window.commands.delete))
    box = confirm_box(qtbot, window)
    victim_id = node_id(demo, victim)
    click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: victim_id not in window.cluster.model.node_ids(), timeout=5000)
    assert victim not in names_in(model)
    for pod in pods:
        assert parent_name(model, pod) not in (None, victim)


def test_delete_pod_asks_first(qtbot: QtBot, window: MainWindow, demo: Engine) -> None:
    select(qtbot, window, "cache-1")
    node = next(p.node_name for p in demo.cluster.pod_views() if p.name == "cache-1")
    click(qtbot, toolbar_button(window, window.commands.delete))
    box = confirm_box(qtbot, window)
    assert box.text() == f"Delete pod cache-1? Its containers on {node} will be stopped."
    assert box.button(QMessageBox.StandardButton.Ok).text() == "Delete"
    click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: "cache-1" not in names_in(tree_model(window)), timeout=5000)
    assert "cache-1" not in demo.cluster.state.pod_ids


def test_kill_pod_process_by_its_shortcut(
    qtbot: QtBot, window: MainWindow, demo_bridge: EngineBridge
) -> None:
    events = record_events(demo_bridge)
    select(qtbot, window, "web-1")
    press(qtbot, window, "Ctrl+Shift+X")
    qtbot.waitUntil(lambda: any(e.kind is EventKind.POD_KILLED for e in events))
    message = child(window, QLabel, "MessageText")
    qtbot.waitUntil(lambda: "Kill of pod 'web-1'" in message.text())


def test_the_context_menu_offers_the_actions_for_the_row(qtbot: QtBot, window: MainWindow) -> None:
    tree = window.cluster.tree
    index = next(i for i in _rows(tree.model()) if i.data() == "worker-2")
    tree.customContextMenuRequested.emit(tree.visualRect(index).center())
    menu = child(window, QMenu, "ClusterContextMenu")
    qtbot.waitUntil(menu.isVisible)
    assert window.details.title.text() == "worker-2"  # the row under the mouse is selected
    texts = [a.text() for a in menu.actions()]
    assert "&Recover" in texts and "&Delete…" in texts and "Simulate &Failure" in texts
    menu.close()
    assert QApplication.activePopupWidget() is None


def test_about_and_quit_by_their_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    child(window, QAction, "AboutAction").trigger()  # Help menu; F1 is the shortcuts sheet
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is not None)
    about = child(window, AboutDialog, "AboutDialog")
    qtbot.waitExposed(about)
    assert "virtual" in child(about, QLabel, "runtime").text()
    about.reject()
    with qtbot.waitSignal(window.quit_requested, timeout=2000):
        press(qtbot, window, "Ctrl+Q")


def test_operation_failures_show_in_the_message_bar(
    qtbot: QtBot, window: MainWindow, demo_bridge: EngineBridge
) -> None:
    demo_bridge.run("Recover worker-1", lambda e: e.recover_node(99_999))
    message = child(window, QLabel, "MessageText")
    qtbot.waitUntil(lambda: message.isVisible() and "Node 99999 not found" in message.text())
    assert message.text().startswith("Recover worker-1 failed:")
    assert window.messages.level == "error"


def _rows(model: Any) -> list[Any]:
    return [model.index(r, 0) for r in range(model.rowCount())]
