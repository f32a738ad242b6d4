"""Failure scenarios played out on virtual nodes: detection, eviction, recovery, the guard."""

from __future__ import annotations

import time

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import NodeStatus, PodPhase
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from tests.helpers import assert_invariants, wait_for
from tests.integration.conftest import EngineFactory, add_nodes, add_pod


def events_of(engine: Engine, kind: EventKind, node_id: int | None = None) -> list[Event]:
    return [e for e in engine.store.events(limit=5000, kinds=[kind])
            if node_id is None or e.node_id == node_id]  # fmt: skip


def status(engine: Engine, node_id: int) -> NodeStatus:
    return engine.cluster.state.nodes[node_id].status


async def test_crash_detected_pods_rebound_best_fit_node_recovered(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("big", 4), ("mid", 3), ("small", 2))
    p1 = await add_pod(engine, "p1", 2)  # best fit: small (0 left)
    p2 = await add_pod(engine, "p2", 1)  # best fit: mid (2 left)
    p3 = await add_pod(engine, "p3", 1)  # best fit: mid (1 left)
    pods = engine.cluster.state.pods
    assert [pods[p].node_id for p in (p1, p2, p3)] == [ids["small"], ids["mid"], ids["mid"]]

    await engine.inject_fault(ids["mid"], "crash")
    await wait_for(lambda: status(engine, ids["mid"]) is not NodeStatus.HEALTHY, what="detection")
    detected = events_of(engine, EventKind.NODE_DETECTED, ids["mid"])[0]
    grace, tick = engine.settings.effective_grace_period, engine.settings.monitor_tick
    # Silent for more than the grace period, detected on the first tick after it (plus any
    # scheduling delay the loop itself measured).
    # (silence_s is rounded to the millisecond, so "more than" may print as equal)
    assert grace <= detected.data["silence_s"] <= grace + tick + engine.health.max_lag + 0.05

    # Largest first onto best-fit nodes: both 1-CPU pods go to big (the only node with room).
    await wait_for(lambda: pods[p2].node_id == ids["big"] and pods[p3].node_id == ids["big"],
                   what="pods rebound")  # fmt: skip
    assert pods[p1].node_id == ids["small"]  # untouched
    rebound = events_of(engine, EventKind.POD_REBOUND)
    assert {e.pod_name for e in rebound} == {"p2", "p3"}
    assert all(e.data["from"] == "mid" and e.data["to"] == "big" for e in rebound)
    assert_invariants(engine, evictions_settled=True)

    await wait_for(lambda: status(engine, ids["mid"]) is NodeStatus.HEALTHY, what="recovery")
    # Pods that moved stay moved; the recovered node comes back empty.
    assert engine.cluster.state.nodes[ids["mid"]].pod_ids == set()
    assert events_of(engine, EventKind.NODE_RECOVERED, ids["mid"])
    assert_invariants(engine)

    incidents = engine.store.incidents(node_id=ids["mid"])
    assert incidents[0].outcome == "recovered"


async def test_all_nodes_crashed_at_once_nothing_moves_all_recover(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2), ("c", 2))
    pods = [await add_pod(engine, f"p{i}", 1) for i in range(5)]
    before = {p: engine.cluster.state.pods[p].node_id for p in pods}
    for node_id in ids.values():
        await engine.inject_fault(node_id, "crash")
    await wait_for(lambda: engine.health.evictions_paused, what="guard engaged")
    await wait_for(
        lambda: all(status(engine, i) is NodeStatus.HEALTHY for i in ids.values()),
        what="all recovered",
    )
    await wait_for(lambda: not engine.health.evictions_paused, what="guard released")
    after = {p: engine.cluster.state.pods[p].node_id for p in pods}
    assert after == before
    assert events_of(engine, EventKind.POD_REBOUND) == []
    assert events_of(engine, EventKind.EVICTIONS_PAUSED)
    assert_invariants(engine)


