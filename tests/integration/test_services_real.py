"""A Service's endpoints follow real readiness probes on process nodes: a pod whose probe
starts failing turns not ready in the Service, and ready again when it passes; a crashed
node's pods leave the ready set once the health monitor detects it."""

from __future__ import annotations

from pathlib import Path

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import parse_body
from tests.helpers import wait_for
from tests.integration.conftest import EngineFactory, add_nodes
from tests.integration.test_probes import FAST, flag_pod


def ready_flags(engine: Engine, svc_id: int) -> list[bool]:
    return [e.ready for e in engine.service(svc_id).endpoints]


async def test_endpoints_follow_a_real_readiness_probe(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    engine = await make_engine(runtime="process", **FAST)
    flag = tmp_path / "ok"
    flag.touch()
    nodes = await add_nodes(engine, ("w1", 2))
    body = flag_pod("toggle", flag, "readiness_probe")
    body["labels"] = {"app": "toggle"}
    body["containers"][0]["ports"] = [{"name": "http", "container_port": 8080}]
    pod_id = (await engine.create_pod_from_json(body)).view.id
    spec = parse_body(ServiceCreate, {
        "name": "toggle", "selector": {"app": "toggle"},
        "ports": [{"port": 80, "target_port": "http"}],
    }).to_spec()  # fmt: skip
    svc_id = (await engine.create_service(spec)).view.id
    await wait_for(lambda: ready_flags(engine, svc_id) == [True], timeout=30, what="ready")
    (ep,) = engine.service(svc_id).endpoints
    assert ep.pod_id == pod_id and ep.ip == engine.pod(pod_id).ip and ep.ports[0].port == 8080
    flag.unlink()
    await wait_for(lambda: ready_flags(engine, svc_id) == [False], timeout=20, what="not ready")
    flag.touch()
    await wait_for(lambda: ready_flags(engine, svc_id) == [True], timeout=20, what="ready again")
    assert check_invariants(engine.cluster.state) == []
    # A crashed node: detected after the grace period, its pod leaves the ready set.
    await engine.inject_fault(nodes["w1"], "crash")
    await wait_for(
        lambda: True not in ready_flags(engine, svc_id), timeout=20, what="out of the ready set"
    )
