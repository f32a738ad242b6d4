"""Pod affinity, anti-affinity, topology spread and max-pods over real HTTP: placements, the
reasons and score parts in the API, Deployment templates, and hostile bodies refused."""

from __future__ import annotations

from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from tests.api.test_scheduling_constraints import nodes_up, pod
from tests.helpers import Api, assert_invariants, wait_for

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def term(app: str, key: str = HOST, **extra: Any) -> dict[str, Any]:
    return {"label_selector": {"match_labels": {"app": app}}, "topology_key": key, **extra}


def zoned(name: str, zone: str, cpu: float = 4, **extra: Any) -> dict[str, Any]:
    return {"name": name, "cpu_cores_avail": cpu, "labels": {ZONE: zone}, **extra}


def candidates(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["node"]: c for c in detail["scheduling"]["candidates"]}


async def test_anti_affinity_spreads_replicas_and_says_why(engine: Engine, api: Api) -> None:
    await nodes_up(engine, api, zoned("a1", "a", 2), zoned("a2", "a", 4), zoned("b1", "b", 8))
    anti = {"required": [term("web")]}
    status, dep = await api.post("/deployments/", {
        "name": "web", "replicas": 3,
        "template": {"labels": {"app": "web"}, "cpu_cores_req": 0.5,
                     "containers": [{"name": "c", "image": "nginx:1"}],
                     "pod_anti_affinity": anti},
    })  # fmt: skip
    assert status == 201, dep
    assert dep["template"]["pod_anti_affinity"] == {"required": [{
        "label_selector": {"match_labels": {"app": "web"}, "match_expressions": []},
        "namespaces": [], "topology_key": HOST,
    }], "preferred": []}  # fmt: skip
    await wait_for(lambda: sum(p.node_id is not None for p in engine.pods()) == 3, what="placed")
    assert sorted(p.node_name or "" for p in engine.pods()) == ["a1", "a2", "b1"]
    # A fourth replica has nowhere to go: each node's verdict names the rule.
    status, refused = await api.post("/pods/", pod("web-x", 0.5, labels={"app": "web"},
                                                   pod_anti_affinity=anti))  # fmt: skip
    assert status == 400
    assert refused["reasons"] == {n: ["node(s) didn't satisfy existing pods anti-affinity rules"]
                                  for n in ("a1", "a2", "b1")}  # fmt: skip
    # One that names the replicas without being named by them: its own rule refuses.
    status, refused = await api.post("/pods/", pod("watcher", 0.5, labels={"app": "watch"},
                                                   pod_anti_affinity=anti))  # fmt: skip
    assert status == 400
    assert refused["reasons"]["b1"] == ["node(s) didn't match pod anti-affinity rules"]
    # A pod the replicas' rule names is kept away too (their rule, the other way round).
    status, refused = await api.post("/pods/", pod("intruder", 0.5, labels={"app": "web"}))
    assert status == 400
    assert refused["reasons"]["a1"] == ["node(s) didn't satisfy existing pods anti-affinity rules"]
    status, other = await api.post("/pods/", pod("other", 0.5, labels={"app": "db"}))
    assert status == 201, other
    assert_invariants(engine)


async def test_affinity_by_zone_and_preferred_scores_in_the_api(engine: Engine, api: Api) -> None:
    await nodes_up(engine, api, zoned("a1", "a", 8), zoned("b1", "b", 2), zoned("b2", "b", 4))
    status, cache = await api.post("/pods/", pod("cache", 1, labels={"app": "cache"},
                                                 node_selector={ZONE: "a"}))  # fmt: skip
    assert status == 201 and cache["pod_details"]["node"] == "a1"
    status, placed = await api.post("/pods/", pod("web", 1, pod_affinity={
        "required": [term("cache", ZONE)]}))  # fmt: skip
    assert status == 201 and placed["pod_details"]["node"] == "a1"
    _, detail = await api.get(f"/pods/{placed['pod_details']['id']}")
    assert detail["pod_affinity"]["required"][0]["topology_key"] == ZONE
    assert candidates(detail)["b1"]["reasons"] == ["node(s) didn't match pod affinity rules"]
    status, placed = await api.post("/pods/", pod("near", 1, pod_affinity={
        "preferred": [{"weight": 30, "pod_affinity_term": term("cache", ZONE)}]}))  # fmt: skip
    assert status == 201 and placed["pod_details"]["node"] == "a1"  # best-fit alone: b1
    _, detail = await api.get(f"/pods/{placed['pod_details']['id']}")
    assert candidates(detail)["a1"]["scores"] == {"pod_affinity": 30}
    assert candidates(detail)["b1"]["scores"] == {"pod_affinity": 0}
    assert_invariants(engine)


