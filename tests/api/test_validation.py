"""Every field's validation answers 400 with a message naming the field; nothing is created."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from yarl import URL

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, wait_for

NODE = {"name": "worker-1", "cpu_cores_avail": 4}
POD = {"name": "p", "cpu_cores_req": 1, "containers": [{"name": "c", "image": "nginx:latest"}]}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not ...}


BAD_NODES = [
    (with_(NODE, cpu_cores_avail=-1), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail=0), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail="four"), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail=10**9), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail=True), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail=None), "cpu_cores_avail"),
    (with_(NODE, cpu_cores_avail=...), "cpu_cores_avail"),
    (with_(NODE, name=...), "name"),
    (with_(NODE, name=""), "name"),
    (with_(NODE, name="Worker_1"), "name"),
    (with_(NODE, name="-worker"), "name"),
    (with_(NODE, name="../../etc"), "name"),
    (with_(NODE, name="w" * 41), "name"),
    (with_(NODE, name="wörker"), "name"),
    (with_(NODE, name=7), "name"),
    (with_(NODE, name="worker-1\n"), "name"),  # Python's $ matches before a final newline
    (with_(NODE, labels={"app": "web\n"}), "labels['app']"),
    (with_(NODE, labels={"app\n": "web"}), "labels['app\\n']"),  # the key as repr shows it
    (with_(NODE, node_type="boss"), "node_type"),
    (with_(NODE, memory_mb=-5), "memory_mb"),
    (with_(NODE, memory_mb="lots"), "memory_mb"),
    (with_(NODE, cpu_cores=4), "cpu_cores"),  # typo of a real field: unknown fields refused
    (with_(NODE, status="healthy"), "status"),  # engine-only field
    (with_(NODE, id=99), "id"),
]


@pytest.mark.parametrize(("body", "field"), BAD_NODES)
async def test_bad_node_bodies(api: Api, body: dict[str, Any], field: str) -> None:
    status, reply = await api.post("/nodes/", body)
    assert status == 400, reply
    assert reply["field"] == field or any(e["field"] == field for e in reply["errors"])
    assert field in reply["error"]
    assert (await api.get("/nodes/"))[1] == []


BAD_PODS = [
    (with_(POD, termination_grace_period_s=-1), "termination_grace_period_s"),
    (with_(POD, termination_grace_period_s=3601), "termination_grace_period_s"),
    (with_(POD, termination_grace_period_s="soon"), "termination_grace_period_s"),
    (with_(POD, cpu_cores_req=-1), "cpu_cores_req"),
    (with_(POD, cpu_cores_req=0), "cpu_cores_req"),
    (with_(POD, cpu_cores_req="x"), "cpu_cores_req"),
    (with_(POD, cpu_cores_req=1e12), "cpu_cores_req"),
    (with_(POD, name="Bad Name"), "name"),
    (with_(POD, name="p" * 64), "name"),
    (with_(POD, containers=[]), "containers"),
    (with_(POD, containers=...), "containers"),
    (with_(POD, containers="nginx"), "containers"),
    (with_(POD, containers=[{"name": "c"}]), "containers[0].image"),
    (with_(POD, containers=[{"name": "c", "image": "a b"}]), "containers[0].image"),
    (with_(POD, containers=[{"name": "C!", "image": "x"}]), "containers[0].name"),
    (with_(POD, containers=[{"name": "c", "image": "x", "cpu_req": -1}]), "containers[0].cpu_req"),
    (with_(POD, containers=[{"name": "c", "image": "x", "memory_req": -1}]),
     "containers[0].memory_req"),
    (with_(POD, containers=[{"name": "c", "image": "x", "args": "-c 'unbalanced"}]),
     "containers[0].args"),
    (with_(POD, containers=[{"name": "c", "image": "x", "command": 5}]), "containers[0].command"),
    (with_(POD, containers=[{"name": "c", "image": "x", "imagePullPolicy": "Always"}]),
     "containers[0].imagePullPolicy"),
    (with_(POD, containers=[{"name": "c", "image": "x"}, {"name": "c", "image": "y"}]),
     "containers[1].name"),
    (with_(POD, cpu_cores_req=1, containers=[{"name": "c", "image": "x", "cpu_req": 2}]),
     "cpu_cores_req"),
    (with_(POD, cpu_cores_req=..., containers=[{"name": "c", "image": "x"}]), "cpu_cores_req"),
    (with_(POD, volumes=[{"name": "v", "type": "nfs"}]), "volumes[0].type"),
    (with_(POD, volumes=[{"name": "v", "path": "relative/path"}]), "volumes[0].path"),
    (with_(POD, volumes=[{"name": "v", "path": "/data/../../etc"}]), "volumes[0].path"),
    (with_(POD, volumes=[{"name": "v", "size": -1}]), "volumes[0].size"),
    (with_(POD, config=[{"name": "e", "type": "env", "key": "1BAD", "value": "x"}]),
     "config[0].key"),
    (with_(POD, config=[{"name": "e", "type": "configmap", "key": "K", "value": "x"}]),
     "config[0].type"),
    (with_(POD, config=[{"name": "e", "key": "K"}]), "config[0].value"),
    (with_(POD, config=[{"name": "a", "key": "K", "value": "1"},
                        {"name": "b", "key": "K", "value": "2"}]),
     "config[1].key"),
    (with_(POD, node_id=1), "node_id"),
    (with_(POD, containers=[{"name": "c", "image": "nginx\n"}]), "containers[0].image"),
    (with_(POD, containers=[{"name": "c\n", "image": "x"}]), "containers[0].name"),
    (with_(POD, config=[{"name": "e", "key": "K\n", "value": "x"}]), "config[0].key"),
    (with_(POD, namespace="default\n"), "namespace"),
    (with_(POD, volumes=[{"name": "v", "size": 1.0}]), "volumes[0].size"),  # no coercion
    (with_(POD, volumes=[{"name": "v", "size": True}]), "volumes[0].size"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), BAD_PODS)
async def test_bad_pod_bodies(api: Api, body: dict[str, Any], field: str) -> None:
    await api.post("/nodes/", NODE)
    status, reply = await api.post("/pods/", body)
    assert status == 400, reply
    fields = {reply.get("field")} | {e["field"] for e in reply.get("errors", ())}
    assert field in fields, reply
    assert (await api.get("/pods/"))[1] == []


async def test_quantity_strings_are_accepted(engine: Engine, api: Api) -> None:
    status, node = await api.post("/nodes/", {"name": "w", "cpu_cores_avail": "2500m",
                                              "memory_mb": "3Gi"})  # fmt: skip
    assert status == 201 and node["cpu_cores"] == 2.5 and node["memory_mb"] == 3072
    await wait_for(lambda: engine.cluster.node_views()[0].schedulable, what="node ready")
    status, pod = await api.post("/pods/", {"name": "q", "containers": [
        {"name": "c", "image": "x", "cpu_req": "500m", "memory_req": "256Mi"}]})  # fmt: skip
    assert status == 201, pod
    status, got = await api.get(f"/pods/{pod['pod_details']['id']}")
    assert got["cpu_cores_req"] == 0.5 and got["memory_mb_req"] == 256


async def test_duplicate_names_conflict(engine: Engine, api: Api) -> None:
    assert (await api.post("/nodes/", NODE))[0] == 201
    status, reply = await api.post("/nodes/", NODE)
    assert status == 409 and "already exists" in reply["error"]
    await wait_for(lambda: engine.cluster.node_views()[0].schedulable, what="node ready")
    assert (await api.post("/pods/", POD))[0] == 201
    status, reply = await api.post("/pods/", POD)
    assert status == 409 and reply["field"] == "name"
    assert len((await api.get("/pods/"))[1]) == 1


async def test_no_fit_is_refused_with_every_nodes_reasons(engine: Engine, api: Api) -> None:
    await api.post("/nodes/", {"name": "small", "cpu_cores_avail": 1})
    await api.post("/nodes/", {"name": "boss", "cpu_cores_avail": 16, "node_type": "master"})
    await wait_for(
        lambda: all(n.status == "healthy" for n in engine.cluster.node_views()), what="ready"
    )
    status, reply = await api.post("/pods/", with_(POD, cpu_cores_req=2))
    assert status == 400
    assert reply["error"].startswith("No available worker node")
    assert reply["reasons"]["small"] == ["insufficient cpu: requested 2, free 1"]
    assert reply["reasons"]["boss"] == [
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
    ]
    assert (await api.get("/pods/"))[1] == []


async def test_unknown_ids_are_json_404(api: Api) -> None:
    for method, path in [("GET", "/nodes/42"), ("DELETE", "/nodes/42"), ("GET", "/pods/7"),
                         ("GET", "/pods/7/health"), ("POST", "/nodes/42/simulate/failure"),
                         ("GET", "/nodes/abc"), ("GET", "/no/such/route"),
                         ("GET", f"/incidents/{2**64}"), ("GET", f"/pods/{10**30}")]:  # fmt: skip
        status, body = await api.call(method, path)
        assert status == 404, (method, path, body)
        assert isinstance(body, dict) and "error" in body


async def test_bad_query_parameters(api: Api) -> None:
    status, body = await api.get("/events?limit=abc")
    assert status == 400 and body["field"] == "limit"
    status, body = await api.get("/events?limit=0")
    assert status == 400


@pytest.mark.parametrize(
    ("path", "field"),
    [("/events?limt=5", "limt"), ("/nodes/?force=true", "force"), ("/cluster/summary?x=1", "x"),
     ("/events?=1", ""), ("/events?limit=5&limit=6", "limit"), ("/pods/?namespace=a&namespace=b",
     "namespace"), ("/nodes/?labelSelector=a&labelSelector=b", "labelSelector")],
)  # fmt: skip
async def test_unknown_and_repeated_query_parameters_are_400(
    api: Api, path: str, field: str
) -> None:
    """A typo is not a no-op and a repeat is not read as the first or the last: both say so."""
    status, body = await api.get(path)
    assert status == 400 and body["field"] == field, body
    assert (await api.get(path, token=None))[0] == 401  # a stranger learns nothing of them


async def test_the_longest_selector_the_document_allows_is_read(api: Api) -> None:
    """4096 characters, percent-encoded as requests does (every ' ' '(' ',' '!' '='), are past
    aiohttp's 8 KiB request line: still read, and a bad one is still answered in JSON."""
    one = "app notin ( " + " , ".join(["w"] * 30) + " )"
    selector = ",".join([one] * (4096 // (len(one) + 1)))
    wire = quote(selector, safe="")
    assert 4000 < len(selector) <= 4096 and len(wire) > 8192
    for query, expect in ((wire, 200), (wire + "%2C%2C", 400)):
        url = URL(f"{api.base}/nodes/?labelSelector={query}", encoded=True)  # sent as is
        async with api.session.get(url, headers=api.headers()) as resp:
            assert resp.status == expect and resp.content_type == "application/json"
            assert expect == 200 or (await resp.json())["field"] == "labelSelector"


async def test_ids_past_the_databases_integer_columns_find_nothing(api: Api) -> None:
    """PostgreSQL's 32-bit id columns refuse larger numbers in a comparison: no 500."""
    for big in (2**31, 2**40, 2**53):
        assert (await api.get(f"/incidents/{big}"))[0] == 404
        for name in ("node_id", "pod_id"):
            assert await api.get(f"/events?{name}={big}") == (200, [])
    assert await api.get(f"/events?since={2**62}") == (200, [])
    assert await api.get(f"/events?since={2**31 - 2}") == (200, [])
