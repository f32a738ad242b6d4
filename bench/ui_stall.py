"""Benchmark: how long the GUI thread stalls with 1,000 virtual nodes and 20,000 pods that
report usage at each heartbeat, the real window open (offscreen), while a user works in it.

Phases, each at its share of the probe window: steady heartbeats; 300 pods deleted one
operation each; 300 created in one commit; nodes and pods selected in the tree; the tabs and
the charts' time ranges switched; the busiest node crashed (detection, eviction, restart);
100 deleted and 100 created; steady again. Pods are made through ``Engine.create_pods`` in
commits of 500 before the window attaches, so setting up 20,000 takes seconds.

The engine and the window share one thread (qasync), as in the app, so a stall here is
anything that holds that thread: heartbeats, commits, the bridge, the tree, the charts. A
QTimer fires every 10 ms; each late firing is a stall (actual gap minus 10 ms). Printed: the
longest stall and what was happening then, p99 and p50, how many stalls exceeded 100 ms, and
the five longest with their phase, and the longest in each phase. Target: longest ≤ 100 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_stall.py [--seconds 40] [--profile]

``--profile`` runs cProfile over the probe window and prints the functions that took the most
time on the GUI thread (what to look at when a stall is too long).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from pyqtgraph.util.garbage_collector import GarbageCollector  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.common import percentile, quiet_logging  # noqa: E402
from kube9_desktop.engine.core import Engine  # noqa: E402
from kube9_desktop.engine.model import ContainerSpec, NodeSpec, NodeStatus, NodeType, PodSpec  # noqa: E402
from kube9_desktop.engine.model import Resources as R  # noqa: E402
from kube9_desktop.engine.usage import USAGE_CPU, USAGE_MEMORY, USAGE_VARY  # noqa: E402
from kube9_desktop.serve import start_engine  # noqa: E402
from kube9_desktop.settings import Settings  # noqa: E402
from kube9_desktop.ui.bridge import EngineBridge  # noqa: E402
from kube9_desktop.ui.main_window import MainWindow  # noqa: E402
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem  # noqa: E402
from kube9_desktop.ui.preferences import Preferences  # noqa: E402

NODES, PODS = 1000, 20_000
TICK_MS = 10
POD = R(100, 64)
USAGE = {USAGE_CPU: "60m", USAGE_MEMORY: "40Mi", USAGE_VARY: "0.5"}


def pod_spec(name: str) -> PodSpec:
    return PodSpec(
        name, POD, (ContainerSpec("app", "nginx:latest", POD.cpu_m, POD.mem_mi),),
        annotations=USAGE,
    )  # fmt: skip


class Probe:
    """A 10 ms timer on the GUI thread; each firing records how late it came, and the phase."""

    def __init__(self) -> None:
        self.phase = "idle"
        self.stalls: list[tuple[float, str]] = []  # (ms late, phase)
        self.last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self.last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.stalls.append((max(0.0, (now - self.last) * 1000 - TICK_MS), self.phase))
        self.last = now


class GcPauses:
    """How long each garbage collection held the thread, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, ms)
        self._t0 = 0.0

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._t0) * 1000))

    def report(self) -> None:
        for gen in (0, 1, 2):
            ms = [p for g, p in self.pauses if g == gen]
            if ms:
                print(f"gc generation {gen}: {len(ms)} collections, longest {max(ms):.0f} ms")


