"""Services over HTTP: create, list, get with endpoints, patch, delete; cluster IPs and node
ports allocated once and kept across a restart; validation and hostile input."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for


def svc(name: str = "web", **extra: Any) -> dict[str, Any]:
    return {"name": name, "selector": {"app": "web"},
            "ports": [{"port": 80, "target_port": 8080}], **extra}  # fmt: skip


def pod(name: str, labels: dict[str, str] | None = None, **container: Any) -> dict[str, Any]:
    return {
        "name": name, "cpu_cores_req": 0.1, "labels": labels or {"app": "web"},
        "containers": [{"name": "c", "image": "nginx", **container}],
    }  # fmt: skip


async def worker(api: Api, engine: Engine, name: str = "w1") -> int:
    status, node = await api.post("/nodes/", {"name": name, "cpu_cores_avail": 4})
    assert status == 201, node
    await wait_for(lambda: engine.node(node["id"]).status == "healthy", what="worker healthy")
    return int(node["id"])


async def endpoints(api: Api, svc_id: int) -> list[dict[str, Any]]:
    status, got = await api.get(f"/services/{svc_id}")
    assert status == 200, got
    return got["endpoints"]  # type: ignore[no-any-return]


async def test_create_get_list_patch_delete(engine: Engine, api: Api) -> None:
    status, created = await api.post("/services/", svc())
    assert status == 201, created
    assert created["type"] == "ClusterIP" and created["session_affinity"] == "None"
    assert created["cluster_ip"].startswith("127.96.")
    assert created["ports"] == [
        {"name": "", "port": 80, "target_port": 8080, "protocol": "TCP", "node_port": None}
    ]
    assert created["endpoints"] == [] and created["ready_endpoints"] == 0
    assert created["uid"] and created["resource_version"].isdigit()
    s_id = created["id"]
    status, one = await api.get(f"/services/{s_id}")
    assert status == 200 and one == {**created, "traffic": None}
    status, listed = await api.get("/services/")
    assert status == 200 and [s["id"] for s in listed] == [s_id]
    status, listed = await api.get("/services", params={"namespace": "kube-system"})
    assert status == 200 and listed == []
    # A second one gets another address; list filters by the Service's labels.
    status, other = await api.post("/services/", svc("db", labels={"tier": "db"}))
    assert status == 201 and other["cluster_ip"] != created["cluster_ip"]
    _, by_label = await api.get("/services/", params={"labelSelector": "tier=db"})
    assert [s["name"] for s in by_label] == ["db"]
    # PATCH: to NodePort allocates the lowest free node port; the cluster IP stays.
    status, patched = await api.call("PATCH", f"/services/{s_id}", {"type": "NodePort"})
    assert status == 200, patched
    assert patched["ports"][0]["node_port"] == 30000 and "NodePort" in patched["message"]
    assert patched["cluster_ip"] == created["cluster_ip"]
    assert int(patched["resource_version"]) > int(created["resource_version"])
    status, same = await api.call("PATCH", f"/services/{s_id}", {"type": "NodePort"})
    assert status == 200 and same["message"] == "nothing changed"
    status, err = await api.call("PATCH", f"/services/{s_id}", {"cluster_ip": "127.96.9.9"})
    assert status == 400 and err["field"] == "cluster_ip", err
    status, _ = await api.call(
        "PATCH", f"/services/{s_id}", {"cluster_ip": created["cluster_ip"]}
    )  # its own address: accepted (a client sending back what it read)
    assert status == 200
    # Ports replace the list; the port of the same name keeps its node port.
    status, patched = await api.call("PATCH", f"/services/{s_id}", {"ports": [
        {"name": "http", "port": 80, "target_port": 8080},
        {"name": "admin", "port": 9000, "node_port": 32000},
    ]})  # fmt: skip
    assert status == 200, patched
    assert [p["node_port"] for p in patched["ports"]] == [30000, 32000]
    assert patched["ports"][1]["target_port"] == 9000  # default: the port itself
    # Back to ClusterIP frees the node ports.
    status, patched = await api.call("PATCH", f"/services/{s_id}", {"type": "ClusterIP"})
    assert status == 200 and [p["node_port"] for p in patched["ports"]] == [None, None]
    status, third = await api.post("/services/", svc("third", type="NodePort"))
    assert status == 201 and third["ports"][0]["node_port"] == 30000  # free again
    # DELETE.
    status, gone = await api.delete(f"/services/{s_id}")
    assert status == 200 and gone["message"] == "Service 'web' deleted"
    assert (await api.get(f"/services/{s_id}"))[0] == 404
    assert (await api.delete(f"/services/{s_id}"))[0] == 404
    kinds = [e["kind"] for e in (await api.get("/events", params={"limit": 5000}))[1]]
    assert {"service_created", "service_updated", "service_deleted"} <= set(kinds)
    assert check_invariants(engine.cluster.state) == []


async def test_endpoints_follow_the_ready_pods_and_their_ports(engine: Engine, api: Api) -> None:
    await worker(api, engine)
    status, s = await api.post("/services/", {
        "name": "web", "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "target_port": "http"},
                  {"name": "raw", "port": 81, "target_port": 9090}],
    })  # fmt: skip
    assert status == 201, s
    s_id = s["id"]
    ports = [{"name": "http", "container_port": 8080}]
    _, a = await api.post("/pods/", pod("a", ports=ports))
    _, b = await api.post("/pods/", pod("b"))  # declares no "http": an endpoint for "raw" only
    await api.post("/pods/", pod("other", {"app": "db"}, ports=ports))
    a_id, b_id = a["pod_details"]["id"], b["pod_details"]["id"]

    async def all_ready() -> bool:
        eps = await endpoints(api, s_id)
        return len(eps) == 2 and all(e["ready"] for e in eps)

    await wait_for(all_ready, what="two ready endpoints")
    eps = {e["pod_id"]: e for e in await endpoints(api, s_id)}
    assert set(eps) == {a_id, b_id}  # "other" is not selected
    assert eps[a_id]["ports"] == [{"name": "http", "port": 8080}, {"name": "raw", "port": 9090}]
    assert eps[b_id]["ports"] == [{"name": "raw", "port": 9090}]
    assert eps[a_id]["ip"] == a["pod_details"]["ip_address"] and eps[a_id]["node_name"] == "w1"
    _, got = await api.get(f"/services/{s_id}")
    assert got["ready_endpoints"] == 2
    # Changing the selector moves the endpoints in the same commit.
    status, patched = await api.call("PATCH", f"/services/{s_id}", {"selector": {"app": "db"}})
    assert status == 200
    assert [e["pod_name"] for e in patched["endpoints"]] == ["other"]
    # An empty selector selects nothing.
    status, patched = await api.call("PATCH", f"/services/{s_id}", {"selector": {}})
    assert status == 200 and patched["endpoints"] == []
    await api.call("PATCH", f"/services/{s_id}", {"selector": {"app": "web"}})
    # A deleted pod leaves at once: in the reply's own commit.
    assert (await api.delete(f"/pods/{a_id}"))[0] == 200
    assert [e["pod_id"] for e in await endpoints(api, s_id)] == [b_id]
    assert check_invariants(engine.cluster.state) == []


async def test_readiness_probe_gates_the_endpoint(engine: Engine, api: Api) -> None:
    await worker(api, engine)
    _, s = await api.post("/services/", svc())
    probe = {"exec": {"command": ["true"]}, "initial_delay_s": 0.6, "period_s": 1}
    _, p = await api.post("/pods/", pod("slow", readiness_probe=probe))
    p_id = p["pod_details"]["id"]

    async def state() -> list[bool]:
        return [e["ready"] for e in await endpoints(api, s["id"])]

    await wait_for(lambda: engine.pod(p_id).phase == "running", what="running")
    # Running but its probe has not passed yet: listed, not ready (as an EndpointSlice).
    assert await state() in ([False], [True])
    await wait_for(lambda: _is(state(), [True]), what="ready endpoint")
    # Its container is killed: not ready until it runs and passes its probe again.
    status, _ = await api.post(f"/pods/{p_id}/simulate/failure")
    assert status == 200
    await wait_for(lambda: _is(state(), [False]), what="not ready after the kill")
    await wait_for(lambda: _is(state(), [True]), timeout=15, what="ready again")


async def _is(got: Any, want: list[bool]) -> bool:
    return bool(await got == want)


async def test_a_failed_node_takes_its_endpoints_away(engine: Engine, api: Api) -> None:
    w1 = await worker(api, engine, "w1")
    _, s = await api.post("/services/", svc())
    await api.post("/pods/", pod("a"))
    await wait_for(lambda: _is(_ready(api, s["id"]), [True]), what="ready endpoint")
    status, _ = await api.post(f"/nodes/{w1}/simulate/failure", {"mode": "crash"})
    assert status == 200

    async def not_ready_or_gone() -> bool:
        return all(not r for r in await _ready(api, s["id"]))

    await wait_for(not_ready_or_gone, timeout=15, what="endpoint leaves the ready set")
    node = engine.node(w1)
    assert node.status != "healthy"


async def _ready(api: Api, svc_id: int) -> list[bool]:
    return [e["ready"] for e in await endpoints(api, svc_id)]


async def test_validation_names_the_field(engine: Engine, api: Api) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ports": [{"port": 80}]}, "name"),
        (svc("1web"), "name"),  # DNS-1035: starts with a letter
        (svc("Web"), "name"),
        (svc("a" * 64), "name"),
        (svc("wéb"), "name"),
        (svc(ports=[]), "ports"),
        (svc(ports=[{"port": 0}]), "ports[0].port"),
        (svc(ports=[{"port": 65536}]), "ports[0].port"),
        (svc(ports=[{"port": -1}]), "ports[0].port"),
        (svc(ports=[{"port": 80, "target_port": 0}]), "ports[0].target_port"),
        (svc(ports=[{"port": 80, "target_port": "Not_A_Name"}]), "ports[0].target_port"),
        (svc(ports=[{"port": 80, "protocol": "UDP"}]), "ports[0].protocol"),
        (svc(ports=[{"port": 80}, {"port": 81}]), "ports[0].name"),
        (svc(ports=[{"name": "a", "port": 80}, {"name": "a", "port": 81}]), "ports[1].name"),
        (svc(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]), "ports[1].port"),
        (svc(ports=[{"port": 80, "node_port": 30001}]), "ports[0].node_port"),  # ClusterIP
        (svc(type="NodePort", ports=[{"port": 80, "node_port": 29999}]), "ports[0].node_port"),
        (svc(type="NodePort", ports=[{"port": 80, "node_port": 32768}]), "ports[0].node_port"),
        (svc(type="LoadBalancer"), "type"),
        (svc(session_affinity="Sticky"), "session_affinity"),
        (svc(selector={"-bad": "x"}), "selector['-bad']"),
        (svc(cluster_ip="127.96.0.9"), "cluster_ip"),  # the engine assigns it
        (svc(namespace="No"), "namespace"),
        (svc(ports=[{"port": 80, "name": "x" * 16}]), "ports[0].name"),
        (svc(ports=[{"port": "80"}]), "ports[0].port"),
        (svc(ports=[{"port": 80.5}]), "ports[0].port"),
        (svc(ports=[{"port": True}]), "ports[0].port"),
    ]
    for body, field in cases:
        status, err = await api.post("/services/", body)
        assert status == 400, (body, err)
        assert err["field"] == field, (body, err)
    status, err = await api.post("/services/", svc(namespace="nope"))
    assert status == 404 and err["field"] == "namespace"
    status, _ = await api.post("/services/", svc())
    assert status == 201
    status, err = await api.post("/services/", svc())
    assert status == 409 and err["field"] == "name"
    # The same name in another namespace is another Service.
    assert (await api.post("/namespaces/", {"name": "team"}))[0] == 201
    assert (await api.post("/services/", svc(namespace="team")))[0] == 201


async def test_a_taken_node_port_is_a_409(engine: Engine, api: Api) -> None:
    body = svc("a", type="NodePort", ports=[{"port": 80, "node_port": 31000}])
    assert (await api.post("/services/", body))[0] == 201
    status, err = await api.post("/services/", {**body, "name": "b"})
    assert status == 409 and err["field"] == "ports[0].node_port", err
    status, b = await api.post("/services/", svc("b", type="NodePort"))
    assert status == 201
    status, err = await api.call(
        "PATCH", f"/services/{b['id']}", {"ports": [{"port": 80, "node_port": 31000}]}
    )
    assert status == 409 and err["field"] == "ports[0].node_port", err
    _, again = await api.get(f"/services/{b['id']}")
    assert again["ports"][0]["node_port"] == 30000  # the refused PATCH changed nothing
    status, err = await api.post("/services/", svc("c", type="NodePort", ports=[
        {"name": "x", "port": 80, "node_port": 31500},
        {"name": "y", "port": 81, "node_port": 31500},
    ]))  # fmt: skip
    assert status == 400 and err["field"] == "ports[1].node_port"


async def test_hostile_input_is_never_a_5xx(engine: Engine, api: Api) -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    bodies: list[Any] = [
        None,
        [],
        "x",
        5,
        {"name": None},
        {"name": "web", "ports": None},
        {"name": "web", "ports": [None]},
        {"name": "web", "ports": [[]]},
        {"name": "web", "ports": [{"port": 2**70}]},
        {"name": "web", "ports": [{"port": 80}] * 101},
        {"name": "web", "ports": [{"port": 80}], "selector": deep},
        {"name": "web", "ports": [{"port": 80}], "selector": {"app": "\u0000"}},
        {"name": "web", "ports": [{"port": 80}], "labels": {"k": "ü" * 70}},
        {"name": "web", "ports": [{"port": 80}], "annotations": {"a": "x" * 300_000}},
        {"name": "\ud800", "ports": [{"port": 80}]},
        {"name": "web" * 1000, "ports": [{"port": 80}]},
        {"name": "web", "ports": [{"port": 80, "target_port": "x" * 10_000}]},
        {"name": "web", "ports": [{"port": 80, "target_port": -5}]},
        {"name": "web", "ports": [{"port": 80, "target_port": None}], "type": None},
    ]
    for body in bodies:
        status, reply = await api.post("/services/", body)
        assert 400 <= status < 500, (body, status, reply)
    status, reply = await api.call(
        "POST", "/services/", data=b"{" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert 400 <= status < 500, reply
    for path in ("/services/0", "/services/-1", "/services/99999999999999999999",
                 "/services/abc", "/services/%00"):  # fmt: skip
        for method in ("GET", "PATCH", "DELETE"):
            status, reply = await api.call(method, path, {} if method == "PATCH" else None)
            assert 400 <= status < 500, (method, path, status, reply)
    _, s = await api.post("/services/", svc())
    for patch in ({"ports": []}, {"ports": None, "selector": []}, {"type": "x"},
                  {"unknown": 1}, {"cluster_ip": 7}, {"ports": [{"port": 80}] * 2}):  # fmt: skip
        status, reply = await api.call("PATCH", f"/services/{s['id']}", patch)
        assert status == 400, (patch, status, reply)
    assert (await api.get("/services/", params={"namespace": "BAD"}))[0] == 400
    assert (await api.get("/services/", params={"labelSelector": "(("}))[0] == 400
    assert (await api.get("/services/", params={"nope": "1"}))[0] == 400


async def test_concurrent_creates_of_one_name_exactly_one_wins(engine: Engine, api: Api) -> None:
    replies = await asyncio.gather(*(api.post("/services/", svc()) for _ in range(20)))
    statuses = sorted(s for s, _ in replies)
    assert statuses == [201] + [409] * 19, statuses
    # And 20 different names at once: 20 different addresses, 20 different node ports.
    replies = await asyncio.gather(*(
        api.post("/services/", svc(f"s{i}", type="NodePort")) for i in range(20)
    ))  # fmt: skip
    assert all(s == 201 for s, _ in replies), replies
    assert len({r["cluster_ip"] for _, r in replies}) == 20
    assert len({r["ports"][0]["node_port"] for _, r in replies}) == 20


async def test_a_namespace_deleted_takes_its_services(engine: Engine, api: Api) -> None:
    assert (await api.post("/namespaces/", {"name": "team"}))[0] == 201
    _, s = await api.post("/services/", svc(namespace="team", type="NodePort"))
    assert (await api.delete("/namespaces/team"))[0] == 200
    assert (await api.get(f"/services/{s['id']}"))[0] == 404
    _, again = await api.post("/services/", svc(type="NodePort"))
    assert again["ports"][0]["node_port"] == s["ports"][0]["node_port"]  # freed


async def test_cluster_ip_and_node_port_survive_a_restart(engine: Engine, api: Api) -> None:
    await worker(api, engine)
    _, s = await api.post("/services/", svc(type="NodePort", session_affinity="ClientIP"))
    _, gone = await api.post("/services/", svc("gone"))
    await api.delete(f"/services/{gone['id']}")
    _, p = await api.post("/pods/", pod("a"))
    await wait_for(lambda: _is(_ready(api, s["id"]), [True]), what="ready endpoint")
    settings = engine.settings
    await engine.stop()
    again = Engine(fast_settings(settings.data_dir, db_url=settings.db_url))
    await start_engine(again)
    try:
        async with aiohttp.ClientSession() as session:
            api2 = Api(again.api_url, again.admin_token, session)
            _, got = await api2.get(f"/services/{s['id']}")
            assert got["cluster_ip"] == s["cluster_ip"]
            assert got["ports"] == s["ports"] and got["session_affinity"] == "ClientIP"
            assert got["uid"] == s["uid"] and got["creation_timestamp"] == s["creation_timestamp"]
            # Endpoints are derived again from the stored pods.
            assert [e["pod_id"] for e in got["endpoints"]] == [p["pod_details"]["id"]]
            _, new = await api2.post("/services/", svc("new", type="NodePort"))
            assert new["id"] > gone["id"]  # ids are never reused
            assert new["cluster_ip"] not in (s["cluster_ip"],)
            assert new["ports"][0]["node_port"] != s["ports"][0]["node_port"]
            assert check_invariants(again.cluster.state) == []
    finally:
        await again.stop()


async def test_a_pods_grace_period_is_kept_shown_and_sent(engine: Engine, api: Api) -> None:
    """termination_grace_period_s: stored (schema v5), in the pod's JSON and manifest, sent to
    its agent, and kept across a restart; a Deployment's template carries it to its pods."""
    from kube9_desktop.engine.manifests import pod_manifest

    node = await worker(api, engine)
    _, p = await api.post("/pods/", {**pod("slow"), "termination_grace_period_s": 5})
    _, q = await api.post("/pods/", pod("default"))
    _, slow = await api.get(f"/pods/{p['pod_details']['id']}")
    _, default = await api.get(f"/pods/{q['pod_details']['id']}")
    assert slow["termination_grace_period_s"] == 5 and default["termination_grace_period_s"] == 30
    assert pod_manifest(engine.pod(slow["id"]))["spec"]["terminationGracePeriodSeconds"] == 5
    generation = engine.cluster.state.nodes[node].generation
    desired = engine.heartbeats.desired_page(node, generation, 0, 100, manual=False)["pods"]
    assert {d["name"]: d["termination_grace_s"] for d in desired} == {"slow": 5, "default": 30}
    body = {"name": "web", "replicas": 1, "template": {
        "labels": {"app": "d"}, "termination_grace_period_s": 0.5,
        "containers": [{"name": "c", "image": "nginx", "cpu_req": 0.1}]}}  # fmt: skip
    status, d = await api.post("/deployments/", body)
    assert status == 201 and d["template"]["termination_grace_period_s"] == 0.5
    await wait_for(lambda: any(v.spec.termination_grace_s == 0.5 for v in engine.pods()),
                   what="the Deployment's pod")  # fmt: skip
    settings = engine.settings
    await engine.stop()
    again = Engine(fast_settings(settings.data_dir, db_url=settings.db_url))
    await start_engine(again)
    try:
        assert again.pod(slow["id"]).spec.termination_grace_s == 5
        assert again.pod(default["id"]).spec.termination_grace_s == 30
    finally:
        await again.stop()
