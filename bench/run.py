"""Kube-9 Desktop benchmarks: every figure the README's Performance table shows, in one run.

    .venv/bin/python bench/run.py [--quick | --smoke] [--json FILE] [--only SECTION ...]

Modes: the default full run (the README table), ``--quick`` (under 5 minutes on 2 cores; the
floors below are what it must reach on such a machine) and ``--smoke`` (tiny sizes, seconds,
no floors: CI runs it so the benchmark cannot rot). Each section runs in its own Python
process so memory figures and loop timings of one never leak into another; each figure is a
median over repeats, printed with the workload it measured. Figures that cannot be measured
here (no Docker daemon, no Qt) are null, with the reason in ``meta.notes``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RESULT_PREFIX, SIZES, Figure, Figures  # noqa: E402

# Section -> the keys it produces, in table order.
SECTIONS: dict[str, tuple[str, ...]] = {
    "sched": (
        "sched_per_s_1k",
        "sched_per_s_10k",
        "scan_per_s_10k",
        "sched_speedup_vs_scan_10k",
        "sched_constrained_per_s_10k",
        "scan_constrained_per_s_10k",
        "sched_constrained_speedup_10k",
        "sched_anti_affinity_per_s_10k",
        "scan_anti_affinity_per_s_10k",
        "sched_anti_affinity_speedup_10k",
    ),
    "api": ("api_pod_creates_per_s", "heartbeats_per_s", "startup_api_ready_s"),
    "failures": ("grace_period_s", "detect_p50_s", "detect_p99_s", "rebind_p99_s"),
    "ui": ("ui_tree_build_ms_1k_20k", "ui_apply_1000_changes_ms"),
    "memory": ("virtual_node_kb", "process_node_mb", "docker_node_mb"),
    "scale": ("scale_nodes", "scale_pods", "scale_rss_mb", "scale_false_detections"),
    "workloads": ("deploy_ready_per_s", "selfheal_p99_s", "rollout_s", "rollout_violations"),
    "services": ("service_proxy_req_per_s", "service_direct_req_per_s", "service_proxy_ratio"),
    "failover": (
        "failover_heartbeat_failed",
        "failover_heartbeat_last_failure_s",
        "failover_runtime_detect_s",
        "failover_runtime_last_failure_s",
        "rollout_traffic_failed",
        "rollout_traffic_sent",
    ),
    "what_if": ("what_if_ms_1k_20k", "what_if_max_ms_1k_20k"),
}
KEYS = tuple(k for keys in SECTIONS.values() for k in keys)
SECTION_TIMEOUT_S = {"smoke": 300.0, "quick": 600.0, "full": 1800.0}

# What --quick (and the full run) must reach on a 2-core machine: key -> (test, text).
Floor = tuple[Callable[[float, dict[str, float | None]], bool], str]
FLOORS: dict[str, Floor] = {
    "sched_per_s_10k": (lambda v, _: v >= 100_000, ">= 100,000"),
    "sched_speedup_vs_scan_10k": (lambda v, _: v >= 20, ">= 20"),
    "sched_constrained_per_s_10k": (lambda v, _: v >= 10_000, ">= 10,000"),
    "sched_anti_affinity_per_s_10k": (lambda v, _: v >= 1_000, ">= 1,000"),
    "api_pod_creates_per_s": (lambda v, _: v >= 1000, ">= 1,000"),
    "heartbeats_per_s": (lambda v, _: v >= 3000, ">= 3,000"),
    "detect_p99_s": (
        lambda v, f: v <= (f.get("grace_period_s") or 0) + 1.0,
        "<= grace + 1 s",
    ),
    "rebind_p99_s": (lambda v, _: v <= 0.2, "<= 0.2"),
    "ui_tree_build_ms_1k_20k": (lambda v, _: v <= 300, "<= 300"),
    "startup_api_ready_s": (lambda v, _: v <= 1.5, "<= 1.5"),
    "virtual_node_kb": (lambda v, _: v <= 20, "<= 20"),
    "scale_false_detections": (lambda v, _: v == 0, "= 0"),
    "scale_rss_mb": (lambda v, _: v <= 2048, "<= 2,048 (full size)"),
    "deploy_ready_per_s": (lambda v, _: v >= 300, ">= 300"),
    "selfheal_p99_s": (lambda v, _: v <= 4.0, "<= grace (3 s) + 1 s"),
    "rollout_violations": (lambda v, _: v == 0, "= 0"),
    "service_proxy_req_per_s": (lambda v, _: v >= 5000, ">= 5,000"),
    "service_proxy_ratio": (lambda v, _: v >= 0.5, ">= 0.5 of direct"),
    "failover_heartbeat_last_failure_s": (lambda v, _: v <= 4.0, "<= grace (3 s) + 1 s"),
    "failover_runtime_detect_s": (lambda v, _: v <= 0.2, "<= 0.2"),
    "failover_runtime_last_failure_s": (lambda v, _: v <= 0.2, "<= 0.2"),
    "rollout_traffic_failed": (lambda v, _: v == 0, "= 0"),
    "rollout_traffic_sent": (lambda v, _: v >= 10_000, ">= 10,000"),
    "what_if_ms_1k_20k": (lambda v, _: v <= 50, "<= 50"),
}


def run_section(name: str, mode: str) -> Figures:
    """Run one section in this process (the child side of ``--section``)."""
    sizes = SIZES[mode]
    if name == "sched":
        from bench import sched

        return sched.run(sizes)
    if name == "api":
        from bench import api

        return api.run(sizes)
    if name == "failures":
        from bench import failures

        return failures.run(sizes)
    if name == "memory":
        from bench import memory

        return memory.run(sizes)
    if name == "scale":
        from bench import scale

        return scale.run(sizes)
    if name == "ui":
        from bench import ui

        return ui.run(sizes)
    if name == "workloads":
        from bench import workloads

        return workloads.run(sizes)
    if name == "services":
        from bench import service_proxy

        return service_proxy.run(sizes, mode)
    if name == "failover":
        from bench import service_failover

        return service_failover.run(sizes, mode)
    if name == "what_if":
        from bench import what_if

        return what_if.run(sizes)
    raise ValueError(f"unknown section {name}")


def missing(keys: tuple[str, ...], why: str) -> Figures:
    return {k: Figure(None, "", "", note=why) for k in keys}


def spawn_section(name: str, mode: str) -> Figures:
    """Run one section in a child process; a crash or timeout becomes null figures with why."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--section", name]
    if mode != "full":
        cmd.append(f"--{mode}")
    start = time.monotonic()
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=SECTION_TIMEOUT_S[mode], check=False,
            cwd=ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return missing(SECTIONS[name], f"section {name} timed out after "
                       f"{SECTION_TIMEOUT_S[mode]:g} s")  # fmt: skip
    took = time.monotonic() - start
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            figures = {k: Figure.from_json(v) for k, v in data.items()}
            print(f"  [{name}: {took:.0f} s]", file=sys.stderr, flush=True)
            return figures
    tail = (out.stderr or out.stdout).strip().splitlines()[-15:]
    sys.stderr.write(f"section {name} failed (exit {out.returncode}):\n" + "\n".join(tail) + "\n")
    last = tail[-1] if tail else "no output"
    return missing(SECTIONS[name], f"section {name} failed: {last[:300]}")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def fmt_value(value: float | None) -> str:
    if value is None:
        return "—"
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def evaluate(mode: str, figures: Figures) -> dict[str, bool]:
    if mode == "smoke":
        return {}
    values = {k: f.value for k, f in figures.items()}
    return {
        key: test(figures[key].value, values)  # type: ignore[arg-type]
        for key, (test, _) in FLOORS.items()
        if key in figures and figures[key].value is not None
    }


