"""What the window loaded from an engine stays out of garbage collections until it detaches."""

from __future__ import annotations

import gc

from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.preferences import Preferences


def test_the_loaded_cluster_is_frozen_once_attached_and_given_back_on_detach(
    qtbot: QtBot, ui_engine: Engine, prefs: Preferences, ui_settings: Settings
) -> None:
    bridge = EngineBridge()
    window = MainWindow(bridge, prefs, ui_settings)
    qtbot.addWidget(window)
    gc.unfreeze()
    detached: list[bool] = []
    bridge.engine_detached.connect(lambda: detached.append(True))
    bridge.attach(ui_engine)
    try:
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)
    finally:
        bridge.detach()
    assert detached == [True] and gc.get_freeze_count() == 0
    bridge.detach()  # detaching again says nothing
    assert detached == [True]
