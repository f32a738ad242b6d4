"""Live usage of each pod: CPU (cores over the last interval) and resident memory, from /proc.

A pod's figure sums its containers' process trees (each container's process and every
descendant): CPU from utime+stime of ``/proc/<pid>/stat``, memory from the resident pages of
``/proc/<pid>/statm`` (VmRSS). CPU is the ticks gained since the previous sample over the wall
time between them; a process first seen counts all its ticks (it started since then). Inside a
Docker node the agent also reads its own cgroup (cgroup v2 ``cpu.stat`` usage_usec and
``memory.current``, or v1 ``cpuacct.usage`` and ``memory.usage_in_bytes``) as the node's figure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

PROC = Path("/proc")
CGROUP = Path("/sys/fs/cgroup")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE_MB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) / (1024 * 1024)
MAX_SHARE = 0.1  # the /proc scan may take at most a tenth of the time between samples


def _scan() -> tuple[dict[int, list[int]], dict[int, tuple[int, int]]]:
    """children by parent pid, and (start time, cpu ticks) by pid, for every live process."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, tuple[int, int]] = {}
    try:
        entries = os.listdir(PROC)
    except OSError:
        return children, ticks
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2 :].split()
        try:
            if fields[0] == b"Z":
                continue
            pid = int(entry)
            children.setdefault(int(fields[1]), []).append(pid)
            ticks[pid] = (int(fields[19]), int(fields[11]) + int(fields[12]))
        except (IndexError, ValueError):
            continue
    return children, ticks


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0


def tree(children: Mapping[int, list[int]], roots: Iterable[int]) -> list[int]:
    found: list[int] = []
    stack = list(roots)
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


class UsageMeter:
    """Samples pods' usage; keeps the previous sample's ticks to turn them into cores."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, cgroup: Path | None = None
    ) -> None:
        self._clock = clock
        self._cgroup = cgroup
        self._last_at: float | None = None
        self._last_ticks: dict[tuple[int, int], int] = {}  # (pid, start time) -> ticks
        self._last_cgroup_usec: int | None = None
        self._cost = 0.0
        self.last: dict[str, Any] | None = None

    def sample(self, roots: Mapping[int, list[int]]) -> dict[str, Any] | None:
        """The heartbeat's ``usage`` field, or the previous one while a scan would cost too
        much (``None`` before the second sample: CPU needs two)."""
        now = self._clock()
        if self._last_at is not None and self._cost > MAX_SHARE * (now - self._last_at):
            return self.last
        started = time.perf_counter()
        children, ticks = _scan()
        seen: dict[tuple[int, int], int] = {}
        pods: list[dict[str, Any]] = []
        elapsed = now - self._last_at if self._last_at is not None else None
        for pod_id, pids in roots.items():
            gained, rss = 0, 0.0
            for pid in tree(children, (p for p in pids if p in ticks)):
                start, total = ticks[pid]
                seen[(pid, start)] = total
                gained += total - self._last_ticks.get((pid, start), 0)
                rss += _rss_mb(pid)
            if elapsed:
                cpu = max(0.0, gained / TICKS / elapsed)
                pods.append({"id": pod_id, "cpu_cores": round(cpu, 4), "memory_mb": round(rss, 2)})
        node = self._node(elapsed)
        self._last_ticks = seen
        self._last_at = now
        self._cost = time.perf_counter() - started
        self.last = None if elapsed is None else {"pods": pods, **({"node": node} if node else {})}
        return self.last

    def _node(self, elapsed: float | None) -> dict[str, float] | None:
        if self._cgroup is None:
            return None
        usec, memory = read_cgroup(self._cgroup)
        previous, self._last_cgroup_usec = self._last_cgroup_usec, usec
        if usec is None or memory is None or previous is None or not elapsed:
            return None
        cpu = max(0.0, (usec - previous) / 1e6 / elapsed)
        return {"cpu_cores": round(cpu, 4), "memory_mb": round(memory / (1024 * 1024), 2)}


def read_cgroup(root: Path) -> tuple[int | None, int | None]:
    """(CPU µs, memory bytes) of the cgroup at ``root`` (v2, else v1 layout)."""
    try:
        stat = (root / "cpu.stat").read_text()
        usec = next(
            int(line.split()[1]) for line in stat.splitlines() if line.startswith("usage_usec ")
        )
        return usec, int((root / "memory.current").read_text())
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    try:
        nsec = int((root / "cpuacct" / "cpuacct.usage").read_text())
        memory = int((root / "memory" / "memory.usage_in_bytes").read_text())
        return nsec // 1000, memory
    except (OSError, ValueError):
        return None, None


def own_cgroup(own_container: bool) -> Path | None:
    """The agent's cgroup when the node is a container of its own (a Docker node), else None.

    The runtime says so (KUBE9_OWN_CONTAINER): an agent that merely runs inside some container
    (the process runtime in a CI container) would otherwise report that whole container."""
    if not own_container:
        return None
    return CGROUP if (CGROUP / "cpu.stat").exists() or (CGROUP / "cpuacct").exists() else None
