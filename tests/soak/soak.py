"""Soak: a cluster under random faults for a while, counting what matters.

    python -m tests.soak.soak --nodes 50 --pods 3000 --duration 600 --runtime virtual

Deployments run through it too: rollouts, scales and rollbacks are started while nodes are
failing. Nodes are cordoned, tainted (NoSchedule, and NoExecute that some pods tolerate for a
second or two) and drained meanwhile, and lifted again; every scheduling decision is checked
as its commit publishes it (``check_placements``: none onto a cordoned node or past an
untolerated NoSchedule taint). Reports faults injected (and survived), pods rescheduled, rollouts completed, false
detections (a node declared dead without a fault: must be 0), invariant violations (cluster
and workload invariants, checked every 50 ms: must be 0) and memory at start and end.
Exit code 0 only when both counts are zero. ``tests/soak/test_soak.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kube9_desktop.engine.constraints import Taint, TaintEffect
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.invariants import (
    PLACING,
    check_invariants,
    check_placements,
    check_workload_invariants,
)
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.noexecute import CONDITION_KEYS, UNREACHABLE
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings

MODES = ("crash", "hang", "partition", "component")
DEDICATED = Taint("soak/dedicated", "x", TaintEffect.NO_SCHEDULE)
MAINTENANCE = Taint("soak/maintenance", "", TaintEffect.NO_EXECUTE)
MAINTENANCE_OPS = ("cordon", "taint", "no_execute", "drain")


def tolerations(rng: random.Random) -> list[dict[str, object]]:
    """Some pods tolerate the soak's taints: the dedicated one, maintenance for a second or
    two, or an unreachable node for a second."""
    pick = rng.random()
    if pick < 0.1:
        return [{"key": DEDICATED.key, "operator": "Exists", "effect": "NoSchedule"}]
    if pick < 0.2:
        return [{"key": MAINTENANCE.key, "operator": "Exists", "effect": "NoExecute",
                 "toleration_seconds": rng.randint(1, 2)}]  # fmt: skip
    if pick < 0.25:
        return [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
                 "toleration_seconds": 1}]  # fmt: skip
    return []


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Report:
    runtime: str
    nodes: int
    pods: int
    duration_s: float
    faults_injected: dict[str, int] = field(default_factory=dict)
    pod_kills: int = 0
    pods_rescheduled: int = 0
    pods_pending_now: int = 0
    nodes_recovered: int = 0
    false_detections: int = 0
    invariant_violations: int = 0
    invariant_examples: list[str] = field(default_factory=list)
    churn_creates: int = 0
    churn_deletes: int = 0
    deployments: int = 0
    rollouts_started: int = 0
    rollouts_during_faults: int = 0
    rollouts_completed: int = 0
    scales: int = 0
    rollbacks: int = 0
    maintenance: dict[str, int] = field(default_factory=dict)  # cordon/taint/drain: how often
    drained_pods_left: int = 0  # pods a drain could not move (fits nowhere, daemon-like)
    placements_checked: int = 0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_samples_mb: list[float] = field(default_factory=list)  # every tenth of the run
    max_loop_lag_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.false_detections == 0 and self.invariant_violations == 0

    def table(self) -> str:
        rows = [(k, v) for k, v in asdict(self).items() if k != "invariant_examples"]
        return "\n".join(f"  {k:<22} {v}" for k, v in rows)


def template(name: str, version: int) -> dict[str, object]:
    """Even-numbered Deployments keep one replica per node (a required anti-affinity to their
    own app) and spread over zones as they can; the invariants check the first never breaks."""
    out: dict[str, object] = {
        "labels": {"app": name}, "cpu_cores_req": 0.1,
        "containers": [{"name": "c", "image": f"nginx:{version}", "memory_req": 16}],
    }  # fmt: skip
    if int(name[1:]) % 2 == 0:
        selector = {"match_labels": {"app": name}}
        out["pod_anti_affinity"] = {"required": [
            {"label_selector": selector, "topology_key": "kubernetes.io/hostname"}]}  # fmt: skip
        out["topology_spread_constraints"] = [{
            "max_skew": 1, "topology_key": ZONE, "when_unsatisfiable": "ScheduleAnyway",
            "label_selector": selector,
        }]  # fmt: skip
    return out


ZONE = "topology.kubernetes.io/zone"


async def soak(
    *, nodes: int, pods: int, duration: float, runtime: str, seed: int, interval: float,
    max_faulty: int, data_dir: Path, cores: int = 16, deployments: int = 8,
) -> Report:  # fmt: skip
    rng = random.Random(seed)
    settings = Settings(data_dir=data_dir, runtime=runtime, port=0, api_token="soak",
                        heartbeat_interval=interval, recovery_backoff=interval,
                        heartbeat_flush_interval=2.0)  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)
    report = Report(runtime=runtime, nodes=nodes, pods=pods, duration_s=duration)
    try:
        for i in range(nodes):
            await engine.create_node_from_json({"name": f"n{i}", "cpu_cores_avail": cores,
                                                "labels": {ZONE: "abc"[i % 3]}})  # fmt: skip
        state = engine.cluster.state
        deadline = time.monotonic() + 120
        while any(n.status is not NodeStatus.HEALTHY for n in state.nodes.values()):
            if time.monotonic() > deadline:
                raise RuntimeError("nodes did not become healthy")
            await asyncio.sleep(0.05)
        for i in range(pods):
            if i % 50 == 0:
                await asyncio.sleep(0)  # let heartbeats in, as an API client's pauses would
            await engine.create_pod_from_json(
                {"name": f"p{i}", "cpu_cores_req": rng.choice([0.1, 0.2, 0.25, 0.5]),
                 "containers": [{"name": "c", "image": "busybox", "memory_req": 16}],
                 "tolerations": tolerations(rng)}
            )  # fmt: skip
        versions: dict[int, int] = {}
        for i in range(deployments):
            done = await engine.create_deployment(parse_body(DeploymentCreate, {
                "name": f"d{i}", "replicas": rng.randint(2, 6), "template": template(f"d{i}", 1),
                "strategy": rng.choice([{"max_surge": 1, "max_unavailable": 0},
                                        {"max_surge": "25%", "max_unavailable": "25%"},
                                        {"type": "Recreate"}]),
            }).to_spec())  # fmt: skip
            versions[done.view.id] = 1
        report.deployments = deployments
        report.rss_start_mb = round(rss_mb(), 1)
        engine.health.max_lag = 0.0  # measure the loop during the faults, not the set-up
        first_event = engine.store.events(limit=1)[-1].id
        start = time.monotonic()
        end = start + duration
        next_sample = 0.1
        next_pod = pods
        stop_watch = asyncio.Event()

        async def watch() -> None:
            while not stop_watch.is_set():
                failing = any(n.status is not NodeStatus.HEALTHY or engine.faults.active(n.id)
                              for n in state.nodes.values())  # fmt: skip
                problems = check_invariants(state) + check_workload_invariants(
                    state, engine.clock.now(), nodes_failing=failing
                )
                if problems:
                    report.invariant_violations += len(problems)
                    report.invariant_examples.extend(problems[:3])
                await asyncio.sleep(0.05)

        def on_event(event: Event) -> None:
            report.placements_checked += event.kind in PLACING
            problems = check_placements(state, (event,))
            if problems:
                report.invariant_violations += len(problems)
                report.invariant_examples.extend(problems[:3])

        unsubscribe = engine.bus.subscribe(on_event)
        maintained: dict[int, float] = {}  # node id -> when its cordon/taints are lifted

        async def maintain() -> None:
            now = time.monotonic()
            for node_id, until in list(maintained.items()):
                node = state.nodes.get(node_id)
                if now >= until and node is not None:
                    engine.set_node_cordoned(node_id, False)
                    kept = tuple(t for t in node.taints if t.key in CONDITION_KEYS)
                    engine.set_node_taints(node_id, kept)
                    del maintained[node_id]
            free = [n for n in state.nodes.values() if n.status is NodeStatus.HEALTHY
                    and n.id not in maintained and n.node_type == "worker"]  # fmt: skip
            if len(maintained) >= 3 or not free:
                return
            node = rng.choice(free)
            op = MAINTENANCE_OPS[sum(report.maintenance.values()) % len(MAINTENANCE_OPS)]
            if op == "cordon":
                engine.set_node_cordoned(node.id, True)
            elif op == "taint":
                engine.set_node_taints(node.id, (*node.taints, DEDICATED))
            elif op == "no_execute":
                engine.set_node_taints(node.id, (*node.taints, MAINTENANCE))
            else:
                drained = await engine.drain_node(node.id)
                report.drained_pods_left += len(drained.left)
            report.maintenance[op] = report.maintenance.get(op, 0) + 1
            maintained[node.id] = time.monotonic() + interval * rng.uniform(10, 30)

        watcher = asyncio.create_task(watch())
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(0.3, 1.0) * interval * 4)
            faulty = [n for n in state.nodes.values() if n.status is not NodeStatus.HEALTHY
                      or engine.faults.active(n.id)]  # fmt: skip
            healthy = [n for n in state.nodes.values() if n.status is NodeStatus.HEALTHY
                       and n not in faulty]  # fmt: skip
            if len(faulty) < max_faulty and healthy:
                node = rng.choice(healthy)
                mode = rng.choice(MODES)
                try:
                    await engine.inject_fault(
                        node.id, mode, duration_s=interval * 20 if mode == "partition" else None
                    )
                    report.faults_injected[mode] = report.faults_injected.get(mode, 0) + 1
                except Kube9Error:
                    pass
            if rng.random() < 0.3:
                with contextlib.suppress(Kube9Error):
                    await maintain()
            if rng.random() < 0.3 and state.pods:
                pod = rng.choice(list(state.pods.values()))
                try:
                    await engine.kill_pod(pod.id)
                    report.pod_kills += 1
                except Kube9Error:
                    pass
            if rng.random() < 0.5:  # churn: the cluster is in use while it breaks
                if rng.random() < 0.5 and state.pods:
                    await engine.delete_pod(rng.choice(list(state.pods)))
                    report.churn_deletes += 1
                else:
                    try:
                        await engine.create_pod_from_json(
                            {"name": f"p{next_pod}", "cpu_cores_req": 0.1,
                             "containers": [{"name": "c", "image": "busybox"}]})  # fmt: skip
                        report.churn_creates += 1
                    except Kube9Error:
                        pass
                    next_pod += 1
            if versions and rng.random() < 0.35:  # workloads change while nodes break
                d_id = rng.choice(sorted(versions))
                failing = any(n.status is not NodeStatus.HEALTHY for n in state.nodes.values())
                choice = rng.random()
                try:
                    if choice < 0.5:
                        versions[d_id] += 1
                        patch = {"template": template(engine.deployment(d_id).name,
                                                      versions[d_id])}  # fmt: skip
                        await engine.update_deployment(d_id, parse_body(DeploymentPatch, patch))
                        report.rollouts_started += 1
                        report.rollouts_during_faults += failing
                    elif choice < 0.85:
                        await engine.scale_deployment(d_id, rng.randint(1, 8))
                        report.scales += 1
                    else:
                        await engine.rollback_deployment(d_id)
                        report.rollbacks += 1
                except Kube9Error:
                    pass
            if time.monotonic() - start >= next_sample * duration:
                report.rss_samples_mb.append(round(rss_mb(), 1))
                next_sample += 0.1
        stop_watch.set()
        await watcher
        unsubscribe()
        report.rss_end_mb = round(rss_mb(), 1)  # before reading the whole event log back
        events = engine.store.events(since=first_event, limit=1_000_000)
        report.pods_rescheduled = sum(1 for e in events if e.kind is EventKind.POD_REBOUND)
        report.nodes_recovered = sum(1 for e in events if e.kind is EventKind.NODE_RECOVERED)
        report.rollouts_completed = sum(
            1 for e in events if e.kind is EventKind.DEPLOYMENT_COMPLETE
        )
        detected_incidents = {
            i.id for i in engine.store.incidents(limit=100_000) if i.mode == "detected"
        }
        report.false_detections = sum(
            1
            for e in events
            if e.kind is EventKind.NODE_DETECTED and e.incident_id in detected_incidents
        )
        report.pods_pending_now = len(state.pending)
        report.max_loop_lag_s = round(engine.health.max_lag, 3)
    finally:
        await engine.stop()
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=50)
    p.add_argument("--pods", type=int, default=3000)
    p.add_argument("--duration", type=float, default=600.0, help="seconds of faults")
    p.add_argument("--runtime", choices=("virtual", "process"), default="virtual")
    p.add_argument("--interval", type=float, default=1.0, help="heartbeat interval")
    p.add_argument("--max-faulty", type=int, default=3, help="nodes broken at once, at most")
    p.add_argument("--deployments", type=int, default=8, help="Deployments rolled out under faults")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kube9-soak-") as tmp:
        report = asyncio.run(soak(
            nodes=args.nodes, pods=args.pods, duration=args.duration, runtime=args.runtime,
            seed=args.seed, interval=args.interval, max_faulty=args.max_faulty,
            data_dir=Path(tmp) / "data", deployments=args.deployments,
        ))  # fmt: skip
    print("soak report:\n" + report.table())
    if report.invariant_examples:
        print("invariant violations, first few:\n  " + "\n  ".join(report.invariant_examples[:10]))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
