"""POST /what-if over real HTTP (the virtual runtime): the answer, that nothing changes, the
crash then ending as it said, and bad bodies refused naming the field."""

from __future__ import annotations

from typing import Any

from kube9_desktop.engine.core import Engine
from tests.api.test_deployments import body as deployment
from tests.api.test_scheduling_constraints import nodes_up, pod
from tests.helpers import Api, assert_invariants, wait_for


async def everything(api: Api) -> tuple[Any, ...]:
    nodes = (await api.get("/nodes/"))[1]
    pods = (await api.get("/pods/"))[1]
    for n in nodes:  # these move with every heartbeat, not with any change
        n.pop("last_heartbeat", None)
    return (sorted((n["id"], n["resource_version"], n["health_status"], n["pod_ids"],
                    n["cpu_cores_avail"]) for n in nodes),
            sorted((p["id"], p["resource_version"], (p["node"] or {}).get("name"))
                   for p in pods))  # fmt: skip


async def test_the_preview_answers_changes_nothing_and_the_crash_ends_as_it_said(
    engine: Engine, api: Api
) -> None:
    (n1,) = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 5})
    status, big = await api.post("/pods/", pod("big", 3))
    assert status == 201 and big["pod_details"]["node"] == "n1", big
    status, _ = await api.post("/deployments/", deployment("web", 2))
    assert status == 201
    status, small = await api.post("/pods/", pod("small", 1.5))
    assert status == 201 and small["pod_details"]["node"] == "n1", small
    await wait_for(lambda: len(engine.cluster.state.pods) == 4, what="the web pods")
    await nodes_up(engine, api, {"name": "spare", "cpu_cores_avail": 4})
    await wait_for(lambda: all(p.phase == "running" for p in engine.cluster.pod_views()),
                   what="every pod running (their reports settle)")  # fmt: skip
    before, rv = await everything(api), engine.cluster.resource_version
    status, reply = await api.post("/what-if", {"fail_nodes": [n1["id"]]})
    assert status == 200, reply
    assert reply["resource_version"] == rv and reply["strategy"] == "best-fit"
    assert await everything(api) == before and engine.cluster.resource_version == rv
    on_n1 = {p.name for p in engine.cluster.pod_views() if p.node_name == "n1"}
    fates = {f["pod"]: f for f in reply["pods"]}
    assert set(fates) == on_n1
    assert fates["big"]["fate"] == "moves" and fates["big"]["node"] == "spare"
    rooms = {r["node"]: r for r in reply["nodes"]}
    assert rooms["n1"]["failing"] and rooms["n1"]["status"] == "unhealthy"
    # Largest first: big takes 3 of the spare's 4, small (1.5) finds no room, the two
    # replacements of web (0.25 each) fit in what is left.
    assert fates["small"]["fate"] == "pending" and reply["pending"] == [small["pod_details"]["id"]]
    assert fates["small"]["reasons"]["spare"] == ["insufficient cpu: requested 1.5, free 1"]
    web = [f for f in reply["pods"] if f["owner"]]
    assert len(web) == 2 and all(f["fate"] == "replaced" and f["node"] == "spare" for f in web)
    assert rooms["spare"]["cpu_cores_free"] == 0.5 and rooms["spare"]["pods_free"] == 110 - 3
    # Now for real: the crash fault; the outcome is the preview's.
    status, _ = await api.post(f"/nodes/{n1['id']}/simulate/failure", {"mode": "crash"})
    assert status == 200

    def placed_as_said() -> bool:
        pods = engine.cluster.pod_views()
        if any(p.node_name == "n1" for p in pods):
            return False
        web = sorted(p.node_name or "" for p in pods if p.spec.owner is not None)
        said = sorted(f["node"] or "" for f in reply["pods"] if f["owner"])
        bare = {p.name: p.node_name for p in pods if p.spec.owner is None}
        return web == said and all(bare[f["pod"]] == f["node"] for f in reply["pods"]
                                   if not f["owner"])  # fmt: skip

    await wait_for(placed_as_said, timeout=10, what="the crash's outcome, as previewed")
    assert_invariants(engine)


async def test_another_strategy_and_the_refusals_name_the_field(engine: Engine, api: Api) -> None:
    (n1,) = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 2})
    status, _ = await api.post("/pods/", pod("p", 1))
    assert status == 201
    await nodes_up(engine, api, {"name": "roomy", "cpu_cores_avail": 8},
                   {"name": "tight", "cpu_cores_avail": 1.5})  # fmt: skip
    _, packed = await api.post("/what-if", {"fail_nodes": [n1["id"]]})
    _, spread = await api.post("/what-if", {"fail_nodes": [n1["id"]], "strategy": "worst-fit"})
    assert [f["node"] for f in packed["pods"]] == ["tight"]
    assert [f["node"] for f in spread["pods"]] == ["roomy"] and spread["strategy"] == "worst-fit"
    cases: list[tuple[Any, int, str]] = [
        ({"fail_nodes": [999]}, 404, "fail_nodes: node 999 not found"),
        ({"fail_nodes": []}, 400, "fail_nodes"),
        ({"fail_nodes": [n1["id"], n1["id"]]}, 400, "listed twice"),
        ({"fail_nodes": list(range(1, 1002))}, 400, "fail_nodes"),
        ({"fail_nodes": [n1["id"]], "strategy": "tightest"}, 400, "strategy"),
        ({"fail_nodes": ["1"]}, 400, "fail_nodes"),
        ({"fail_nodes": [0]}, 400, "fail_nodes"),
        ({"fail_nodes": [n1["id"]], "dry": True}, 400, "dry"),
        ({}, 400, "fail_nodes"),
        ([1], 400, "body"),
    ]
    for sent, code, named in cases:
        status, reply = await api.post("/what-if", sent)
        assert status == code and named in str(reply), (sent, status, reply)
    status, _ = await api.post("/what-if", {"fail_nodes": [n1["id"]]}, token=None)
    assert status == 401  # the admin's token, as every route but /healthz


async def test_inject_now_records_on_the_incident_that_the_outcome_matched(
    engine: Engine, api: Api
) -> None:
    (n1,) = await nodes_up(engine, api, {"name": "n1", "cpu_cores_avail": 4})
    for name in ("a", "b"):
        assert (await api.post("/pods/", pod(name, 1)))[0] == 201
    assert (await api.post("/deployments/", deployment("web", 2)))[0] == 201
    await wait_for(lambda: len(engine.cluster.state.pods) == 4, what="the web pods")
    await nodes_up(engine, api, {"name": "n2", "cpu_cores_avail": 4})
    result = engine.what_if([n1["id"]])
    assert await engine.inject_what_if(result, timeout=20) == []
    _, incidents = await api.get("/incidents")
    (incident,) = [i for i in incidents if i["node_id"] == n1["id"]]
    assert incident["what_if_matched"] is True
    _, detail = await api.get(f"/incidents/{incident['id']}")
    checked = [e for e in detail["events"] if e["kind"] == "what_if_checked"]
    assert checked and "matched" in checked[0]["message"]
