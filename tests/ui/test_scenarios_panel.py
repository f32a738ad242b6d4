"""The Scenarios panel, driven through its widgets: a shipped scenario run under two
strategies in a child process (the window keeps turning), its totals as the JSON has them,
a bad file's problems inline with their lines, Cancel, an earlier report, a live run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.scenario_runner import error_lines, scenario_command
from kube9_desktop.ui.scenarios_panel import LIVE_TIP, ScenariosDock, ScenariosPanel
from tests.ui.helpers import (
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    window_fixture,  # noqa: F401
)

RUN_TIMEOUT_MS = 90_000
LIVE = """\
name: live-panel
seed: 1
duration: 10m
cluster:
  nodes:
    - {name: w, count: 2, cpu: 2, memory: 2Gi}
settings: {heartbeat: 0.5s}
timeline:
  - at: 0s
    create_pod: {name: p, containers: [{name: c, image: busybox, cpu_req: 100m}]}
"""
BAD = """\
name: bad
seed: 1
duration: 1m
cluster:
  nodes:
    - {name: n, cpu: -1, memory: 1Gi}
timeline:
  - at: 0s
    scale_deployment: {name: webb, replicas: 2}
"""


class StallProbe:
    """A 20 ms timer noting the longest gap between its ticks: the GUI thread's longest stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.clock = QElapsedTimer()
        self.longest_ms = 0
        self.ticks = 0
        self.timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def _on_timer_timeout(self) -> None:
        self.longest_ms = max(self.longest_ms, self.clock.restart())
        self.ticks += 1

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[ScenariosPanel]:
    widget = ScenariosPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    yield widget
    widget.shutdown()


def tick(qtbot: QtBot, panel: ScenariosPanel, wanted: set[str]) -> None:
    for name, box in panel.strategy_boxes.items():
        if box.isChecked() != (name in wanted):
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert set(panel.checked_strategies()) == wanted


def pick(panel: ScenariosPanel, name: str) -> None:
    index = panel.picker.findText(name)
    assert index >= 0, name
    panel.picker.setCurrentIndex(index)


def test_run_two_strategies_and_the_totals_shown_are_the_jsons(
    qtbot: QtBot, panel: ScenariosPanel, tmp_path: Path
) -> None:
    pick(panel, "fragmentation")
    tick(qtbot, panel, {"best-fit", "worst-fit"})
    panel.out_edit.setText(str(tmp_path))
    probe = StallProbe()
    probe.start()
    qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
    assert panel.runner.running and panel.cancel.isEnabled() and not panel.run.isEnabled()
    qtbot.waitUntil(lambda: not panel.runner.running, timeout=RUN_TIMEOUT_MS)
    probe.stop()  # the run is over; the report is read and drawn after it
    qtbot.waitUntil(lambda: panel.report_source is not None, timeout=5_000)
    # The child did the work: the window's thread went on ticking every 20 ms or so.
    assert probe.ticks > 5 and probe.longest_ms < 100, probe.longest_ms

    report = json.loads((tmp_path / "fragmentation.json").read_text())
    best, worst = (report["strategies"][s]["totals"] for s in ("best-fit", "worst-fit"))
    totals = panel.view.totals
    headers = [totals.horizontalHeaderItem(c).text() for c in range(totals.columnCount())]
    assert headers == ["", "best-fit", "worst-fit"]
    assert totals.cell("Pending peak") == [str(best["pending_peak"]), str(worst["pending_peak"])]
    assert totals.cell("Evictions") == [str(best["evictions"]), str(worst["evictions"])]
    assert totals.cell("Pending wait p50") == [
        f"{best['pending_wait_s']['p50']:g} s", f"{worst['pending_wait_s']['p50']:g} s",
    ]  # fmt: skip
    assert totals.cell("CPU allocated (mean)") == [
        f"{100 * best['cpu_allocated_share_mean']:.1f} %",
        f"{100 * worst['cpu_allocated_share_mean']:.1f} %",
    ]
    assert panel.view.reasons.cell("insufficient cpu") == [
        str(best["unschedulable_reasons"]["insufficient cpu"]),
        str(worst["unschedulable_reasons"]["insufficient cpu"]),
    ]
    plots = panel.view.plots.plots
    assert [p.plot.key for p in plots] == [
        "cpu", "memory", "stranded_cpu", "stranded_mem", "pending", "availability",
    ]  # fmt: skip
    assert all(p.renderer.isValid() and p.isVisible() and p.height() > 50 for p in plots)
    assert panel.html_path == tmp_path / "fragmentation.html"
    assert panel.open_html.isEnabled() and panel.run.isEnabled()
    assert "Done" in panel.status.text() and panel.problems.isHidden()


