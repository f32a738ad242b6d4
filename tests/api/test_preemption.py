"""PriorityClasses and preemption over real HTTP, on virtual nodes (issue 16's Done-when: a
high-priority pod preempts the smallest set of lower-priority pods on the best node, with
the victims and reasons visible in the API)."""

from __future__ import annotations

from typing import Any

from kube9_desktop.engine.core import Engine
from tests.api.test_scheduling_constraints import nodes_up, pod
from tests.helpers import Api, assert_invariants, wait_for


async def test_classes_are_created_listed_read_and_deleted(engine: Engine, api: Api) -> None:
    status, listed = await api.get("/priorityclasses/")
    assert status == 200
    assert {c["name"]: c["value"] for c in listed} == {
        "system-cluster-critical": 2000000000, "system-node-critical": 2000001000,
    }  # fmt: skip
    status, made = await api.post("/priorityclasses/", {
        "name": "high", "value": 1000, "description": "serving", "global_default": False,
    })  # fmt: skip
    assert status == 201, made
    assert made["preemption_policy"] == "PreemptLowerPriority" and not made["builtin"]
    status, got = await api.get("/priorityclasses/high")
    assert status == 200 and got == made
    for body, code, words in (
        ({"name": "high", "value": 1}, 409, "already exists"),
        ({"name": "huge", "value": 1000000001}, 400, "value: 1000000001 is out of range"),
        ({"name": "system-x", "value": 1}, 400, "reserved"),
        ({"name": "Bad_Name", "value": 1}, 400, "not a valid name"),
        ({"name": "p", "value": 1, "preemption_policy": "Sometimes"}, 400, "preemption_policy"),
        ({"name": "p", "value": "1"}, 400, "value"),
    ):
        status, err = await api.post("/priorityclasses/", body)
        assert status == code and words in err["error"] + str(err.get("errors", "")), err
    await api.post("/priorityclasses/", {"name": "base", "value": 1, "global_default": True})
    status, err = await api.post(
        "/priorityclasses/", {"name": "base2", "value": 2, "global_default": True}
    )
    assert status == 409 and "base is already marked as default" in err["error"]
    status, err = await api.delete("/priorityclasses/system-node-critical")
    assert status == 400 and "built in" in err["error"]
    assert (await api.delete("/priorityclasses/high"))[0] == 200
    status, err = await api.get("/priorityclasses/high")
    assert status == 404 and "high" in err["error"]
    assert (await api.delete("/priorityclasses/high"))[0] == 404


async def test_a_pod_naming_an_unknown_class_is_refused_naming_it(engine: Engine, api: Api) -> None:
    await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 2})
    status, err = await api.post("/pods/", pod("p", 0.5, priority_class_name="gold"))
    assert status == 400
    assert err["error"] == "priority_class_name: no PriorityClass with name gold was found"
    assert err["field"] == "priority_class_name"
    status, err = await api.post("/deployments/", {
        "name": "web", "replicas": 1, "template": {
            "labels": {"app": "web"}, "priority_class_name": "gold",
            "containers": [{"name": "c", "image": "nginx:1", "cpu_req": 0.1}]},
    })  # fmt: skip
    assert status == 400 and "no PriorityClass with name gold" in err["error"], err


