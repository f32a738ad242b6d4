"""One scenario run per strategy: a fresh engine on virtual nodes and a SimLoop, the timeline
carried out through the engine's own operations, the Recorder sampling it.

Time: the cluster's nodes are created and heartbeat until healthy; that moment is t = 0 of
the timeline and of every figure. Steps with ``at`` run in one task in (time, file) order;
a step with ``after`` waits for the step before it to have run, then for its condition (checked
after each commit), then for its ``delay``. A step the engine refuses is recorded with the
engine's message and the run goes on.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.engine.changes import Changes
from kube9_desktop.engine.clock import wait_event
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, NotFound, Unschedulable
from kube9_desktop.engine.model import NodeStatus, NodeType
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from kube9_desktop.engine.specs import NodeCreate
from kube9_desktop.scenario.format import RANDOM_NODE, Condition, Scenario, Step
from kube9_desktop.scenario.metrics import Recorder
from kube9_desktop.scenario.simloop import SIM_EPOCH, SimClock, SimLoop, run_simulated
from kube9_desktop.settings import Settings

READY_TIMEOUT_S = 300.0  # simulated seconds the cluster may take to come up


class ScenarioFailed(Kube9Error):
    """The run could not go on (its cluster never came up, say)."""


def scenario_settings(scenario: Scenario, strategy: str, data_dir: Path, **more: Any) -> Settings:
    """The engine settings a scenario asks for (heartbeat, grace, detection …) on ``data_dir``;
    ``more`` for the mode's own (runtime, store, ports)."""
    sc = scenario.settings
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "runtime": "virtual",
        "scheduler": strategy,
        "port": 0,
        "api_token": "scenario",
        "db_url": "sqlite://",  # in memory: the run's store is thrown away
        "heartbeat_interval": sc.heartbeat,
        "grace_period": sc.grace,
        "eviction_delay": sc.eviction_delay,
        "detect_from_runtime": sc.detection == "runtime",
        "kubernetes_default_tolerations": sc.kubernetes_defaults,
        "max_recovery_attempts": sc.recovery_attempts,
    }
    base.update(more)
    return Settings(**base)


def simulated_engine(scenario: Scenario, strategy: str, loop: SimLoop, data_dir: Path) -> Engine:
    """A fresh engine on ``loop``'s simulated time, virtual nodes whose heartbeat offsets come
    from the seed, no data plane: a run that is a function of the file."""
    runtime = VirtualRuntime(spread=random.Random(scenario.seed))
    settings = scenario_settings(scenario, strategy, data_dir)
    return Engine(settings, clock=SimClock(loop), runtime=runtime, data_plane=False)


