"""UI test fixtures: one qasync loop for the session, made the running loop per test, so that
``qtbot.waitUntil``/``waitSignal`` spin Qt and asyncio together (see NOTES.md).

Tests are synchronous; async work (engine start, operations) runs as tasks on that loop.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.preferences import Preferences
from tests.helpers import fast_settings


@pytest.fixture(autouse=True)
def gui_thread_gc() -> Iterator[None]:
    """Collect cycles only on the GUI thread (as the app does): a collection started in an
    executor thread would destroy Qt objects there and crash the event loop later."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


@pytest.fixture(scope="session")
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    yield loop
    # Never stop()/close() it (that quits the QApplication); just release its threads.
    executor: Executor | None = getattr(loop, "_QEventLoop__default_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture
def aloop(qloop: qasync.QEventLoop) -> Iterator[qasync.QEventLoop]:
    """The qasync loop as the running loop for this (synchronous) test only."""
    asyncio.events._set_running_loop(qloop)
    asyncio.set_event_loop(qloop)
    try:
        yield qloop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


@pytest.fixture
def run_async(aloop: qasync.QEventLoop, qtbot: QtBot) -> Callable[..., Any]:
    """Run a coroutine to completion by spinning Qt (the only way to wait in a UI test)."""

    def run(coro: Any, timeout: float = 15.0) -> Any:
        task = aloop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return run


@pytest.fixture
def qsettings(tmp_path: Path) -> Iterator[QSettings]:
    """QSettings isolated per test (an INI file under tmp_path)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    app = QApplication.instance()
    assert app is not None
    app.setOrganizationName("Kube9Test")
    app.setApplicationName("Kube-9 Desktop Test")
    s = QSettings()
    s.clear()
    yield s
    s.clear()
    s.sync()


@pytest.fixture
def prefs(qsettings: QSettings) -> Preferences:
    return Preferences(qsettings)


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data")


@pytest.fixture
def ui_engine(ui_settings: Settings, run_async: Callable[..., Any]) -> Iterator[Engine]:
    """A started engine (virtual runtime, fast heartbeats) on the qasync loop."""
    engine = Engine(ui_settings)
    run_async(start_engine(engine))
    try:
        yield engine
    finally:
        run_async(engine.stop())


@pytest.fixture
def bridge(ui_engine: Engine, qtbot: QtBot) -> Iterator[EngineBridge]:
    b = EngineBridge()
    b.attach(ui_engine)
    yield b
    b.detach()
