"""The main window: start-up, the demo cluster, the status bar, errors, and its layout and
settings surviving a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import ClusterSummary, Resources
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import Column
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.status_bar import ClusterStatusBar
from tests.ui.helpers import (
    FakeBridge,
    cell,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    demo_settings,
    names_in,
    open_window,
    parent_name,
    press,
    tree_model,
    type_text,
    wait_demo_placed,
    window_fixture,  # noqa: F401
)


def test_the_window_says_it_is_starting_then_shows_the_demo_cluster(
    qtbot: QtBot, prefs: Preferences, tmp_path: Path, run_async: Callable[..., Any]
) -> None:
    settings = demo_settings(tmp_path)
    bridge = EngineBridge()
    window = open_window(qtbot, bridge, prefs, settings)
    assert window.windowTitle() == "Kube-9 Desktop"
    assert window.pages.currentWidget() is window.startup
    assert child(window, QLabel, "StartupHeadline").text() == "Starting the engine…"
    bridge.progress_reported.emit("Building the node image: step 3/7")  # long work, shown
    assert child(window, QLabel, "StartupProgress").text() == "Building the node image: step 3/7"

    engine = Engine(settings)  # what app.py does: the window first, the engine behind it
    run_async(start_engine(engine))
    try:
        bridge.attach(engine)
        assert window.pages.currentWidget() is window.splitter
        wait_demo_placed(qtbot, engine)
        model = tree_model(window)
        qtbot.waitUntil(lambda: parent_name(model, "metrics") is not None)
        shown = [model.index(r, 0).data() for r in range(model.rowCount())]
        assert shown == ["worker-1", "worker-2", "worker-3", "master-1"]  # creation order
        for pod in engine.cluster.pod_views():
            assert parent_name(model, pod.name) == pod.node_name
        qtbot.waitUntil(lambda: cell(model, "worker-1", Column.STATUS) == "healthy")
        assert str(cell(model, "master-1", Column.CPU)).endswith("/0 of 2")  # used/req of alloc
    finally:
        bridge.detach()
        run_async(engine.stop())


def test_status_bar_shows_runtime_counts_and_copies_the_token(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    runtime = child(window, QLabel, "RuntimeLabel")
    counts = child(window, QLabel, "CountsLabel")
    qtbot.waitUntil(lambda: counts.text() == "4 nodes · 6 pods")
    assert runtime.text().startswith("Runtime: virtual")
    assert child(window, QLabel, "ApiLabel").text() == f"API: {demo.api_url}"
    assert child(window, QLabel, "HeartbeatRateLabel").text().endswith("heartbeats/s")
    assert not child(window, QLabel, "EvictionsPausedLabel").isVisible()
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    click(qtbot, child(window, QWidget, "CopyTokenButton"))
    assert clipboard.text() == demo.admin_token == "test-admin-token"


def test_status_bar_says_when_evictions_are_paused_and_why_the_runtime(qtbot: QtBot) -> None:
    bridge = FakeBridge()
    summary = ClusterSummary(
        nodes_by_status={"healthy": 1, "unhealthy": 2},
        pods_by_phase={"pending": 2},
        capacity=Resources(),
        allocated=Resources(),
        node_count=3,
        pod_count=5,
        runtime="process",
        runtime_reason="Docker not available (no daemon): using local processes",
        evictions_paused=True,
    )
    bridge.summary = lambda: summary  # type: ignore[method-assign]
    bar = ClusterStatusBar(bridge)
    qtbot.addWidget(bar)
    bar.show()
    bridge.attach_fake()
    assert bar.paused.isVisible() and bar.paused.text() == "evictions paused"
    assert bar.runtime.text() == (
        "Runtime: process — Docker not available (no daemon): using local processes"
    )
    assert bar.counts.text() == "3 nodes (2 not healthy) · 5 pods (2 pending)"
    # A narrow window ends the runtime's reason in "…" rather than cutting it mid-word.
    bar.resize(1600, bar.height())
    qtbot.waitUntil(lambda: bar.runtime.shown_text() == bar.runtime.text())
    bar.resize(1600 - bar.runtime.width() + 200, bar.height())  # 200 px left for it
    qtbot.waitUntil(lambda: bar.runtime.shown_text() != bar.runtime.text())
    shown = bar.runtime.shown_text()
    assert shown.endswith("…") and bar.runtime.text().startswith(shown[:-1])
    assert "Docker not available (no daemon): using local processes" in bar.runtime.toolTip()


def test_filter_box_filters_the_tree(qtbot: QtBot, window: MainWindow) -> None:
    model = tree_model(window)
    press(qtbot, window, "Ctrl+F")
    assert window.cluster.filter.hasFocus()
    type_text(qtbot, window.cluster.filter, "nginx")  # matches the web pods' image
    qtbot.waitUntil(lambda: window.cluster.proxy.filterRegularExpression().pattern() != "")
    names = names_in(model)
    assert {"web-1", "web-2"} <= names
    assert not {"api-1", "cache-1", "metrics", "master-1"} & names
    window.cluster.filter.clear()
    qtbot.waitUntil(lambda: names_in(model) >= {"api-1", "master-1", "metrics"})


def test_startup_errors_say_what_to_do(qtbot: QtBot, prefs: Preferences, tmp_path: Path) -> None:
    window = open_window(qtbot, EngineBridge(), prefs, demo_settings(tmp_path))
    window.show_startup_error("Port 5000 is already in use by another program")
    error = child(window, QLabel, "StartupError")
    assert error.isVisible()
    assert "Port 5000 is already in use" in error.text()
    assert "What you can do" in error.text() and "--port 0" in error.text()
    log = child(window, QLabel, "StartupLogPath")
    assert log.text() == str(tmp_path / "data" / "logs" / "kube9.log")
    assert log.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    quit_button = child(window, QPushButton, "StartupQuit")
    with qtbot.waitSignal(window.quit_requested, timeout=2000):
        click(qtbot, quit_button)


def test_bugs_open_the_crash_dialog_with_the_log_path(
    qtbot: QtBot, prefs: Preferences, tmp_path: Path
) -> None:
    window = open_window(qtbot, EngineBridge(), prefs, demo_settings(tmp_path))
    window.show_crash("ValueError: something impossible", "/var/log/kube9.log")
    box = child(window, QMessageBox, "CrashDialog")
    qtbot.waitExposed(box)
    assert "ValueError: something impossible" in box.informativeText()
    assert "/var/log/kube9.log" in box.informativeText()
    click(qtbot, box.button(QMessageBox.StandardButton.Close))
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "CrashDialog") is None)


def test_layout_and_settings_persist_across_a_restart(
    qtbot: QtBot,
    window: MainWindow,
    demo: Engine,
    demo_bridge: EngineBridge,
    prefs: Preferences,
    qsettings: QSettings,
) -> None:
    window.resize(777, 555)  # within the offscreen screen (800 x 800)
    events = child(window, QDockWidget, "EventsDock")
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, events)
    charts = child(window, QDockWidget, "ChartsDock")
    charts.hide()

    press(qtbot, window, "Ctrl+,")  # Settings
    dialog = child(window, SettingsDialog, "SettingsDialog")
    qtbot.waitExposed(dialog)
    child(dialog, QComboBox, "scheduler").setCurrentText("worst-fit")
    click(qtbot, child(dialog, QPushButton, "submit"))
    qtbot.waitUntil(lambda: demo.summary().scheduler == "worst-fit")  # applied at once
    assert "Applied now: scheduler worst-fit" in child(window, QLabel, "MessageText").text()
    window.close()  # saves the layout

    settings = prefs.apply_to(Settings(data_dir=demo.settings.data_dir))  # as app.py does
    assert settings.scheduler == "worst-fit"
    again = open_window(qtbot, demo_bridge, prefs, settings)
    assert (again.width(), again.height()) == (777, 555)
    assert again.dockWidgetArea(child(again, QDockWidget, "EventsDock")) == (
        Qt.DockWidgetArea.LeftDockWidgetArea
    )
    assert child(again, QDockWidget, "ChartsDock").isHidden()
    press(qtbot, again, "Ctrl+,")
    dialog = child(again, SettingsDialog, "SettingsDialog")
    assert child(dialog, QComboBox, "scheduler").currentText() == "worst-fit"
    dialog.reject()


def test_status_bar_shows_the_docker_engines_and_the_cause_of_one_that_is_down(
    qtbot: QtBot,
) -> None:
    from kube9_desktop.engine.engine_ops import EngineInfo

    bridge = FakeBridge()
    summary = ClusterSummary(
        nodes_by_status={"healthy": 1}, pods_by_phase={}, capacity=Resources(),
        allocated=Resources(), node_count=2, pod_count=0, runtime="docker",
    )  # fmt: skip
    engines = [
        EngineInfo("local", "unix:///var/run/docker.sock", "up", 1, "", "http://127.0.0.1:5000", 3.0),
        EngineInfo("lab", "ssh://me@lab", "down", 1,
                   "Docker engine lab (ssh://me@lab) cannot be reached over SSH: Connection refused",
                   "http://10.0.0.1:5000", 1.0),
    ]  # fmt: skip
    bridge.summary = lambda: summary  # type: ignore[method-assign]
    bridge.engines = lambda: engines  # type: ignore[method-assign]
    bar = ClusterStatusBar(bridge)
    qtbot.addWidget(bar)
    bar.show()
    bridge.attach_fake()
    assert bar.engines.isVisible() and bar.engines.text() == "engines 1/2 up"
    tip = bar.engines.toolTip()
    assert "lab (ssh://me@lab): down, 1 node(s), agents reach http://10.0.0.1:5000" in tip
    assert "Connection refused" in tip
    engines[1] = EngineInfo("lab", "ssh://me@lab", "up", 1, "", "http://10.0.0.1:5000", 0.0)
    bar.refresh()
    assert (
        bar.engines.text() == "engines 2/2 up" and "Connection refused" not in bar.engines.toolTip()
    )
