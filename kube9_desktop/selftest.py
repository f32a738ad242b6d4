"""``kube9-desktop --self-test``: check this installation end to end in a few seconds.

A real engine on the process runtime (real agent processes: in a PyInstaller bundle, the
bundle's own ``agent`` command), a temporary data directory and a free port. It creates two
nodes and a pod, crashes the pod's node, waits until the pod runs elsewhere and the node is
back, opens the main window offscreen on the live engine, closes it, stops everything and
checks that no agent or pod process is left behind.

Each step prints one ``ok``/``FAILED`` line with its time; the exit code is 0, or the number
of the first step that failed. The engine's log goes to the temporary directory, and its tail
is printed when a step fails (the directory is deleted afterwards).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.serve import start_engine

log = logging.getLogger(__name__)

# The steps, numbered from 1 in this order; a failing step's number is the exit code.
STEPS = (
    "engine started",
    "two nodes healthy",
    "pod running",
    "node crash detected",
    "pod rescheduled",
    "node recovered",
    "main window",
    "clean shutdown",
)
HEARTBEAT_S = 0.25
GRACE_S = 1.5
NODE_TIMEOUT_S = 30.0
STEP_TIMEOUT_S = 20.0
WINDOW_SECONDS = 1.0
POLL_S = 0.05
NODE_NAMES = ("selftest-1", "selftest-2")
POD_NAME = "selftest-pod"
LOG_TAIL_LINES = 15


class StepFailed(Exception):
    """A step did not do what it should; the message says what was seen."""


@dataclass
class Report:
    out: Any = field(default_factory=lambda: sys.stdout)
    failed: int = 0  # number of the first failed step
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextlib.asynccontextmanager
    async def step(self, number: int) -> AsyncIterator[list[str]]:
        """Time one step; the body appends details to the yielded list; failures are recorded."""
        name = STEPS[number - 1]
        detail: list[str] = []
        t0 = time.monotonic()
        try:
            yield detail
        except Exception as exc:
            message = str(exc) if isinstance(exc, StepFailed) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, StepFailed):
                log.error("self-test step %d (%s) failed", number, name, exc_info=exc)
            self.line(f"FAILED {number}. {name}: {message} ({time.monotonic() - t0:.2f} s)")
            self.failures.append(f"{number}. {name}")
            self.failed = self.failed or number
            raise StepFailed(message) from exc
        extra = f": {'; '.join(detail)}" if detail else ""
        self.line(f"ok     {number}. {name}{extra} ({time.monotonic() - t0:.2f} s)")


async def wait_until(cond: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise StepFailed(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(POLL_S)


def processes_of(folder: Path) -> list[int]:
    """Live processes (not zombies) working under ``folder``: agents and their pods."""
    root = str(folder)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
            if stat[stat.rfind(")") + 2 :].startswith(("Z", "X")):
                continue
            cwd = os.readlink(entry / "cwd")
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if cwd.startswith(root) or f"KUBE9_WORK_DIR={root}".encode() in env:
            found.append(int(entry.name))
    return found


def _where() -> str:
    if getattr(sys, "frozen", False):
        return f"bundle {Path(sys.executable).resolve().parent}"
    return f"Python {sys.version.split()[0]} at {sys.executable}"


@contextlib.contextmanager
def _captured_errors() -> Iterator[list[str]]:
    """Exceptions raised in Qt slots (sys.excepthook) while the window is open."""
    errors: list[str] = []
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.error("exception in the window", exc_info=(exc_type, exc, tb))
        errors.append(f"{exc_type.__name__}: {exc}")

    sys.excepthook = hook
    try:
        yield errors
    finally:
        sys.excepthook = previous


class Scenario:
    def __init__(self, report: Report, data_dir: Path, qt_error: str | None) -> None:
        self.report = report
        self.data_dir = data_dir
        self.qt_error = qt_error
        self.engine: Any = None
        self.agent_pids: set[int] = set()
        self.loop_errors: list[str] = []

    async def run(self) -> None:
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        try:
            await self._cluster_steps()
        except StepFailed:
            pass
        finally:
            with contextlib.suppress(StepFailed):
                await self._shutdown_step()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return
        log.error("event loop error: %s", context.get("message"), exc_info=exc)
        self.loop_errors.append(f"{context.get('message')}: {exc!r}")

    def _pid(self, node_id: int) -> int | None:
        """The node's agent pid (the process runtime's own notion)."""
        pid: Any = getattr(self.engine.runtime, "pid", lambda _: None)(node_id)
        return pid if isinstance(pid, int) else None

    def _remember_agents(self) -> None:
        for node_id in list(self.engine.cluster.state.nodes):
            pid = self._pid(node_id)
            if pid is not None:
                self.agent_pids.add(pid)

    async def _cluster_steps(self) -> None:
        from kube9_desktop.engine.core import Engine
        from kube9_desktop.engine.model import NodeStatus, PodPhase
        from kube9_desktop.settings import Settings

        r = self.report
        async with r.step(1) as detail:
            settings = Settings(
                data_dir=self.data_dir,
                db_url=f"sqlite:///{self.data_dir / 'cluster.db'}",
                api_token=None,
                host="127.0.0.1",
                port=0,
                runtime="process",
                cluster_name=f"selftest-{os.getpid()}",
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                recovery_backoff=0.2,
                startup_timeout=NODE_TIMEOUT_S,
                heartbeat_flush_interval=1.0,
            )
            self.engine = engine = Engine(settings)
            await start_engine(engine)
            if engine.runtime.name != "process":
                raise StepFailed(f"runtime is {engine.runtime.name}, expected process")
            await self._check_healthz(engine.api_url)
            detail.append(f"process runtime, API {engine.api_url} answers /healthz")

        nodes = engine.cluster.state.nodes
        async with r.step(2) as detail:
            ids = []
            for name in NODE_NAMES:
                created = await engine.create_node_from_json({"name": name, "cpu_cores_avail": 1})
                ids.append(created.view.id)
            await wait_until(
                lambda: all(nodes[i].status is NodeStatus.HEALTHY for i in ids),
                "both agents to heartbeat",
                NODE_TIMEOUT_S,
            )
            self._remember_agents()
            detail.append(", ".join(f"{nodes[i].name} (pid {self._pid(i)})" for i in ids))

        async with r.step(3) as detail:
            created_pod = await engine.create_pod_from_json(
                {"name": POD_NAME, "cpu_cores_req": 0.5,
                 "containers": [{"name": "main", "image": "busybox", "memory_req": 64}]}
            )  # fmt: skip
            pod = engine.cluster.state.pods[created_pod.view.id]
            victim = pod.node_id
            if victim is None:
                raise StepFailed(f"pod was not bound to a node (phase {pod.phase})")
            await wait_until(lambda: pod.phase is PodPhase.RUNNING, "the agent to run the pod")
            detail.append(f"{POD_NAME} on {nodes[victim].name}")

        async with r.step(4) as detail:
            await engine.inject_fault(victim, "crash")
            await wait_until(
                lambda: nodes[victim].status is not NodeStatus.HEALTHY,
                f"{nodes[victim].name} to be seen as failed",
                GRACE_S + STEP_TIMEOUT_S,
            )
            detail.append(f"{nodes[victim].name} killed, now {nodes[victim].status}")

        async with r.step(5) as detail:
            await wait_until(
                lambda: pod.node_id not in (None, victim) and pod.phase is PodPhase.RUNNING,
                f"{POD_NAME} to run on another node",
            )
            assert pod.node_id is not None
            detail.append(f"{POD_NAME} running on {nodes[pod.node_id].name}")

        async with r.step(6) as detail:
            await wait_until(
                lambda: nodes[victim].status is NodeStatus.HEALTHY,
                f"{nodes[victim].name} to be restarted and heartbeat",
                NODE_TIMEOUT_S,
            )
            self._remember_agents()
            detail.append(f"{nodes[victim].name} healthy again (new agent pid {self._pid(victim)})")

        async with r.step(7) as detail:
            detail.append(await self._window_step())

    async def _check_healthz(self, api_url: str) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{api_url}/healthz") as response,
        ):
            if response.status != 200:
                raise StepFailed(f"GET /healthz answered {response.status}")

    async def _window_step(self) -> str:
        if self.qt_error is not None:
            raise StepFailed(f"Qt cannot start: {self.qt_error}")
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from kube9_desktop.ui.bridge import EngineBridge
        from kube9_desktop.ui.main_window import MainWindow
        from kube9_desktop.ui.preferences import Preferences

        app = QApplication.instance()
        assert app is not None
        # The user's own preferences stay untouched: the window gets a throwaway store.
        qsettings = QSettings(str(self.data_dir / "preferences.ini"), QSettings.Format.IniFormat)
        bridge = EngineBridge()
        with _captured_errors() as errors:
            window = MainWindow(bridge, Preferences(qsettings), self.engine.settings)
            try:
                window.show()
                bridge.attach(self.engine)
                await asyncio.sleep(WINDOW_SECONDS)  # coalesced updates and chart refreshes run
                if not window.isVisible():
                    raise StepFailed("the window did not become visible")
                image = window.grab()
                if image.isNull() or image.width() < 200 or image.height() < 150:
                    raise StepFailed(f"the window painted a {image.width()}x{image.height()} image")
                size = f"{image.width()}x{image.height()}"
                if window.windowIcon().pixmap(32, 32).isNull():
                    raise StepFailed(
                        "the window has no icon: resources/kube9-desktop.svg or Qt's SVG "
                        "support is missing from this installation"
                    )
                shown = len(bridge.nodes())
            finally:
                window.close()
                bridge.detach()
                window.deleteLater()
                await asyncio.sleep(0.05)
        problems = errors + self.loop_errors
        if problems:
            raise StepFailed(f"errors while the window was open: {'; '.join(problems[:3])}")
        return f"{type(window).__name__} {size} with icon, {shown} nodes shown offscreen, closed"

    async def _shutdown_step(self) -> None:
        async with self.report.step(len(STEPS)) as detail:
            if self.engine is None:
                raise StepFailed("no engine was started")
            if getattr(self.engine, "runtime", None) is not None:
                self._remember_agents()
            await self.engine.stop()
            await wait_until(
                lambda: not processes_of(self.data_dir),
                "agent and pod processes to exit",
                10.0,
            )
            alive = sorted(pid for pid in self.agent_pids if _alive(pid))
            if alive:
                raise StepFailed(f"agent processes still alive: {alive}")
            detail.append(f"engine stopped, {len(self.agent_pids)} agent process(es) all gone")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat[stat.rfind(")") + 2 :].startswith(("Z", "X"))


def _start_qt() -> tuple[Any, str | None]:
    """A QApplication on the offscreen platform, or the reason there is none."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # checks the app, never flashes a window
    try:
        from PySide6.QtCore import QtMsgType, qInstallMessageHandler

        from kube9_desktop.ui.app import make_application

        levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO}

        def to_log(kind: Any, context: Any, message: str) -> None:
            # Qt's own chatter (offscreen has no size hints, a C locale...) goes to the log.
            logging.getLogger("qt").log(levels.get(kind, logging.WARNING), "%s", message)

        qInstallMessageHandler(to_log)
        app = make_application()
        app.setQuitOnLastWindowClosed(False)
        return app, None
    except Exception as exc:
        log.error("Qt failed to start", exc_info=exc)
        return None, f"{type(exc).__name__}: {exc}"