async def test_topology_spread_keeps_zones_within_max_skew(engine: Engine, api: Api) -> None:
    await nodes_up(engine, api, zoned("a1", "a", 8), zoned("b1", "b", 8))
    spread = [{"max_skew": 1, "topology_key": ZONE, "when_unsatisfiable": "DoNotSchedule",
               "label_selector": {"match_labels": {"app": "web"}}}]  # fmt: skip
    placed = []
    for i in range(4):
        status, reply = await api.post("/pods/", pod(f"web-{i}", 1, labels={"app": "web"},
                                                     topology_spread_constraints=spread))  # fmt: skip
        assert status == 201, reply
        placed.append(reply["pod_details"]["node"])
    assert sorted(placed) == ["a1", "a1", "b1", "b1"]  # best-fit alone would pack a1
    _, detail = await api.get(f"/pods/{(await api.get('/pods/'))[1][-1]['id']}")
    assert detail["topology_spread_constraints"] == [{
        **spread[0], "node_taints_policy": "Ignore",
        "label_selector": {"match_labels": {"app": "web"}, "match_expressions": []},
    }]  # fmt: skip
    # A node without the zone label is no domain: refused with Kubernetes' words.
    await nodes_up(engine, api, {"name": "bare", "cpu_cores_avail": 16})
    status, reply = await api.post("/pods/", pod("web-4", 1, labels={"app": "web"},
                                                 topology_spread_constraints=spread))  # fmt: skip
    assert status == 201 and reply["pod_details"]["node"] in ("a1", "b1"), reply
    _, detail = await api.get(f"/pods/{reply['pod_details']['id']}")
    assert candidates(detail)["bare"]["reasons"] == [
        "node(s) didn't match pod topology spread constraints (missing required label)"
    ]
    soft = [{**spread[0], "when_unsatisfiable": "ScheduleAnyway"}]
    status, reply = await api.post("/pods/", pod("soft", 1, labels={"app": "web"},
                                                 topology_spread_constraints=soft))  # fmt: skip
    assert status == 201, reply
    _, detail = await api.get(f"/pods/{reply['pod_details']['id']}")
    assert {n: c["scores"] for n, c in candidates(detail).items()} == {
        "a1": {"topology_spread": 3}, "b1": {"topology_spread": 2}, "bare": {"topology_spread": 4},
    }  # fmt: skip
    assert_invariants(engine)


async def test_max_pods_is_too_many_pods(engine: Engine, api: Api) -> None:
    (n,) = await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 8, "max_pods": 2})
    _, view = await api.get(f"/nodes/{n['id']}")
    assert view["pod_limit"] == 2 and view["annotations"]["kube9.io/max-pods"] == "2"
    for i in range(2):
        assert (await api.post("/pods/", pod(f"p{i}", 0.1)))[0] == 201
    status, reply = await api.post("/pods/", pod("p2", 0.1))
    assert status == 400 and reply["reasons"] == {"w1": ["Too many pods"]}
    status, reply = await api.post("/nodes/", {"name": "w2", "cpu_cores_avail": 1,
                                               "max_pods": 0})  # fmt: skip
    assert status == 400 and reply["field"] == "max_pods", reply


