"""The HTML report: a well-formed, self-contained page (no URL it would fetch), one plot per
series with a line for every strategy, the totals as the JSON has them, and the same bytes
from two runs of the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.scenario.html_report import (
    availability_series,
    html_text,
    nice_step,
    plots,
    totals_rows,
)

ROOT = Path(__file__).resolve().parents[2]
VOID = {"meta", "br", "hr", "img", "input", "link", "line", "rect", "polyline", "path"}
SERIES = {"cpu", "memory", "stranded_cpu", "stranded_mem", "pending", "availability"}


class Page(HTMLParser):
    """Checks that tags nest and close, and collects the plots, their lines, every
    attribute and the table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []
        self.plots: dict[str, list[tuple[str, int]]] = {}
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = {k: v or "" for k, v in attrs}
        self.attributes += [(tag, k, v) for k, v in values.items()]
        if tag == "svg":
            self.plots[values["data-series"]] = []
        elif tag == "polyline":
            plot = list(self.plots)[-1]
            points = len(values["points"].split())
            self.plots[plot].append((values.get("data-strategy", ""), points))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def cli_run(out: Path, hash_seed: str = "0") -> Path:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "run", "fragmentation",
         "--strategies", "worst-fit,best-fit", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / "fragmentation.html"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first = cli_run(tmp_path_factory.mktemp("one"), "1")
    second = cli_run(tmp_path_factory.mktemp("two"), "2")
    return first, second


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def test_two_runs_of_the_cli_write_the_same_page_bytes(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    assert first.read_bytes() == second.read_bytes()
    assert (first.parent / "fragmentation.json").read_bytes() == (
        second.parent / "fragmentation.json"
    ).read_bytes()


def test_the_page_is_well_formed_and_fetches_nothing(two_runs: tuple[Path, Path]) -> None:
    page = parse(two_runs[0])
    assert page.errors == [] and page.stack == []
    assert {"html", "head", "body", "style", "svg", "table"} <= page.tags
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    for tag, name, value in page.attributes:
        assert name not in ("src", "href", "xlink:href", "srcset", "action"), (tag, name)
        if (tag, name) != ("svg", "xmlns"):  # a namespace name, never fetched
            assert "://" not in value and "url(" not in value, (tag, name, value)
    css_and_text = "".join(page.text)
    assert "url(" not in css_and_text and "@import" not in css_and_text
    assert "://" not in css_and_text


def test_one_plot_per_series_with_every_strategy(two_runs: tuple[Path, Path]) -> None:
    page = parse(two_runs[0])
    report = json.loads((two_runs[0].parent / "fragmentation.json").read_text())
    samples = len(report["strategies"]["best-fit"]["series"]["t"])
    assert set(page.plots) == SERIES
    for series, lines in page.plots.items():
        strategies = sorted(s for s, _ in lines if s)
        assert strategies == ["best-fit", "worst-fit"], series
        assert all(points == samples for _, points in lines), series
    capacity = [s for s, _ in page.plots["cpu"] if not s]
    assert len(capacity) == 1  # both strategies have the same capacity: drawn once


def test_the_totals_table_shows_the_reports_figures(two_runs: tuple[Path, Path]) -> None:
    page = parse(two_runs[0])
    report = json.loads((two_runs[0].parent / "fragmentation.json").read_text())
    header = next(r for r in page.rows if r[1:3] == ["best-fit", "worst-fit"])
    assert header[0] == ""
    rows = {r[0]: r[1:] for r in page.rows}
    best, worst = (report["strategies"][s]["totals"] for s in ("best-fit", "worst-fit"))
    assert rows["Pending peak"] == [str(best["pending_peak"]), str(worst["pending_peak"])]
    assert rows["Pending wait p99"] == [
        f"{best['pending_wait_s']['p99']:g} s", f"{worst['pending_wait_s']['p99']:g} s",
    ]  # fmt: skip
    assert rows["Evictions"] == ["0", "0"]
    # the unschedulable reasons, by count per strategy
    assert rows["insufficient cpu"] == [
        str(best["unschedulable_reasons"]["insufficient cpu"]),
        str(worst["unschedulable_reasons"]["insufficient cpu"]),
    ]


def test_incidents_list_their_detection_and_recovery(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "run", "rolling-update-node-crash",
         "--strategies", "best-fit", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "rolling-update-node-crash.json").read_text())
    (incident,) = report["strategies"]["best-fit"]["incidents"]
    page = parse(tmp_path / "rolling-update-node-crash.html")
    row = next(r for r in page.rows if r[:2] == ["w-2", "crash"])
    assert row[4] == f"{incident['detect_s']:g} s" and row[6] == f"{incident['recover_s']:g} s"


def test_only_the_recorded_series_are_plotted(two_runs: tuple[Path, Path]) -> None:
    report: dict[str, Any] = json.loads((two_runs[0].parent / "fragmentation.json").read_text())
    for run in report["strategies"].values():
        for key in ("stranded_cpu_m", "stranded_mem_mi", "deployments"):
            del run["series"][key]
    assert [p.key for p in plots(report)] == ["cpu", "memory", "pending"]
    page = Page()
    page.feed(html_text(report))
    assert set(page.plots) == {"cpu", "memory", "pending"} and page.errors == []
    assert len(totals_rows(report)) > 10  # the totals are always all there


@pytest.mark.parametrize(
    ("span", "step"),
    [(180, 50), (37.5, 10), (0.9, 0.5), (100, 50), (4, 1), (6, 2), (0, 1.0)],
)
def test_nice_step(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


def test_availability_counts_each_deployment_at_most_its_desired() -> None:
    series = {
        "t": [0, 10, 20],
        "deployments": {
            "a": {"available": [0, 4, 2], "desired": [0, 2, 2]},  # a surge counts as 2 of 2
            "b": {"available": [0, 1, 2], "desired": [0, 2, 2]},
        },
    }
    assert availability_series(series) == [100.0, 75.0, 100.0]
