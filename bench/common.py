"""What every benchmark section shares: modes and their sizes, figures, medians, memory readings."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODES = ("smoke", "quick", "full")
RESULT_PREFIX = "BENCH-RESULT "


async def wait(cond: Callable[[], object], timeout: float, what: str, every: float = 0.01) -> None:
    """Poll ``cond`` every ``every`` seconds until true; TimeoutError naming ``what`` after
    ``timeout`` (a timed figure's resolution is ``every``)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(every)


@dataclass(frozen=True)
class Sizes:
    """How big each workload is in one mode (smoke: seconds in CI; quick: < 5 min; full)."""

    repeats: int
    sched_decisions_per_node: int  # decisions per node with the index (1k and 10k nodes)
    scan_decisions: int  # decisions by the full scan at 10k nodes
    api_repeats: int  # fresh servers for the HTTP figures (short runs: noise hits few of them)
    api_pods: int  # pods created per repeat
    api_nodes: int
    hb_nodes: int
    hb_seconds: float  # measured heartbeating time per repeat
    detect_nodes: int
    detect_crashes: int
    detect_interval: float  # heartbeat interval; the grace period is three of them
    detect_spacing: float  # seconds between crashes
    virtual_nodes: int  # nodes added for the RSS-per-virtual-node figure
    scale_nodes: int
    scale_pods: int
    scale_hold: float
    ui_nodes: int
    ui_pods: int
    deploy_count: int = 20  # Deployments (3 replicas each) created for the ready rate
    deploy_nodes: int = 100
    heal_nodes: int = 10
    heal_deployments: int = 20
    heal_crashes: int = 2
    rollout_replicas: int = 20


SIZES = {
    "smoke": Sizes(
        repeats=1, sched_decisions_per_node=1, scan_decisions=10,
        api_repeats=1, api_pods=200, api_nodes=4, hb_nodes=20, hb_seconds=0.5,
        detect_nodes=20, detect_crashes=3, detect_interval=0.2, detect_spacing=0.3,
        virtual_nodes=200, scale_nodes=50, scale_pods=500, scale_hold=3.0,
        ui_nodes=50, ui_pods=500, deploy_count=30, deploy_nodes=10, heal_nodes=6,
        heal_deployments=10, heal_crashes=1, rollout_replicas=10,
    ),
    "quick": Sizes(
        repeats=3, sched_decisions_per_node=10, scan_decisions=100,
        api_repeats=5, api_pods=2000, api_nodes=10, hb_nodes=200, hb_seconds=2.0,
        detect_nodes=200, detect_crashes=20, detect_interval=1.0, detect_spacing=1.0,
        virtual_nodes=1000, scale_nodes=1000, scale_pods=20_000, scale_hold=60.0,
        ui_nodes=1000, ui_pods=20_000, deploy_count=1000, deploy_nodes=100, heal_nodes=20,
        heal_deployments=100, heal_crashes=5, rollout_replicas=100,
    ),
    "full": Sizes(
        repeats=5, sched_decisions_per_node=20, scan_decisions=300,
        api_repeats=7, api_pods=5000, api_nodes=10, hb_nodes=1000, hb_seconds=5.0,
        detect_nodes=200, detect_crashes=20, detect_interval=1.0, detect_spacing=1.0,
        virtual_nodes=5000, scale_nodes=5000, scale_pods=100_000, scale_hold=60.0,
        ui_nodes=1000, ui_pods=20_000, deploy_count=1000, deploy_nodes=100, heal_nodes=20,
        heal_deployments=100, heal_crashes=10, rollout_replicas=100,
    ),
}  # fmt: skip


@dataclass
class Figure:
    """One measured number with the work it measured; ``value`` None means "not measured"."""

    value: float | None
    unit: str
    workload: str
    note: str = ""
    samples: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "workload": self.workload,
            "note": self.note,
            "samples": self.samples,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Figure:
        return Figure(
            data["value"], data["unit"], data["workload"], data.get("note", ""),
            list(data.get("samples", [])),
        )  # fmt: skip


Figures = dict[str, Figure]


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def rnd(value: float, digits: int = 3) -> float:
    """Rounded to ``digits`` significant digits, the precision a noisy machine supports."""
    if value == 0:
        return 0.0
    return float(f"{value:.{digits}g}")


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size of a process in KiB (VmRSS of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant (read from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(cond: Any, timeout: float, what: str, poll: float = 0.05) -> None:
    """Block until ``cond()`` is true (for synchronous sections)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def quiet_logging() -> None:
    """Engine warnings still reach stderr; its INFO chatter does not."""
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
