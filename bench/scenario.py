"""Simulated scenario speed and determinism (issue 17).

    .venv/bin/python bench/scenario.py [--nodes 1000] [--pods 20000] [--faults 50]
        [--duration 1h] [--heartbeat 10s] [--strategies best-fit,first-fit,worst-fit]
        [--parallel N] [--determinism 10] [--keep FILE]

Builds a scenario (``--nodes`` 32-core workers; ``--pods`` replicas over 20 Deployments of four
request sizes; ``--faults`` crashes of a worker drawn from the seed, spread over the run with
jitter), runs it once per strategy on simulated time and prints the wall time, the ratio of
simulated to wall time and the report's hash. ``--determinism N`` runs the same file N more
times (one strategy) and requires a single report hash. The target (issue 17): 3 strategies x
(1,000 nodes, 20,000 pods, 50 faults, 1 simulated hour) in <= 60 s on a 2-core machine.
The heartbeat is 10 s by default (a kubelet's node status period); the work is per beat, so
the wall time scales with duration x nodes / heartbeat.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import quiet_logging  # noqa: E402
from kube9_desktop.scenario.driver import run_strategy, scenario_header  # noqa: E402
from kube9_desktop.scenario.format import Scenario, parse_duration, parse_scenario  # noqa: E402
from kube9_desktop.scenario.report import REPORT_FORMAT, report_hash  # noqa: E402

DEPLOYMENTS = 20
SIZES_CPU = (0.25, 0.5, 1, 2)  # cores, one per Deployment in turn
SIZES_MEM = (256, 512, 1024, 2048)  # MiB


def scenario_text(nodes: int, pods: int, faults: int, duration: float, heartbeat: float) -> str:
    grace = 4 * heartbeat
    lines = [
        "name: bench",
        "seed: 17",
        f"duration: {duration:g}s",
        "cluster:",
        "  nodes:",
        f"    - {{name: w, count: {nodes}, cpu: 32, memory: 128Gi, max_pods: 250}}",
        f"settings: {{heartbeat: {heartbeat:g}s, grace: {grace:g}s}}",
        "measure: {sample_every: 60s}",
        "timeline:",
    ]
    per, extra = divmod(pods, DEPLOYMENTS)
    for d in range(DEPLOYMENTS):
        cpu, mem = SIZES_CPU[d % 4], SIZES_MEM[d % 4]
        lines += [
            "  - at: 0s",
            "    create_deployment:",
            f"      name: app-{d}",
            f"      replicas: {per + (1 if d < extra else 0)}",
            f"      template: {{labels: {{app: app-{d}}}, containers: [{{name: c, image: x, "
            f"cpu_req: {cpu}, memory_req: {mem}}}]}}",
        ]
    if faults:
        every = (duration - 60) / faults
        lines += [
            "  - at: 60s",
            "    repeat:",
            f"      count: {faults}",
            f"      every: {every:g}s",
            f"      jitter: {every / 2:g}s",
            "      do: {fault: {node: random, mode: crash}}",
        ]
    return "\n".join(lines) + "\n"


def one(text: str, strategy: str) -> tuple[str, float, dict[str, Any]]:
    scenario = parse_scenario(text, "bench.yaml")
    began = time.perf_counter()
    report = run_strategy(scenario, strategy)
    return strategy, time.perf_counter() - began, report


def combined(scenario: Scenario, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "scenario": scenario_header(scenario),
        "strategies": dict(sorted(runs.items())),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--pods", type=int, default=20_000)
    p.add_argument("--faults", type=int, default=50)
    p.add_argument("--duration", default="1h")
    p.add_argument("--heartbeat", default="10s")
    p.add_argument("--strategies", default="best-fit,first-fit,worst-fit")
    p.add_argument("--parallel", type=int, default=1, help="strategies run in N processes")
    p.add_argument("--determinism", type=int, default=0, metavar="N",
                   help="then N runs of the first strategy must give one hash")  # fmt: skip
    p.add_argument("--keep", type=Path, default=None, help="write the scenario file here")
    args = p.parse_args(argv)
    quiet_logging()
    duration = parse_duration(args.duration)
    text = scenario_text(
        args.nodes, args.pods, args.faults, duration, parse_duration(args.heartbeat)
    )
    if args.keep is not None:
        args.keep.write_text(text, encoding="utf-8")
    scenario = parse_scenario(text, "bench.yaml")
    strategies = [s for s in args.strategies.split(",") if s]
    print(
        f"scenario: {args.nodes} nodes, {args.pods} pods, {args.faults} crash faults, "
        f"{duration:g} s simulated, heartbeat {args.heartbeat}; strategies "
        f"{', '.join(strategies)}; {args.parallel} process(es)",
        flush=True,
    )
    began = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    walls: dict[str, float] = {}
    if args.parallel > 1:
        with concurrent.futures.ProcessPoolExecutor(args.parallel) as pool:
            for strategy, wall, report in pool.map(one, [text] * len(strategies), strategies):
                runs[strategy], walls[strategy] = report, wall
    else:
        for strategy in strategies:
            _, walls[strategy], runs[strategy] = one(text, strategy)
            print(f"  {strategy}: {walls[strategy]:.1f} s wall", flush=True)
    total = time.perf_counter() - began
    simulated = duration * len(strategies)
    for strategy in strategies:
        t = runs[strategy]["totals"]
        print(
            f"  {strategy:>9}: {walls[strategy]:6.1f} s wall, sim/wall "
            f"{duration / walls[strategy]:.1f}x; incidents {t['incidents']}, evictions "
            f"{t['evictions']}, pending peak {t['pending_peak']}, detect max {t['detect_s_max']} s"
        )
    digest = report_hash(combined(scenario, runs))
    print(
        f"total: {total:.1f} s wall for {simulated:g} s simulated "
        f"(ratio {simulated / total:.1f}x; target <= 60 s at the full size); report {digest}"
    )
    result = {"wall_s": round(total, 3), "ratio": round(simulated / total, 3), "hash": digest}
    if args.determinism:
        first = strategies[0]
        hashes = {report_hash(one(text, first)[2]) for _ in range(args.determinism)}
        result["determinism_runs"] = args.determinism
        result["determinism_hashes"] = len(hashes)
        print(f"determinism: {args.determinism} runs of {first} -> {len(hashes)} hash(es)")
        if len(hashes) != 1:
            print(json.dumps(result))
            return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