def test_a_bad_file_shows_its_problems_with_their_lines(
    qtbot: QtBot, panel: ScenariosPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    qtbot.mouseClick(panel.open_file, Qt.MouseButton.LeftButton)
    assert panel.picker.currentText() == "bad.yaml"
    assert panel.problems.isVisible()
    lines = [panel.problems.item(i).text() for i in range(panel.problems.count())]
    assert lines == [
        "line 6 · cluster.nodes[0].cpu: must be greater than 0",
        "line 8 · timeline[0]: deployment 'webb' is never created",
    ]
    assert not panel.run.isEnabled()  # nothing runs from a file with problems
    bad.write_text(BAD.replace("cpu: -1", "cpu: 1").replace("webb", "web"))
    qtbot.mouseClick(panel.open_file, Qt.MouseButton.LeftButton)  # fixed, opened again
    lines = [panel.problems.item(i).text() for i in range(panel.problems.count())]
    assert lines == ["line 8 · timeline[0]: deployment 'web' is never created"]


def test_cancel_stops_the_run_and_writes_no_report(
    qtbot: QtBot, panel: ScenariosPanel, tmp_path: Path
) -> None:
    pick(panel, "n-plus-one")
    tick(qtbot, panel, {"best-fit", "first-fit", "worst-fit"})
    panel.out_edit.setText(str(tmp_path))
    qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
    assert panel.runner.running
    with qtbot.waitSignal(panel.runner.cancelled, timeout=10_000):
        qtbot.mouseClick(panel.cancel, Qt.MouseButton.LeftButton)
    assert not panel.runner.running and panel.run.isEnabled() and not panel.cancel.isEnabled()
    assert panel.status.text().startswith("Cancelled")
    assert panel.report_source is None and not list(tmp_path.glob("*.json"))


def test_open_report_shows_an_earlier_strategys_json_and_says_what_is_not_one(
    qtbot: QtBot, panel: ScenariosPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pick(panel, "fragmentation")
    tick(qtbot, panel, {"first-fit"})
    panel.out_edit.setText(str(tmp_path))
    qtbot.mouseClick(panel.run, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report_source is not None, timeout=RUN_TIMEOUT_MS)
    one = tmp_path / "fragmentation.first-fit.json"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(one), ""))
    qtbot.mouseClick(panel.open_report, Qt.MouseButton.LeftButton)
    assert panel.report_source is not None and panel.report_source[0] == one
    totals = panel.view.totals
    assert totals.columnCount() == 2 and totals.horizontalHeaderItem(1).text() == "first-fit"
    assert panel.html_path is None  # a strategy's file has no page: Open HTML writes one
    page = panel.html_for_report()
    assert page is not None and page.read_text().startswith("<!DOCTYPE html>")

    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(junk), ""))
    qtbot.mouseClick(panel.open_report, Qt.MouseButton.LeftButton)
    assert panel.problems.isVisible()
    assert panel.problems.item(0).text() == f"{junk}: not a scenario report (no 'scenario' header)"


def live_processes() -> list[int]:
    """Processes of a live run: its engine's temporary folder is in their command or cwd."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((entry / "cwd").readlink())
        except OSError:
            continue
        if "kube9-live-" in cmd or "kube9-live-" in cwd:
            found.append(int(entry.name))
    return found


def test_run_live_plays_on_real_nodes_and_cancel_removes_them(
    qtbot: QtBot, panel: ScenariosPanel, tmp_path: Path
) -> None:
    """Run live: a child engine on the process runtime, its address in the status line and
    how to watch it in the tooltip; Cancel (SIGTERM) removes its node processes."""
    assert not live_processes()
    path = tmp_path / "live.yaml"
    path.write_text(LIVE, encoding="utf-8")
    panel.select_file(path)
    tick(qtbot, panel, {"best-fit"})
    panel.out_edit.setText(str(tmp_path / "out"))
    panel.live_runtime = "process"
    assert panel.run_live.isEnabled() and panel.run_live.toolTip() == LIVE_TIP
    qtbot.mouseClick(panel.run_live, Qt.MouseButton.LeftButton)
    assert panel.runner.running and not panel.run_live.isEnabled()
    qtbot.waitUntil(lambda: "watch it at http://127." in panel.status.text(), timeout=60_000)
    assert "kubectl get pods" in panel.status.toolTip()
    qtbot.waitUntil(lambda: len(live_processes()) >= 2, timeout=60_000)  # the 2 nodes' agents
    with qtbot.waitSignal(panel.runner.cancelled, timeout=30_000):
        qtbot.mouseClick(panel.cancel, Qt.MouseButton.LeftButton)
    assert panel.status.text().startswith("Cancelled")
    qtbot.waitUntil(lambda: not live_processes(), timeout=10_000)
    assert not list((tmp_path / "out").glob("*.json"))


def test_the_window_opens_the_panel_from_the_view_menu(qtbot: QtBot, window: object) -> None:
    from kube9_desktop.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    dock = window.scenarios
    assert isinstance(dock, ScenariosDock) and not dock.isVisible()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert dock.open_action in view_menu.actions()
    dock.open_action.trigger()
    qtbot.waitUntil(dock.isVisible)
    assert dock.panel.picker.count() >= 4 and dock.width() > window.width() // 3


def test_error_lines_drop_the_prefix_and_the_log() -> None:
    stderr = "WARNING x: y\nkube9-desktop scenario: a.yaml:3: seed: required\nb.yaml:4: z\n"
    assert error_lines(stderr) == ["a.yaml:3: seed: required", "b.yaml:4: z"]


def test_the_command_runs_main_py_beside_the_package() -> None:
    argv = scenario_command("list")
    assert argv[1].endswith("main.py") and argv[2:] == ["scenario", "list"]
