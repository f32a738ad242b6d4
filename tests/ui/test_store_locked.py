"""A second app on a cluster another engine runs: a dialog names that engine, then the app quits."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui import app as app_module
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.preferences import Preferences
from tests.ui.helpers import child, click


def _window() -> MainWindow | None:
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return windows[0] if windows else None


def test_a_second_app_on_a_running_cluster_says_who_runs_it_and_quits(
    qtbot: QtBot,
    qapp: QApplication,
    aloop: qasync.QEventLoop,
    ui_engine: Engine,
    ui_settings: Settings,
    prefs: Preferences,
    run_async: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # run_window is the real start-up; keep its process-wide hooks out of the test session.
    monkeypatch.setattr(app_module, "install_crash_handlers", lambda *_: None)
    monkeypatch.setattr(app_module.signal, "signal", lambda *_: None)
    second = aloop.create_task(app_module.run_window(qapp, ui_settings, prefs))

    def dialog() -> QMessageBox | None:
        window = _window()
        return None if window is None else window.findChild(QMessageBox, "StoreLockedDialog")

    qtbot.waitUntil(lambda: (box := dialog()) is not None and box.isVisible(), timeout=15000)
    box = dialog()
    assert box is not None
    assert f"pid {os.getpid()}" in box.text()
    assert ui_engine.api_url in box.text()
    assert "another --data-dir" in box.text()
    window = _window()
    assert window is not None
    assert ui_engine.api_url in child(window, QLabel, "StartupError").text()  # behind the dialog

    click(qtbot, box.button(QMessageBox.StandardButton.Close))
    qtbot.waitUntil(second.done, timeout=15000)
    assert second.result() == 2

    # The engine already running was left alone: it still holds its store and works.
    assert ui_engine.store_lock is not None
    created = run_async(
        ui_engine.create_node_from_json({"name": "still-mine", "cpu_cores_avail": 1})
    )
    assert created.view.name == "still-mine"
