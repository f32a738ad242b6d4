"""Taints and tolerations, node selectors, cordon and uncordon, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, assert_invariants, wait_for

CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}
CP_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                 "effect": "NoSchedule"}  # fmt: skip
GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def pod(name: str, cpu: float = 1, **fields: Any) -> dict[str, Any]:
    return {"name": name, "cpu_cores_req": cpu,
            "containers": [{"name": "c", "image": "nginx:latest"}], **fields}  # fmt: skip


async def nodes_up(engine: Engine, api: Api, *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    created = []
    for body in bodies:
        status, reply = await api.post("/nodes/", body)
        assert status == 201, reply
        created.append(reply)
    await wait_for(
        lambda: all(n.status == "healthy" for n in engine.cluster.node_views()), what="ready"
    )
    return created


async def test_masters_carry_the_control_plane_taint_and_tolerating_pods_run_there(
    engine: Engine, api: Api
) -> None:
    m, _ = await nodes_up(
        engine, api, {"name": "m1", "cpu_cores_avail": 8, "node_type": "master"},
        {"name": "w1", "cpu_cores_avail": 1},
    )  # fmt: skip
    assert m["taints"] == [CP_TAINT]
    assert (await api.get(f"/nodes/{m['id']}"))[1]["taints"] == [CP_TAINT]
    assert {n["name"]: n["taints"] for n in (await api.get("/nodes/"))[1]} == {
        "m1": [CP_TAINT], "w1": [],
    }  # fmt: skip
    status, refused = await api.post("/pods/", pod("big", 2))
    assert status == 400
    assert refused["reasons"]["m1"] == [
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
    ]
    status, placed = await api.post("/pods/", pod("big", 2, tolerations=[CP_TOLERATION]))
    assert status == 201, placed
    assert placed["pod_details"]["node"] == "m1"
    _, detail = await api.get(f"/pods/{placed['pod_details']['id']}")
    assert detail["tolerations"] == [{**CP_TOLERATION, "value": "", "toleration_seconds": None}]
    assert {c["node"]: c["fits"] for c in detail["scheduling"]["candidates"]} == {
        "m1": True, "w1": False,
    }  # fmt: skip
    # A pod without the toleration still goes to the worker, as before taints existed.
    status, small = await api.post("/pods/", pod("small", 0.5))
    assert status == 201 and small["pod_details"]["node"] == "w1"
    assert_invariants(engine)


async def test_taints_are_replaced_and_pending_pods_placed(engine: Engine, api: Api) -> None:
    (g,) = await nodes_up(engine, api, {"name": "g1", "cpu_cores_avail": 4, "taints": [GPU]})
    assert g["taints"] == [GPU]
    status, refused = await api.post("/pods/", pod("p"))
    assert status == 400
    assert refused["reasons"]["g1"] == ["node(s) had untolerated taint {dedicated: gpu}"]
    gpu_toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu"}
    status, placed = await api.post("/pods/", pod("gpu-job", tolerations=[gpu_toleration]))
    assert status == 201 and placed["pod_details"]["node"] == "g1"
    # A Deployment's replica that does not tolerate the taint waits as pending...
    status, dep = await api.post("/deployments/", {
        "name": "web", "replicas": 1,
        "template": {"labels": {"app": "web"}, "cpu_cores_req": 0.5,
                     "containers": [{"name": "c", "image": "nginx:1"}]},
    })  # fmt: skip
    assert status == 201, dep
    await wait_for(lambda: any(p.namespace == "default" and p.name.startswith("web-")
                               for p in engine.pods()), what="a replica")  # fmt: skip
    web = next(p for p in engine.pods() if p.name.startswith("web-"))
    assert web.node_id is None
    # ... until the taint goes: the same commit places it.
    status, node = await api.call("PUT", f"/nodes/{g['id']}/taints", {"taints": []})
    assert status == 200 and node["taints"] == []
    assert engine.pod(web.id).node_id == g["id"]
    _, events = await api.get(f"/events?node_id={g['id']}&kind=node_tainted")
    assert [e["kind"] for e in events] == ["node_tainted"]
    # The running gpu-job stays: NoSchedule never evicts.
    status, node = await api.call("PUT", f"/nodes/{g['id']}/taints", {"taints": [GPU]})
    assert status == 200 and engine.pod(placed["pod_details"]["id"]).node_id == g["id"]
    assert_invariants(engine)


@pytest.mark.parametrize(
    ("taints", "field"),
    [
        ([{"key": "a", "effect": "Sometimes"}], "taints[0].effect"),
        ([{"key": "-a", "effect": "NoSchedule"}], "taints[0].key"),
        ([{"key": "ä", "effect": "NoSchedule"}], "taints[0].key"),
        ([{"key": "a" * 64, "effect": "NoSchedule"}], "taints[0].key"),
        ([{"key": "a", "value": "b c", "effect": "NoSchedule"}], "taints[0].value"),
        ([{"key": "a", "effect": "NoSchedule"}] * 2, "taints[1]"),
        ([{"key": f"k{i}", "effect": "NoSchedule"} for i in range(65)], "taints"),
        ([{"key": "a", "effect": "NoSchedule", "extra": 1}], "taints[0].extra"),
        ("NoSchedule", "taints"),
    ],
)
async def test_bad_taints_are_refused_naming_the_field(
    engine: Engine, api: Api, taints: Any, field: str
) -> None:
    status, reply = await api.post("/nodes/", {"name": "w1", "cpu_cores_avail": 1,
                                               "taints": taints})  # fmt: skip
    assert status == 400, reply
    assert reply["field"] == field, reply
    assert (await api.get("/nodes/"))[1] == []
    (w,) = await nodes_up(engine, api, {"name": "w2", "cpu_cores_avail": 1})
    status, reply = await api.call("PUT", f"/nodes/{w['id']}/taints", {"taints": taints})
    assert status == 400 and reply["field"] == field, reply
    assert (await api.get(f"/nodes/{w['id']}"))[1]["taints"] == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tolerations": [{"key": "a", "operator": "In"}]}, "tolerations[0].operator"),
        ({"tolerations": [{"key": "a", "effect": "Never"}]}, "tolerations[0].effect"),
        ({"tolerations": [{"value": "x"}]}, "tolerations[0].operator"),
        ({"tolerations": [{"key": "a", "operator": "Exists", "value": "x"}]},
         "tolerations[0].value"),
        ({"tolerations": [{"key": "a", "effect": "NoExecute", "toleration_seconds": -1}]},
         "tolerations[0].toleration_seconds"),
        ({"tolerations": [{"key": "a", "effect": "NoExecute", "toleration_seconds": 10**12}]},
         "tolerations[0].toleration_seconds"),
        ({"tolerations": [{"key": "a", "toleration_seconds": 5}]},
         "tolerations[0].toleration_seconds"),
        ({"tolerations": [{"key": "ünï"}]}, "tolerations[0].key"),
        ({"tolerations": [{"key": "a"}] * 65}, "tolerations"),
        ({"node_selector": {"disktype": "s s d"}}, "node_selector['disktype']"),
        ({"node_selector": {"-bad": "x"}}, "node_selector['-bad']"),
        ({"node_selector": {"a": 1}}, "node_selector['a']"),
        ({"node_selector": ["a"]}, "node_selector"),
    ],
)  # fmt: skip
async def test_bad_tolerations_and_selectors_are_refused(
    engine: Engine, api: Api, fields: dict[str, Any], field: str
) -> None:
    await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 2})
    status, reply = await api.post("/pods/", pod("p", **fields))
    assert status == 400, reply
    assert reply["field"] == field, reply
    assert (await api.get("/pods/"))[1] == []


async def test_a_node_selector_picks_labelled_nodes(engine: Engine, api: Api) -> None:
    await nodes_up(
        engine, api, {"name": "hdd", "cpu_cores_avail": 1, "labels": {"disktype": "hdd"}},
        {"name": "ssd", "cpu_cores_avail": 8, "labels": {"disktype": "ssd"}},
    )  # fmt: skip
    status, placed = await api.post("/pods/", pod("db", node_selector={"disktype": "ssd"}))
    assert status == 201 and placed["pod_details"]["node"] == "ssd"
    _, detail = await api.get(f"/pods/{placed['pod_details']['id']}")
    assert detail["node_selector"] == {"disktype": "ssd"}
    hdd = next(c for c in detail["scheduling"]["candidates"] if c["node"] == "hdd")
    assert hdd["reasons"] == ["node(s) didn't match Pod's node affinity/selector"]
    status, refused = await api.post("/pods/", pod("x", node_selector={"disktype": "nvme"}))
    assert status == 400
    assert set(refused["reasons"]) == {"hdd", "ssd"}
    assert all(r == ["node(s) didn't match Pod's node affinity/selector"]
               for r in refused["reasons"].values())  # fmt: skip


async def test_cordon_and_uncordon(engine: Engine, api: Api) -> None:
    (w,) = await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 4})
    status, running = await api.post("/pods/", pod("stays"))
    assert status == 201
    status, reply = await api.post(f"/nodes/{w['id']}/cordon")
    assert status == 200 and reply["changed"] and reply["node"]["unschedulable"]
    assert reply["node"]["schedulable"] is False
    status, again = await api.post(f"/nodes/{w['id']}/cordon")
    assert status == 200 and not again["changed"]
    assert engine.pod(running["pod_details"]["id"]).node_id == w["id"]  # those on it stay
    status, refused = await api.post("/pods/", pod("new"))
    assert status == 400
    assert refused["reasons"]["w1"] == ["node(s) were unschedulable"]
    status, reply = await api.post(f"/nodes/{w['id']}/uncordon")
    assert status == 200 and reply["changed"] and not reply["node"]["unschedulable"]
    status, placed = await api.post("/pods/", pod("new"))
    assert status == 201 and placed["pod_details"]["node"] == "w1"
    _, events = await api.get(f"/events?node_id={w['id']}&kind=node_cordoned,node_uncordoned")
    assert [e["kind"] for e in events] == ["node_cordoned", "node_uncordoned"]
    assert (await api.post("/nodes/999/cordon"))[0] == 404
    assert_invariants(engine)


async def test_a_no_execute_taint_evicts_the_pods_that_do_not_tolerate_it(
    engine: Engine, api: Api
) -> None:
    (w1,) = await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 8})
    drain = {"key": "drain", "operator": "Exists", "effect": "NoExecute"}
    ids = {}
    for name, fields in (
        ("plain", {}),
        ("tolerant", {"tolerations": [drain]}),
        ("for-a-while", {"tolerations": [{**drain, "toleration_seconds": 3600}]}),
        ("big", {"cpu": 4}),
    ):
        status, reply = await api.post("/pods/", pod(name, fields.pop("cpu", 0.5), **fields))
        assert status == 201 and reply["pod_details"]["node"] == "w1", reply
        ids[name] = reply["pod_details"]["id"]
    (w2,) = await nodes_up(engine, api, {"name": "w2", "cpu_cores_avail": 1})
    status, _ = await api.call("PUT", f"/nodes/{w1['id']}/taints", {"taints": [
        {"key": "drain", "value": "", "effect": "NoExecute"}]})  # fmt: skip
    assert status == 200
    assert engine.pod(ids["plain"]).node_id == w2["id"]  # moved in the same commit
    assert engine.pod(ids["big"]).node_id is None  # fits nowhere else: pending
    _, detail = await api.get(f"/pods/{ids['big']}")
    w1_verdict = next(c for c in detail["scheduling"]["candidates"] if c["node"] == "w1")
    # (decided while it was still booked on w1, as every eviction: w1 also looks full)
    assert w1_verdict["reasons"][0] == "node(s) had untolerated taint {drain: }"
    assert engine.pod(ids["tolerant"]).node_id == w1["id"]
    # toleration_seconds: it may stay that long (tests/api/test_node_taints_and_drain.py).
    assert engine.pod(ids["for-a-while"]).node_id == w1["id"]
    # The taint goes: the pending pod comes back.
    await api.call("PUT", f"/nodes/{w1['id']}/taints", {"taints": []})
    assert engine.pod(ids["big"]).node_id == w1["id"]
    assert_invariants(engine)


def term(*exprs: dict[str, Any]) -> dict[str, Any]:
    return {"match_expressions": list(exprs)}


async def test_node_affinity_required_and_preferred(engine: Engine, api: Api) -> None:
    await nodes_up(
        engine, api, {"name": "a1", "cpu_cores_avail": 2, "labels": {"zone": "a"}},
        {"name": "b1", "cpu_cores_avail": 8, "labels": {"zone": "b", "disktype": "ssd"}},
        {"name": "b2", "cpu_cores_avail": 4, "labels": {"zone": "b"}},
    )  # fmt: skip
    in_b = {"key": "zone", "operator": "In", "values": ["b"]}
    ssd = {"key": "disktype", "operator": "Exists", "values": []}
    status, placed = await api.post("/pods/", pod("req", node_affinity={"required": [term(in_b)]}))
    assert status == 201 and placed["pod_details"]["node"] == "b2"  # best-fit within zone b
    _, detail = await api.get(f"/pods/{placed['pod_details']['id']}")
    assert detail["node_affinity"] == {"required": [term(in_b)], "preferred": []}
    a1 = next(c for c in detail["scheduling"]["candidates"] if c["node"] == "a1")
    assert a1["reasons"] == ["node(s) didn't match Pod's node affinity/selector"]
    prefer = {"required": [term(in_b)], "preferred": [{"weight": 10, "preference": term(ssd)}]}
    status, placed = await api.post("/pods/", pod("pref", node_affinity=prefer))
    assert status == 201 and placed["pod_details"]["node"] == "b1"
    # In a Deployment's template too: every replica lands in zone b.
    status, dep = await api.post("/deployments/", {
        "name": "web", "replicas": 2,
        "template": {"labels": {"app": "web"}, "cpu_cores_req": 0.5,
                     "containers": [{"name": "c", "image": "nginx:1"}],
                     "node_affinity": {"required": [term(in_b)]}},
    })  # fmt: skip
    assert status == 201, dep
    assert dep["template"]["node_affinity"]["required"] == [term(in_b)]
    await wait_for(lambda: sum(p.name.startswith("web-") and p.node_id is not None
                               for p in engine.pods()) == 2, what="2 replicas placed")  # fmt: skip
    assert {p.node_name for p in engine.pods() if p.name.startswith("web-")} <= {"b1", "b2"}
    bad = {"required": [term({"key": "zone", "operator": "Gt", "values": ["b"]})]}
    status, reply = await api.post("/pods/", pod("bad", node_affinity=bad))
    assert status == 400
    assert reply["field"] == "node_affinity.required[0].match_expressions[0].values", reply
    assert_invariants(engine)
