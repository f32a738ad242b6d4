"""Live usage over the API: virtual nodes model it from the spec, the pod and node JSON carry
it, the history routes serve it, and a heartbeat with a bad figure is a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.usage import DEFAULT_FRACTION
from tests.helpers import Api, wait_for

HEARTBEAT = {"components": {"kubelet": "running", "container_runtime": "running"}}


def pod_body(name: str, cpu: float, mem: int, **annotations: str) -> dict[str, Any]:
    return {
        "name": name,
        "cpu_cores_req": cpu,
        "annotations": annotations,
        "containers": [{"name": "main", "image": "busybox", "memory_req": mem}],
    }


async def healthy_node(engine: Engine, api: Api, name: str = "n1") -> int:
    created = await engine.create_node_from_json({"name": name, "cpu_cores_avail": 4})
    node_id = created.view.id

    async def healthy() -> bool:
        return (await api.get(f"/nodes/{node_id}"))[1]["health_status"] == "healthy"

    await wait_for(healthy, what="node healthy")
    return node_id


async def test_declared_and_default_usage_in_pod_and_node_json(engine: Engine, api: Api) -> None:
    node_id = await healthy_node(engine, api)
    status, created = await api.post(
        "/pods/",
        pod_body("declared", 1, 256, **{"kube9.io/usage-cpu": "200m",
                                        "kube9.io/usage-memory": "64Mi"}),
    )  # fmt: skip
    assert status == 201, created
    declared = created["pod_details"]["id"]
    status, created = await api.post(
        "/pods/", pod_body("plain", 0.5, 128, **{"kube9.io/usage-vary": "0"})
    )
    assert status == 201, created
    plain = created["pod_details"]["id"]

    async def both_reported() -> bool:
        pods = {p["id"]: p for p in (await api.get("/pods/"))[1]}
        return pods[declared]["usage"] is not None and pods[plain]["usage"] is not None

    await wait_for(both_reported, what="usage in the pod list")
    status, pod = await api.get(f"/pods/{declared}")
    assert status == 200
    assert pod["usage"] == {"cpu_cores": 0.2, "memory_mb": 64.0}
    status, pod = await api.get(f"/pods/{plain}")
    assert pod["usage"] == {
        "cpu_cores": 0.5 * DEFAULT_FRACTION,
        "memory_mb": 128 * DEFAULT_FRACTION,
    }

    async def node_summed() -> bool:
        node = (await api.get(f"/nodes/{node_id}"))[1]
        return node["usage"] == {"cpu_cores": 0.45, "memory_mb": 128.0}

    await wait_for(node_summed, what="the node's usage is its pods' sum")
    node = (await api.get(f"/nodes/{node_id}"))[1]
    assert node["pod_limit"] == 110
    status, history = await api.get(f"/pods/{declared}/usage")
    assert status == 200
    assert history["current"] == {"cpu_cores": 0.2, "memory_mb": 64.0}
    assert history["samples"] and history["samples"][-1]["cpu_cores"] == pytest.approx(0.2)
    status, history = await api.get(f"/nodes/{node_id}/usage")
    assert status == 200 and history["current"]["memory_mb"] == 128.0


async def test_varying_usage_moves(engine: Engine, api: Api) -> None:
    await healthy_node(engine, api)
    annotations = {"kube9.io/usage-cpu": "1", "kube9.io/usage-vary": "0.5"}
    status, created = await api.post("/pods/", pod_body("wavy", 1, 64, **annotations))
    assert status == 201, created
    pod_id = created["pod_details"]["id"]
    seen: set[float] = set()

    async def moved() -> bool:
        usage = (await api.get(f"/pods/{pod_id}"))[1]["usage"]
        if usage is not None:
            assert 0.5 - 1e-6 <= usage["cpu_cores"] <= 1.5 + 1e-6
            seen.add(usage["cpu_cores"])
        return len(seen) >= 3

    await wait_for(moved, what="a varying usage to take three values")


async def test_an_unhealthy_nodes_usage_is_unknown_until_it_reports_again(
    engine: Engine, api: Api
) -> None:
    """As ``kubectl top`` shows <unknown> for a NotReady node: a node that stopped reporting
    must not keep showing its last figures (nor its pods'), while the history stays."""
    node_id = await healthy_node(engine, api)
    status, created = await api.post("/pods/", pod_body("p", 1, 64, **{"kube9.io/usage-vary": "0"}))
    assert status == 201, created
    pod_id = created["pod_details"]["id"]

    async def reported() -> bool:
        return (await api.get(f"/nodes/{node_id}"))[1]["usage"] is not None

    await wait_for(reported, what="the node's usage")
    status, injected = await api.post(f"/nodes/{node_id}/simulate/failure", {"mode": "hang"})
    assert status == 200, injected

    async def unknown() -> bool:
        node = (await api.get(f"/nodes/{node_id}"))[1]
        return node["health_status"] != "healthy" and node["usage"] is None

    await wait_for(unknown, what="the hung node's usage to become unknown")
    assert (await api.get(f"/pods/{pod_id}"))[1]["usage"] is None
    status, history = await api.get(f"/nodes/{node_id}/usage")
    assert status == 200 and history["current"] is None and history["samples"]
    status, _ = await api.post(f"/nodes/{node_id}/recover")
    assert status in (200, 202)
    await wait_for(reported, what="the recovered node's usage")


async def test_node_pod_limit_annotation(engine: Engine, api: Api) -> None:
    created = await engine.create_node_from_json(
        {"name": "small", "cpu_cores_avail": 1, "annotations": {"kube9.io/max-pods": "8"}}
    )
    node = (await api.get(f"/nodes/{created.view.id}"))[1]
    assert node["pod_limit"] == 8 and node["usage"] is None


@pytest.mark.parametrize(
    ("usage", "field"),
    [({"pods": [{"id": 1, "cpu_cores": -0.1, "memory_mb": 1}]}, "usage.pods[0].cpu_cores"),
     ({"pods": [{"id": 1, "cpu_cores": 0.1, "memory_mb": 1e300}]}, "usage.pods[0].memory_mb"),
     ({"pods": [{"id": 1, "cpu_cores": "1", "memory_mb": 1}]}, "usage.pods[0].cpu_cores"),
     ({"pods": [{"id": 0, "cpu_cores": 1, "memory_mb": 1}]}, "usage.pods[0].id"),
     ({"node": {"cpu_cores": 1e9, "memory_mb": 1}}, "usage.node.cpu_cores"),
     ({"pods": [{"id": 1, "cpu_cores": 1}]}, "usage.pods[0].memory_mb"),
     ({"pods": [], "bogus": 1}, "usage.bogus")],
)  # fmt: skip
async def test_bad_usage_is_a_400_naming_the_field(
    engine: Engine, api: Api, usage: dict[str, Any], field: str
) -> None:
    created = await engine.create_node_from_json({"name": "n1", "cpu_cores_avail": 1})
    status, reply = await api.post(
        f"/nodes/{created.view.id}/heartbeat", {**HEARTBEAT, "usage": usage}, token=created.token
    )
    assert status == 400, reply
    assert field in reply["error"], reply


async def test_nan_usage_is_refused(engine: Engine, api: Api) -> None:
    created = await engine.create_node_from_json({"name": "n1", "cpu_cores_avail": 1})
    body = '{"usage": {"pods": [{"id": 1, "cpu_cores": NaN, "memory_mb": 1}]}}'
    status, reply = await api.call(
        "POST", f"/nodes/{created.view.id}/heartbeat", token=created.token, data=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 400, reply
    assert "cpu_cores" in reply["error"] or "NaN" in reply["error"], reply


async def test_usage_of_unknown_objects_is_404(api: Api) -> None:
    assert (await api.get("/pods/99999/usage"))[0] == 404
    assert (await api.get("/nodes/99999/usage"))[0] == 404