class StallStacks:
    """A watcher thread: while the probe is more than 50 ms late, it samples the GUI thread's
    stack every 5 ms, so each stall names the code that held the thread (``--stacks``)."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.samples: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self._gui = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-stacks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            if time.perf_counter() - self.probe.last > 0.05:
                frame = sys._current_frames().get(self._gui)
                stack: list[str] = []
                while frame is not None and len(stack) < 10:  # the innermost frames
                    code = frame.f_code
                    where = "/".join(code.co_filename.split("/")[-2:])
                    stack.append(f"{where}:{frame.f_lineno} {code.co_name}")
                    frame = frame.f_back
                self.samples[(self.probe.phase, tuple(stack))] += 1

    def report(self, top: int = 12) -> None:
        print(f"GUI-thread stacks sampled every 5 ms during stalls > 50 ms (top {top}):")
        for (phase, stack), count in self.samples.most_common(top):
            print(f"  {count * 5:5d} ms  [{phase}]")
            for line in stack:
                print(f"           {line}")


async def build(engine: Engine, nodes: int, pods: int) -> None:
    per_node = -(-pods // nodes)
    capacity = R(max(4000, 2 * per_node * POD.cpu_m), 2 * per_node * POD.mem_mi)
    for i in range(nodes):
        await engine.create_node(NodeSpec(f"w{i}", NodeType.WORKER, capacity))
    state = engine.cluster.state
    deadline = time.monotonic() + 120
    while any(n.status is not NodeStatus.HEALTHY for n in state.nodes.values()):
        if time.monotonic() > deadline:
            raise TimeoutError("the nodes did not all become healthy")
        await asyncio.sleep(0.2)
    for start in range(0, pods, 500):
        await engine.create_pods([pod_spec(f"p{i}") for i in range(start, min(pods, start + 500))])
        await asyncio.sleep(0)


async def churn(window: MainWindow, engine: Engine, probe: Probe, seconds: float) -> None:
    """The phases, each at its share of the probe window; heartbeats carry usage throughout."""
    t0 = time.monotonic()
    state = engine.cluster.state
    made = 0

    async def at(share: float, phase: str) -> None:
        await asyncio.sleep(max(0.0, t0 + share * seconds - time.monotonic()))
        probe.phase = phase

    async def pause(s: float) -> None:
        await asyncio.sleep(s)

    async def delete(count: int) -> None:
        for pod_id in sorted(state.pods)[:count]:
            await engine.delete_pod(pod_id)
            await asyncio.sleep(0)  # one operation at a time, as API requests would come

    async def create(count: int) -> None:
        nonlocal made
        specs = [pod_spec(f"new{made + i}") for i in range(count)]
        made += count
        await engine.create_pods(specs)

    await at(0.0, "steady: usage heartbeats")
    await at(0.1, "deleting 300 pods, one operation each")
    await delete(300)
    await at(0.2, "creating 300 pods in one commit")
    await create(300)
    await at(0.3, "selecting nodes and pods in the tree")
    tree = window.cluster
    for node_id in sorted(state.nodes)[::97][:8]:  # nodes spread over the tree
        tree.select(TreeItem(ItemKind.NODE, node_id))
        await pause(0.3)
        pods = sorted(state.nodes[node_id].pod_ids)
        if pods:
            tree.tree.expand(tree.proxy.mapFromSource(tree.model.index_of(
                TreeItem(ItemKind.NODE, node_id))))  # fmt: skip
            tree.select(TreeItem(ItemKind.POD, pods[0]))
            await pause(0.3)
    await at(0.45, "switching tabs and chart ranges")
    for tab in (2, 1, 0, 2, 0):  # Pods, Workloads, Nodes, ...
        window.trees.setCurrentIndex(tab)
        await pause(0.4)
    for key in (*window.charts.range_bar.buttons, next(iter(window.charts.range_bar.buttons))):
        window.charts.range_bar.buttons[key].click()
        await pause(0.4)
    await at(0.6, "crash of the busiest node: detection, eviction, restart")
    busiest = max(state.nodes.values(), key=lambda n: len(n.pod_ids))
    await engine.inject_fault(busiest.id, "crash")
    await at(0.85, "deleting 100 and creating 100 pods")
    await delete(100)
    await create(100)
    await at(0.92, "steady: usage heartbeats")
    await asyncio.sleep(max(0.0, t0 + seconds - time.monotonic()))


async def measure(
    app: QApplication, seconds: float, profile: bool, stacks: bool, nodes: int, pods: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        settings = Settings(
            data_dir=Path(tmp) / "data", runtime="virtual", api_token="bench", port=0
        )
        engine = Engine(settings)
        await start_engine(engine)
        bridge = EngineBridge()
        window: MainWindow | None = None
        try:
            t0 = time.monotonic()
            await build(engine, nodes, pods)
            print(f"built {nodes} nodes / {pods} pods in {time.monotonic() - t0:.1f} s")
            qsettings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "k9b", "s")
            window = MainWindow(bridge, Preferences(qsettings), settings)
            window.resize(1600, 1000)
            window.show()
            bridge.attach(engine)
            await asyncio.sleep(5.0)  # the first usage reports and chart refreshes settle
            probe = Probe()
            profiler = cProfile.Profile() if profile else None
            sampler = StallStacks(probe) if stacks else None
            pauses = GcPauses()
            pauses.start()
            probe.start()
            if sampler is not None:
                sampler.start()
            if profiler is not None:
                profiler.enable()
            await churn(window, engine, probe, seconds)
            if profiler is not None:
                profiler.disable()
            if sampler is not None:
                sampler.stop()
            probe.stop()
            pauses.stop()
        finally:
            bridge.detach()
            if window is not None:
                window.close()
            await engine.stop()
    report(probe.stalls, seconds)
    pauses.report()
    if sampler is not None:
        sampler.report()
    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(25)


def report(stalls: list[tuple[float, str]], seconds: float) -> None:
    late = [ms for ms, _ in stalls]
    worst = max(stalls)
    print(f"probe: {len(stalls)} firings of a {TICK_MS} ms timer over {seconds:g} s")
    print(f"ui_stall_max_ms {worst[0]:.0f}  (during: {worst[1]})")
    print(f"ui_stall_p99_ms {percentile(late, 99):.0f}")
    print(f"ui_stall_p50_ms {percentile(late, 50):.1f}")
    print(f"stalls over 100 ms: {sum(ms > 100 for ms in late)}")
    for ms, phase in sorted(stalls, reverse=True)[:5]:
        print(f"  {ms:6.0f} ms  {phase}")
    print("longest per phase:")
    phases: dict[str, list[float]] = {}
    for ms, phase in stalls:
        phases.setdefault(phase, []).append(ms)
    for phase, values in phases.items():
        over = sum(ms > 100 for ms in values)
        print(f"  {max(values):6.0f} ms  {phase} ({over} over 100 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--nodes", type=int, default=NODES)
    parser.add_argument("--pods", type=int, default=PODS)
    parser.add_argument("--profile", action="store_true", help="cProfile the GUI thread")
    parser.add_argument("--stacks", action="store_true", help="sample its stack in stalls")
    args = parser.parse_args()
    quiet_logging()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop
    collector = GarbageCollector(interval=1.0)  # noqa: F841 - the app's collection policy
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(
            measure(app, args.seconds, args.profile, args.stacks, args.nodes, args.pods)
        )


if __name__ == "__main__":
    main()
