"""Every form's captions: no literal "&", each mnemonic (Alt+letter) puts the keyboard in its
field, and each form opens with the keyboard in its first field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.settings import Settings
from kube9_desktop.ui.dialogs.deployment_form import DeploymentForm
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.service_form import ServiceForm
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.preferences import Preferences
from tests.ui.fake_bridge import FakeBridge

FORMS: dict[str, tuple[str, Callable[[FakeBridge, Preferences, Path], QDialog]]] = {
    "node": ("name", lambda b, _p, _d: NodeForm(b)),
    "pod": ("name", lambda b, _p, _d: PodForm(b)),
    "deployment": ("name", lambda b, _p, _d: DeploymentForm(b)),
    "service": ("name", lambda b, _p, _d: ServiceForm(b)),
    "settings": ("heartbeat_interval", lambda _b, p, d: SettingsDialog(p, Settings(data_dir=d))),
}


def open_form(qtbot: QtBot, kind: str, prefs: Preferences, tmp_path: Path) -> QDialog:
    bridge = FakeBridge()
    bridge.attach_fake()
    bridge.add_node("w1")
    dialog = FORMS[kind][1](bridge, prefs, tmp_path)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def mnemonic(text: str) -> str | None:
    """The letter after a single "&" ("Pod &CPU" -> "C"); None when the caption has none."""
    i = text.replace("&&", "").find("&")
    return None if i < 0 else text.replace("&&", "")[i + 1].upper()


def captions(dialog: QDialog) -> list[QLabel]:
    return [label for label in dialog.findChildren(QLabel) if label.isVisible()]


@pytest.mark.parametrize("kind", list(FORMS))
def test_captions_show_no_ampersand_and_mnemonics_focus_their_field(
    kind: str, qtbot: QtBot, prefs: Preferences, tmp_path: Path
) -> None:
    dialog = open_form(qtbot, kind, prefs, tmp_path)
    with_mnemonic = [label for label in captions(dialog) if mnemonic(label.text())]
    assert len(with_mnemonic) >= 4, kind
    letters = [mnemonic(label.text()) for label in with_mnemonic]
    assert len(set(letters)) == len(letters), f"{kind}: a letter used twice: {letters}"
    for label in with_mnemonic:
        # A label draws "&" as an underline only with a buddy and plain text; else literally.
        buddy = label.buddy()
        assert buddy is not None, f"{kind}: {label.text()!r} would show its '&'"
        assert label.textFormat() != Qt.TextFormat.RichText
    for label in with_mnemonic:
        buddy = label.buddy()
        assert isinstance(buddy, QWidget)
        letter = mnemonic(label.text())
        assert letter is not None
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, getattr(Qt.Key, f"Key_{letter}"), Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(buddy.hasFocus)


@pytest.mark.parametrize("kind", list(FORMS))
def test_every_form_opens_with_the_keyboard_in_its_first_field(
    kind: str, qtbot: QtBot, prefs: Preferences, tmp_path: Path
) -> None:
    dialog = open_form(qtbot, kind, prefs, tmp_path)
    # The Deployment form's hidden pod template has a "name" field of its own: not that one.
    (first,) = [w for w in dialog.findChildren(QWidget, FORMS[kind][0]) if w.isVisible()]
    qtbot.waitUntil(first.hasFocus)
