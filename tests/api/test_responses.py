"""Real replies match the response schemas the served /openapi.json gives for their status.

A realistic cluster (worker and master nodes, pods in two namespaces with volumes, config and
secrets, manual heartbeats, a crash fault on a virtual node and its incident) and the error
answers of every kind, each validated by an ECMA/JSON-Schema validator with formats on. Every
operation's success is seen at least once, so no reply shape goes unchecked.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import jsonschema_rs
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from tests.helpers import POSTMAN_HEARTBEAT, POSTMAN_PODS, Api, wait_for

NODE_WORKER = {"name": "worker-1", "cpu_cores_avail": 4, "labels": {"tier": "web"}}
NODE_SPARE = {"name": "worker-2", "cpu_cores_avail": "4", "memory_mb": "8Gi"}
NODE_MASTER = {"name": "master-1", "cpu_cores_avail": 2, "node_type": "master",
               "annotations": {"example.com/owner": "ops team"}}  # fmt: skip
TEAM_POD = {
    "name": "api", "namespace": "team-a", "labels": {"app": "api"},
    "containers": [{"name": "api", "image": "python:3.12", "cpu_req": "250m",
                    "memory_req": "128Mi", "command": ["python", "-m", "http.server"]}],
    "config": [{"name": "token", "type": "secret", "key": "TOKEN", "value": "s3cret"}],
}  # fmt: skip


class Checker:
    """Sends requests and validates each reply against the document's schema for its status."""

    def __init__(self, api: Api, doc: dict[str, Any]) -> None:
        self.api, self.doc = api, doc
        self.seen: set[tuple[str, str]] = set()  # (operationId, status)
        self.templates = [
            (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$"), p)
            for p in sorted(doc["paths"], key=lambda p: ("{" in p, p))
        ]

    def operation(self, method: str, path: str) -> dict[str, Any]:
        bare = path.split("?")[0]
        for pattern, template in self.templates:
            if pattern.match(bare):
                return self.doc["paths"][template][method.lower()]  # type: ignore[no-any-return]
        raise AssertionError(f"{method} {path}: not a documented path")

    def validate(self, method: str, path: str, status: int, ctype: str, body: Any) -> None:
        op = self.operation(method, path)
        documented = op["responses"]
        assert str(status) in documented, f"{method} {path}: {status} not in {sorted(documented)}"
        media = documented[str(status)]["content"]
        assert ctype in media, (method, path, status, ctype, sorted(media))
        schema = {**media[ctype]["schema"], "components": self.doc["components"]}
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, f"{method} {path} {status}:\n" + "\n".join(errors[:10])
        self.seen.add((op["operationId"], str(status)))

    async def call(
        self, method: str, path: str, json: Any = None, *, expect: int, **kw: Any
    ) -> Any:
        headers = self.api.headers(kw.pop("token", ...), **kw.pop("headers", {}))
        async with self.api.session.request(
            method, self.api.base + path, json=json, headers=headers, **kw
        ) as resp:
            ctype = resp.content_type
            body = await resp.json() if ctype == "application/json" else await resp.text()
            assert resp.status == expect, (method, path, resp.status, body)
            self.validate(method, path, resp.status, ctype, body)
            return body

    def get(self, path: str, expect: int = 200, **kw: Any) -> Any:
        return self.call("GET", path, expect=expect, **kw)

    def post(self, path: str, json: Any = None, expect: int = 200, **kw: Any) -> Any:
        return self.call("POST", path, json, expect=expect, **kw)

    def delete(self, path: str, expect: int = 200, **kw: Any) -> Any:
        return self.call("DELETE", path, expect=expect, **kw)

    def put(self, path: str, json: Any = None, expect: int = 200, **kw: Any) -> Any:
        return self.call("PUT", path, json, expect=expect, **kw)


@pytest.fixture
async def checker(api: Api) -> Checker:
    async with api.session.get(api.base + "/openapi.json", headers=api.headers()) as resp:
        return Checker(api, await resp.json())


async def test_every_reply_matches_its_documented_schema(engine: Engine, checker: Checker) -> None:
    c = checker
    await c.get("/")
    await c.get("/healthz", token=None)
    await c.get("/test_db")
    await c.get("/openapi.json")

    # Nodes of both types, one with a token of its own (the agent's).
    worker = await c.post("/nodes/", NODE_WORKER, 201)
    spare = await c.post("/nodes", NODE_SPARE, 201)
    master = await c.post("/nodes/", NODE_MASTER, 201)
    agent = await engine.create_node_from_json({"name": "agent-1", "cpu_cores_avail": 1})
    node_ids = [worker["id"], spare["id"], master["id"], agent.view.id]
    await wait_for(lambda: all(engine.cluster.state.nodes[n].status is NodeStatus.HEALTHY
                               for n in node_ids), what="nodes healthy")  # fmt: skip

    # Pods in two namespaces: single and multi-container, volumes, env and secret config.
    await c.post("/namespaces/", {"name": "team-a", "labels": {"team": "a"}}, 201)
    await c.post("/namespaces", {"name": "team-b"}, 201)
    # PriorityClasses: one the pods below get by default, one to read and delete.
    await c.post("/priorityclasses/", {"name": "base", "value": 5, "global_default": True}, 201)
    await c.post("/priorityclasses", {"name": "gone", "value": 9, "preemption_policy": "Never"},
                 201)  # fmt: skip
    await c.get("/priorityclasses/")
    await c.get("/priorityclasses")
    await c.get("/priorityclasses/gone")
    await c.delete("/priorityclasses/gone")
    pods = [(await c.post("/pods/", body, 201))["pod_details"]["id"] for body in POSTMAN_PODS]
    team = (await c.post("/pods", TEAM_POD, 201))["pod_details"]["id"]
    await wait_for(lambda: engine.cluster.state.pods[team].phase == "running", what="running")

    for path in (
        "/nodes/",
        "/nodes",
        "/nodes/health",
        "/nodes?labelSelector=tier=web",
        "/pods/",
        "/pods",
        "/pods?namespace=team-a&labelSelector=app",
        "/namespaces/",
        "/namespaces",
        "/namespaces/team-a",
        "/cluster/summary",
        "/events?kind=pod_created,node_created&limit=50",
        "/incidents",
    ):
        await c.get(path)  # fmt: skip
    for node_id in node_ids:
        await c.get(f"/nodes/{node_id}")
        await c.get(f"/nodes/{node_id}/usage")
    for pod_id in [*pods, team]:
        await c.get(f"/pods/{pod_id}")
        await c.get(f"/pods/{pod_id}/health")
        await c.get(f"/pods/{pod_id}/usage")
        first = engine.cluster.state.pods[pod_id].spec.containers[0].name
        await c.get(f"/pods/{pod_id}/logs?container={first}&tail=10")  # virtual: empty text

    # Heartbeats by hand and by the agent, with and without a desired-pods set.
    busy = engine.cluster.state.pods[team].node_id
    beat = await c.post(f"/nodes/{busy}/heartbeat", {**POSTMAN_HEARTBEAT, "pod_ids": None})
    assert "desired_pods" in beat
    await c.post(f"/nodes/{busy}/heartbeat", {"generation": beat["generation"]})
    page = await c.get(f"/nodes/{busy}/desired?generation={beat['generation']}&limit=1")
    assert page["pods"]
    own = {"Authorization": f"Bearer {agent.token}"}
    mine = await c.post(f"/nodes/{agent.view.id}/heartbeat", {}, token=None, headers=own)
    await c.get(f"/nodes/{agent.view.id}/desired?generation={mine['generation']}", token=None,
                headers=own)  # fmt: skip

    # A killed pod process, a crash on a virtual node, its incident and its events.
    await c.post(f"/pods/{team}/simulate/failure", {"container": "api"})
    await c.post(f"/nodes/{worker['id']}/recover")  # healthy: nothing to recover
    await c.put(f"/nodes/{worker['id']}/taints", {"taints": []})
    await c.post(f"/nodes/{worker['id']}/cordon")
    await c.post(f"/nodes/{worker['id']}/uncordon")
    await c.post("/what-if", {"fail_nodes": [worker["id"]], "strategy": "worst-fit"})
    await c.post(f"/nodes/{worker['id']}/drain")  # its pods move or say why not
    await c.post(f"/nodes/{worker['id']}/uncordon")
    await c.get("/settings")
    await c.get("/engines")
    await c.call("PATCH", "/settings", {"kubernetes_default_tolerations": False}, expect=200)
    injected = await c.post(f"/nodes/{busy}/simulate/failure", {"mode": "crash"})
    incident = injected["incident_id"]
    await wait_for(lambda: engine.store.incident(incident).outcome != "open",  # type: ignore[union-attr]
                   timeout=20, what="the crash detected and recovered")  # fmt: skip
    await c.get("/incidents?limit=5")
    await c.get(f"/incidents/{incident}")
    await c.get(f"/events?node_id={busy}&since=1")
    await c.get(f"/events?pod_id={team}")

    # A Deployment with probes and ports rolled out, scaled, paused, rolled back; a bare
    # ReplicaSet; their deletes (one keeping the pods).
    web = {"labels": {"app": "web"}, "cpu_cores_req": 0.1, "containers": [{
        "name": "web", "image": "nginx:1.25", "ports": [{"name": "http", "container_port": 80}],
        "readiness_probe": {"http_get": {"path": "/", "port": "http"}, "period_s": 1},
        "liveness_probe": {"tcp_socket": {"port": 80}},
    }]}  # fmt: skip
    made = await c.post("/deployments/", {"name": "web", "namespace": "team-a", "replicas": 2,
                                          "template": web}, 201)  # fmt: skip
    d = made["id"]
    newer = {**web, "containers": [{**web["containers"][0], "image": "nginx:1.26"}]}
    await c.call("PATCH", f"/deployments/{d}", {"template": newer}, expect=200)
    await c.post(f"/deployments/{d}/scale", {"replicas": 3})
    await c.post(f"/deployments/{d}/pause")
    await c.post(f"/deployments/{d}/resume")
    await c.post(f"/deployments/{d}/rollback", {})
    for path in ("/deployments/", "/deployments?namespace=team-a&labelSelector=app",
                 f"/deployments/{d}", f"/deployments/{d}/history", "/replicasets",
                 "/replicasets/?namespace=default",
                 f"/replicasets/{made['replicaset_ids'][0]}"):  # fmt: skip
        await c.get(path)
    bare = await c.post(
        "/replicasets",
        {"name": "bare", "replicas": 1, "template": {**web, "labels": {"app": "bare"}}},
        201,
    )
    await c.post(f"/replicasets/{bare['id']}/scale", {"replicas": 2})
    await c.delete(f"/replicasets/{bare['id']}?cascade=orphan")
    await c.delete(f"/deployments/{d}")
    bare_2 = {"name": "bare-2", "replicas": 0, "template": {**web, "labels": {"app": "b2"}}}
    await c.post("/replicasets/", bare_2, 201)
    await c.post("/deployments", {"name": "api", "replicas": 1, "template": web}, 201)

    # A Service in front of the Deployment's pods (named target port), made a NodePort, and
    # its lists, read with its endpoints and deleted.
    svc = await c.post("/services/", {
        "name": "web", "selector": {"app": "web"}, "labels": {"tier": "front"},
        "ports": [{"name": "http", "port": 80, "target_port": "http"}],
    }, 201)  # fmt: skip
    await wait_for(lambda: bool(engine.service(svc["id"]).endpoints), what="an endpoint")
    await c.post("/services", {"name": "raw", "ports": [{"port": 81}]}, 201)
    await c.get(f"/services/{svc['id']}")
    await c.get("/services/")
    await c.get("/services?namespace=default&labelSelector=tier=front")
    await c.call("PATCH", f"/services/{svc['id']}", {"type": "NodePort"}, expect=200)
    await c.post(f"/services/{svc['id']}/traffic", {"rate": 20, "duration_s": 0.2}, 202)

    async def ran() -> bool:
        return bool((await c.get(f"/services/{svc['id']}/traffic"))["series"])

    await wait_for(ran, what="a second of traffic")
    await c.delete(f"/services/{svc['id']}/traffic")
    await c.delete(f"/services/{svc['id']}")

    # Deletes.
    await c.delete(f"/pods/{pods[0]}")
    await c.delete("/namespaces/team-b")
    await c.delete("/namespaces/team-a")
    await c.delete(f"/nodes/{spare['id']}?force=true")

    undocumented = {
        (op["operationId"], status)
        for ops in c.doc["paths"].values()
        for op in ops.values()
        for status in op["responses"]
        if status.startswith("2")
    } - c.seen
    assert not undocumented, f"successes never checked: {sorted(undocumented)}"


async def test_every_error_matches_the_error_schema(engine: Engine, checker: Checker) -> None:
    c = checker
    worker = await c.post("/nodes/", {"name": "w1", "cpu_cores_avail": 1}, 201)
    agent = await engine.create_node_from_json({"name": "w2", "cpu_cores_avail": 1})
    other = await engine.create_node_from_json({"name": "w3", "cpu_cores_avail": 1})
    await wait_for(lambda: engine.cluster.state.nodes[agent.view.id].status is NodeStatus.HEALTHY,
                   what="healthy")  # fmt: skip

    await c.post("/nodes/", {"name": "Bad", "cpu_cores_avail": 0, "bogus": 1}, 400)
    await c.post("/pods/", {"name": "big", "cpu_cores_req": 64,
                            "containers": [{"name": "c", "image": "x"}]}, 400)  # fmt: skip
    await c.get("/events?limit=abc", 400)
    await c.get("/nodes?labelSelector=a%20b", 400)
    await c.get("/nodes/", 401, token=None)
    await c.get("/nodes/", 401, token="wrong")
    theirs = {"Authorization": f"Bearer {other.token}"}
    await c.post(f"/nodes/{agent.view.id}/heartbeat", {}, 403, token=None, headers=theirs)
    await c.get("/nodes/999", 404)
    await c.get("/incidents/999", 404)
    await c.get("/namespaces/nope", 404)
    await c.post("/pods/", {"name": "p", "cpu_cores_req": 1, "namespace": "nope",
                            "containers": [{"name": "c", "image": "x"}]}, 404)  # fmt: skip
    await c.post("/nodes/999/heartbeat", {}, 404)
    await c.post("/nodes/", {"name": "w1", "cpu_cores_avail": 1}, 409)
    await c.delete("/namespaces/default", 409)
    tpl = {"labels": {"app": "x"}, "cpu_cores_req": 0.1,
           "containers": [{"name": "c", "image": "x"}]}  # fmt: skip
    await c.post("/deployments/", {"name": "x", "replicas": -1, "template": tpl}, 400)
    d = await c.post("/deployments/", {"name": "x", "replicas": 1, "template": tpl}, 201)
    await c.post("/deployments/", {"name": "x", "replicas": 1, "template": tpl}, 409)
    await c.post(f"/deployments/{d['id']}/rollback", {}, 409)
    await c.post(f"/deployments/{d['id']}/resume", None, 409)
    await c.post(f"/replicasets/{d['replicaset_ids'][0]}/scale", {"replicas": 2}, 409)
    await c.get("/deployments/999", 404)
    await c.delete(f"/deployments/{d['id']}?cascade=sideways", 400)
    await c.post("/services/", {"name": "1x", "ports": [{"port": 80}]}, 400)
    await c.post("/services/", {"name": "x", "namespace": "nope", "ports": [{"port": 80}]}, 404)
    taken = {"name": "x", "type": "NodePort", "ports": [{"port": 80, "node_port": 30500}]}
    s = await c.post("/services/", taken, 201)
    await c.post("/services/", taken, 409)
    await c.post("/services/", {**taken, "name": "y"}, 409)
    await c.call("PATCH", f"/services/{s['id']}", {"cluster_ip": "127.96.9.9"}, expect=400)
    await c.get("/services/999", 404)
    await c.get(f"/nodes/{agent.view.id}/desired?generation=1", 409)
    await c.call("POST", "/nodes/", expect=413, data=b"{" + b" " * 70_000 + b"}",
                 headers={"Content-Type": "application/json"})  # fmt: skip
    await c.call(
        "POST", "/nodes/", expect=415, data=b"name=w", headers={"Content-Type": "text/plain"}
    )
    await c.get("/nodes/", 421, headers={"Host": "evil.example"})
    await c.post(f"/nodes/{worker['id']}/simulate/failure", {"mode": "partition"})
    await c.post(f"/nodes/{worker['id']}/heartbeat", {}, 503)
    await c.post(f"/nodes/{worker['id']}/simulate/failure", {"mode": "partition"}, 409)
    # (force: the partition may already have moved Deployment x's replica onto this node)
    await c.delete(f"/nodes/{agent.view.id}?force=true")
    own = {"Authorization": f"Bearer {agent.token}"}
    gone = await c.post(f"/nodes/{agent.view.id}/heartbeat", {}, 404, token=None, headers=own)
    assert gone["should_stop_heartbeat"] is True


async def test_405_allows_exactly_the_documented_methods(api: Api) -> None:
    """405 is not an operation of its own; its Allow header is the document's method list."""
    _, doc = await api.get("/openapi.json")
    for template, ops in doc["paths"].items():
        path = template.replace("{id}", "1").replace("{name}", "default")
        documented = {m.upper() for m in ops}
        method = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in documented)
        async with api.session.request(method, api.base + path, headers=api.headers()) as resp:
            assert resp.status == 405, (method, path, resp.status)
            assert set(resp.headers["Allow"].split(",")) == documented, (path, resp.headers)
            assert "error" in await resp.json()
    async with aiohttp.ClientSession() as plain:  # no token: 401 first, as documented
        async with plain.put(api.base + "/nodes/") as resp:
            assert resp.status == 401
        async with plain.put(api.base + "/healthz") as resp:  # but where none is needed
            assert resp.status == 405 and resp.headers["Allow"] == "GET"