async def test_too_little_capacity_pods_wait_then_are_placed(make_engine: EngineFactory) -> None:
    engine = await make_engine(max_recovery_attempts=0)  # the crashed node stays down
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    p1 = await add_pod(engine, "p1", 2)
    p2 = await add_pod(engine, "p2", 1.5)
    victim = engine.cluster.state.pods[p1].node_id
    assert victim is not None
    await engine.inject_fault(victim, "crash")
    survivor = ids["a"] if victim == ids["b"] else ids["b"]
    state = engine.cluster.state
    await wait_for(lambda: status(engine, victim) is NodeStatus.FAILED, what="failed")
    # p1 (2 CPU) no longer fits anywhere: it waits; nothing is dropped.
    await wait_for(lambda: state.pods[p1].phase is PodPhase.PENDING, what="pending")
    assert state.pods[p2].node_id == survivor
    assert p1 in state.pending
    assert_invariants(engine, evictions_settled=True)
    new = await add_nodes(engine, ("c", 2))
    await wait_for(lambda: state.pods[p1].node_id == new["c"], what="pending pod placed")
    assert state.pods[p1].phase in (PodPhase.SCHEDULED, PodPhase.RUNNING)
    assert_invariants(engine, evictions_settled=True)


async def test_recovery_budget_spent_then_user_recovers(make_engine: EngineFactory) -> None:
    engine = await make_engine(max_recovery_attempts=2)
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    runtime = engine.runtime
    assert isinstance(runtime, VirtualRuntime)
    runtime.break_node(ids["a"], starts=2)  # both automatic restarts come up dead
    await engine.inject_fault(ids["a"], "crash")
    await wait_for(lambda: status(engine, ids["a"]) is NodeStatus.FAILED, timeout=20, what="failed")
    attempts = events_of(engine, EventKind.RECOVERY_ATTEMPT, ids["a"])
    assert [e.data["attempt"] for e in attempts] == [1, 2]
    assert engine.cluster.state.nodes[ids["a"]].recovery_attempts == 2
    # Failed stays failed: nothing restarts it behind the user's back.
    await wait_for(lambda: len(events_of(engine, EventKind.NODE_FAILED, ids["a"])) == 1)
    message = await engine.recover_node(ids["a"])
    assert "restarted" in message
    await wait_for(lambda: status(engine, ids["a"]) is NodeStatus.HEALTHY, what="recovered")
    assert_invariants(engine)


