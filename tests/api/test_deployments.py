"""Deployments and ReplicaSets over HTTP: create, scale, update (a rollout), history, rollback,
pause and resume, delete with and without its pods; validation; a stalled rollout."""

from __future__ import annotations

import asyncio
from typing import Any

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants, check_workload_invariants
from tests.helpers import Api, wait_for


def body(
    name: str = "web", replicas: int = 3, image: str = "nginx:1.25", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "replicas": replicas,
        "template": {
            "labels": {"app": name},
            "cpu_cores_req": 0.25,
            "containers": [{"name": "web", "image": image, "memory_req": 64}],
            **extra.pop("template", {}),
        },
        **extra,
    }


async def workers(
    api: Api, engine: Engine, count: int = 3, cpu: float = 4, max_pods: int | None = None
) -> None:
    """``max_pods``: for a test that puts more than a kubelet's 110 pods on a node."""
    more = {} if max_pods is None else {"max_pods": max_pods}
    for i in range(count):
        body = {"name": f"w{i}", "cpu_cores_avail": cpu, **more}
        assert (await api.post("/nodes/", body))[0] == 201
    await wait_for(lambda: all(n.status == "healthy" for n in engine.nodes()), what="workers")


async def settled(api: Api, engine: Engine, d_id: int, replicas: int, revision: int | None = None,
                  timeout: float = 20) -> dict[str, Any]:  # fmt: skip
    async def done() -> bool:
        _, d = await api.get(f"/deployments/{d_id}")
        st = d["status"]
        prog = next((c for c in st["conditions"] if c["type"] == "Progressing"), {})
        return (
            st["replicas"] == st["updated"] == st["available"] == replicas
            and prog.get("reason") == "NewReplicaSetAvailable"
            and (revision is None or d["revision"] == revision)
        )

    await wait_for(done, timeout=timeout, what=f"deployment {d_id} settled")
    assert check_invariants(engine.cluster.state) == []
    assert check_workload_invariants(engine.cluster.state, engine.clock.now()) == []
    return (await api.get(f"/deployments/{d_id}"))[1]  # type: ignore[no-any-return]


async def test_create_scale_update_roll_back_and_delete(engine: Engine, api: Api) -> None:
    await workers(api, engine)
    status, created = await api.post("/deployments/", body())
    assert status == 201, created
    d_id = created["id"]
    assert created["selector"] == {"app": "web"}  # defaults to the template's labels
    assert created["strategy"] == {"type": "RollingUpdate", "max_surge": "25%",
                                   "max_unavailable": "25%"}  # fmt: skip
    d = await settled(api, engine, d_id, 3, revision=1)
    assert d["ready"] == "3/3" and d["up_to_date"] == 3 and d["available"] == 3
    (rs,) = d["replicasets"]
    _, pods = await api.get("/pods/", params={"labelSelector": "app=web"})
    assert len(pods) == 3
    for p in pods:
        assert p["owner"]["kind"] == "ReplicaSet" and p["owner"]["name"] == rs["name"]
        assert p["name"].startswith(rs["name"] + "-") and len(p["name"]) == len(rs["name"]) + 6
        assert p["labels"]["pod-template-hash"] == rs["name"].rsplit("-", 1)[1]
    # Scale.
    status, scaled = await api.post(f"/deployments/{d_id}/scale", {"replicas": 5})
    assert status == 200 and scaled["replicas"] == 5
    await settled(api, engine, d_id, 5)
    # A new image: a rollout to revision 2.
    status, patched = await api.call("PATCH", f"/deployments/{d_id}", {
        "template": {"labels": {"app": "web"}, "cpu_cores_req": 0.25,
                     "containers": [{"name": "web", "image": "nginx:1.26", "memory_req": 64}]},
    })  # fmt: skip
    assert status == 200 and "image nginx:1.25 → nginx:1.26" in patched["message"], patched
    d = await settled(api, engine, d_id, 5, revision=2)
    assert [(r["revision"], r["replicas"]) for r in d["replicasets"]] == [(1, 0), (2, 5)]
    _, history = await api.get(f"/deployments/{d_id}/history")
    assert [(h["revision"], h["images"], h["current"]) for h in history] == [
        (1, ["nginx:1.25"], False), (2, ["nginx:1.26"], True)]  # fmt: skip
    _, steps = await api.get("/events", params={"kind": "deployment_scaled"})
    assert any("scaled 5→" in e["message"] or "scaled 0→" in e["message"] for e in steps)
    # Roll back to revision 1: its ReplicaSet comes back as revision 3.
    status, back = await api.post(f"/deployments/{d_id}/rollback", {})
    assert status == 200 and "rolled back to revision 1" in back["message"]
    d = await settled(api, engine, d_id, 5, revision=3)
    assert d["template"]["containers"][0]["image"] == "nginx:1.25"
    assert sorted(r["revision"] for r in d["replicasets"]) == [2, 3]
    assert (await api.post(f"/deployments/{d_id}/rollback", {"revision": 9}))[0] == 400
    # Delete with ?cascade=orphan keeps the pods, without an owner.
    status, gone = await api.delete(f"/deployments/{d_id}", params={"cascade": "orphan"})
    assert status == 200 and gone["pods_deleted"] == 0
    _, left = await api.get("/pods/", params={"labelSelector": "app=web"})
    assert len(left) == 5 and all(p["owner"] is None for p in left)
    assert (await api.get("/replicasets/"))[1] == []
    assert check_workload_invariants(engine.cluster.state, engine.clock.now()) == []