def _run_loop(scenario: Scenario, qt_app: Any) -> None:
    if qt_app is None:
        asyncio.run(scenario.run())
        return
    import qasync

    if sys.version_info >= (3, 12):
        asyncio.run(scenario.run(), loop_factory=qasync.QEventLoop)
    else:
        qasync.run(scenario.run())


def _log_to(data_dir: Path) -> Path | None:
    """Send this run's log to the temporary directory only (the report is on stdout)."""
    from kube9_desktop.logs import setup_logging

    level = logging.getLogger().level
    return setup_logging(data_dir, logging.getLevelName(level or logging.INFO), console=False)


def _close_log_handlers() -> None:
    """Detach this run's log file before its directory is deleted."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kube9", False):
            root.removeHandler(handler)
            handler.close()


def _print_tail(report: Report, data_dir: Path, log_file: Path | None) -> None:
    files = [log_file] if log_file is not None else []
    files += sorted((data_dir / "nodes").glob("*/agent-console.log"))  # log lines and stderr
    for path in files:
        try:
            lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError:
            continue
        if lines:
            report.line(f"--- last lines of {path.relative_to(data_dir)} ---")
            for text in lines:
                report.line(f"    {text}")


def run_self_test() -> int:
    report = Report()
    report.line(f"Kube-9 Desktop {__version__} self-test ({_where()})")
    with tempfile.TemporaryDirectory(prefix="kube9-selftest-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(tmp) / "data"
        log_file = _log_to(data_dir)
        qt_app, qt_error = _start_qt()
        scenario = Scenario(report, data_dir, qt_error)
        try:
            _run_loop(scenario, qt_app)
        except Exception as exc:
            log.error("self-test crashed", exc_info=exc)
            report.line(f"FAILED the self-test itself crashed: {type(exc).__name__}: {exc}")
            report.failed = report.failed or 1
        elapsed = time.monotonic() - report.started
        if report.failed:
            _print_tail(report, data_dir, log_file)
            report.line(
                f"self-test FAILED at step {report.failures[0] if report.failures else '?'} "
                f"({len(report.failures)} failed, {elapsed:.1f} s)"
            )
        else:
            report.line(f"self-test passed: {len(STEPS)} steps in {elapsed:.1f} s")
        _close_log_handlers()
    return report.failed