async def test_component_fault_makes_node_not_ready_until_restarted(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    p = await add_pod(engine, "p", 1)
    holder = engine.cluster.state.pods[p].node_id
    assert holder is not None
    await engine.inject_fault(holder, "component", component="kubelet")
    # The node's view says so at once, before its agent has reported it (window: Components).
    assert engine.node(holder).component_faults == {"kubelet": "failed"}
    await wait_for(lambda: status(engine, holder) is not NodeStatus.HEALTHY, what="NotReady")
    detected = events_of(engine, EventKind.NODE_DETECTED, holder)[-1]
    assert "kubelet failed" in detected.message
    other = ids["a"] if holder == ids["b"] else ids["b"]
    await wait_for(lambda: engine.cluster.state.pods[p].node_id == other, what="evicted")
    await wait_for(lambda: status(engine, holder) is NodeStatus.HEALTHY, what="restarted")
    assert engine.faults.component_faults(holder) == {}
    # The restart ended the fault; the books forget it once the new instance reports running.
    await wait_for(lambda: engine.node(holder).component_faults == {}, what="books cleared")
    assert engine.node(holder).components["kubelet"] == "running"


async def test_hang_is_detected_and_the_node_restarted(make_engine: EngineFactory) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    await engine.inject_fault(ids["a"], "hang")
    assert "hung" in engine.cluster.node_views()[0].faults
    await wait_for(lambda: status(engine, ids["a"]) is not NodeStatus.HEALTHY, what="detected")
    await wait_for(lambda: status(engine, ids["a"]) is NodeStatus.HEALTHY, what="restarted")
    assert not engine.faults.hung(ids["a"])


async def test_partition_split_brain_then_heal(make_engine: EngineFactory) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    p = await add_pod(engine, "p", 1.5)
    holder = engine.cluster.state.pods[p].node_id
    assert holder is not None
    other = ids["a"] if holder == ids["b"] else ids["b"]
    runtime = engine.runtime
    assert isinstance(runtime, VirtualRuntime)
    await wait_for(lambda: p in runtime._nodes[holder].pods, what="pod running on its node")
    await engine.inject_fault(holder, "partition", duration_s=1.0)
    await wait_for(lambda: engine.cluster.state.pods[p].node_id == other, what="rebound")
    # Split brain: the partitioned node still runs its copy; the engine placed another.
    assert p in runtime._nodes[holder].pods
    await wait_for(lambda: p in runtime._nodes[other].pods, what="second copy running")
    # Recovery leaves an unreachable node alone.
    assert not events_of(engine, EventKind.RECOVERY_ATTEMPT, holder)
    await wait_for(lambda: status(engine, holder) is NodeStatus.HEALTHY, what="healed")
    await wait_for(lambda: p not in runtime._nodes[holder].pods, what="old copy stopped")
    copies = [n for n in runtime._nodes.values() if p in n.pods]
    assert len(copies) == 1
    # The partition ends by the clock (heartbeats pass at once); the injector's next tick
    # records it, which may come after the node is already healthy again.
    await wait_for(lambda: bool(events_of(engine, EventKind.FAULT_HEALED, holder)), what="healed")
    assert_invariants(engine)


async def test_killed_pod_process_restart_count_is_visible(make_engine: EngineFactory) -> None:
    engine = await make_engine()
    await add_nodes(engine, ("a", 2))
    p = await add_pod(engine, "p", 1)
    pod = engine.cluster.state.pods[p]
    await wait_for(lambda: pod.phase is PodPhase.RUNNING, what="running")
    await engine.kill_pod(p)
    await wait_for(lambda: pod.containers["main"].restarts == 1, what="restart reported")
    assert pod.containers["main"].exit_code == 137
    assert events_of(engine, EventKind.POD_RESTARTED)


async def test_engine_stall_restarts_deadlines_instead_of_evicting(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    p = await add_pod(engine, "p", 1)
    holder = engine.cluster.state.pods[p].node_id
    time.sleep(engine.settings.effective_grace_period + 1.5)
    await wait_for(lambda: bool(events_of(engine, EventKind.EVICTIONS_PAUSED)), what="stall")
    assert "stalled" in events_of(engine, EventKind.EVICTIONS_PAUSED)[0].message
    nodes = engine.cluster.state.nodes
    for _ in range(3):  # three heartbeat rounds from every node, each seen to arrive
        seen = {i: nodes[i].last_heartbeat_at for i in ids.values()}
        await wait_for(
            lambda seen=seen: all(nodes[i].last_heartbeat_at != at for i, at in seen.items()),
            what="a heartbeat from every node",
        )
        assert all(status(engine, i) is NodeStatus.HEALTHY for i in ids.values())
    assert engine.cluster.state.pods[p].node_id == holder
    assert events_of(engine, EventKind.NODE_DETECTED) == []


async def test_failure_timeline_over_the_api(make_engine: EngineFactory) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    await add_pod(engine, "p", 1)
    holder = next(n for n in ids.values() if engine.cluster.state.nodes[n].pod_ids)
    injected = await engine.inject_fault(holder, "crash")
    await wait_for(lambda: engine.store.incidents()[0].outcome == "recovered", what="recovered")
    from kube9_desktop.engine.timeline import incident_timeline

    tl = incident_timeline(engine.store, engine.store.incident(injected.incident_id))  # type: ignore[arg-type]
    d = tl.durations()
    assert d["detect_s"] is not None and d["detect_s"] > 0
    assert d["rebind_s"] is not None and d["rebind_s"] >= 0
    assert d["recover_s"] is not None and d["recover_s"] > d["detect_s"]
    assert tl.pods_moved == 1 and tl.restart_attempts == 1
