"""Workloads: Deployments created and ready per second, self-healing after a node crash, and a
100-replica rolling update with its limits checked on every turn of the loop.

The engine runs in this process on virtual nodes (asyncio tasks heartbeating through the same
handler as the HTTP route), as bench/failures.py does; Deployments are created through the
engine's operation (what the API route calls), so the figures are the engine's, not HTTP's.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from functools import partial
from pathlib import Path

from bench import common
from bench.common import Figure, Figures, Sizes, percentile, quiet_logging, rnd
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.invariants import check_workload_invariants
from kube9_desktop.engine.model import NodeSpec, NodeStatus, NodeType
from kube9_desktop.engine.model import Resources as R
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch
from kube9_desktop.settings import Settings


def deployment(name: str, replicas: int, image: str = "nginx:1", **extra: object) -> object:
    return parse_body(DeploymentCreate, {
        "name": name, "replicas": replicas,
        "template": {"labels": {"app": name}, "cpu_cores_req": 0.05,
                     "containers": [{"name": "c", "image": image, "memory_req": 16}]},
        **extra,
    }).to_spec()  # fmt: skip


wait = partial(common.wait, every=0.005)  # polls: the figures' resolution


async def engine_with_nodes(data: Path, nodes: int, cpu_m: int, interval: float = 1.0) -> Engine:
    engine = Engine(Settings(data_dir=data, runtime="virtual", api_token="bench",
                             heartbeat_interval=interval))  # fmt: skip
    await engine.start()
    for i in range(nodes):
        await engine.create_node(NodeSpec(f"w{i}", NodeType.WORKER, R(cpu_m, cpu_m * 4)))
    await wait(lambda: all(n.status is NodeStatus.HEALTHY for n in engine.nodes()), 60, "nodes")
    return engine


async def ready_rate(sizes: Sizes, data: Path) -> Figures:
    engine = await engine_with_nodes(data, sizes.deploy_nodes, 64_000)
    try:
        specs = [deployment(f"d{i}", 3) for i in range(sizes.deploy_count)]
        state = engine.cluster.state
        start = time.perf_counter()
        for spec in specs:
            await engine.create_deployment(spec)  # type: ignore[arg-type]
        created = time.perf_counter() - start
        await wait(lambda: all(d.status.available == 3 for d in state.deployments.values()),
                   120, "every Deployment ready")  # fmt: skip
        took = time.perf_counter() - start
    finally:
        await engine.stop()
    rate = sizes.deploy_count / took
    return {
        "deploy_ready_per_s": Figure(
            rnd(rate), "deployments/s",
            f"{sizes.deploy_count} Deployments x 3 replicas created one after the other on "
            f"{sizes.deploy_nodes} virtual nodes (heartbeat 1 s) until every one reports 3 "
            "available",
            f"all created in {created:.2f} s, all ready at {took:.2f} s",
        ),
    }  # fmt: skip


async def self_healing(sizes: Sizes, data: Path) -> Figures:
    engine = await engine_with_nodes(data, sizes.heal_nodes, 2000)
    grace = engine.settings.effective_grace_period
    try:
        names = [f"d{i}" for i in range(sizes.heal_deployments)]
        for name in names:
            await engine.create_deployment(deployment(name, 3))  # type: ignore[arg-type]
        state = engine.cluster.state
        await wait(lambda: all(d.status.available == 3 for d in state.deployments.values()),
                   60, "every Deployment ready")  # fmt: skip
        await asyncio.sleep(2 * engine.settings.heartbeat_interval)
        back: list[float] = []
        loaded = sorted(engine.nodes(), key=lambda n: -len(n.pod_ids))[: sizes.heal_crashes]
        for node in loaded:
            await wait(lambda n=node: engine.node(n.id).status is NodeStatus.HEALTHY, 60,
                       "node back")  # fmt: skip
            hit = {state.owner_of(state.pods[p]).owner.id  # type: ignore[union-attr]
                   for p in engine.node(node.id).pod_ids}  # fmt: skip
            crashed = time.monotonic()
            await engine.inject_fault(node.id, "crash")
            healed: dict[int, float] = {}

            def all_back(
                hit: set[int] = hit, healed: dict[int, float] = healed, gone: int = node.id,
                crashed: float = crashed,
            ) -> bool:  # fmt: skip
                now = time.monotonic()
                for d_id in hit:
                    d = state.deployments[d_id]
                    if d_id not in healed and d.status.available == 3 and not any(
                        state.pods[p].node_id == gone
                        for rs_id in d.replicaset_ids for p in state.replicasets[rs_id].pod_ids
                    ):  # fmt: skip
                        healed[d_id] = now - crashed
                return len(healed) == len(hit)

            await wait(all_back, grace + 30, "every hit Deployment back")
            back.extend(healed.values())
    finally:
        await engine.stop()
    return {
        "selfheal_p99_s": Figure(
            rnd(percentile(back, 99)), "s",
            f"{sizes.heal_deployments} Deployments x 3 replicas on {sizes.heal_nodes} virtual "
            f"nodes (grace {grace:g} s); {len(loaded)} crashes of the most loaded nodes; crash "
            "-> every Deployment with a pod there back at 3 available, none left on the node",
            f"{len(back)} Deployment recoveries",
            samples=[rnd(x) for x in sorted(back)],
        ),
    }  # fmt: skip


async def rolling_update(sizes: Sizes, data: Path) -> Figures:
    engine = await engine_with_nodes(data, 20, 8000)
    replicas = sizes.rollout_replicas
    violations: list[str] = []
    steps = 0

    def count(ev: Event) -> None:
        nonlocal steps
        steps += ev.kind is EventKind.DEPLOYMENT_SCALED

    try:
        strategy = {"strategy": {"max_surge": "25%", "max_unavailable": 0}}
        d = (await engine.create_deployment(deployment("big", replicas, **strategy))).view  # type: ignore[arg-type]
        await wait(lambda: engine.deployment(d.id).status.available == replicas, 60, "ready")
        unsubscribe = engine.bus.subscribe(count)
        done = asyncio.Event()

        async def watch() -> None:
            while not done.is_set():
                violations.extend(
                    check_workload_invariants(engine.cluster.state, engine.clock.now())
                )
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        patch = parse_body(DeploymentPatch, {"template": {
            "labels": {"app": "big"}, "cpu_cores_req": 0.05,
            "containers": [{"name": "c", "image": "nginx:2", "memory_req": 16}],
        }})  # fmt: skip
        start = time.perf_counter()
        await engine.update_deployment(d.id, patch)

        def complete() -> bool:
            v = engine.deployment(d.id)
            return v.revision == 2 and v.status.updated == v.status.available == replicas == (
                v.status.replicas
            )

        await wait(complete, 300, "rollout complete")
        took = time.perf_counter() - start
        done.set()
        await watcher
        unsubscribe()
    finally:
        await engine.stop()
    workload = (
        f"a {replicas}-replica Deployment on 20 virtual nodes (heartbeat 1 s), max_surge 25 %, "
        "max_unavailable 0, a new image; the workload invariants checked on every loop turn"
    )
    return {
        "rollout_s": Figure(rnd(took), "s", workload, f"{steps} rollout steps"),
        "rollout_violations": Figure(
            float(len(violations)), "violations", workload, "; ".join(violations[:3])
        ),
    }


def run(sizes: Sizes) -> Figures:
    quiet_logging()
    out: Figures = {}
    for part in (ready_rate, self_healing, rolling_update):
        with tempfile.TemporaryDirectory(prefix="kube9-bench-workloads-") as tmp:
            out.update(asyncio.run(part(sizes, Path(tmp))))
    return out