async def test_a_high_priority_pod_preempts_the_fewest_on_the_best_node(
    engine: Engine, api: Api
) -> None:
    nodes = await nodes_up(
        engine, api, {"name": "w1", "cpu_cores_avail": 4}, {"name": "w2", "cpu_cores_avail": 4},
        {"name": "w3", "cpu_cores_avail": 8, "taints": [
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
    )  # fmt: skip
    for name, value in (("low", 10), ("mid", 50), ("high", 1000)):
        assert (await api.post("/priorityclasses/", {"name": name, "value": value}))[0] == 201
    w1, w2, w3 = (n["id"] for n in nodes)
    # w1: a mid pod of 3 cores and a low one of 1; w2: two low pods of 2 cores; w3 is
    # tainted: preemption cannot help there. The pod wants 2 cores at priority 1000.
    placed: dict[str, Any] = {}
    for name, cls, cpu in (("m", "mid", 3), ("a", "low", 1), ("b", "low", 2), ("c", "low", 2)):
        status, reply = await api.post("/pods/", pod(name, cpu, priority_class_name=cls))
        assert status == 201, reply
        placed[name] = reply["pod_details"]
    assert {k: v["node"] for k, v in placed.items()} == {
        "m": "w1", "a": "w1", "b": "w2", "c": "w2",
    }  # fmt: skip
    status, created = await api.post("/pods/", pod("vip", 2, priority_class_name="high"))
    assert status == 201, created
    assert created["pod_details"]["node"] == "w2"
    pre = created["scheduling"]["preemption"]
    assert pre["node"] == "w2" and pre["priority"] == 1000
    # one of w2's pods is enough: the reprieve gives the older b its place back first, so
    # the newer c goes (w1 would have needed the mid pod: a higher highest victim priority)
    assert [v["pod"] for v in pre["victims"]] == ["default/c"]
    outcomes = {n["node"]: n for n in pre["nodes"]}
    assert outcomes["w2"]["outcome"] == "chosen"
    assert outcomes["w1"]["outcome"] == "candidate"  # it would need the mid pod (50 > 10)
    assert [v["pod"] for v in outcomes["w1"]["victims"]] == ["default/m"]
    assert outcomes["w3"]["outcome"] == "not_helpful"
    assert "Preemption is not helpful for scheduling" in outcomes["w3"]["reasons"]
    assert "node(s) had untolerated taint {dedicated: gpu}" in outcomes["w3"]["reasons"]
    # the preemptor's own record: priority, class, nominated node, the same decision
    status, vip = await api.get(f"/pods/{created['pod_details']['id']}")
    assert status == 200
    assert (vip["priority"], vip["priority_class_name"], vip["nominated_node_name"]) == (
        1000, "high", "w2",
    )  # fmt: skip
    assert vip["scheduling"]["preemption"] == pre
    assert (await api.get(f"/pods/{placed['c']['id']}"))[0] == 404
    # the victim's event names who preempted it, on which node
    _, events = await api.get("/events", params={"pod_id": str(placed["c"]["id"])})
    preempted = [e for e in events if e["kind"] == "pod_preempted"]
    assert [e["message"] for e in preempted] == ["Preempted by default/vip on node w2"]
    _, node = await api.get(f"/nodes/{w2}")
    assert sorted(node["pod_ids"]) == sorted([placed["b"]["id"], created["pod_details"]["id"]])
    assert w1 and w3
    assert_invariants(engine)


async def test_a_replicaset_replaces_its_preempted_pod_which_then_waits(
    engine: Engine, api: Api
) -> None:
    await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 2})
    await api.post("/priorityclasses/", {"name": "high", "value": 1000})
    status, dep = await api.post("/deployments/", {
        "name": "web", "replicas": 1, "template": {
            "labels": {"app": "web"},
            "containers": [{"name": "c", "image": "nginx:1", "cpu_req": 1.5}]},
    })  # fmt: skip
    assert status == 201, dep
    await wait_for(lambda: any(p.node_id for p in engine.cluster.pod_views()), what="replica")
    (old,) = engine.cluster.pod_views()
    status, created = await api.post("/pods/", pod("vip", 1, priority_class_name="high"))
    assert status == 201, created
    assert [v["pod"] for v in created["scheduling"]["preemption"]["victims"]] == [
        f"default/{old.name}"
    ]
    await wait_for(
        lambda: any(p.owner is not None and p.id != old.id for p in engine.cluster.pod_views()),
        what="the replacement",
    )
    (new,) = [p for p in engine.cluster.pod_views() if p.owner is not None]
    assert new.node_id is None and str(new.phase) == "pending"
    status, vip = await api.get(f"/pods/{created['pod_details']['id']}")
    assert vip["node"]["name"] == "w1"
    assert_invariants(engine)


async def test_a_pod_whose_policy_is_never_waits_instead(engine: Engine, api: Api) -> None:
    await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 1})
    await api.post("/priorityclasses/", {"name": "polite", "value": 1000,
                                         "preemption_policy": "Never"})  # fmt: skip
    assert (await api.post("/pods/", pod("low", 1)))[0] == 201
    status, err = await api.post("/pods/", pod("p", 1, priority_class_name="polite"))
    assert status == 400 and err["reasons"]["w1"], err
    _, listed = await api.get("/pods/")
    assert {p["name"]: p["preemption_policy"] for p in listed} == {"low": "PreemptLowerPriority"}