class Driver:
    """Plays one scenario on one engine: ``run`` opens, plays and stops a fresh engine;
    ``play`` plays on one that already runs (live mode, the window) and leaves it running.

    Times are seconds on the engine's clock since t0; timestamps in the report are measured
    from SIM_EPOCH (simulated: exact, so the bytes never move) or from t0's wall time (live).
    """

    def __init__(self, scenario: Scenario, strategy: str, engine: Engine, *,
                 mode: str = "simulated") -> None:  # fmt: skip
        self.scenario = scenario
        self.strategy = strategy
        self.engine = engine
        self.mode = mode
        self.rng = random.Random(scenario.seed)  # "node: random", the same draws per strategy
        self.t0 = 0.0
        self.t0_wall: datetime | None = None  # live: the wall time of t0
        self.outcomes: list[dict[str, Any]] = []
        self.done: dict[int, asyncio.Event] = {}
        self.changed = asyncio.Event()
        self.recorder: Recorder | None = None

    def time(self) -> float:
        """The engine clock's seconds (the SimLoop's, or the real monotonic clock's)."""
        return self.engine.clock.monotonic()

    # ---- waiting -----------------------------------------------------------------------

    def _on_changes(self, _changes: Changes) -> None:
        self.changed.set()

    async def until(self, cond: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait (simulated time) until ``cond`` holds, looking again after each commit."""
        deadline = None if timeout is None else self.time() + timeout
        while not cond():
            self.changed.clear()
            if deadline is None:
                await self.changed.wait()
            elif not await wait_event(self.changed, max(0.0, deadline - self.time())):
                return cond()
        return True

    def holds(self, cond: Condition) -> bool:
        e = self.engine
        if cond.kind == "deployment":
            d = e.find_deployment_named("default", cond.name)
            if d is None:
                return False
            st = d.status
            want = d.spec.replicas
            if cond.state == "ready":
                return st.available >= want and st.updated >= want
            complete = st.condition("Progressing")
            return complete is not None and complete.reason == "NewReplicaSetAvailable"
        if cond.kind == "node":
            n = e.find_node_named(cond.name)
            return n is not None and str(n.status) == cond.state
        return not e.cluster.state.pending

    # ---- the run -----------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        """Open the engine, play the scenario, stop the engine: the report."""
        e = self.engine
        await e.open()
        try:
            await e.run()
            return await self.play()
        finally:
            await e.stop()

    async def play(self) -> dict[str, Any]:
        """On a running engine: the scenario's classes and nodes, t0 once they are healthy,
        the timeline until the duration is over, then the report."""
        e = self.engine
        unsubscribe = e.bus.subscribe_changes(self._on_changes)
        try:
            for pc in self.scenario.priority_classes:
                await e.create_priority_class(pc.to_spec())
            for node in self.scenario.nodes:
                await e.create_node(node.to_spec())
            names = {n.name for n in self.scenario.nodes}

            def all_up() -> bool:
                nodes = [n for n in e.cluster.state.nodes.values() if n.name in names]
                return len(nodes) == len(names) and all(
                    n.status is NodeStatus.HEALTHY for n in nodes
                )

            if not await self.until(all_up, READY_TIMEOUT_S):
                raise ScenarioFailed(
                    f"the cluster's nodes were not all healthy {READY_TIMEOUT_S:g} s after start"
                )
            self.t0 = self.time()
            if self.mode != "simulated":
                self.t0_wall = e.clock.now()
            self.recorder = Recorder(e, self.t0, self.scenario.measure.deployments)
            tasks = [asyncio.create_task(self._sampler(), name="scenario-sampler")]
            timed = sorted(
                (s for s in self.scenario.timeline if s.at is not None),
                key=lambda s: (s.at or 0.0, s.index),
            )
            tasks.append(asyncio.create_task(self._timed(timed), name="scenario-timed"))
            for step in self.scenario.timeline:
                self.done[step.index] = asyncio.Event()
            chains: dict[int, list[Step]] = {}  # file item -> its steps (a repeat has several)
            for step in self.scenario.timeline:
                if step.after is not None:
                    chains.setdefault(step.item, []).append(step)
            for item, steps in chains.items():
                tasks.append(asyncio.create_task(self._after(steps), name=f"item-{item}"))
            try:
                await asyncio.sleep(self.t0 + self.scenario.duration - self.time())
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            self.recorder.sample()  # the end itself, whatever the interval
            for step in self.scenario.timeline:  # never reached: its condition never held
                if not self.done[step.index].is_set():
                    waited = step.after.text if step.after is not None else "its time"
                    self.outcomes.append({
                        "step": step.index, "item": step.item, "action": step.action,
                        "t": None, "not_run": f"still waiting for {waited!r} at the end",
                    })  # fmt: skip
            self.outcomes.sort(key=lambda o: (o["t"] is None, o["t"] or 0.0, o["step"]))
            return self.report()
        finally:
            unsubscribe()
            if self.recorder is not None:
                self.recorder.close()

    async def _sampler(self) -> None:
        assert self.recorder is not None
        every = self.scenario.measure.sample_every
        n = 0
        while True:
            due = self.t0 + n * every
            if due >= self.t0 + self.scenario.duration:
                return  # the end is sampled once the run stops
            await asyncio.sleep(max(0.0, due - self.time()))
            self.recorder.sample()
            n += 1

    async def _timed(self, steps: list[Step]) -> None:
        for step in steps:
            assert step.at is not None
            await asyncio.sleep(max(0.0, self.t0 + step.at - self.time()))
            await self._carry_out(step)

    async def _after(self, steps: list[Step]) -> None:
        """One file entry with ``after``: once the entry before it has run and the condition
        holds, each of its steps (a repeat's copies) at that moment plus its own delay."""
        first = steps[0]
        cond = first.after
        assert cond is not None
        if first.index > 0:
            await self.done[first.index - 1].wait()
        await self.until(lambda: self.holds(cond))
        began = self.time()
        for step in steps:
            await asyncio.sleep(max(0.0, began + step.delay - self.time()))
            await self._carry_out(step)

    def _now(self) -> float:
        return round(self.time() - self.t0, 6)

    async def _carry_out(self, step: Step) -> None:
        record: dict[str, Any] = {"step": step.index, "item": step.item, "action": step.action,
                                  "t": self._now()}  # fmt: skip
        if step.repetition is not None:
            record["repetition"] = step.repetition
        try:
            record["outcome"] = await self._act(step)
        except Unschedulable as exc:
            assert self.recorder is not None
            self.recorder.refused_create(exc.extra.get("reasons") or {})
            record["error"] = exc.message
        except Kube9Error as exc:
            record["error"] = exc.message
        self.outcomes.append(record)
        self.done[step.index].set()

    def _node_id(self, name: str) -> int:
        if name == RANDOM_NODE:
            candidates = sorted(
                (n.name, n.id)
                for n in self.engine.cluster.state.nodes.values()
                if n.node_type is NodeType.WORKER
                and n.status is NodeStatus.HEALTHY
                and not self.engine.faults.active(n.id)
            )
            if not candidates:
                raise NotFound("no healthy worker without a fault to pick")
            return self.rng.choice(candidates)[1]
        node = self.engine.find_node_named(name)
        if node is None:
            raise NotFound(f"Node {name!r} not found")
        return node.id

    def _deployment_id(self, ref: dict[str, Any]) -> int:
        d = self.engine.find_deployment_named(ref["namespace"], ref["name"])
        if d is None:
            raise NotFound(f"Deployment {ref['name']!r} not found")
        return d.id

    async def _act(self, step: Step) -> str:
        e, body = self.engine, step.body
        match step.action:
            case "add_node":
                nodes: tuple[NodeCreate, ...] = body
                for node in nodes:
                    await e.create_node(node.to_spec())
                return f"{len(nodes)} node(s) added"
            case "remove_node":
                node_id = self._node_id(body["node"])
                name = e.node(node_id).name
                await e.delete_node(node_id, force=True)
                return f"node {name} removed"
            case "create_pod":
                pod, count = body
                if count is None:
                    made = await e.create_pod(pod.to_spec())
                    return f"pod {made.view.name} created"
                for i in range(1, count + 1):
                    await e.create_pod(pod.model_copy(update={"name": f"{pod.name}-{i}"}).to_spec())
                return f"{count} pod(s) created"
            case "delete_pod":
                found = e.find_pod_named(body["namespace"], body["name"])
                if found is None:
                    raise NotFound(f"Pod {body['name']!r} not found")
                await e.delete_pod(found.id)
                return f"pod {body['name']} deleted"
            case "create_deployment":
                await e.create_deployment(body.to_spec())
                return f"deployment {body.name} created"
            case "scale_deployment":
                await e.scale_deployment(self._deployment_id(body), body["replicas"])
                return f"deployment {body['name']} scaled to {body['replicas']}"
            case "update_deployment":
                await e.update_deployment(self._deployment_id(body), body["patch"])
                return f"deployment {body['name']} updated"
            case "delete_deployment":
                await e.delete_deployment(self._deployment_id(body))
                return f"deployment {body['name']} deleted"
            case "create_service":
                await e.create_service(body.to_spec())
                return f"service {body.name} created"
            case "delete_service":
                found_s = e.find_service_named(body["namespace"], body["name"])
                if found_s is None:
                    raise NotFound(f"Service {body['name']!r} not found")
                await e.delete_service(found_s.id)
                return f"service {body['name']} deleted"
            case "fault":
                node_id = self._node_id(body["node"])
                fault = body["fault"]
                injected = await e.inject_fault(
                    node_id, fault.mode, component=fault.component, duration_s=fault.duration_s
                )
                return f"{fault.mode} on {injected.node}"
            case "heal":
                return await e.recover_node(self._node_id(body["node"]))
        raise AssertionError(step.action)

    # ---- the report --------------------------------------------------------------------

    def _secs(self, at: datetime | None) -> float | None:
        if at is None:
            return None
        if self.t0_wall is not None:
            return round(float((at - self.t0_wall).total_seconds()), 6)
        return round(float((at - SIM_EPOCH).total_seconds()) - self.t0, 6)

    def incidents(self) -> list[dict[str, Any]]:
        out = []
        for tl in sorted(self.engine.incidents(limit=100_000), key=lambda t: t.incident.id):
            inc = tl.incident
            injected = self._secs(tl.injected_at)
            detected = self._secs(tl.detected_at)
            recovered = self._secs(tl.recovered_at)
            start = injected if injected is not None else self._secs(tl.started_at)
            out.append({
                "node": inc.node_name,
                "mode": inc.mode,
                "outcome": inc.outcome,
                "injected_t": injected,
                "detected_t": detected,
                "detected_by": tl.detected_by,
                "eviction_t": self._secs(tl.eviction_at),
                "last_pod_rebound_t": self._secs(tl.last_rebound_at),
                "recovered_t": recovered,
                "failed_t": self._secs(tl.failed_at),
                "detect_s": None if detected is None or start is None
                else round(detected - start, 6),
                "recover_s": None if recovered is None or start is None
                else round(recovered - start, 6),
                "pods_moved": tl.pods_moved,
                "pods_pending": tl.pods_pending,
                "restart_attempts": tl.restart_attempts,
            })  # fmt: skip
        return out

    def report(self) -> dict[str, Any]:
        assert self.recorder is not None
        r = self.recorder
        s = r.series
        incidents = self.incidents()
        detects = [i["detect_s"] for i in incidents if i["detect_s"] is not None]
        recovers = [i["recover_s"] for i in incidents if i["recover_s"] is not None]
        totals = r.totals()
        totals["incidents"] = len(incidents)
        totals["detect_s_max"] = max(detects) if detects else None
        totals["recover_s_max"] = max(recovers) if recovers else None
        chosen = set(self.scenario.measure.series)
        series: dict[str, Any] = {"t": s.t, "nodes_schedulable": s.nodes_schedulable}
        if "allocation" in chosen:
            series.update(
                cpu_capacity_m=s.cpu_capacity_m,
                cpu_allocated_m=s.cpu_allocated_m,
                mem_capacity_mi=s.mem_capacity_mi,
                mem_allocated_mi=s.mem_allocated_mi,
            )
        if "fragmentation" in chosen:
            series.update(stranded_cpu_m=s.stranded_cpu_m, stranded_mem_mi=s.stranded_mem_mi)
        if "pending" in chosen:
            series["pending"] = s.pending
        if "availability" in chosen:
            series["deployments"] = s.deployments
        return {
            "strategy": self.strategy,
            "series": series,
            "totals": totals,
            "incidents": incidents,
            "moves": r.moves,
            "steps": self.outcomes,
        }


def run_strategy(scenario: Scenario, strategy: str) -> dict[str, Any]:
    """One fresh engine on simulated time and a throw-away store: the run's report."""

    async def main(loop: SimLoop) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="kube9-scenario-") as tmp:
            engine = simulated_engine(scenario, strategy, loop, Path(tmp) / "data")
            return await Driver(scenario, strategy, engine).run()

    result: dict[str, Any] = run_simulated(main)
    return result


def scenario_header(scenario: Scenario, mode: str = "simulated") -> dict[str, Any]:
    header = {
        "name": scenario.name,
        "description": scenario.description,
        "file_sha256": scenario.sha256,
        "seed": scenario.seed,
        "duration_s": scenario.duration,
        "sample_every_s": scenario.measure.sample_every,
        "heartbeat_s": scenario.settings.heartbeat,
        "app_version": __version__,
        "mode": mode,
    }
    if scenario.time_scale != 1.0:
        header["time_scale"] = scenario.time_scale
    return header