def table(mode: str, figures: Figures, met: dict[str, bool]) -> str:
    rows = []
    for key in KEYS:
        f = figures.get(key)
        if f is None:
            continue
        floor = FLOORS[key][1] if key in FLOORS and mode != "smoke" else ""
        verdict = "" if key not in met else ("ok" if met[key] else "MISSED")
        if f.value is None:
            verdict = "n/a"
        rows.append((key, fmt_value(f.value), f.unit, floor, verdict, f.workload, f.note))
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'value':>10}  {'unit':<12} {'floor':<22} {'':<6} workload"]
    for key, value, unit, floor, verdict, workload, note in rows:
        text = workload + (f" [{note}]" if note else "")
        lines.append(f"{key:<{width}}  {value:>10}  {unit:<12} {floor:<22} {verdict:<6} {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode_group = parser.add_mutually_exclusive_group()
    mode_group.add_argument("--quick", action="store_true", help="under 5 minutes on 2 cores")
    mode_group.add_argument("--smoke", action="store_true", help="tiny sizes, no floors (CI)")
    parser.add_argument("--json", type=Path, help="write every figure and the meta to FILE")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument("--section", choices=sorted(SECTIONS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"

    if args.section:  # child process: one section, figures as one JSON line on stdout
        payload = {k: v.to_json() for k, v in run_section(args.section, mode).items()}
        print(RESULT_PREFIX + json.dumps(payload), flush=True)
        return 0

    started = datetime.now(UTC)
    meta: dict[str, Any] = {
        "mode": mode,
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": machine(),
    }
    sections = args.only or list(SECTIONS)
    print(f"Kube-9 Desktop benchmark, {mode} mode: {', '.join(sections)}", file=sys.stderr)
    figures: Figures = {}
    t0 = time.monotonic()
    for name in sections:
        figures.update(spawn_section(name, mode))
    meta["duration_s"] = round(time.monotonic() - t0, 1)
    met = evaluate(mode, figures)
    print(table(mode, figures, met))
    missed = sorted(k for k, ok in met.items() if not ok)
    nulls = sorted(k for k, f in figures.items() if f.value is None)
    if mode == "smoke":
        verdict = "no floors in smoke mode"
    elif missed:
        verdict = f"floors missed: {', '.join(missed)}"
    elif met:
        verdict = f"{len(met)} of {len(FLOORS)} floors checked, all met"
    else:
        verdict = "no floor checked"
    print(
        f"\n{mode} run on {meta['machine']['cores']} cores in {meta['duration_s']:g} s; "
        f"{verdict}" + (f"; not measured: {', '.join(nulls)}" if nulls else "")
    )
    if args.json:
        meta["workloads"] = {k: f.workload for k, f in figures.items()}
        meta["units"] = {k: f.unit for k, f in figures.items()}
        meta["notes"] = {k: f.note for k, f in figures.items() if f.note}
        meta["samples"] = {k: f.samples for k, f in figures.items() if f.samples}
        meta["floors"] = {k: text for k, (_, text) in FLOORS.items()} if mode != "smoke" else {}
        meta["floors_met"] = met
        out: dict[str, Any] = {k: figures[k].value for k in KEYS if k in figures}
        out["meta"] = meta
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    return 0  # figures, never pass/fail on time (DESIGN.md); the table says what missed


if __name__ == "__main__":
    sys.exit(main())
