"""Scale: thousands of virtual nodes heartbeating at 1 Hz with their pods bound, held for a
minute without a single node wrongly declared dead, in one process of bounded size.

Every NODE_DETECTED event is false here (nothing is crashed); a loaded event loop that delays
virtual heartbeats past the grace period would show up as one. RSS is this process's VmRSS
(engine, store cache and every virtual node), read at the end of the hold; VmHWM is the peak.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from pathlib import Path

from bench.common import Figure, Figures, Sizes, quiet_logging, rnd
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import ContainerSpec, NodeSpec, NodeStatus, NodeType, PodSpec
from kube9_desktop.engine.model import Resources as R
from kube9_desktop.settings import Settings

POD = R(100, 64)


def vm_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


async def measure(sizes: Sizes, data_dir: Path) -> Figures:
    settings = Settings(data_dir=data_dir, runtime="virtual", api_token="bench")
    engine = Engine(settings)
    await engine.start()
    detections: list[Event] = []
    engine.bus.subscribe(
        lambda ev: detections.append(ev) if ev.kind is EventKind.NODE_DETECTED else None
    )
    pods_per_node = -(-sizes.scale_pods // sizes.scale_nodes)
    node_cpu = max(4000, 2 * pods_per_node * POD.cpu_m)
    try:
        t0 = time.monotonic()
        for i in range(sizes.scale_nodes):
            await engine.create_node(
                NodeSpec(f"w{i}", NodeType.WORKER, R(node_cpu, 2 * pods_per_node * POD.mem_mi))
            )
        state = engine.cluster.state
        deadline = time.monotonic() + 60
        while any(n.status is not NodeStatus.HEALTHY for n in state.nodes.values()):
            if time.monotonic() > deadline:
                raise TimeoutError("nodes did not all become healthy")
            await asyncio.sleep(0.1)
        nodes_s = time.monotonic() - t0
        t1 = time.monotonic()
        for i in range(sizes.scale_pods):
            await engine.create_pod(
                PodSpec(f"p{i}", POD, (ContainerSpec("app", "nginx:latest", POD.cpu_m, 64),))
            )
            if i % 50 == 49:
                await asyncio.sleep(0)  # let heartbeats through, as API requests would
        pods_s = time.monotonic() - t1
        gc.collect()
        beats0 = engine.heartbeats.received
        engine.health.max_lag = 0.0
        hold0 = time.monotonic()
        await asyncio.sleep(sizes.scale_hold)
        held = time.monotonic() - hold0
        rate = (engine.heartbeats.received - beats0) / held
        lag = engine.health.max_lag
        running = sum(p.phase.value == "running" for p in state.pods.values())
        rss_mb = vm_kb("VmRSS") / 1024
        peak_mb = vm_kb("VmHWM") / 1024
        healthy = sum(n.status is NodeStatus.HEALTHY for n in state.nodes.values())
    finally:
        await engine.stop()
    workload = (
        f"{sizes.scale_nodes:,} virtual workers heartbeating at 1 Hz in one process, "
        f"{sizes.scale_pods:,} pods bound ({pods_per_node} per node), held "
        f"{sizes.scale_hold:g} s after set-up"
    )
    note = (
        f"set-up: nodes {nodes_s:.0f} s, pods {pods_s:.0f} s; during the hold "
        f"{rate:,.0f} heartbeats/s, max monitor tick lag {lag * 1000:.0f} ms, {healthy:,} "
        f"healthy nodes, {running:,} pods running"
    )
    return {
        "scale_nodes": Figure(sizes.scale_nodes, "nodes", workload),
        "scale_pods": Figure(sizes.scale_pods, "pods", workload),
        "scale_rss_mb": Figure(
            rnd(rss_mb),
            "MB",
            workload + "; VmRSS of the engine process at the end",
            f"peak (VmHWM) {peak_mb:,.0f} MB",
        ),
        "scale_false_detections": Figure(
            len(detections),
            "nodes",
            workload + "; node_detected events from set-up to the end (no node was crashed)",
            note,
        ),
    }


def run(sizes: Sizes) -> Figures:
    quiet_logging()
    with tempfile.TemporaryDirectory(prefix="kube9-bench-scale-") as tmp:
        return asyncio.run(measure(sizes, Path(tmp)))
