"""The Scenarios panel: pick a shipped scenario or open a file, tick the strategies to
compare, Run it (``scenario run`` in a child process, so the window never waits), and read
the report side by side; or open an earlier report. A file's problems are listed inline,
each with its line, before anything runs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.errors import UserError
from kube9_desktop.scenario.format import (
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
)
from kube9_desktop.scenario.html_report import html_text
from kube9_desktop.scenario.report import combined_path
from kube9_desktop.settings import SCHEDULERS
from kube9_desktop.ui.scenario_report_view import ScenarioReportView
from kube9_desktop.ui.scenario_runner import ScenarioProcess
from kube9_desktop.ui.theme import error_color

OPEN_SHARE = 0.55  # of the window's width, for the dock when View > Scenarios opens it
LIVE_TIP = (
    "Run it in real time on this machine's runtime (Docker, else processes), in an engine of "
    "its own: watch it with kubectl or curl at the address shown; Cancel removes its nodes"
)


def read_report(path: Path) -> dict[str, Any]:
    """A combined report (``NAME.json``) or one strategy's (``NAME.STRATEGY.json``), as a
    combined one. Raises UserError naming what is wrong with the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a JSON report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), dict):
        raise UserError(f"{path}: not a scenario report (no 'scenario' header)")
    if isinstance(data.get("strategies"), dict):
        return data
    if isinstance(data.get("strategy"), str) and "totals" in data:
        run = {k: data[k] for k in ("incidents", "series", "steps", "strategy", "totals")}
        return {"format": data.get("format"), "scenario": data["scenario"],
                "strategies": {data["strategy"]: run}}  # fmt: skip
    raise UserError(f"{path}: not a scenario report (no 'strategies' or 'strategy')")


