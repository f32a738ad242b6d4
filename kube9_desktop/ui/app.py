"""The desktop app: QApplication, one qasync loop for Qt + engine + API, theme, shutdown.

The window appears at once; the engine starts behind it (runtime selection, image builds)
and the bridge attaches when it is up. Closing the window stops the nodes and the engine.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

import qasync
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kube9_desktop import __version__
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, StoreInUse
from kube9_desktop.logs import log_path
from kube9_desktop.resources import icon_path
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.theme import apply_theme

log = logging.getLogger(__name__)
APP_NAME = "Kube-9 Desktop"
ORG_NAME = "Kube9"


def make_application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("kube9-desktop")
    icon = icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))  # every window and dialog
    return app


async def run_window(app: QApplication, settings: Settings, prefs: Preferences) -> int:
    """Show the window, start the engine behind it, and run until the user quits."""
    from kube9_desktop.ui.main_window import MainWindow

    quit_requested = asyncio.Event()
    bridge = EngineBridge()
    window = MainWindow(bridge, prefs, settings)
    window.quit_requested.connect(quit_requested.set)
    app.lastWindowClosed.connect(quit_requested.set)
    window.show()
    install_crash_handlers(window, settings)
    # SIGTERM/SIGINT (logout, kill, Ctrl+C in the terminal) quit cleanly: nodes are stopped.
    # qasync has no add_signal_handler; a plain handler runs as soon as Python code does
    # (the engine's timers see to that several times a second).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: quit_requested.set())

    engine = Engine(settings)
    engine_task = asyncio.ensure_future(start_engine(engine))
    engine_task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
    quitting = asyncio.ensure_future(quit_requested.wait())
    done, _ = await asyncio.wait({engine_task, quitting}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if engine_task in done and engine_task.exception() is None:
        bridge.attach(engine)
        await quitting
    elif engine_task in done:
        exc = engine_task.exception()
        message = exc.message if isinstance(exc, Kube9Error) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, Kube9Error):
            log.error("engine failed to start", exc_info=exc)
        if isinstance(exc, StoreInUse):  # another engine runs this cluster: say so, then quit
            window.show_store_locked(message)
        else:
            window.show_startup_error(message)
        await quitting
        code = 2
    else:
        engine_task.cancel()
    window.save_state()
    bridge.detach()
    await engine.stop()
    window.deleteLater()
    return code


def install_crash_handlers(window: Any, settings: Settings) -> None:
    """Bugs go to a crash dialog with the log path, never to a silent death."""
    path = log_path(settings.data_dir)

    def report(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.critical("unhandled exception", exc_info=(exc_type, exc, tb))
        window.show_crash(f"{exc_type.__name__}: {exc}", str(path))

    sys.excepthook = report

    def loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return
        log.error("event loop error: %s", context.get("message"), exc_info=exc)
        if isinstance(exc, Exception):
            window.show_crash(f"{type(exc).__name__}: {exc}", str(path))

    asyncio.get_event_loop().set_exception_handler(loop_handler)


def run_gui(settings: Settings, explicit: Any = None) -> int:
    app = make_application()
    app.setQuitOnLastWindowClosed(False)
    # Executor threads (qasync, Docker calls) would otherwise run cyclic collections that
    # destroy Qt objects off the GUI thread; collect on a GUI-thread timer instead.
    collector = GarbageCollector(interval=1.0)  # noqa: F841 - lives as long as the app
    prefs = Preferences()
    settings = prefs.apply_to(settings, explicit)
    apply_theme(app, settings.theme)
    coro = run_window(app, settings, prefs)
    if sys.version_info >= (3, 12):
        return asyncio.run(coro, loop_factory=qasync.QEventLoop)
    return int(qasync.run(coro))
