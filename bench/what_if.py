"""The what-if preview's time: one node failing at 1,000 nodes / 20,000 pods (issue 17: at
most 50 ms), on the engine's working copy and store, as ``POST /what-if`` computes it.

    .venv/bin/python bench/what_if.py [--nodes 1000] [--pods 20000] [--repeats 20]

Half the pods are bare, half belong to ReplicaSets of 20 replicas; each repeat previews the
failure of another node (so its bare pods are rebound and its ReplicaSets' pods replaced).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RESULT_PREFIX, Figure, Figures, Sizes, median, quiet_logging, rnd  # noqa: E402
from kube9_desktop.engine import replicasets  # noqa: E402
from kube9_desktop.engine.clock import FakeClock  # noqa: E402
from kube9_desktop.engine.cluster import Cluster  # noqa: E402
from kube9_desktop.engine.cluster import workloads as rs_ops  # noqa: E402
from kube9_desktop.engine.events import EventBus  # noqa: E402
from kube9_desktop.engine.health import HealthConfig, HealthMonitor  # noqa: E402
from kube9_desktop.engine.heartbeat import HeartbeatReport, Heartbeats  # noqa: E402
from kube9_desktop.engine.model import (  # noqa: E402
    ContainerSpec,
    NodeSpec,
    NodeType,
    PodSpec,
    Resources,
)
from kube9_desktop.engine.store.store import Store  # noqa: E402
from kube9_desktop.engine.what_if import preview  # noqa: E402
from kube9_desktop.engine.workloads import LabelSelector, PodTemplate, ReplicaSetSpec  # noqa: E402

READY = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running",
         "node_agent": "running"}  # fmt: skip
REPLICAS = 20
CPU_M = (100, 250, 500, 750)


def build(path: Path, nodes: int, pods: int, seed: int = 17) -> tuple[Cluster, HealthMonitor]:
    rng = random.Random(seed)
    clock = FakeClock()
    cluster = Cluster(Store.open(f"sqlite:///{path}"), clock, EventBus())
    cluster.load()
    cluster.ensure_system_namespaces()
    health = HealthMonitor(cluster, clock, HealthConfig())
    beats = Heartbeats(cluster, interval=1)
    for i in range(nodes):
        cores = rng.choice((8, 16, 32))
        view = cluster.create_node(
            NodeSpec(f"w{i}", NodeType.WORKER, Resources(cores * 1000, cores * 2048))
        ).view
        beats.process(view.id, HeartbeatReport(components=READY))
    bare = pods // 2
    specs = []
    for i in range(bare):
        cpu = rng.choice(CPU_M)
        specs.append(PodSpec(f"p{i}", Resources(cpu, 128), (ContainerSpec("c", "img", cpu, 128),)))
    for start in range(0, len(specs), 1000):
        cluster.create_pods(specs[start : start + 1000])
    for r in range((pods - bare) // REPLICAS):
        cpu = rng.choice(CPU_M)
        template = PodTemplate(Resources(cpu, 128), (ContainerSpec("c", "img", cpu, 128),),
                               labels={"app": f"rs{r}"})  # fmt: skip
        spec = ReplicaSetSpec(f"rs{r}", "default", REPLICAS, LabelSelector({"app": f"rs{r}"}),
                              template, labels={"app": f"rs{r}"})  # fmt: skip
        with cluster.transaction() as t:
            rs = rs_ops.create_replicaset(t, spec)
            replicasets.manage(t, rs, t.now)
    return cluster, health


def measure(nodes: int, pods: int, repeats: int) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cluster, health = build(Path(tmp) / "bench.db", nodes, pods)
        built = time.perf_counter() - started
        # What the window's collector does once an engine is loaded (ui/collector.py): the
        # 20,000 pods' records are not walked by every collection (a full one is ~100 ms).
        gc.collect()
        gc.freeze()
        ids = [n for n in cluster.state.nodes if cluster.state.nodes[n].pod_ids]
        rng = random.Random(3)
        samples, moved = [], 0
        for _ in range(repeats):
            node_id = rng.choice(ids)
            t0 = time.perf_counter()
            result = preview(cluster, [node_id], doomed=health.doomed)
            samples.append((time.perf_counter() - t0) * 1000)
            moved += len(result.pods)
        cluster.store.close()
        gc.unfreeze()
    workload = (
        f"one node failing at {nodes} nodes / {len(cluster.state.pods)} pods (half in "
        f"ReplicaSets), {repeats} previews, {moved / repeats:.0f} pods each"
    )
    note = f"cluster built in {built:.1f} s; its objects frozen out of the collector, as the app"
    return {
        "what_if_ms_1k_20k": Figure(
            rnd(median(samples), 2), "ms", workload, note, [rnd(s, 2) for s in samples]
        ),
        "what_if_max_ms_1k_20k": Figure(rnd(max(samples), 2), "ms", workload),
    }


def run(sizes: Sizes) -> Figures:
    return measure(sizes.ui_nodes, sizes.ui_pods, max(5, sizes.repeats * 5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    quiet_logging()
    figures = measure(args.nodes, args.pods, args.repeats)
    for key, f in figures.items():
        print(f"{key}: {f.value} {f.unit} ({f.workload}; {f.note})" if f.note
              else f"{key}: {f.value} {f.unit} ({f.workload})")  # fmt: skip
    print(RESULT_PREFIX + json.dumps({k: f.to_json() for k, f in figures.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
