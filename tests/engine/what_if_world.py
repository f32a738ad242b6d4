"""A cluster with its real controllers, ticked by hand on a FakeClock, for what-if tests.

The failure goes through the fault injector's crash path (``FaultInjector.inject``: the
runtime's kill, the incident awaiting detection); the runtime here is a stub whose kill stops
the node's heartbeats, as a killed virtual node's stop. Time then passes in ticks: live nodes
beat, the health monitor, taint eviction and recovery tick, and the workload controller
reconciles, as their loops would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.clock import FakeClock
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster import workloads as rs_ops
from kube9_desktop.engine.constraints import Taint, Toleration
from kube9_desktop.engine.events import EventBus
from kube9_desktop.engine.faults import FaultInjector
from kube9_desktop.engine.health import HealthConfig, HealthMonitor
from kube9_desktop.engine.heartbeat import HeartbeatReport, Heartbeats
from kube9_desktop.engine.model import ContainerSpec, NodeSpec, NodeType, PodSpec, Resources
from kube9_desktop.engine.recovery import RecoveryConfig, RecoveryController
from kube9_desktop.engine.state import NodeState
from kube9_desktop.engine.store.store import Store
from kube9_desktop.engine.taint_eviction import TaintEvictionConfig, TaintEvictionController
from kube9_desktop.engine.what_if import Fate, WhatIf, preview
from kube9_desktop.engine.workload_controller import WorkloadConfig, WorkloadController
from kube9_desktop.engine.workloads import LabelSelector, PodTemplate, ReplicaSetSpec

READY = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running",
         "node_agent": "running"}  # fmt: skip
GRACE = 3.0
TICK = 0.25


class KillRuntime:
    """The runtime the fault injector kills through: a killed node stops beating."""

    name = "virtual"

    def __init__(self, alive: set[int]) -> None:
        self.alive = alive

    async def kill(self, node_id: int) -> None:
        self.alive.discard(node_id)


class World:
    def __init__(self, path: Path, *, strategy: str = "best-fit", defaults: bool = False) -> None:
        self.clock = FakeClock()
        self.cluster = Cluster(Store.open(f"sqlite:///{path}"), self.clock, EventBus())
        self.cluster.load()
        self.cluster.ensure_system_namespaces()
        self.cluster.set_scheduler(strategy)
        extra = lambda: noexecute.default_tolerations() if defaults else ()  # noqa: E731
        self.health = HealthMonitor(
            self.cluster, self.clock, HealthConfig(grace_period=GRACE, tick=TICK,
                                                   fresh_window=1.5),
            extra_tolerations=extra,
        )  # fmt: skip
        self.taints = TaintEvictionController(
            self.cluster, self.clock, TaintEvictionConfig(tick=TICK), extra_tolerations=extra,
            paused=lambda: self.health.evictions_paused,
            pending=lambda n: self.health.evict_at(n) is not None,
        )  # fmt: skip
        self.alive: set[int] = set()
        self.faults = FaultInjector(
            self.cluster, KillRuntime(self.alive),  # type: ignore[arg-type]
            self.clock, on_healed=self.health.restart_watch,
        )  # fmt: skip
        self.restarted: list[int] = []
        self.recovery = RecoveryController(
            self.cluster, self.clock, RecoveryConfig(backoff=1.0, tick=TICK), self._restart,
            partitioned=self.faults.partitioned,
        )  # fmt: skip
        self.workloads = WorkloadController(self.cluster, self.clock, WorkloadConfig(tick=TICK))
        self.beats = Heartbeats(self.cluster, interval=1)

    async def _restart(self, node: NodeState) -> None:
        self.restarted.append(node.id)  # the node stays dead: a restart that never answers

    # ---- building ----------------------------------------------------------------------

    def node(
        self, name: str, cpu_m: int = 4000, mem_mi: int = 8192, *,
        labels: dict[str, str] | None = None, taints: tuple[Taint, ...] = (),
        max_pods: int | None = None, cordoned: bool = False,
        node_type: NodeType = NodeType.WORKER,
    ) -> int:  # fmt: skip
        notes = {"kube9.io/max-pods": str(max_pods)} if max_pods else {}
        created = self.cluster.create_node(
            NodeSpec(name, node_type, Resources(cpu_m, mem_mi), labels or {}, notes, taints)
        )
        node_id = created.view.id
        self.alive.add(node_id)
        self.beat()
        if cordoned:
            self.cluster.set_cordoned(node_id, True)
        return node_id

    def pod(
        self, name: str, cpu_m: int = 500, mem_mi: int = 64, *,
        tolerations: tuple[Toleration, ...] = (), selector: dict[str, str] | None = None,
    ) -> int:  # fmt: skip
        """A bare pod, placed or left pending."""
        spec = PodSpec(name, Resources(cpu_m, mem_mi), (ContainerSpec("c", "img", cpu_m, mem_mi),),
                       tolerations=tolerations, node_selector=selector or {})  # fmt: skip
        with self.cluster.transaction() as t:
            created = pod_ops.create_pod(t, spec, allow_pending=True)
        return created.view.id

    def replicaset(
        self, name: str, replicas: int, cpu_m: int = 500, mem_mi: int = 64, *,
        tolerations: tuple[Toleration, ...] = (), selector: dict[str, str] | None = None,
    ) -> int:  # fmt: skip
        template = PodTemplate(
            Resources(cpu_m, mem_mi), (ContainerSpec("c", "img", cpu_m, mem_mi),),
            labels={"app": name}, tolerations=tolerations, node_selector=selector or {},
        )  # fmt: skip
        spec = ReplicaSetSpec(name, "default", replicas, LabelSelector({"app": name}), template,
                              labels={"app": name})  # fmt: skip
        with self.cluster.transaction() as t:
            rs = rs_ops.create_replicaset(t, spec)
        self.workloads.dirty_replicasets.add(rs.id)
        self.workloads.reconcile()
        return rs.id

    # ---- time --------------------------------------------------------------------------

    def beat(self) -> None:
        for node_id in sorted(self.alive):
            if node_id in self.cluster.state.nodes:
                self.beats.process(node_id, HeartbeatReport(components=READY))
                self.health.heard(node_id)

    def tick(self) -> None:
        """One monitor tick of time: the live nodes beat, every controller takes its turn."""
        self.clock.advance(TICK)
        self.beat()
        self.health.tick()
        self.taints.tick()
        self.recovery.tick()
        self.faults.tick()
        self.workloads._timed()
        self.workloads.reconcile()

    def fail_and_settle(self, node_ids: list[int]) -> None:
        """Crash the nodes, then let time pass until their pods are dealt with: the nodes
        detected, their evictions done and the ReplicaSets' replacements made. On a loop, as
        the controllers run (recovery's restarts are tasks)."""
        asyncio.run(self._fail(node_ids))

    async def _fail(self, node_ids: list[int]) -> None:
        for node_id in node_ids:  # the crash fault, injected for real, as the API's does
            await self.faults.inject(self.cluster.state.nodes[node_id], "crash")
        for _ in range(round((GRACE + 2.0) / TICK)):
            self.tick()
            await asyncio.sleep(0)
            state = self.cluster.state
            detected = all(state.nodes[n].status.value != "healthy" for n in node_ids)
            done = all(
                self.health.evict_at(n) is None or not state.nodes[n].pod_ids for n in node_ids
            )
            if detected and (done or self.health.evictions_paused):
                await self.recovery.stop()
                return
        raise AssertionError("the failure was never dealt with")

    # ---- comparing ---------------------------------------------------------------------

    def preview(self, node_ids: list[int], strategy: str | None = None) -> WhatIf:
        return preview(self.cluster, node_ids, doomed=self.health.doomed, strategy=strategy)

    def where(self, pod_id: int) -> str | None:
        pod = self.cluster.state.pods.get(pod_id)
        if pod is None or pod.node_id is None:
            return None
        return self.cluster.state.nodes[pod.node_id].name

    def outcome(self) -> Outcome:
        """Where every pod is: bare pods by id, ReplicaSets' pods counted per node."""
        state = self.cluster.state
        bare: dict[int, str | None] = {}
        owned: Counter[tuple[str, str | None]] = Counter()
        for pod in state.pods.values():
            node = state.nodes[pod.node_id].name if pod.node_id is not None else None
            if pod.spec.owner is None:
                bare[pod.id] = node
            else:
                owned[(pod.spec.owner.name, node)] += 1
        return Outcome(bare, owned)


class Outcome:
    def __init__(self, bare: dict[int, str | None], owned: Counter[tuple[str, str | None]]):
        self.bare = bare
        self.owned = owned

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and (self.bare, self.owned) == (other.bare, other.owned)

    def __repr__(self) -> str:
        return f"Outcome(bare={self.bare}, owned={dict(self.owned)})"


def snapshot(w: World) -> tuple[object, ...]:
    """Every object as its view shows it (by id: an undone deletion puts a pod back at the
    end of the working copy's dict), the books a rehearsal touches, and the store's rows."""
    c = w.cluster
    return (c.resource_version, sorted(c.node_views(), key=lambda v: v.id),
            sorted(c.pod_views(), key=lambda v: v.id), dict(c.state.open_incidents),
            sorted(c.state.pending), c.config, c.store.load())  # fmt: skip


def predicted(before: Outcome, result: WhatIf) -> Outcome:
    """The outcome the preview says the failure leads to, from the outcome before it."""
    bare = dict(before.bare)
    owned = Counter(before.owned)
    for fate in result.pods:
        if fate.fate is Fate.STAYS:
            continue
        if fate.owner is None:
            bare[fate.pod_id] = fate.node
            continue
        rs = fate.owner.removeprefix("ReplicaSet ")
        if fate.fate is Fate.PLACED:  # a pending pod of a ReplicaSet placed
            owned[(rs, None)] -= 1
            owned[(rs, fate.node)] += 1
            continue
        owned[(rs, fate.from_node)] -= 1
        if fate.replacement is not None or fate.node is not None:
            owned[(rs, fate.node)] += 1
    return Outcome(bare, +owned)