LONG = "a" * 64
TERM = term("web")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pod_anti_affinity": {"required": [{**TERM, "label_selector": {"match_expressions": [
            {"key": "app", "operator": "Gt", "values": ["1"]}]}}]}},
         "pod_anti_affinity.required[0].label_selector.match_expressions[0].operator"),
        ({"pod_affinity": {"required": [{**TERM, "label_selector": {"match_expressions": [
            {"key": "app", "operator": "In", "values": []}]}}]}},
         "pod_affinity.required[0].label_selector.match_expressions[0].values"),
        ({"pod_affinity": {"required": [{**TERM, "topology_key": ""}]}},
         "pod_affinity.required[0].topology_key"),
        ({"pod_affinity": {"required": [{"label_selector": {}}]}},
         "pod_affinity.required[0].topology_key"),
        ({"pod_affinity": {"required": [{**TERM, "namespaces": ["Bad_NS"]}]}},
         "pod_affinity.required[0].namespaces[0]"),
        ({"pod_affinity": {"required": [TERM] * 17}}, "pod_affinity.required"),
        ({"pod_affinity": {"required": [{**TERM, "label_selector": {"match_expressions": [
            {"key": "app", "operator": "In", "values": ["a"] * 65}]}}]}},
         "pod_affinity.required[0].label_selector.match_expressions[0].values"),
        ({"pod_anti_affinity": {"required": [{**TERM, "label_selector": {"match_expressions": [
            {"key": "app", "operator": "Exists"}] * 33}}]}},
         "pod_anti_affinity.required[0].label_selector.match_expressions"),
        ({"pod_anti_affinity": {"required": [{**TERM, "topology_key": "bad key!"}]}},
         "pod_anti_affinity.required[0].topology_key"),
        ({"pod_affinity": {"required": [{**TERM, "namespaces": ["a"] * 17}]}},
         "pod_affinity.required[0].namespaces"),
        ({"pod_affinity": {"preferred": [{"weight": 0, "pod_affinity_term": TERM}]}},
         "pod_affinity.preferred[0].weight"),
        ({"pod_affinity": {"preferred": [{"weight": 101, "pod_affinity_term": TERM}]}},
         "pod_affinity.preferred[0].weight"),
        ({"pod_affinity": {"required": [{**TERM, "unknown": 1}]}},
         "pod_affinity.required[0].unknown"),
        ({"pod_affinity": {"required": [{**TERM, "label_selector": {"match_labels": {
            "app": LONG}}}]}}, "pod_affinity.required[0].label_selector.match_labels['app']"),
        ({"topology_spread_constraints": [{"max_skew": -1, "topology_key": ZONE}]},
         "topology_spread_constraints[0].max_skew"),
        ({"topology_spread_constraints": [{"max_skew": 0, "topology_key": ZONE}]},
         "topology_spread_constraints[0].max_skew"),
        ({"topology_spread_constraints": [{"max_skew": 1, "topology_key": ""}]},
         "topology_spread_constraints[0].topology_key"),
        ({"topology_spread_constraints": [{"max_skew": 1, "topology_key": ZONE,
                                           "when_unsatisfiable": "Sometimes"}]},
         "topology_spread_constraints[0].when_unsatisfiable"),
        ({"topology_spread_constraints": [{"max_skew": 1, "topology_key": ZONE}] * 2},
         "topology_spread_constraints[1]"),
        ({"topology_spread_constraints": [{"max_skew": 1, "topology_key": f"k{i}"}
                                          for i in range(9)]}, "topology_spread_constraints"),
    ],
)  # fmt: skip
async def test_bad_inter_pod_rules_are_refused_naming_the_field(
    engine: Engine, api: Api, fields: dict[str, Any], field: str
) -> None:
    await nodes_up(engine, api, {"name": "w1", "cpu_cores_avail": 2})
    status, reply = await api.post("/pods/", pod("p", **fields))
    assert status == 400, reply
    assert reply["field"] == field, reply
    assert (await api.get("/pods/"))[1] == []
    status, reply = await api.post("/deployments/", {
        "name": "d", "replicas": 1,
        "template": {"labels": {"app": "d"}, "containers": [{"name": "c", "image": "nginx:1"}],
                     "cpu_cores_req": 0.1, **fields},
    })  # fmt: skip
    assert status == 400 and reply["field"] == f"template.{field}", reply
