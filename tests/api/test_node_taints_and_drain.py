"""Unhealthy nodes' condition taints, toleration_seconds, drain and the eviction settings,
over real HTTP (the virtual runtime, 0.1 s heartbeats: a 0.3 s grace period)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Conflict
from tests.api.test_scheduling_constraints import nodes_up, pod
from tests.helpers import Api, assert_invariants, wait_for

UNREACHABLE = "node.kubernetes.io/unreachable"
UNREACHABLE_NX = {"key": UNREACHABLE, "value": "", "effect": "NoExecute"}
UNREACHABLE_NS = {"key": UNREACHABLE, "value": "", "effect": "NoSchedule"}


def tolerate(key: str, seconds: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        found["toleration_seconds"] = seconds
    return found


async def node_of(api: Api, pod_id: int) -> str | None:
    _, detail = await api.get(f"/pods/{pod_id}")
    return detail["node"]["name"] if detail["node"] else None


def when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


async def test_a_lost_node_is_tainted_and_a_tolerating_pod_stays_its_seconds_then_moves(
    engine: Engine, api: Api
) -> None:
    (n1,) = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 4})
    ids = {}
    for name, tolerations in (("plain", []), ("two-s", [tolerate(UNREACHABLE, 2)]),
                              ("forever", [tolerate(UNREACHABLE)])):  # fmt: skip
        status, reply = await api.post("/pods/", pod(name, 0.5, tolerations=tolerations))
        assert status == 201 and reply["pod_details"]["node"] == "n1", reply
        ids[name] = reply["pod_details"]["id"]
    await nodes_up(engine, api, {"name": "n2", "cpu_cores_avail": 4})
    host_id = n1["id"]
    status, injected = await api.post(f"/nodes/{host_id}/simulate/failure",
                                      {"mode": "partition", "duration_s": 30})  # fmt: skip
    assert status == 200, injected

    async def tainted() -> bool:
        _, node = await api.get(f"/nodes/{host_id}")
        return UNREACHABLE_NX in node["taints"] and UNREACHABLE_NS in node["taints"]

    await wait_for(tainted, timeout=10, what="the unreachable taints in GET /nodes/{id}")
    await wait_for(lambda: engine.pod(ids["two-s"]).node_id != host_id, timeout=10,
                   what="the tolerating pod moved after its 2 s")  # fmt: skip
    _, events = await api.get(f"/events?node_id={host_id}&kind=node_detected,eviction_started")
    detected = next(e for e in events if e["kind"] == "node_detected")
    by_taint = [e for e in events if e["kind"] == "eviction_started"
                and e["data"].get("by") == "taint_eviction"]  # fmt: skip
    assert by_taint, events
    waited = (when(by_taint[0]) - when(detected)).total_seconds()
    assert 2.0 <= waited < 4.0, waited  # its toleration, counted from the taint's addition
    assert await node_of(api, ids["two-s"]) == "n2"
    assert await node_of(api, ids["forever"]) == "n1"  # no seconds: stays
    assert await node_of(api, ids["plain"]) == "n2"  # evicted at once, as before
    # The partition heals: the node is healthy and its condition taints are gone.
    await api.post(f"/nodes/{host_id}/recover")
    await wait_for(lambda: engine.node(host_id).status == "healthy", timeout=10, what="healthy")
    _, node = await api.get(f"/nodes/{host_id}")
    assert not [t for t in node["taints"] if t["key"].startswith("node.kubernetes.io/")]
    assert_invariants(engine)


async def test_drain_moves_what_can_go_and_reports_what_cannot(engine: Engine, api: Api) -> None:
    n1, n2 = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 8},
                            {"name": "n2", "cpu_cores_avail": 2})  # fmt: skip
    await api.post(f"/nodes/{n2['id']}/cordon")  # everything lands on n1 first
    daemon = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
              "effect": "NoSchedule"}  # fmt: skip
    made = {}
    for name, cpu, fields in (("small", 0.5, {}), ("huge", 4, {}),
                              ("agent", 0.1, {"tolerations": [daemon]})):  # fmt: skip
        status, reply = await api.post("/pods/", pod(name, cpu, **fields))
        assert status == 201 and reply["pod_details"]["node"] == "n1", reply
        made[name] = reply["pod_details"]["id"]
    status, dep = await api.post("/deployments/", {
        "name": "web", "replicas": 2,
        "template": {"labels": {"app": "web"}, "cpu_cores_req": 0.5,
                     "containers": [{"name": "c", "image": "nginx:1"}]},
    })  # fmt: skip
    assert status == 201, dep
    await api.post(f"/nodes/{n2['id']}/uncordon")
    status, report = await api.post(f"/nodes/{n1['id']}/drain")
    assert status == 200, report
    assert report["node"] == "n1" and report["cordoned"] is True
    evicted = {s["pod"]: s for s in report["evicted"]}
    assert evicted["small"]["action"] == "moved" and evicted["small"]["to"] == "n2"
    assert sum(1 for s in evicted.values() if s["action"] == "replaced") == 2
    left = {s["pod"]: s for s in report["not_moved"]}
    assert set(left) == {"huge", "agent"}
    assert left["huge"]["reason"] == "no other node fits"
    assert left["huge"]["reasons"]["n2"][0].startswith("insufficient cpu"), left["huge"]
    assert "n1" not in left["huge"]["reasons"]
    assert left["agent"]["daemon_like"] is True
    assert "huge (no other node fits)" in report["message"]
    # The Deployment's pods were made again on n2; nothing new lands on the cordoned n1.
    _, node = await api.get(f"/nodes/{n1['id']}")
    assert node["unschedulable"] is True
    assert sorted(p["name"] for p in (await api.get("/pods/"))[1] if p["node"]
                  and p["node"]["name"] == "n1") == ["agent", "huge"]  # fmt: skip
    await wait_for(lambda: engine.deployment(dep["id"]).status.ready == 2, timeout=10,
                   what="the Deployment ready again on n2")  # fmt: skip
    # Again: it was cordoned already; the same two stay.
    status, again = await api.post(f"/nodes/{n1['id']}/drain")
    assert status == 200 and again["cordoned"] is False and not again["evicted"]
    assert {s["pod"] for s in again["not_moved"]} == {"huge", "agent"}
    assert (await api.post("/nodes/999/drain"))[0] == 404
    assert_invariants(engine)


async def test_two_drains_of_one_node_at_once_are_refused(engine: Engine, api: Api) -> None:
    n1, _ = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 8},
                           {"name": "n2", "cpu_cores_avail": 8})  # fmt: skip
    await api.post("/nodes/2/cordon")
    for i in range(5):
        assert (await api.post("/pods/", pod(f"p{i}", 0.5)))[0] == 201
    await api.post("/nodes/2/uncordon")
    first = asyncio.create_task(engine.drain_node(n1["id"]))
    await asyncio.sleep(0)  # it runs up to its first pause, between two pods
    with pytest.raises(Conflict, match="already being drained"):
        await engine.drain_node(n1["id"])
    drained = await first
    assert len(drained.evicted) == 5
    assert (await api.post(f"/nodes/{n1['id']}/drain"))[0] == 200  # over: allowed again


async def test_the_kubernetes_defaults_setting(engine: Engine, api: Api) -> None:
    status, settings = await api.get("/settings")
    assert status == 200
    assert settings == {"kubernetes_default_tolerations": False, "default_toleration_seconds": 300}
    status, changed = await api.call("PATCH", "/settings", {"kubernetes_default_tolerations": True})
    assert status == 200 and changed["kubernetes_default_tolerations"] is True
    assert engine.kubernetes_defaults is True
    for bad, field in (({"kubernetes_default_tolerations": "yes"}, "kubernetes_default_tolerations"),
                       ({"default_toleration_seconds": 5}, "default_toleration_seconds")):  # fmt: skip
        status, reply = await api.call("PATCH", "/settings", bad)
        assert status == 400 and reply["field"] == field, reply
    await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 4},
                   {"name": "n2", "cpu_cores_avail": 4})  # fmt: skip
    status, reply = await api.post("/pods/", pod("plain", 0.5))
    host = engine.pod(reply["pod_details"]["id"]).node_id
    assert host is not None
    await api.post(f"/nodes/{host}/simulate/failure", {"mode": "partition", "duration_s": 30})
    await wait_for(lambda: engine.node(host).status == "unhealthy", timeout=10, what="lost")
    await wait_for(lambda: engine.health.evict_at(host) is None, timeout=10, what="evicted")
    assert engine.pod(reply["pod_details"]["id"]).node_id == host  # 300 s: it stays
    # Off again: the pods the defaults kept go at once.
    await api.call("PATCH", "/settings", {"kubernetes_default_tolerations": False})
    await wait_for(lambda: engine.pod(reply["pod_details"]["id"]).node_id != host, timeout=10,
                   what="evicted once the defaults are off")  # fmt: skip
