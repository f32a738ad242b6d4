"""A scenario's reports on disk: per strategy ``<name>.<strategy>.json`` and ``.csv``,
``<name>.json`` with every strategy side by side and ``<name>.html``, its page with plots
(html_report.py). JSON is written with sorted keys and a fixed layout, so the same file and
seed give the same bytes (its sha256 is the run's hash); the page is as deterministic."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from kube9_desktop.scenario.driver import run_strategy, scenario_header
from kube9_desktop.scenario.format import Scenario
from kube9_desktop.scenario.html_report import html_text

REPORT_FORMAT = 1
CSV_COLUMNS = (
    "t", "cpu_capacity_m", "cpu_allocated_m", "mem_capacity_mi", "mem_allocated_mi",
    "stranded_cpu_m", "stranded_mem_mi", "pending", "nodes_schedulable",
)  # fmt: skip


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def report_hash(report: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(report).encode("utf-8")).hexdigest()


def run_scenario(scenario: Scenario, strategies: list[str]) -> dict[str, Any]:
    """Every strategy's run (a fresh engine each) and the combined report."""
    return {
        "format": REPORT_FORMAT,
        "scenario": scenario_header(scenario),
        "strategies": {s: run_strategy(scenario, s) for s in strategies},
    }


def csv_text(run: dict[str, Any]) -> str:
    """One row per sample: the series, each Deployment's available and desired replicas."""
    s = run["series"]
    deployments = s.get("deployments", {})
    names = sorted(deployments)
    cols = [c for c in CSV_COLUMNS if c in s]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols + [f"{n}:{k}" for n in names for k in ("available", "desired")])
    for i in range(len(s["t"])):
        row = [s[c][i] for c in cols]
        for n in names:
            row += [deployments[n]["available"][i], deployments[n]["desired"][i]]
        w.writerow(row)
    return out.getvalue()


def write_reports(combined: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    base = _file_name(combined["scenario"]["name"])
    written = []
    for strategy, run in combined["strategies"].items():
        one = {"format": combined["format"], "scenario": combined["scenario"], **run}
        path = out_dir / f"{base}.{strategy}.json"
        path.write_text(dumps(one), encoding="utf-8")
        csv_path = out_dir / f"{base}.{strategy}.csv"
        csv_path.write_text(csv_text(run), encoding="utf-8")
        written += [path, csv_path]
    path = combined_path(out_dir, combined["scenario"]["name"])
    path.write_text(dumps(combined), encoding="utf-8")
    page = path.with_suffix(".html")
    page.write_text(html_text(combined), encoding="utf-8")
    written += [path, page]
    return written


def combined_path(out_dir: Path, name: str) -> Path:
    """Where ``write_reports`` puts the side-by-side ``NAME.json`` (its page: ``NAME.html``)."""
    return out_dir / f"{_file_name(name)}.json"


def _file_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.")
    return safe or "scenario"


def summary_lines(combined: dict[str, Any]) -> list[str]:
    """A few figures per strategy, for the terminal."""
    lines = []
    for strategy, run in combined["strategies"].items():
        t = run["totals"]
        wait = t["pending_wait_s"]
        lines.append(
            f"{strategy:>9}: cpu allocated {_pct(t['cpu_allocated_share_mean'])}, stranded cpu "
            f"{t['stranded_cpu_m_mean'] / 1000:.2f} cores (mean), pending peak "
            f"{t['pending_peak']} (wait p50 {_s(wait['p50'])}, p99 {_s(wait['p99'])}), "
            f"evictions {t['evictions']}, incidents {t['incidents']}"
        )
    return lines


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:g} s"
