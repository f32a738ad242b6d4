"""NodeForm: typing into real fields, inline errors from the engine's rules, engine refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.node_form import NodeForm

# The offscreen platform warns when a top-level window is shown; not a problem of ours.


def open_form(qtbot: QtBot, bridge: EngineBridge) -> NodeForm:
    form = NodeForm(bridge)
    qtbot.addWidget(form)
    form.open()
    qtbot.waitExposed(form)
    return form


def field(form: NodeForm, name: str) -> QLineEdit:
    widget = form.findChild(QLineEdit, name)
    assert widget is not None, name
    return widget


def error_text(form: NodeForm, name: str) -> str:
    label = form.findChild(QLabel, f"{name}_error")
    assert label is not None, name
    return label.text() if label.isVisible() else ""


def submit_button(form: NodeForm) -> QPushButton:
    button = form.findChild(QPushButton, "submit")
    assert button is not None
    return button


def test_add_node_through_the_form(bridge: EngineBridge, qtbot: QtBot) -> None:
    form = open_form(qtbot, bridge)
    assert not submit_button(form).isEnabled()
    qtbot.keyClicks(field(form, "name"), "worker-9")
    qtbot.keyClicks(field(form, "cpu"), "500m")
    assert "1024 MiB" in field(form, "memory").placeholderText()
    qtbot.keyClicks(field(form, "memory"), "2Gi")
    assert submit_button(form).isEnabled()
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert not form.isVisible()
    nodes = {n.name: n for n in bridge.nodes()}
    assert nodes["worker-9"].capacity.cpu_m == 500
    assert nodes["worker-9"].capacity.mem_mi == 2048
    qtbot.waitUntil(lambda: bridge.nodes()[0].status == "healthy", timeout=5000)


def test_master_node_and_default_memory(bridge: EngineBridge, qtbot: QtBot) -> None:
    form = open_form(qtbot, bridge)
    combo = form.findChild(QComboBox, "node_type")
    assert combo is not None
    combo.setCurrentIndex(combo.findData("master"))
    qtbot.keyClicks(field(form, "name"), "m1")
    qtbot.keyClicks(field(form, "cpu"), "2")
    assert "4096 MiB" in field(form, "memory").placeholderText()
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (node,) = bridge.nodes()
    assert node.node_type == "master" and node.capacity.mem_mi == 4096


def test_bad_input_shows_inline_errors_and_sends_nothing(
    bridge: EngineBridge, ui_engine: Engine, qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(field(form, "name"), "Bad Name")
    qtbot.keyClicks(field(form, "cpu"), "-1")
    qtbot.keyClicks(field(form, "memory"), "lots")
    assert "DNS label" in error_text(form, "name")
    assert "greater than 0" in error_text(form, "cpu")
    assert "'lots' is not a quantity" in error_text(form, "memory")
    assert not submit_button(form).isEnabled()
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    qtbot.keyClick(field(form, "name"), Qt.Key.Key_Return)
    assert form.isVisible() and form.result() == QDialog.DialogCode.Rejected
    assert bridge.nodes() == [] and not ui_engine.cluster.state.nodes
    # Fixing a field clears its message at once.
    field(form, "cpu").clear()
    qtbot.keyClicks(field(form, "cpu"), "2")
    assert error_text(form, "cpu") == ""


def test_duplicate_name_is_caught_before_and_by_the_engine(
    bridge: EngineBridge, ui_engine: Engine, qtbot: QtBot, run_async: Callable[..., Any]
) -> None:
    run_async(ui_engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 1}))
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(field(form, "name"), "w1")
    qtbot.keyClicks(field(form, "cpu"), "1")
    assert "already exists" in error_text(form, "name")
    assert not submit_button(form).isEnabled()
    # The engine's own refusal (a name taken meanwhile) lands under the field, not in a box.
    field(form, "name").clear()
    qtbot.keyClicks(field(form, "name"), "w2")
    assert submit_button(form).isEnabled()
    run_async(ui_engine.create_node_from_json({"name": "w2", "cpu_cores_avail": 1}))
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already exists" in error_text(form, "name"), timeout=5000)
    assert form.isVisible() and len(bridge.nodes()) == 2


def test_nothing_is_sent_before_the_engine_runs(qtbot: QtBot) -> None:
    form = open_form(qtbot, EngineBridge())
    qtbot.keyClicks(field(form, "name"), "w1")
    qtbot.keyClicks(field(form, "cpu"), "1")
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    assert "not running yet" in error_text(form, "form")
    assert form.isVisible() and submit_button(form).isEnabled()


def test_labels_on_a_node_checked_by_the_engines_rules(bridge: EngineBridge, qtbot: QtBot) -> None:
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(field(form, "name"), "w5")
    qtbot.keyClicks(field(form, "cpu"), "1")
    qtbot.keyClicks(field(form, "labels"), "zone=a, disk")
    assert "'disk' has no '='" in error_text(form, "labels")
    assert not submit_button(form).isEnabled()
    field(form, "labels").clear()
    qtbot.keyClicks(field(form, "labels"), "zone=a, disk=solid state")
    assert "'disk': value must be empty or alphanumerics" in error_text(form, "labels")
    field(form, "labels").clear()
    qtbot.keyClicks(field(form, "labels"), "zone=a, disk=ssd")
    assert error_text(form, "labels") == ""
    qtbot.mouseClick(submit_button(form), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (node,) = bridge.nodes()
    assert dict(node.labels) == {"zone": "a", "disk": "ssd"}
