"""Services in the engine: the endpoint rule as a table, the address books, endpoints kept in
step by the commit that moves a pod or its node (and undone with a failed one), migration
of a real v3 data directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster import services as service_ops
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.invariants import check_invariants, check_service_invariants
from kube9_desktop.engine.manifests import manifest_path, service_manifest
from kube9_desktop.engine.model import (
    ContainerPort,
    ContainerSpec,
    NodeStatus,
    PodPhase,
    PodSpec,
    Resources,
)
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.services import (
    SERVICE_NETWORK_SIZE,
    ClusterIpPool,
    EndpointPort,
    ServicePort,
    ServiceSpec,
    endpoint_of,
    resolve_target_port,
    selects,
)
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.store.migrations import SCHEMA_VERSION, current_version
from kube9_desktop.engine.workload_specs import DeploymentCreate
from kube9_desktop.serve import start_engine
from tests.helpers import fast_settings, wait_for

RUNNING, HEALTHY = PodPhase.RUNNING, NodeStatus.HEALTHY
V3_DUMP = Path(__file__).parent / "data" / "v3-cluster.sql"


def pod_spec(labels: dict[str, str], *ports: tuple[str, int], ns: str = "default") -> PodSpec:
    container = ContainerSpec("c", "nginx", ports=tuple(ContainerPort(p, n) for n, p in ports))
    return PodSpec("p", Resources(100, 0), (container,), namespace=ns, labels=labels)


SPEC = ServiceSpec(
    "web", "default", (ServicePort(80, "http", "http"), ServicePort(81, 9090, "raw")),
    selector={"app": "web"},
)  # fmt: skip
WEB = pod_spec({"app": "web", "tier": "x"}, ("http", 8080))


def ep(pod: PodSpec = WEB, **kw: Any) -> Any:
    facts: dict[str, Any] = {"pod_id": 1, "ip": "127.244.0.1", "phase": RUNNING,
                             "pod_ready": True, "node_id": 1, "node_name": "w1",
                             "node_status": HEALTHY}  # fmt: skip
    facts.update(kw)
    return endpoint_of(SPEC, pod, **facts)


@pytest.mark.parametrize(
    ("pod", "facts", "expected"),
    [
        # (pod, facts that differ from a ready pod on a healthy node, None | ready flag)
        (WEB, {}, True),
        (WEB, {"pod_ready": False}, False),  # a readiness probe failing: listed, not ready
        (WEB, {"phase": PodPhase.SCHEDULED, "pod_ready": False}, False),  # starting
        (WEB, {"phase": PodPhase.PENDING}, False),  # a rebound pod not started yet
        (WEB, {"node_status": NodeStatus.UNHEALTHY}, False),  # NotReady node: not ready
        (WEB, {"node_status": NodeStatus.RECOVERING}, False),
        (WEB, {"node_status": NodeStatus.FAILED}, None),  # failed node: gone at once
        (WEB, {"node_id": None, "node_name": None, "node_status": None}, None),  # unbound
        (WEB, {"phase": PodPhase.FAILED}, None),  # finished pods never serve
        (WEB, {"phase": PodPhase.SUCCEEDED}, None),
        (WEB, {"phase": PodPhase.TERMINATING}, None),  # terminating: out at the start
        (WEB, {"ip": ""}, None),
        (pod_spec({"app": "db"}), {}, None),  # not selected
        (pod_spec({}), {}, None),
        (pod_spec({"app": "web"}, ns="other"), {}, None),  # another namespace
    ],
)
def test_the_endpoint_rule(pod: PodSpec, facts: dict[str, Any], expected: bool | None) -> None:
    got = ep(pod, **facts)
    if expected is None:
        assert got is None
    else:
        assert got is not None and got.ready is expected


def test_named_target_ports_resolve_per_pod() -> None:
    with_name = ep(WEB)
    assert with_name.ports == (EndpointPort("http", 8080), EndpointPort("raw", 9090))
    # A pod that does not declare "http" is no endpoint for that port, still one for "raw".
    without = ep(pod_spec({"app": "web"}, ("metrics", 9100)))
    assert without.ports == (EndpointPort("raw", 9090),)
    # One that resolves none of the ports is no endpoint at all.
    only_named = ServiceSpec("s", "default", (ServicePort(80, "http"),), selector={"app": "web"})
    assert endpoint_of(only_named, pod_spec({"app": "web"}), pod_id=1, ip="127.244.0.1",
                       phase=RUNNING, pod_ready=True, node_id=1, node_name="w1",
                       node_status=HEALTHY) is None  # fmt: skip
    assert resolve_target_port(8080, WEB) == 8080
    assert resolve_target_port("http", WEB) == 8080
    assert resolve_target_port("nope", WEB) is None


def test_an_empty_selector_selects_nothing() -> None:
    assert not selects({}, {"app": "web"})
    assert selects({"app": "web"}, {"app": "web", "x": "y"})
    assert not selects({"app": "web", "x": "z"}, {"app": "web", "x": "y"})


def test_cluster_ips_are_not_handed_out_again_until_the_range_wraps() -> None:
    pool = ClusterIpPool()
    first = pool.allocate()
    second = pool.allocate()
    assert (first, second) == ("127.96.0.1", "127.96.0.2")
    pool.release(first)  # type: ignore[arg-type]
    assert pool.allocate() == "127.96.0.3"  # not the freed one: clients may still hold it
    pool.unallocate("127.96.0.3")  # a failed transaction takes its address back
    assert pool.allocate() == "127.96.0.3"
    reloaded = ClusterIpPool()
    reloaded.reserve("127.96.3.4")  # a stored Service: the pointer goes past it
    assert reloaded.allocate() == "127.96.3.5"
    full = ClusterIpPool()
    got = {full.allocate() for _ in range(SERVICE_NETWORK_SIZE - 2)}
    assert len(got) == SERVICE_NETWORK_SIZE - 2 and "127.96.255.255" not in got
    assert full.allocate() is None  # full
    full.release("127.96.0.7")
    assert full.allocate() == "127.96.0.7"  # after the wrap, the oldest freed comes back


# ---- in the engine --------------------------------------------------------------------------


def service(**extra: Any) -> Any:
    body = {"name": "web", "selector": {"app": "web"}, "ports": [{"port": 80}], **extra}
    return parse_body(ServiceCreate, body).to_spec()


async def ready_pod(engine: Engine, name: str = "a") -> int:
    body = {"name": name, "cpu_cores_req": 0.1, "labels": {"app": "web"},
            "containers": [{"name": "c", "image": "nginx"}]}  # fmt: skip
    pod_id = (await engine.create_pod_from_json(body)).view.id
    await wait_for(lambda: engine.pod(pod_id).ready, what=f"pod {name} ready")
    return pod_id


async def test_endpoints_move_in_the_commit_that_moves_the_node(engine: Engine) -> None:
    node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
    await wait_for(lambda: engine.node(node.id).status is HEALTHY, what="healthy")
    s = (await engine.create_service(service())).view
    pod_id = await ready_pod(engine)
    await wait_for(lambda: engine.service(s.id).ready_endpoints != (), what="ready endpoint")
    seen: list[Any] = []
    engine.bus.subscribe_changes(lambda ch: seen.append(ch))
    cluster = engine.cluster
    state = cluster.state.nodes[node.id]
    # Set by hand, and read back with no await between: no controller can step in.
    cluster.set_status(state, NodeStatus.UNHEALTHY, "test: NotReady")
    # The very commit that set the status changed the Service, and its endpoint is not ready.
    (e,) = engine.service(s.id).endpoints
    assert e.pod_id == pod_id and not e.ready
    assert any(s.id in ch.changed.get(Kind.SERVICE, set()) for ch in seen)
    cluster.set_status(state, NodeStatus.FAILED, "test: failed")
    assert engine.service(s.id).endpoints == ()
    assert check_service_invariants(cluster.state) == []


async def test_node_statuses_seen_while_no_service_existed_do_not_go_stale(
    engine: Engine,
) -> None:
    node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
    await wait_for(lambda: engine.node(node.id).status is HEALTHY, what="healthy")
    first = (await engine.create_service(service())).view
    await ready_pod(engine)
    cluster, state = engine.cluster, engine.cluster.state.nodes[node.id]
    cluster.set_status(state, NodeStatus.UNHEALTHY, "test")  # seen while a Service exists
    await engine.delete_service(first.id)
    cluster.set_status(state, NodeStatus.HEALTHY, "test")  # no Service watches this one
    s = (await engine.create_service(service(name="again"))).view
    cluster.set_status(state, NodeStatus.UNHEALTHY, "test")
    assert [e.ready for e in engine.service(s.id).endpoints] == [False]
    cluster.set_status(state, NodeStatus.HEALTHY, "test")
    assert check_service_invariants(cluster.state) == []


async def test_a_failed_transaction_leaves_the_endpoints_as_they_were(engine: Engine) -> None:
    node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
    await wait_for(lambda: engine.node(node.id).status is HEALTHY, what="healthy")
    s = (await engine.create_service(service(type="NodePort"))).view
    await ready_pod(engine)
    await wait_for(lambda: engine.service(s.id).ready_endpoints != (), what="ready endpoint")
    before = engine.service(s.id)
    cluster = engine.cluster

    def steps_then_a_failure() -> None:
        with cluster.transaction() as t:
            pod_ops.delete_pod(t, cluster.state.pods[before.endpoints[0].pod_id])
            service_ops.delete_service(t, cluster.state.services[s.id])
            service_ops.create_service(t, service(name="other", type="NodePort"))
            raise RuntimeError("the commit fails")

    with pytest.raises(RuntimeError):
        steps_then_a_failure()
    after = engine.service(s.id)
    assert after.endpoints == before.endpoints and after.spec == before.spec
    assert cluster.state.node_ports.used == {30000}
    assert "other" not in {v.name for v in engine.services()}
    assert check_invariants(cluster.state) == []
    # The address the failed create took is the next one handed out.
    again = (await engine.create_service(service(name="again"))).view
    assert again.cluster_ip == "127.96.0.2"


async def test_deleting_a_pod_owned_by_a_deployment_is_seen_at_once(engine: Engine) -> None:
    node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
    await wait_for(lambda: engine.node(node.id).status is HEALTHY, what="healthy")
    body = {"name": "web", "replicas": 3, "template": {
        "labels": {"app": "web"}, "cpu_cores_req": 0.1,
        "containers": [{"name": "c", "image": "nginx",
                        "ports": [{"name": "http", "container_port": 8080}]}]}}  # fmt: skip
    await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
    s = (await engine.create_service(service(ports=[{"port": 80, "target_port": "http"}]))).view
    await wait_for(lambda: len(engine.service(s.id).ready_endpoints) == 3, what="3 ready")
    assert {p.port for e in engine.service(s.id).endpoints for p in e.ports} == {8080}
    victim = engine.service(s.id).endpoints[0].pod_id
    await engine.delete_pod(victim)
    assert victim not in {e.pod_id for e in engine.service(s.id).endpoints}
    await wait_for(lambda: len(engine.service(s.id).ready_endpoints) == 3, what="replaced")
    assert check_invariants(engine.cluster.state) == []
    kinds = {e.kind for e in engine.events(kinds=[str(EventKind.SERVICE_CREATED)])}
    assert kinds == {EventKind.SERVICE_CREATED}


async def test_a_service_as_a_manifest(engine: Engine) -> None:
    s = (await engine.create_service(service(
        type="NodePort", labels={"team": "a"},
        ports=[{"name": "http", "port": 80, "target_port": "http"}],
    ))).view  # fmt: skip
    m = service_manifest(s)
    assert (m["apiVersion"], m["kind"], m["metadata"]["name"]) == ("v1", "Service", "web")
    assert m["metadata"]["labels"] == {"team": "a"}
    assert m["spec"] == {
        "type": "NodePort", "clusterIP": "127.96.0.1", "clusterIPs": ["127.96.0.1"],
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP",
                   "nodePort": 30000}],
        "sessionAffinity": "None",
    }  # fmt: skip
    assert manifest_path(m) == "default/service-web.yaml"


# ---- migration ------------------------------------------------------------------------------


def v3_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "cluster.db")
    conn.executescript(V3_DUMP.read_text())
    conn.close()
    return data


async def test_a_v3_data_directory_opens_and_takes_services(tmp_path: Path) -> None:
    """``data/v3-cluster.sql``: a real v3 cluster.db made by main at 65cb8f4 (a node, a bare
    pod, a Deployment of 2), dumped as SQL. It opens with every object and gains Services."""
    data = v3_data_dir(tmp_path)
    with create_engine(f"sqlite:///{data}/cluster.db").connect() as conn:
        assert current_version(conn) == 3
    engine = Engine(fast_settings(data))
    await start_engine(engine)
    try:
        assert {n.name for n in engine.nodes()} == {"w1"}
        pods = {p.name: p for p in engine.pods()}
        assert "solo" in pods and len(pods) == 3
        assert [d.name for d in engine.deployments()] == ["web"]
        await wait_for(lambda: engine.node(engine.nodes()[0].id).status is HEALTHY, what="up")
        s = (await engine.create_service(service())).view
        await wait_for(lambda: len(engine.service(s.id).ready_endpoints) == 2, what="2 ready")
        assert s.id == 1 and s.cluster_ip == "127.96.0.1"
    finally:
        await engine.stop()
    with create_engine(f"sqlite:///{data}/cluster.db").connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
