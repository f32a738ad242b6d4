"""On a 1024x700 screen a dialog cannot grow to fit a forty-line error: its body scrolls, the
whole message can be read, and OK/Cancel stay on the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QPushButton, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.errors import UserError
from kube9_desktop.settings import Settings
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.preferences import Preferences
from tests.ui.fake_bridge import FakeBridge

SCREEN = QRect(0, 0, 1024, 700)
LONG = "\n".join(
    f"line {i}: this refusal is long enough to wrap in a narrow dialog, and all of it matters"
    for i in range(40)
)


@pytest.fixture(autouse=True)
def small_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen a 1024x700 laptop (or VM) gives a dialog."""
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(SCREEN))


def shown(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def fake() -> FakeBridge:
    bridge = FakeBridge()
    bridge.attach_fake()
    bridge.add_node("w1")
    return bridge


def on_screen(dialog: QDialog, widget: QWidget) -> bool:
    """``widget`` lies inside the dialog, and the dialog inside the screen."""
    top_left = widget.mapTo(dialog, QPoint(0, 0))
    inside = dialog.rect().contains(QRect(top_left, widget.size()))
    return inside and SCREEN.contains(dialog.frameGeometry())


def readable(qtbot: QtBot, dialog: QDialog, label: QLabel, buttons: list[QPushButton]) -> None:
    """All of ``label``'s lines are laid out, scrolling brings its last line into view, and
    the buttons stay on the screen."""
    qtbot.waitUntil(lambda: label.isVisible() and label.text() == LONG)
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert dialog.height() <= SCREEN.height()
    for button in buttons:
        assert button.isVisible() and on_screen(dialog, button), button.text()
    scroll = next(s for s in dialog.findChildren(QScrollArea) if s.isAncestorOf(label))
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0  # it does scroll: the message is taller than the room
    # Only downwards: the dialog grew as wide as its lines (it opened at 200 px once).
    assert not scroll.horizontalScrollBar().isVisible()
    assert dialog.width() >= min(dialog.sizeHint().width(), SCREEN.width())
    bar.setValue(bar.maximum())
    bottom = label.mapTo(scroll.viewport(), QPoint(0, label.height())).y()
    assert bottom <= scroll.viewport().height()
    bar.setValue(0)
    assert label.mapTo(scroll.viewport(), QPoint(0, 0)).y() < scroll.viewport().height()


def test_the_pod_form_scrolls_to_a_long_refusal(qtbot: QtBot) -> None:
    form = shown(qtbot, PodForm(fake()))
    assert isinstance(form, PodForm)
    form._on_refused(UserError(LONG))  # as the bridge hands it over
    label = form.findChild(QLabel, "form_error")
    assert label is not None
    # Below the fields: where the message starts is in view.
    viewport = form.body_scroll.viewport()
    qtbot.waitUntil(lambda: 0 <= label.mapTo(viewport, QPoint(0, 0)).y() < viewport.height())
    cancel = form.buttons.button(form.buttons.StandardButton.Cancel)
    assert cancel is not None
    readable(qtbot, form, label, [form.submit, cancel])


def test_the_node_form_scrolls_to_a_long_field_error(qtbot: QtBot) -> None:
    form = shown(qtbot, NodeForm(fake()))
    assert isinstance(form, NodeForm)
    form._on_refused(UserError(LONG, field="name"))
    label = form.findChild(QLabel, "name_error")
    assert label is not None
    cancel = form.buttons.button(form.buttons.StandardButton.Cancel)
    assert cancel is not None
    readable(qtbot, form, label, [form.submit, cancel])


def test_the_settings_dialog_scrolls_to_a_long_error(
    qtbot: QtBot, prefs: Preferences, tmp_path: Path
) -> None:
    dialog = shown(qtbot, SettingsDialog(prefs, Settings(data_dir=tmp_path)))
    assert isinstance(dialog, SettingsDialog)
    dialog.validation_error = lambda: LONG  # type: ignore[method-assign]
    dialog.grace_period.setValue(5.0)  # any edit revalidates
    label = dialog.findChild(QLabel, "grace_period_error")
    assert label is not None
    cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
    assert cancel is not None
    readable(qtbot, dialog, label, [dialog.submit, cancel])
