"""Failure detection and rescheduling: crash a node, time how long until the engine says so,
and how long until the last of its pods runs somewhere else.

The engine runs in this process with virtual nodes (asyncio tasks heartbeating through the
same handler as the HTTP route); a crash cancels a node's task, exactly what the UI's Crash
button does on the virtual runtime. Crashes are spaced so that only a few nodes are silent at
once: the eviction guard (every worker silent) must not trigger, and it is counted if it does.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from functools import partial
from pathlib import Path

from bench import common
from bench.common import Figure, Figures, Sizes, percentile, quiet_logging, rnd
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import ContainerSpec, NodeSpec, NodeStatus, NodeType, PodSpec
from kube9_desktop.engine.model import Resources as R
from kube9_desktop.settings import Settings

NODE_CPU_M = 4000
POD = R(500, 256)  # eight fill a node: crashed nodes carry eight pods each
PODS_PER_NODE = 2  # on average: best-fit packs them onto a quarter of the nodes


class Recorder:
    """Monotonic arrival time of the events a failure produces, per node."""

    def __init__(self) -> None:
        self.detected: dict[int, float] = {}
        self.rebound: dict[int, list[float]] = {}
        self.paused = 0

    def __call__(self, ev: Event) -> None:
        now = time.monotonic()
        if ev.kind is EventKind.NODE_DETECTED and ev.node_id is not None:
            self.detected.setdefault(ev.node_id, now)
        elif ev.kind is EventKind.POD_REBOUND:
            source = ev.data.get("from_id")
            if isinstance(source, int):
                self.rebound.setdefault(source, []).append(now)
        elif ev.kind is EventKind.EVICTIONS_PAUSED:
            self.paused += 1


wait = partial(common.wait, every=0.02)  # polls: the figures' resolution


async def measure(sizes: Sizes, data_dir: Path) -> Figures:
    settings = Settings(
        data_dir=data_dir, runtime="virtual", api_token="bench",
        heartbeat_interval=sizes.detect_interval,
    )  # fmt: skip
    engine = Engine(settings)
    await engine.start()
    try:
        nodes = []
        for i in range(sizes.detect_nodes):
            created = await engine.create_node(
                NodeSpec(f"w{i}", NodeType.WORKER, R(NODE_CPU_M, 8192))
            )
            nodes.append(created.view.id)
        state = engine.cluster.state
        await wait(
            lambda: all(state.nodes[n].status is NodeStatus.HEALTHY for n in nodes),
            30, "nodes healthy",
        )  # fmt: skip
        for i in range(sizes.detect_nodes * PODS_PER_NODE):
            await engine.create_pod(
                PodSpec(f"p{i}", POD, (ContainerSpec("app", "nginx:latest", POD.cpu_m, 256),))
            )
        loaded = [n for n in nodes if state.nodes[n].pod_ids]
        victims = random.Random(7).sample(loaded, min(sizes.detect_crashes, len(loaded)))
        await asyncio.sleep(2 * sizes.detect_interval)  # every node has heard of its pods
        recorder = Recorder()
        unsubscribe = engine.bus.subscribe(recorder)
        crashed: dict[int, tuple[float, int]] = {}  # node -> (crash time, pods it held)
        grace = settings.effective_grace_period
        for node_id in victims:
            node = state.nodes[node_id]
            await wait(lambda node=node: node.status is NodeStatus.HEALTHY, 60, "recovery")
            held = len(node.pod_ids)
            await engine.inject_fault(node_id, "crash")
            crashed[node_id] = (time.monotonic(), held)
            await asyncio.sleep(sizes.detect_spacing)
        await wait(
            lambda: all(
                n in recorder.detected and len(recorder.rebound.get(n, ())) >= held
                for n, (_, held) in crashed.items()
            ),
            grace + 10, "every crashed node detected and its pods rebound",
        )  # fmt: skip
        unsubscribe()
        detect = [recorder.detected[n] - t for n, (t, _) in crashed.items()]
        rebind = [max(recorder.rebound[n]) - recorder.detected[n] for n in crashed]
        pods_moved = sum(held for _, held in crashed.values())
        lag = engine.health.max_lag
    finally:
        await engine.stop()
    workload = (
        f"{sizes.detect_nodes} virtual workers heartbeating every {sizes.detect_interval:g} s "
        f"(grace {grace:g} s, monitor tick {settings.monitor_tick:g} s), "
        f"{sizes.detect_nodes * PODS_PER_NODE} pods bound best-fit; {len(crashed)} crashes of "
        f"loaded nodes, {sizes.detect_spacing:g} s apart"
    )
    note = (
        f"{pods_moved} pods moved; evictions paused {recorder.paused} times; "
        f"max monitor tick lag {lag * 1000:.0f} ms"
    )
    return {
        "grace_period_s": Figure(grace, "s", "the default: three heartbeat intervals"),
        "detect_p50_s": Figure(
            rnd(percentile(detect, 50)),
            "s",
            workload + "; crash -> node_detected event",
            note,
            samples=[rnd(x) for x in sorted(detect)],
        ),
        "detect_p99_s": Figure(
            rnd(percentile(detect, 99)),
            "s",
            workload + "; crash -> node_detected event",
            note,
        ),
        "rebind_p99_s": Figure(
            rnd(percentile(rebind, 99)),
            "s",
            workload + "; node_detected -> the node's last pod_rebound event",
            note,
            samples=[rnd(x, 2) for x in sorted(rebind)],
        ),
    }


def run(sizes: Sizes) -> Figures:
    quiet_logging()
    with tempfile.TemporaryDirectory(prefix="kube9-bench-failures-") as tmp:
        return asyncio.run(measure(sizes, Path(tmp)))