async def test_pause_holds_a_rollout_and_resume_lets_it_finish(engine: Engine, api: Api) -> None:
    await workers(api, engine)
    _, created = await api.post("/deployments/", body(replicas=2))
    d_id = created["id"]
    await settled(api, engine, d_id, 2)
    assert (await api.post(f"/deployments/{d_id}/pause"))[0] == 200
    assert (await api.post(f"/deployments/{d_id}/pause"))[0] == 409
    await api.call("PATCH", f"/deployments/{d_id}", {"template": body(image="nginx:2")["template"]})
    _, d = await api.get(f"/deployments/{d_id}")
    assert d["paused"] and len(d["replicasets"]) == 1  # no new ReplicaSet while paused
    prog = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
    assert prog["reason"] == "DeploymentPaused"
    assert (await api.post(f"/deployments/{d_id}/resume"))[0] == 200
    d = await settled(api, engine, d_id, 2, revision=2)
    assert d["template"]["containers"][0]["image"] == "nginx:2"


async def test_a_rollout_that_fits_nowhere_stalls_with_its_reasons(
    engine: Engine, api: Api
) -> None:
    await workers(api, engine, count=2, cpu=2)
    _, created = await api.post("/deployments/", body(replicas=2, progress_deadline_seconds=2))
    d_id = created["id"]
    await settled(api, engine, d_id, 2)
    huge = body(template={"cpu_cores_req": 64})["template"]
    status, _ = await api.call("PATCH", f"/deployments/{d_id}", {"template": huge})
    assert status == 200  # not an error: a stalled rollout

    async def stalled() -> bool:
        _, d = await api.get(f"/deployments/{d_id}")
        prog = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
        return prog["status"] == "False" and prog["reason"] == "ProgressDeadlineExceeded"

    await wait_for(stalled, timeout=15, what="ProgressDeadlineExceeded")
    _, d = await api.get(f"/deployments/{d_id}")
    assert d["status"]["available"] == 2  # the old pods keep serving: max_unavailable held
    _, pods = await api.get("/pods/", params={"labelSelector": "app=web"})
    waiting = [p for p in pods if p["health_status"] == "pending"]
    assert waiting, pods
    _, one = await api.get(f"/pods/{waiting[0]['id']}")
    assert any("insufficient cpu" in r for c in one["scheduling"]["candidates"]
               for r in c["reasons"])  # fmt: skip
    _, stalls = await api.get("/events", params={"kind": "deployment_stalled"})
    assert len(stalls) == 1 and "made no progress" in stalls[0]["message"]