class ScenariosPanel(QWidget):
    report_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScenariosPanel")
        self.runner = ScenarioProcess(self)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.cancelled.connect(self._on_runner_cancelled)
        self.runner.said.connect(self._on_runner_said)
        self.scenario: Scenario | None = None
        self.scenario_path: Path | None = None
        self.out_dir: Path | None = None  # of the run under way or the report shown
        self.html_path: Path | None = None
        self.report_source: tuple[Path, dict[str, Any]] | None = None
        self.live_url = ""  # a live run's REST address, as it printed it
        self.live_lines: list[str] = []  # and how to watch it
        # Where a live run's nodes run: the window's own runtime setting where it names one
        # the CLI takes (a virtual node is no live run), else Docker if it answers, else processes.
        self.live_runtime = "auto"
        self.elapsed = QElapsedTimer()
        self.ticker = QTimer(self)
        self.ticker.setInterval(250)
        self.ticker.timeout.connect(self._on_ticker_timeout)

        self.picker = QComboBox()
        self.picker.setObjectName("ScenarioPicker")
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for path in shipped_scenarios():
            self.picker.addItem(path.stem, str(path))
        self.open_file = QPushButton("Open file…")
        self.open_file.setObjectName("ScenarioOpenFile")
        self.open_file.setToolTip("Open a scenario file (docs/scenarios.md)")
        self.description = QLabel()
        self.description.setObjectName("ScenarioDescription")
        self.description.setWordWrap(True)
        self.strategy_boxes: dict[str, QCheckBox] = {}
        strategies = QHBoxLayout()
        strategies.addWidget(QLabel("Strategies:"))
        for name in SCHEDULERS:
            box = QCheckBox(name)
            box.setObjectName(f"ScenarioStrategy-{name}")
            box.setToolTip("Tick two or more to compare them side by side")
            box.toggled.connect(self._update_buttons)
            self.strategy_boxes[name] = box
            strategies.addWidget(box)
        strategies.addStretch(1)
        self.out_edit = QLineEdit()
        self.out_edit.setObjectName("ScenarioOutDir")
        self.out_edit.setPlaceholderText("a new temporary folder for each run")
        self.choose_out = QPushButton("Choose…")
        self.choose_out.setToolTip("The folder the reports are written to")
        self.run = QPushButton("Run")
        self.run.setObjectName("ScenarioRun")
        self.run.setDefault(True)
        self.run.setToolTip("Run the scenario in simulated time, once per ticked strategy")
        self.run_live = QPushButton("Run live")
        self.run_live.setObjectName("ScenarioRunLive")
        self.run_live.setEnabled(False)
        self.run_live.setToolTip(LIVE_TIP)
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("ScenarioCancel")
        self.cancel.setEnabled(False)
        self.open_report = QPushButton("Open report…")
        self.open_report.setObjectName("ScenarioOpenReport")
        self.open_report.setToolTip("Show an earlier report (NAME.json or NAME.STRATEGY.json)")
        self.open_html = QPushButton("Open HTML")
        self.open_html.setObjectName("ScenarioOpenHtml")
        self.open_html.setToolTip("Open the report's page (plots and tables) in the browser")
        self.open_html.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("ScenarioProgress")
        self.progress.setRange(0, 0)  # busy: the child says nothing until it is done
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("ScenarioStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QListWidget()
        self.problems.setObjectName("ScenarioProblems")
        self.problems.setStyleSheet(f"color: {error_color()}")
        self.problems.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.problems.setMaximumHeight(120)
        self.problems.hide()
        self.view = ScenarioReportView()
        self.report_scroll = QScrollArea()
        self.report_scroll.setObjectName("ScenarioReportScroll")
        self.report_scroll.setWidgetResizable(True)
        self.report_scroll.setWidget(self.view)
        self.report_scroll.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Scenario:"))
        top.addWidget(self.picker, 1)
        top.addWidget(self.open_file)
        out = QHBoxLayout()
        out.addWidget(QLabel("Reports in:"))
        out.addWidget(self.out_edit, 1)
        out.addWidget(self.choose_out)
        buttons = QHBoxLayout()
        for button in (self.run, self.run_live, self.cancel):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_report)
        buttons.addWidget(self.open_html)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.status, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addLayout(strategies)
        layout.addLayout(out)
        layout.addLayout(buttons)
        layout.addLayout(busy)
        layout.addWidget(self.problems)
        layout.addWidget(self.report_scroll, 1)
        self.placeholder = QLabel(
            "Pick a scenario, tick the strategies to compare and Run: the report opens here."
        )
        self.placeholder.setObjectName("ScenarioPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        layout.addWidget(self.placeholder, 1)

        self.picker.currentIndexChanged.connect(self._on_picker_current_index_changed)
        self.open_file.clicked.connect(self._on_open_file_clicked)
        self.choose_out.clicked.connect(self._on_choose_out_clicked)
        self.run.clicked.connect(self._on_run_clicked)
        self.run_live.clicked.connect(self._on_run_live_clicked)
        self.cancel.clicked.connect(self.runner.cancel)
        self.open_report.clicked.connect(self._on_open_report_clicked)
        self.open_html.clicked.connect(self._on_open_html_clicked)
        if self.picker.count():
            self._on_picker_current_index_changed(self.picker.currentIndex())

    # ---- choosing --------------------------------------------------------------------

    def select_file(self, path: Path) -> None:
        """Check ``path`` as ``scenario check`` does: its problems inline, or its summary."""
        self.scenario_path = path
        self.problems.clear()
        try:
            self.scenario = load_scenario(path)
        except ScenarioError as exc:
            self.scenario = None
            self._show_problems([f"line {p.line} · {p.path}: {p.message}" for p in exc.problems])
            self.description.setText(f"{path.name}: {len(exc.problems)} problem(s)")
        except UserError as exc:
            self.scenario = None
            self._show_problems([exc.message])
            self.description.setText(path.name)
        else:
            self.problems.hide()
            s = self.scenario
            self.description.setText(
                f"{s.description or s.name} ({len(s.nodes)} node(s), {len(s.timeline)} "
                f"step(s), seed {s.seed})"
            )
            if not any(box.isChecked() for box in self.strategy_boxes.values()):
                box = self.strategy_boxes.get(s.settings.strategy)
                if box is not None:
                    box.setChecked(True)
        self._update_buttons()

    def _on_picker_current_index_changed(self, index: int) -> None:
        data = self.picker.itemData(index)
        if data:
            self.select_file(Path(data))

    def _on_open_file_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a scenario", "", "Scenarios (*.yaml *.yml);;All files (*)"
        )
        if not name:
            return
        path = Path(name)
        index = self.picker.findData(str(path))
        if index < 0:
            self.picker.addItem(path.name, str(path))
            index = self.picker.count() - 1
        if index == self.picker.currentIndex():
            self.select_file(path)  # opened again: checked again (it may have changed)
        else:
            self.picker.setCurrentIndex(index)

    def _on_choose_out_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write the reports to")
        if folder:
            self.out_edit.setText(folder)

    def checked_strategies(self) -> list[str]:
        return [n for n, box in self.strategy_boxes.items() if box.isChecked()]

    def _update_buttons(self) -> None:
        busy = self.runner.running
        ready = self.scenario is not None and bool(self.checked_strategies()) and not busy
        self.run.setEnabled(ready)
        self.run_live.setEnabled(ready)
        self.cancel.setEnabled(busy)
        for widget in (self.picker, self.open_file, self.open_report, self.choose_out):
            widget.setEnabled(not busy)
        self.open_html.setEnabled(not busy and self.report_source is not None)

    # ---- running ---------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        self.start_run(live=False)

    def _on_run_live_clicked(self) -> None:
        """``scenario run --live``: real time, on the configured runtime, its own engine."""
        self.start_run(live=True)

    def start_run(self, live: bool) -> None:
        if self.scenario_path is None or self.runner.running:
            return
        self.select_file(self.scenario_path)  # the file may have changed since it was picked
        strategies = self.checked_strategies()
        if self.scenario is None or not strategies:
            return
        given = self.out_edit.text().strip()
        try:
            if given:
                self.out_dir = Path(given).expanduser()
                self.out_dir.mkdir(parents=True, exist_ok=True)
            else:
                self.out_dir = Path(tempfile.mkdtemp(prefix="kube9-scenario-"))
        except OSError as exc:
            self._show_problems([f"{given}: cannot write the reports there ({exc.strerror})"])
            return
        args = ["run", str(self.scenario_path), "--strategies", ",".join(strategies),
                "--out", str(self.out_dir)]  # fmt: skip
        if live:
            args += ["--live", "--runtime", self.live_runtime]
        self.problems.hide()
        self.live_url, self.live_lines = "", []
        self.status.setToolTip("")
        self.runner.start(args)
        self.elapsed.start()
        self.ticker.start()
        self.progress.show()
        self._on_ticker_timeout()
        self._update_buttons()

    def _on_ticker_timeout(self) -> None:
        seconds = self.elapsed.elapsed() / 1000
        names = ", ".join(self.checked_strategies())
        where = f" · watch it at {self.live_url}" if self.live_url else ""
        self.status.setText(
            f"Running {self.picker.currentText()} under {names}… {seconds:.0f} s{where}"
        )

    def _on_runner_said(self, line: str) -> None:
        """A live run prints, for each strategy, its engine's address and how to watch it
        (curl, kubectl): the address goes into the status line, the rest into its tooltip."""
        if line.startswith("live on the "):
            self.live_lines = []
            words = [w for w in line.split() if w.startswith("http://")]
            self.live_url = words[0] if words else ""
        if self.runner.running and (self.live_url or line.startswith("  watch:")):
            self.live_lines.append(line.strip())
            self.status.setToolTip("\n".join(self.live_lines))
            self._on_ticker_timeout()

    def _stopped(self, text: str) -> None:
        self.ticker.stop()
        self.progress.hide()
        self.status.setText(text)
        self._update_buttons()

    def _on_runner_finished(self) -> None:
        seconds = self.elapsed.elapsed() / 1000
        assert self.out_dir is not None and self.scenario is not None
        path = combined_path(self.out_dir, self.scenario.name)
        self._stopped(f"Done in {seconds:.1f} s: {path}")
        self.show_report_file(path)

    def _on_runner_failed(self, lines: list[str]) -> None:
        self._stopped("The run failed:")
        self._show_problems(lines)

    def _on_runner_cancelled(self) -> None:
        self._stopped("Cancelled: no report was written.")

    def _show_problems(self, lines: list[str]) -> None:
        self.problems.clear()
        self.problems.addItems(lines)
        self.problems.show()

    # ---- the report ------------------------------------------------------------------

    def show_report_file(self, path: Path) -> None:
        try:
            report = read_report(path)
            self.view.show_report(report)
        except UserError as exc:
            self._show_problems([exc.message])
            return
        except (KeyError, TypeError, ValueError) as exc:
            self._show_problems([f"{path}: not a report this version can read ({exc!r})"])
            return
        page = path.with_suffix(".html")  # NAME.json's page; a strategy's file has none
        self.html_path = page if page.is_file() else None
        self.report_source = (path, report)
        self.placeholder.hide()
        self.report_scroll.show()
        self._update_buttons()
        self.report_shown.emit()

    def _on_open_report_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a scenario report", str(self.out_dir or ""), "Reports (*.json)"
        )
        if name:
            self.problems.hide()
            self.show_report_file(Path(name))

    def html_for_report(self) -> Path | None:
        """The page of the report shown: the run's own, or one written for it now (a
        one-strategy report or a folder without the page) in a temporary folder."""
        if self.html_path is not None:
            return self.html_path
        if self.report_source is None:
            return None
        path, report = self.report_source
        folder = Path(tempfile.mkdtemp(prefix="kube9-scenario-page-"))
        page = folder / path.with_suffix(".html").name
        page.write_text(html_text(report), encoding="utf-8")
        self.html_path = page
        return page

    def _on_open_html_clicked(self) -> None:
        try:
            page = self.html_for_report()
        except OSError as exc:
            self._show_problems([f"cannot write the page: {exc}"])
            return
        if page is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(page)))

    # ---- lifetime --------------------------------------------------------------------

    def shutdown(self) -> None:
        self.ticker.stop()
        self.runner.stop()


class ScenariosDock(QDockWidget):
    """The panel in a dock of its own, hidden until View > Scenarios opens it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Scenarios", parent)
        self.setObjectName("ScenariosDock")
        self.panel = ScenariosPanel()
        self.setWidget(self.panel)
        self.open_action = QAction("&Scenarios…", self)
        self.open_action.setObjectName("OpenScenariosAction")
        self.open_action.setStatusTip("Run a scenario under several strategies and compare them")
        self.open_action.triggered.connect(self.open)

    def open(self) -> None:
        """Show and raise it, wide enough for its plots (more than half the window)."""
        self.show()
        self.raise_()
        window = self.parentWidget()
        if isinstance(window, QMainWindow) and not self.isFloating():
            width = int(window.width() * OPEN_SHARE)
            window.resizeDocks([self], [width], Qt.Orientation.Horizontal)
