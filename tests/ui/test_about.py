"""AboutDialog shows the version, the runtime and why, and the paths a user may need."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kube9_desktop import __version__
from kube9_desktop.logs import log_path
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.about import AboutDialog


def label(dialog: AboutDialog, name: str) -> str:
    widget = dialog.findChild(QLabel, name)
    assert widget is not None, name
    return widget.text()


def test_about_shows_version_runtime_and_paths(
    bridge: EngineBridge, ui_settings: Settings, qtbot: QtBot
) -> None:
    dialog = AboutDialog(bridge, ui_settings)
    qtbot.addWidget(dialog)
    dialog.open()
    assert label(dialog, "version") == __version__
    assert label(dialog, "data_dir") == str(ui_settings.data_dir)
    assert label(dialog, "runtime").startswith("virtual")
    assert label(dialog, "api_url") == bridge.api_url and bridge.api_url.startswith("http://")
    assert label(dialog, "log_path") == str(log_path(ui_settings.data_dir))


def test_about_before_the_engine_is_up(ui_settings: Settings, qtbot: QtBot) -> None:
    dialog = AboutDialog(EngineBridge(), ui_settings)
    qtbot.addWidget(dialog)
    assert "starting" in label(dialog, "runtime")
    assert label(dialog, "version") == __version__
