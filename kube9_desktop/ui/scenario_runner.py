"""Runs ``kube9-desktop scenario run`` in a child process for the Scenarios panel: the window
never waits on it (a QProcess reports through signals), Cancel kills it, and its error
output comes back as lines. The same command the terminal runs, so a report made in the
window is the file a student would get from the command line, byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

import kube9_desktop

PREFIX = "kube9-desktop scenario: "
TERM_GRACE_MS = 15_000  # a live run's clean stop (nodes removed) before it is killed


def scenario_command(*args: str) -> list[str]:
    """The argv of ``kube9-desktop scenario ARGS``: the frozen app runs itself (as its node
    agents do, runtime/process.py), else this interpreter runs the ``main.py`` that sits
    beside the ``kube9_desktop`` package in use (a checkout or site-packages alike)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "scenario", *args]
    entry = Path(kube9_desktop.__file__).resolve().parent.parent / "main.py"
    if entry.is_file():
        return [sys.executable, str(entry), "scenario", *args]
    return [sys.executable, "-m", "main", "scenario", *args]


def error_lines(stderr: str) -> list[str]:
    """The child's error output as the lines to show, without the program's prefix."""
    lines = []
    for line in stderr.splitlines():
        line = line.removeprefix(PREFIX).rstrip()
        if line and not line.startswith(("WARNING ", "INFO ")):
            lines.append(line)
    return lines


class ScenarioProcess(QObject):
    """One child process at a time: ``start`` a run, ``cancel`` it, hear how it ended."""

    finished = Signal()  # exit 0: the reports are written
    failed = Signal(list)  # the error lines (exit status not 0, or it could not start)
    cancelled = Signal()
    said = Signal(str)  # a line of the child's standard output (a live run's URLs)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self._cancelling = False
        self._out = b""
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval(TERM_GRACE_MS)
        self._kill_timer.timeout.connect(self._on_kill_timer_timeout)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, args: list[str]) -> None:
        if self.process is not None:
            raise RuntimeError("a scenario is already running")
        argv = scenario_command(*args)
        process = QProcess(self)
        process.setProgram(argv[0])
        process.setArguments(argv[1:])
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        process.readyReadStandardOutput.connect(self._on_process_ready_read_standard_output)
        self.process = process
        self._cancelling = False
        self._out = b""
        process.start()

    def cancel(self) -> None:
        """SIGTERM first: a live run then removes its nodes (agents, containers) and stops its
        engine before it exits; a child still there after ``TERM_GRACE_MS`` is killed."""
        if self.process is not None:
            self._cancelling = True
            self.process.terminate()
            self._kill_timer.start()

    def stop(self) -> None:
        """End a run and wait for it (the window is closing): SIGTERM, then SIGKILL."""
        process, self.process = self.process, None
        self._kill_timer.stop()
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.blockSignals(True)
            process.terminate()
            if not process.waitForFinished(TERM_GRACE_MS):
                process.kill()
                process.waitForFinished(3000)

    def _on_kill_timer_timeout(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _on_process_ready_read_standard_output(self) -> None:
        if self.process is None:
            return
        self._out += bytes(self.process.readAllStandardOutput().data())
        *lines, self._out = self._out.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self.said.emit(text)

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self.process = self.process, None
        self._kill_timer.stop()
        if process is None:
            return
        stderr = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        process.deleteLater()
        if self._cancelling:
            self.cancelled.emit()
        elif status is QProcess.ExitStatus.NormalExit and code == 0:
            self.finished.emit()
        else:
            lines = error_lines(stderr) or [f"scenario run stopped (exit status {code})"]
            self.failed.emit(lines)

    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error is not QProcess.ProcessError.FailedToStart or self.process is None:
            return  # a crash or a kill also ends in finished
        process, self.process = self.process, None
        message = process.errorString()
        process.deleteLater()
        self.failed.emit([f"could not start {process.program()}: {message}"])
