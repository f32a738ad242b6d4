"""EngineForm, the skeleton both forms stand on: busy while the engine works, the engine's
refusal at the field it names, and usable again when an operation dies half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.engine_form import EngineForm
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from tests.helpers import fast_settings
from tests.ui.fake_bridge import FakeBridge
from tests.ui.helpers import edit_cell

FORMS = {"node": NodeForm, "pod": PodForm}
NAMES = {"node": "w9", "pod": "p9"}
CREATE = {
    "node": lambda e: e.create_node_from_json({"name": "w9", "cpu_cores_avail": 1}),
    "pod": lambda e: e.create_pod_from_json(
        {"name": "p9", "containers": [{"name": "c", "image": "busybox", "cpu_req": 0.5}]}
    ),
}


class GatedBridge(EngineBridge):
    """The real bridge, whose operations wait at a gate the test opens (so "busy" can be
    looked at for as long as the test likes)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.sent: list[str] = []

    def run(
        self,
        what: str,
        op: Callable[[Engine], Awaitable[Any]],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Kube9Error], None] | None = None,
    ) -> asyncio.Task[Any]:
        self.sent.append(what)

        async def gated(engine: Engine) -> Any:
            await self.gate.wait()
            return await op(engine)

        return super().run(what, gated, on_done, on_error)


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data", grace_period=1.0)


@pytest.fixture
def worker(ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot) -> None:
    run_async(ui_engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4}))
    qtbot.waitUntil(lambda: ui_engine.nodes()[0].status == "healthy", timeout=5000)


@pytest.fixture
def gated(ui_engine: Engine, worker: None) -> Iterator[GatedBridge]:
    bridge = GatedBridge()
    bridge.attach(ui_engine)
    yield bridge
    bridge.detach()


def open_filled(qtbot: QtBot, kind: str, bridge: EngineBridge) -> EngineForm:
    """The form of ``kind``, active, with valid input typed in as a user would."""
    form = FORMS[kind](bridge)
    qtbot.addWidget(form)
    form.open()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    qtbot.keyClicks(field(form, "name"), NAMES[kind])
    if kind == "node":
        qtbot.keyClicks(field(form, "cpu"), "1")
    else:
        table = form.findChild(QTableWidget, "containers")
        assert table is not None
        for col, text in enumerate(("c", "busybox", "0.5")):
            edit_cell(qtbot, table, 0, col, text)
    assert submit(form).isEnabled(), form.validation_errors()
    return form


def field(form: EngineForm, name: str) -> QLineEdit:
    widget = form.findChild(QLineEdit, name)
    assert widget is not None, name
    return widget


def submit(form: EngineForm) -> QPushButton:
    button = form.findChild(QPushButton, "submit")
    assert button is not None
    return button


def shown(form: EngineForm, name: str) -> str:
    label = form.findChild(QLabel, name)
    assert label is not None, name
    return label.text() if label.isVisible() else ""


@pytest.mark.parametrize("kind", ["node", "pod"])
def test_busy_while_the_engine_works_then_closes(
    kind: str, gated: GatedBridge, ui_engine: Engine, qtbot: QtBot
) -> None:
    form = open_filled(qtbot, kind, gated)
    qtbot.mouseClick(submit(form), Qt.MouseButton.LeftButton)
    doing = "Adding node w9…" if kind == "node" else "Creating pod p9…"
    assert shown(form, "status") == doing
    assert not field(form, "name").isEnabled() and not submit(form).isEnabled()
    qtbot.keyClick(form, Qt.Key.Key_Return)  # a second try while busy sends nothing
    assert gated.sent == [form.operation(form.body()).what]
    gated.gate.set()
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert form.created is not None and form.created.view.name == NAMES[kind]
    names = [v.name for v in (ui_engine.nodes() if kind == "node" else ui_engine.pods())]
    assert names.count(NAMES[kind]) == 1


@pytest.mark.parametrize("kind", ["node", "pod"])
def test_the_engines_refusal_lands_at_its_field(
    kind: str, gated: GatedBridge, qtbot: QtBot, run_async: Callable[..., Any]
) -> None:
    form = open_filled(qtbot, kind, gated)
    qtbot.mouseClick(submit(form), Qt.MouseButton.LeftButton)
    assert gated.engine is not None
    run_async(CREATE[kind](gated.engine))  # the name is taken while the form's request waits
    gated.gate.set()
    qtbot.waitUntil(lambda: "already exists" in shown(form, "name_error"), timeout=5000)
    assert form.isVisible() and form.result() == QDialog.DialogCode.Rejected
    assert shown(form, "status") == "" and field(form, "name").isEnabled()
    assert field(form, "name").hasFocus()
    assert not submit(form).isEnabled()
    # Fixing the field clears the message and the form can be sent again.
    qtbot.keyClicks(field(form, "name"), "b")
    assert shown(form, "name_error") == "" and submit(form).isEnabled()


@pytest.mark.parametrize("kind", ["node", "pod"])
def test_an_operation_that_dies_leaves_the_form_usable(kind: str, aloop: Any, qtbot: QtBot) -> None:
    bridge = FakeBridge()  # attached, but its engine is gone when the operation runs
    bridge.attach_fake()
    form = open_filled(qtbot, kind, bridge)
    qtbot.mouseClick(submit(form), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "did not finish" in shown(form, "form_error"), timeout=5000)
    assert form.isVisible() and shown(form, "status") == ""
    assert field(form, "name").isEnabled() and submit(form).isEnabled()


@pytest.mark.parametrize("kind", ["node", "pod"])
def test_nothing_is_sent_before_the_engine_runs(kind: str, qtbot: QtBot) -> None:
    bridge = GatedBridge()
    form = open_filled(qtbot, kind, bridge)
    qtbot.mouseClick(submit(form), Qt.MouseButton.LeftButton)
    assert "not running yet" in shown(form, "form_error")
    assert bridge.sent == [] and submit(form).isEnabled()


@pytest.mark.parametrize("kind", ["node", "pod"])
def test_the_name_check_asks_the_engine_instead_of_scanning(
    kind: str, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge = FakeBridge()
    bridge.attach_fake()
    bridge.add_pod(NAMES["pod"], bridge.add_node(NAMES["node"]))

    def scan() -> list[Any]:
        raise AssertionError("the form listed every object to check one name")

    monkeypatch.setattr(bridge, "nodes", scan)
    monkeypatch.setattr(bridge, "pods", scan)
    form = FORMS[kind](bridge)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    qtbot.keyClicks(field(form, "name"), NAMES[kind])
    assert "already exists" in shown(form, "name_error")
