"""The trunk's failure defects, each played out on virtual nodes over the engine's operations:
incidents that open and close, pods on a failed node after a restart, heartbeats that cannot
invent components or revive a crashed node, and a node holding 10,000 pods."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus, PodSpec
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from kube9_desktop.engine.specs import PodCreate, parse_body
from kube9_desktop.serve import start_engine
from tests.helpers import POSTMAN_PODS, Api, assert_invariants, fast_settings, wait_for
from tests.integration.conftest import EngineFactory, add_nodes, add_pod


def incidents(engine: Engine) -> list[tuple[str, str]]:
    """(mode, outcome) of every incident, oldest first."""
    return [(t.incident.mode, t.incident.outcome) for t in reversed(engine.incidents(100))]


def status(engine: Engine, node_id: int) -> NodeStatus:
    return engine.node(node_id).status


async def test_a_later_failure_never_lands_in_an_older_open_incident(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    # A kube_proxy fault leaves the node Ready: its incident stays open, nothing is detected.
    await engine.inject_fault(ids["a"], "component", component="kube_proxy")
    assert incidents(engine) == [("component", "open")]
    crash = await engine.inject_fault(ids["a"], "crash")  # allowed: the same rule as the UI's
    assert incidents(engine) == [("component", "superseded"), ("crash", "open")]
    await wait_for(lambda: status(engine, ids["a"]) is NodeStatus.HEALTHY
                   and incidents(engine)[-1] == ("crash", "recovered"),
                   what="detection, restart, recovery")  # fmt: skip
    timeline = engine.incident(crash.incident_id)
    detect = timeline.durations()["detect_s"]
    grace, interval = engine.settings.effective_grace_period, engine.settings.heartbeat_interval
    # From the crash: the grace period less the time since the last heartbeat, plus a tick or
    # so (not the age of the older incident, as it was).
    assert detect is not None and grace - interval <= detect < grace + 1.0
    assert all(e.incident_id == crash.incident_id for e in timeline.events)
    kinds = {e.kind for e in timeline.events}
    assert {EventKind.FAULT_INJECTED, EventKind.NODE_DETECTED, EventKind.NODE_RECOVERED} <= kinds


async def test_a_short_partition_closes_its_incident_when_it_heals(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine(grace_period=1.0)
    ids = await add_nodes(engine, ("a", 2), ("b", 2))
    await engine.inject_fault(ids["a"], "partition", duration_s=0.3)  # shorter than the grace
    await wait_for(lambda: incidents(engine) == [("partition", "healed")], what="healed")
    assert status(engine, ids["a"]) is NodeStatus.HEALTHY
    # A crash afterwards is an incident of its own.
    await engine.inject_fault(ids["a"], "crash")
    assert incidents(engine) == [("partition", "healed"), ("crash", "open")]


async def test_incidents_close_when_their_node_is_deleted_or_the_engine_restarts(
    tmp_path: Path,
) -> None:
    engine = Engine(fast_settings(tmp_path / "data", grace_period=30))
    await start_engine(engine)
    try:
        ids = await add_nodes(engine, ("a", 2), ("b", 2), ("c", 2))
        await engine.inject_fault(ids["a"], "component", component="kube_proxy")
        await engine.inject_fault(ids["b"], "crash")
        await engine.delete_node(ids["a"])
        assert incidents(engine) == [("component", "deleted"), ("crash", "open")]
    finally:
        await engine.stop()
    again = Engine(fast_settings(tmp_path / "data"))
    await start_engine(again)
    try:
        assert incidents(again) == [("component", "deleted"), ("crash", "interrupted")]
    finally:
        await again.stop()


async def test_pods_on_a_failed_node_move_after_a_restart_once_room_appears(
    tmp_path: Path,
) -> None:
    runtime = VirtualRuntime()
    data = tmp_path / "data"
    # Pods stay on an unhealthy node for an hour: it fails (no restarts allowed) still holding them.
    first = Engine(fast_settings(data, eviction_delay=3600, max_recovery_attempts=0),
                   runtime=runtime)  # fmt: skip
    await start_engine(first)
    try:
        ids = await add_nodes(first, ("a", 2))
        pods = [await add_pod(first, f"p{i}", 0.5) for i in range(3)]
        await first.inject_fault(ids["a"], "crash")
        await wait_for(lambda: status(first, ids["a"]) is NodeStatus.FAILED, what="failed")
        assert set(first.node(ids["a"]).pod_ids) == set(pods)
    finally:
        await first.stop()
    again = Engine(fast_settings(data))  # a new runtime: "a" stays failed, no restart
    await start_engine(again)
    try:
        assert status(again, ids["a"]) is NodeStatus.FAILED
        room = await add_nodes(again, ("room", 4))
        await wait_for(lambda: all(again.pod(p).node_id == room["room"] for p in pods),
                       what="placed on the new node")  # fmt: skip
        assert_invariants(again)
    finally:
        await again.stop()


async def test_heartbeats_cannot_invent_components_reveal_secrets_or_revive_a_node(
    engine: Engine, api: Api
) -> None:
    status_, node = await api.post("/nodes/", {"name": "w1", "cpu_cores_avail": 8})
    node_id = node["id"]
    await wait_for(lambda: engine.node(node_id).status is NodeStatus.HEALTHY, what="healthy")
    assert (await api.post("/pods/", POSTMAN_PODS[2]))[0] == 201  # has a secret config item
    # An invented component is a 400 naming it; the node keeps its real components.
    status_, err = await api.post(f"/nodes/{node_id}/heartbeat",
                                  {"components": {"flux_capacitor": "running"}})  # fmt: skip
    assert status_ == 400 and "flux_capacitor" in err["error"] and err["field"] == "components"
    assert "flux_capacitor" not in engine.node(node_id).components
    # By hand (admin token), the desired pods come back with every secret masked.
    status_, reply = await api.post(f"/nodes/{node_id}/heartbeat", {"generation": None})
    assert status_ == 200
    env = [e for p in reply["desired_pods"] for e in p["env"]]
    assert {e["value"] for e in env if e["secret"]} == {"******"}
    assert "secret123" not in str(reply)
    # A crashed node is not brought back by a heartbeat sent by hand.
    await engine.inject_fault(node_id, "crash")
    await wait_for(lambda: engine.node(node_id).status is not NodeStatus.HEALTHY, what="detected")
    status_, err = await api.post(f"/nodes/{node_id}/heartbeat",
                                  {"components": {"kubelet": "running"}})  # fmt: skip
    assert status_ == 409 and "cannot bring it back" in err["error"]


async def test_desired_pods_too_large_for_a_reply_come_in_pages(engine: Engine, api: Api) -> None:
    _, node = await api.post("/nodes/", {"name": "big", "cpu_cores_avail": 1000,
                                         "memory_mb": 10_000_000})  # fmt: skip
    node_id = node["id"]
    await wait_for(lambda: engine.node(node_id).status is NodeStatus.HEALTHY, what="healthy")
    config = [{"name": f"c{i}", "type": "env", "key": f"K{i}", "value": "v" * 900}
              for i in range(60)]  # fmt: skip
    specs = [{"name": f"p{i}", "cpu_cores_req": 0.01, "config": config,
              "containers": [{"name": "c", "image": "busybox"}]} for i in range(30)]  # fmt: skip
    for body in specs:
        assert (await api.post("/pods/", body))[0] == 201
    status_, reply = await api.post(f"/nodes/{node_id}/heartbeat", {"generation": None})
    assert status_ == 200 and "desired_pods" not in reply
    assert reply["desired_pods_count"] == 30
    url = reply["desired_pods_url"]
    got: list[int] = []
    offset: int | None = 0
    while offset is not None:
        status_, page = await api.get(f"{url}&offset={offset}&limit=7")
        assert status_ == 200, page
        got += [p["id"] for p in page["pods"]]
        offset = page["next_offset"]
    assert sorted(got) == sorted(engine.node(node_id).pod_ids)
    stale = url.replace(f"generation={reply['generation']}", "generation=1")
    assert (await api.get(stale))[0] == 409


async def test_a_node_holding_10000_pods_stays_healthy_for_a_minute(tmp_path: Path) -> None:
    engine = Engine(fast_settings(tmp_path / "data", heartbeat_interval=0.5))
    await start_engine(engine)
    try:
        ids = await add_nodes(engine, ("huge", 1000), max_pods=10_000)
        node_id = ids["huge"]
        for start in range(0, 10_000, 1000):
            await engine.create_pods([tiny_pod(f"p{i}") for i in range(start, start + 1000)])
        assert len(engine.node(node_id).pod_ids) == 10_000
        await wait_for(lambda: all(p.phase.value == "running" for p in engine.pods()),
                       timeout=60, what="every pod reported running")  # fmt: skip
        beats_before = engine.heartbeats.session(node_id).count
        began = time.monotonic()

        def a_minute_of_health() -> bool:
            assert engine.node(node_id).status is NodeStatus.HEALTHY, engine.node(node_id)
            beats = engine.heartbeats.session(node_id).count - beats_before
            return time.monotonic() - began >= 60 and beats >= 100

        await wait_for(a_minute_of_health, timeout=120, what="a minute of heartbeats")
        assert not engine.events(kinds=[str(EventKind.NODE_DETECTED)])
        assert not engine.events(kinds=[str(EventKind.DRIFT)])
        assert_invariants(engine)
    finally:
        await engine.stop()


def tiny_pod(name: str) -> PodSpec:
    return parse_body(
        PodCreate,
        {"name": name, "cpu_cores_req": 0.1,
         "containers": [{"name": "c", "image": "busybox", "memory_req": 1}]},
    ).to_spec()  # fmt: skip


async def test_a_heartbeat_body_may_grow_with_the_pods_its_node_holds(
    engine: Engine, api: Api
) -> None:
    """A manual heartbeat listing 3,000 pod ids (~20 KiB) is accepted from a node that has them."""
    ids = await add_nodes(engine, ("w1", 400), max_pods=3000)
    await engine.create_pods([tiny_pod(f"p{i}") for i in range(3000)])
    pod_ids = sorted(engine.node(ids["w1"]).pod_ids)
    async with aiohttp.ClientSession() as session:
        hand = Api(engine.api_url, engine.admin_token, session)
        status_, reply = await hand.post(f"/nodes/{ids['w1']}/heartbeat", {"pod_ids": pod_ids})
    assert status_ == 200, reply
    assert reply["max_report_bytes"] >= 16 * 1024 + 3000 * 1024
