"""Object metadata over HTTP: uid, labels, annotations, namespaces, resource versions, selectors."""

from __future__ import annotations

from typing import Any

from kube9_desktop.engine.core import Engine
from tests.helpers import Api, wait_for


def pod_body(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "cpu_cores_req": 0.1,
            "containers": [{"name": "c", "image": "nginx:latest"}], **extra}  # fmt: skip


async def ready_worker(api: Api, name: str = "w1", **extra: Any) -> int:
    status, node = await api.post("/nodes/", {"name": name, "cpu_cores_avail": 8, **extra})
    assert status == 201, node

    async def healthy() -> bool:
        return (await api.get(f"/nodes/{node['id']}"))[1]["health_status"] == "healthy"

    await wait_for(healthy, what=f"{name} healthy")
    return int(node["id"])


async def test_every_object_carries_uid_timestamps_labels_and_a_resource_version(
    engine: Engine, api: Api
) -> None:
    node_id = await ready_worker(api, labels={"disk": "ssd"}, annotations={"owner": "me ✓"})
    _, node = await api.get(f"/nodes/{node_id}")
    assert node["labels"] == {"disk": "ssd"} and node["annotations"] == {"owner": "me ✓"}
    assert len(node["uid"]) == 36 and node["creation_timestamp"].endswith("+00:00")
    status, created = await api.post("/pods/", pod_body("web", labels={"app": "web"}))
    assert status == 201
    details = created["pod_details"]
    _, pod = await api.get(f"/pods/{details['id']}")
    assert pod["uid"] == details["uid"] and pod["namespace"] == "default"
    assert pod["labels"] == {"app": "web"}
    assert int(pod["resource_version"]) == int(details["resource_version"])
    assert int(pod["resource_version"]) > int(node["resource_version"])
    _, summary = await api.get("/cluster/summary")
    assert int(summary["resource_version"]) >= int(pod["resource_version"])


async def test_a_bad_label_is_a_400_naming_the_key(api: Api) -> None:
    status, err = await api.post("/nodes/", {"name": "w1", "cpu_cores_avail": 1,
                                             "labels": {"-bad": "x"}})  # fmt: skip
    assert status == 400 and err["field"] == "labels['-bad']", err
    assert "key name must" in err["error"]
    status, err = await api.post("/pods/", pod_body("p", labels={"app": "a b"}))
    assert status == 400 and err["field"] == "labels['app']" and "value must" in err["error"]
    status, err = await api.post("/pods/", pod_body("p", annotations={"ok": 5}))
    assert status == 400 and "annotations" in err["field"]
    _, nodes = await api.get("/nodes/")
    assert nodes == []  # nothing half-made


async def test_lists_take_label_selectors_in_every_form(api: Api) -> None:
    await ready_worker(api, "w1", labels={"disk": "ssd", "zone": "a"})
    await ready_worker(api, "w2", labels={"disk": "hdd", "zone": "b"})
    await ready_worker(api, "w3", labels={"zone": "c", "gpu": ""})
    for labels, name in (({"app": "web", "tier": "front"}, "web"),
                         ({"app": "db", "tier": "back"}, "db"),
                         ({"app": "web", "canary": "yes"}, "web-canary")):  # fmt: skip
        assert (await api.post("/pods/", pod_body(name, labels=labels)))[0] == 201

    async def names(path: str, selector: str) -> set[str]:
        status, items = await api.get(path, params={"labelSelector": selector})
        assert status == 200, items
        return {i["name"] for i in items}

    assert await names("/pods/", "app=web") == {"web", "web-canary"}
    assert await names("/pods/", "app=web,tier!=front") == {"web-canary"}
    assert await names("/pods/", "tier in (front,back)") == {"web", "db"}
    assert await names("/pods/", "tier notin (front)") == {"db", "web-canary"}
    assert await names("/pods/", "!canary") == {"web", "db"}
    assert await names("/pods/", "canary") == {"web-canary"}
    assert await names("/nodes/", "disk") == {"w1", "w2"}
    assert await names("/nodes/", "zone in (a,c),!gpu") == {"w1"}
    _, health = await api.get("/nodes/health", params={"labelSelector": "disk=hdd"})
    assert [h["node_name"] for h in health] == ["w2"]
    for bad in ("app in web", "app=web,", "-x", "a=b c"):
        status, err = await api.get("/pods/", params={"labelSelector": bad})
        assert status == 400 and err["field"] == "labelSelector", (bad, err)


async def test_pods_live_in_namespaces(engine: Engine, api: Api) -> None:
    await ready_worker(api)
    status, err = await api.post("/pods/", pod_body("p", namespace="team-a"))
    assert status == 404 and "team-a" in err["error"]  # a namespace must exist first
    status, ns = await api.post("/namespaces/", {"name": "team-a", "labels": {"team": "a"}})
    assert status == 201 and ns["labels"]["kubernetes.io/metadata.name"] == "team-a"
    assert (await api.post("/namespaces/", {"name": "team-a"}))[0] == 409
    assert (await api.post("/pods/", pod_body("p")))[0] == 201
    status, same_name = await api.post("/pods/", pod_body("p", namespace="team-a"))
    assert status == 201, same_name  # names are unique per namespace
    status, again = await api.post("/pods/", pod_body("p", namespace="team-a"))
    assert status == 409 and "team-a" in again["error"]
    _, in_a = await api.get("/pods/", params={"namespace": "team-a"})
    assert [(p["name"], p["namespace"]) for p in in_a] == [("p", "team-a")]
    _, all_pods = await api.get("/pods/")
    assert sorted(p["namespace"] for p in all_pods) == ["default", "team-a"]
    assert (await api.get("/pods/", params={"namespace": "Not Valid"}))[0] == 400
    _, names = await api.get("/namespaces/")
    assert {n["name"] for n in names} >= {"default", "kube-system", "kube-node-lease", "team-a"}
    assert (await api.delete("/namespaces/default"))[0] == 409
    status, gone = await api.delete("/namespaces/team-a")
    assert status == 200 and gone["pods_deleted"] == ["p"]
    _, left = await api.get("/pods/")
    assert [p["namespace"] for p in left] == ["default"]
    assert (await api.get("/namespaces/team-a"))[0] == 404


async def test_a_retried_delete_never_deletes_a_newer_object(api: Api) -> None:
    await ready_worker(api)
    _, first = await api.post("/pods/", pod_body("a"))
    first_id = first["pod_details"]["id"]
    assert (await api.delete(f"/pods/{first_id}"))[0] == 200
    _, second = await api.post("/pods/", pod_body("b"))
    assert second["pod_details"]["id"] != first_id
    assert (await api.delete(f"/pods/{first_id}"))[0] == 404  # the retry finds nothing
    assert (await api.get(f"/pods/{second['pod_details']['id']}"))[0] == 200


async def test_events_name_their_object_by_kind_and_uid(api: Api) -> None:
    node_id = await ready_worker(api)
    _, created = await api.post("/pods/", pod_body("web"))
    uid = created["pod_details"]["uid"]
    _, events = await api.get("/events", params={"kind": "pod_created"})
    (ev,) = events
    assert ev["involved_object"] == {
        "kind": "Pod",
        "id": created["pod_details"]["id"],
        "uid": uid,
        "name": "web",
        "namespace": "default",
    }
    assert ev["related"]["kind"] == "Node" and ev["related"]["id"] == node_id
    assert ev["pod_id"] == created["pod_details"]["id"] and ev["node_id"] == node_id
