"""Runs ``kube9-desktop scenario run`` in a child process for the Scenarios panel: the window
never waits on it (a QProcess reports through signals), Cancel kills it, and its error
output comes back as lines. The same command the terminal runs, so a report made in the
window is the file a student would get from the command line, byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

import kube9_desktop

PREFIX = "kube9-desktop scenario: "


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


def supports_live(help_text: str) -> bool:
    """Whether ``scenario run --help`` offers ``--live`` (it lands with the live runner)."""
    return any(word.strip("[],") == "--live" for word in help_text.split())


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
    live_probed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self._cancelling = False
        self._probe: QProcess | None = None

    @property
    def running(self) -> bool:
        return self.process is not None

    @property
    def probing(self) -> bool:
        return self._probe is not None

    def start(self, args: list[str]) -> None:
        if self.process is not None:
            raise RuntimeError("a scenario is already running")
        argv = scenario_command(*args)
        process = QProcess(self)
        process.setProgram(argv[0])
        process.setArguments(argv[1:])
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self.process = process
        self._cancelling = False
        process.start()

    def cancel(self) -> None:
        if self.process is not None:
            self._cancelling = True
            self.process.kill()

    def stop(self) -> None:
        """Kill a run and the probe and wait for them (the window is closing)."""
        for process in (self.process, self._probe):
            if process is not None and process.state() != QProcess.ProcessState.NotRunning:
                process.blockSignals(True)
                process.kill()
                process.waitForFinished(3000)
        self.process = self._probe = None

    def probe_live(self) -> None:
        """Ask ``scenario run --help`` whether it has ``--live``: ``live_probed`` says."""
        if self._probe is not None:
            return
        argv = scenario_command("run", "--help")
        probe = QProcess(self)
        probe.setProgram(argv[0])
        probe.setArguments(argv[1:])
        probe.finished.connect(self._on_probe_finished)
        probe.errorOccurred.connect(self._on_probe_error_occurred)
        self._probe = probe
        probe.start()

    def _on_probe_finished(self, _code: int, _status: QProcess.ExitStatus) -> None:
        probe, self._probe = self._probe, None
        if probe is None:
            return
        text = bytes(probe.readAllStandardOutput().data()).decode("utf-8", "replace")
        probe.deleteLater()
        self.live_probed.emit(supports_live(text))

    def _on_probe_error_occurred(self, error: QProcess.ProcessError) -> None:
        if error is QProcess.ProcessError.FailedToStart and self._probe is not None:
            self._probe.deleteLater()
            self._probe = None
            self.live_probed.emit(False)

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self.process = self.process, None
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
