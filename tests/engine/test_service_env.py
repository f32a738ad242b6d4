"""kubelet's service variables: the worked example, and pods getting those of the Services of
their namespace that existed when they were created, fixed for their life and the same after
the engine restarts. Service names for Docker nodes' hosts files (service_dns.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.heartbeat import desired_pod
from kube9_desktop.engine.service_dns import HostsWriter, ServiceDns, hosts_block
from kube9_desktop.engine.service_specs import ServiceCreate, ServicePatch
from kube9_desktop.engine.services import ServicePort, ServiceSpec, env_prefix, service_env
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.serve import start_engine
from tests.helpers import fast_settings, wait_for


def test_the_worked_example() -> None:
    web = ServiceSpec("my-web", "default", (ServicePort(80, 8080, "http"), ServicePort(9090, 9090)))
    assert env_prefix("my-web") == "MY_WEB"
    assert dict(service_env([(web, "127.96.0.1")])) == {
        "MY_WEB_SERVICE_HOST": "127.96.0.1",
        "MY_WEB_SERVICE_PORT": "80",
        "MY_WEB_SERVICE_PORT_HTTP": "80",
        "MY_WEB_PORT": "tcp://127.96.0.1:80",
        "MY_WEB_PORT_80_TCP": "tcp://127.96.0.1:80",
        "MY_WEB_PORT_80_TCP_PROTO": "tcp",
        "MY_WEB_PORT_80_TCP_PORT": "80",
        "MY_WEB_PORT_80_TCP_ADDR": "127.96.0.1",
        "MY_WEB_PORT_9090_TCP": "tcp://127.96.0.1:9090",
        "MY_WEB_PORT_9090_TCP_PROTO": "tcp",
        "MY_WEB_PORT_9090_TCP_PORT": "9090",
        "MY_WEB_PORT_9090_TCP_ADDR": "127.96.0.1",
    }


def pod(name: str, ns: str = "default", env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": ns, "cpu_cores_req": 0.1,
            "containers": [{"name": "c", "image": "nginx"}],
            "config": [{"name": "own", "type": "env", **k} for k in env or []]}  # fmt: skip


def variables(engine: Engine, pod_id: int) -> dict[str, str]:
    desired = desired_pod(engine.cluster.state.pods[pod_id])
    return {item["name"]: item["value"] for item in desired["env"]}


async def test_pods_get_the_services_older_than_them(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path / "data")
    engine = Engine(settings)
    await start_engine(engine)
    try:
        node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
        await wait_for(lambda: engine.node(node.id).status == "healthy", what="healthy")
        await engine.create_namespace("other")
        before = (await engine.create_pod_from_json(pod("before"))).view.id
        body = {"name": "web", "ports": [{"name": "http", "port": 80}]}
        web = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
        after = (await engine.create_pod_from_json(pod("after"))).view.id
        elsewhere = (await engine.create_pod_from_json(pod("x", ns="other"))).view.id
        own = await engine.create_pod_from_json(
            pod("own", env=[{"key": "WEB_SERVICE_PORT", "value": "mine"}])
        )
        assert "WEB_SERVICE_HOST" not in variables(engine, before)
        assert "WEB_SERVICE_HOST" not in variables(engine, elsewhere)  # another namespace
        got = variables(engine, after)
        assert (got["WEB_SERVICE_HOST"], got["WEB_SERVICE_PORT"]) == (web.cluster_ip, "80")
        assert got["WEB_SERVICE_PORT_HTTP"] == "80"
        assert variables(engine, own.view.id)["WEB_SERVICE_PORT"] == "mine"  # its own wins
        fixed = variables(engine, after)
        other = {"name": "db", "ports": [{"port": 5432}]}
        await engine.create_service(parse_body(ServiceCreate, other).to_spec())
        assert variables(engine, after) == fixed  # a later Service changes nothing
    finally:
        await engine.stop()
    again = Engine(settings)
    await start_engine(again)
    try:
        assert variables(again, after) == fixed  # re-derived: the Services older than it
        assert "DB_SERVICE_HOST" not in variables(again, after)
    finally:
        await again.stop()


def test_the_hosts_block() -> None:
    assert hosts_block([("web", "shop", "127.96.0.2"), ("db", "shop", "127.96.0.1")]) == (
        "127.96.0.1 db.shop.svc.cluster.local db.shop.svc db.shop\n"
        "127.96.0.2 web.shop.svc.cluster.local web.shop.svc web.shop\n"
    )


class Writer:
    def __init__(self) -> None:
        self.wrote: list[tuple[int, str]] = []

    async def write_hosts(self, node_id: int, block: str) -> None:
        self.wrote.append((node_id, block))


async def test_service_names_follow_services_and_nodes_turning_healthy(tmp_path: Path) -> None:
    engine = Engine(fast_settings(tmp_path / "data"))
    await start_engine(engine)
    writer = Writer()
    dns = ServiceDns(engine.cluster, writer)
    assert isinstance(writer, HostsWriter)
    engine.bus.subscribe_changes(dns.on_changes)
    try:
        node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 4})).view
        dns.start()
        await wait_for(lambda: engine.node(node.id).status == "healthy", what="healthy")
        await wait_for(lambda: writer.wrote == [(node.id, "")], what="a new node's file")
        body = {"name": "web", "ports": [{"port": 80}]}
        web = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
        line = f"{web.cluster_ip} web.default.svc.cluster.local web.default.svc web.default\n"
        await wait_for(lambda: writer.wrote[-1] == (node.id, line), what="the name written")
        count = len(writer.wrote)
        await engine.update_service(web.id, parse_body(ServicePatch, {"labels": {"a": "b"}}))
        await engine.delete_service(web.id)
        await wait_for(lambda: writer.wrote[-1] == (node.id, ""), what="the name gone")
        assert len(writer.wrote) == count + 1  # a patch keeps the name: no write
    finally:
        await dns.stop()
        await engine.stop()