async def test_a_deleted_pod_is_replaced_and_a_bare_replicaset_works(
    engine: Engine, api: Api
) -> None:
    await workers(api, engine)
    rs_body = {"name": "cache", "replicas": 2, "template": body("cache")["template"]}
    status, rs = await api.post("/replicasets/", rs_body)
    assert status == 201 and rs["owner"] is None, rs
    await wait_for(lambda: len(engine.replicaset(rs["id"]).pod_ids) == 2, what="2 pods")
    victim = engine.replicaset(rs["id"]).pod_ids[0]
    assert (await api.delete(f"/pods/{victim}"))[0] == 200
    await wait_for(lambda: len(engine.replicaset(rs["id"]).pod_ids) == 2
                   and victim not in engine.replicaset(rs["id"]).pod_ids, what="replaced")  # fmt: skip
    status, scaled = await api.post(f"/replicasets/{rs['id']}/scale", {"replicas": 0})
    assert status == 200 and scaled["replicas"] == 0 and scaled["pod_ids"] == []
    # A pod that merely matches the selector is not adopted.
    bare = {"name": "stray", "cpu_cores_req": 0.1, "labels": {"app": "cache"},
            "containers": [{"name": "c", "image": "busybox"}]}  # fmt: skip
    assert (await api.post("/pods/", bare))[0] == 201
    await api.post(f"/replicasets/{rs['id']}/scale", {"replicas": 1})
    await wait_for(lambda: len(engine.replicaset(rs["id"]).pod_ids) == 1, what="1 pod")
    _, pods = await api.get("/pods/", params={"labelSelector": "app=cache"})
    assert sorted(p["owner"] is None for p in pods) == [False, True]
    status, gone = await api.delete(f"/replicasets/{rs['id']}")
    assert status == 200 and gone["pods_deleted"] == 1


async def test_validation_names_the_field(api: Api) -> None:
    cases = [
        (body(replicas=-1), "replicas"),
        (body(selector={"app": "other"}), "selector"),
        (body(strategy={"max_surge": 0, "max_unavailable": "0%"}), "strategy.max_unavailable"),
        (body(strategy={"type": "Recreate", "max_surge": 1}), "strategy"),
        (body(strategy={"max_surge": "150%"}), "strategy.max_surge"),
        (body(name="x" * 47), "name"),
        (body(template={"labels": {}}), "template.labels"),
        (body(min_ready_seconds=30, progress_deadline_seconds=10), "progress_deadline_seconds"),
        ({**body(), "template": {**body()["template"],
                                 "labels": {"app": "web", "pod-template-hash": "x"}}},
         "template.labels"),
    ]  # fmt: skip
    for payload, field in cases:
        status, err = await api.post("/deployments/", payload)
        assert status == 400 and err.get("field", "").startswith(field), (payload, err)
    assert (await api.post("/deployments/", body()))[0] == 201
    assert (await api.post("/deployments/", body()))[0] == 409
    status, err = await api.call("PATCH", "/deployments/1", {"selector": {"app": "new"}})
    assert status == 400 and err["field"] == "selector"
    assert (await api.post("/deployments/99999/scale", {"replicas": 1}))[0] == 404
    status, err = await api.get("/deployments/", params={"labelSelector": "app in"})
    assert status == 400


async def test_a_huge_scale_answers_at_once_and_goes_on_in_slices(
    engine: Engine, api: Api, monkeypatch: Any
) -> None:
    """Scaling to many replicas must not stall the engine until every pod exists (the OpenAPI
    fuzz's PATCH to 100,000 replicas timed out): the reply comes after one slice of work, the
    loop does the rest between other tasks, and each slice is whole commits."""
    from kube9_desktop.engine import workload_controller

    monkeypatch.setattr(workload_controller, "WORK_PER_SLICE", 60)
    await workers(api, engine, count=2, cpu=200, max_pods=1000)
    status, created = await api.post("/deployments/", body(replicas=2))
    assert status == 201, created
    await settled(api, engine, created["id"], 2)
    status, _ = await api.post(f"/deployments/{created['id']}/scale", {"replicas": 1200})
    assert status == 200
    owned = len(engine.cluster.state.pods)
    assert owned < 1200  # answered after a slice, not after every pod
    seen: set[int] = set()

    async def ticker() -> None:
        while True:
            seen.add(len(engine.cluster.state.pods))
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await wait_for(lambda: len(engine.cluster.state.pods) == 1200, timeout=60,
                       what="1,200 pods")  # fmt: skip
    finally:
        task.cancel()
    assert any(owned < n < 1200 for n in seen), seen  # others ran between the slices
    await settled(api, engine, created["id"], 1200, timeout=60)
