"""The original Kube-9 Postman collection, request by request, against the engine over HTTP."""

from __future__ import annotations

from kube9_desktop.engine.core import Engine
from tests.helpers import POSTMAN_HEARTBEAT, POSTMAN_NODES, POSTMAN_PODS, Api, wait_for


async def test_original_postman_flow(engine: Engine, api: Api) -> None:
    assert await api.get("/") == (200, "Kube_9 API is running!")
    assert await api.get("/test_db") == (200, "Database Connected!")

    # Node operations 1-2: a worker and a master, with the original bodies.
    ids = {}
    for body in POSTMAN_NODES:
        status, node = await api.post("/nodes/", body)
        assert status == 201, node
        assert node["name"] == body["name"]
        assert node["node_type"] == body["node_type"]
        assert node["cpu_cores"] == body["cpu_cores_avail"]
        assert node["memory_mb"] == 2048 * body["cpu_cores_avail"]
        assert node["status"] == "initializing"
        assert set(node) >= {"id", "container_id", "node_ip", "message"}
        ids[body["name"]] = node["id"]
    # A second worker so the pods below have room (4 + 4 cores of workers).
    status, _ = await api.post("/nodes/", {"name": "worker-2", "cpu_cores_avail": 4})
    assert status == 201

    async def all_healthy() -> bool:
        _, nodes = await api.get("/nodes/health")
        return all(n["health_status"] == "healthy" for n in nodes)

    await wait_for(all_healthy, what="nodes to heartbeat")

    # 3-5: list, details, health.
    status, nodes = await api.get("/nodes/")
    assert status == 200 and len(nodes) == 3
    listed = {n["name"]: n for n in nodes}
    assert listed["master-1"]["components"]["etcd"] == "running"
    assert set(listed["worker-1"]) >= {
        "id", "name", "node_type", "cpu_cores_total", "cpu_cores_avail", "memory_mb_total",
        "memory_mb_avail", "health_status", "components", "hosted_pods", "pod_ids",
        "last_heartbeat", "recovery_attempts", "runtime", "container_id", "faults",
    }  # fmt: skip
    status, detail = await api.get(f"/nodes/{ids['worker-1']}")
    assert status == 200 and detail["container"]["status"] == "running"
    status, health = await api.get("/nodes/health")
    assert {h["node_name"] for h in health} == {"worker-1", "master-1", "worker-2"}
    assert set(health[0]) >= {
        "node_id", "node_name", "node_type", "health_status", "component_status",
        "pods_count", "last_heartbeat", "seconds_since_heartbeat",
    }  # fmt: skip

    # Pod operations 1-4: simple, multi-container, volumes and config, multiple volumes.
    pod_ids = {}
    for body in POSTMAN_PODS:
        status, created = await api.post("/pods/", body)
        assert status == 201, created
        details = created["pod_details"]
        assert created["message"] == (
            f"Pod '{body['name']}' assigned to node '{details['node']}' successfully!"
        )
        assert details["node"] in ("worker-1", "worker-2")
        assert details["containers_count"] == len(body["containers"])
        assert details["ip_address"].startswith("127.244.")
        assert created["scheduling"]["strategy"] == "best-fit"
        assert created["scheduling"]["node"] == details["node"]
        # The reply carries the very decision that was stored with the pod.
        assert (await api.get(f"/pods/{details['id']}"))[1]["scheduling"] == created["scheduling"]
        pod_ids[body["name"]] = details["id"]

    # 5-7: list, details (secret masked), health.
    status, pods = await api.get("/pods/")
    assert status == 200 and len(pods) == 4
    by_name = {p["name"]: p for p in pods}
    assert by_name["web-app"]["type"] == "multi-container"
    assert by_name["nginx-pod"]["type"] == "single-container"
    assert len({p["ip_address"] for p in pods}) == 4
    status, pod = await api.get(f"/pods/{pod_ids['web-app-config']}")
    assert status == 200
    assert {"name": "secret-config", "type": "secret", "key": "API_KEY", "value": "******"} in pod[
        "config"
    ]
    assert "secret123" not in str(pod)
    assert pod["containers"][0]["args"] == ["-c", "httpd-foreground"]
    assert pod["volumes"][0] == {
        "name": "data-volume",
        "type": "emptyDir",
        "size": 1,
        "path": "/data",
    }

    async def running() -> bool:
        _, h = await api.get(f"/pods/{pod_ids['web-app']}/health")
        return h["overall_status"] == "running"

    await wait_for(running, what="web-app to run")
    status, h = await api.get(f"/pods/{pod_ids['web-app']}/health")
    assert [c["name"] for c in h["containers"]] == ["web", "cache"]
    assert h["last_report"] is not None

    # Node operation 8: the manual heartbeat body, with the admin token, never rewrites books.
    w1 = ids["worker-1"]
    _, before = await api.get(f"/nodes/{w1}")
    status, reply = await api.post(f"/nodes/{w1}/heartbeat", POSTMAN_HEARTBEAT)
    assert status == 200, reply
    assert reply["node_status"] == "healthy" and reply["should_stop_heartbeat"] is False
    _, after = await api.get(f"/nodes/{w1}")
    assert after["cpu_cores_avail"] == before["cpu_cores_avail"]
    assert after["pod_ids"] == before["pod_ids"]

    # Pod 8 and node 6-7: delete a pod, simulate a failure, delete a node.
    status, _ = await api.delete(f"/pods/{pod_ids['nginx-pod']}")
    assert status == 200
    assert (await api.get(f"/pods/{pod_ids['nginx-pod']}"))[0] == 404
    status, injected = await api.post(f"/nodes/{ids['master-1']}/simulate/failure")
    assert status == 200 and injected["mode"] == "crash"
    status, _ = await api.delete(f"/nodes/{ids['master-1']}")
    assert status == 200
    assert (await api.get(f"/nodes/{ids['master-1']}"))[0] == 404


async def test_collections_answer_with_and_without_slash(api: Api) -> None:
    for path in ("/nodes", "/nodes/", "/pods", "/pods/"):
        status, body = await api.get(path, allow_redirects=False)
        assert (status, body) == (200, [])


async def test_summary_events_and_openapi(api: Api) -> None:
    await api.post("/nodes/", {"name": "worker-1", "cpu_cores_avail": 2})
    status, summary = await api.get("/cluster/summary")
    assert status == 200
    assert summary["nodes"]["total"] == 1 and summary["runtime"] == "virtual"
    status, events = await api.get("/events")
    assert status == 200 and any(e["kind"] == "node_created" for e in events)
    last = events[-1]["id"]
    status, newer = await api.get(f"/events?since={last}")
    assert status == 200 and all(e["id"] > last for e in newer)
    status, doc = await api.get("/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
