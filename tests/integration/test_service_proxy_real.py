"""Real traffic through the Service proxy on process nodes: three ``python3 -m http.server``
pods bound to their own addresses, curled from this machine through the cluster IP and the
node port; a fourth pod that is ready but listens on nothing refuses, and its turns are
retried on the others, so no request fails. The pods, started after the Service, serve the
``WEB_SERVICE_HOST``/``_PORT`` variables kubelet would have given them.

Readiness, a node's crash and a rolling update under traffic run on both real runtimes
(``on_runtime``): process nodes, and Docker nodes whose pods run inside the node container
with host networking, so their addresses are reached from this machine just the same."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.runtime.images import WORK_DIR
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import parse_body
from tests.helpers import wait_for
from tests.integration.conftest import EngineFactory, add_nodes
from tests.integration.test_probes import FAST

PORT = 18411  # pod addresses repeat across engines: a port other tests do not use


@dataclass(frozen=True)
class OnRuntime:
    """Engines on one real runtime; on Docker, the client and the test's own cluster."""

    runtime: str
    make: EngineFactory
    docker: tuple[Any, str] | None = None

    async def engine(self) -> Engine:
        """An engine with FAST heartbeats on this runtime."""
        if self.docker is None:
            return await self.make(runtime=self.runtime, **FAST)
        return await self.make(runtime=self.runtime, cluster_name=self.docker[1], **FAST)

    def container(self, node: str) -> Any:
        """The Docker container of ``node``."""
        assert self.docker is not None, f"{self.runtime} nodes have no container"
        client, cluster = self.docker
        labels = [f"kube9.cluster={cluster}", f"kube9.node={node}"]
        (found,) = client.containers.list(filters={"label": labels})
        return found


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def on_runtime(request: pytest.FixtureRequest) -> OnRuntime:
    """Engines on the parameter's runtime. On Docker ``docker_cluster`` is set up before
    ``make_engine``, so its containers are removed after the engines stopped."""
    if request.param == "process":
        return OnRuntime("process", request.getfixturevalue("make_engine"))
    docker = request.getfixturevalue("docker_cluster")
    return OnRuntime("docker", request.getfixturevalue("make_engine"), docker)


def server_pod(name: str, *, serve: bool = True) -> dict[str, Any]:
    """A pod serving its name at /name.txt and its service variables at /env.txt on
    $(POD_IP):PORT (or, not serving, asleep)."""
    files = 'echo "$POD_NAME" > name.txt && echo "$WEB_SERVICE_HOST:$WEB_SERVICE_PORT:$WEB_SERVICE_PORT_HTTP" > env.txt'
    serving = f"{files} && exec python3 -m http.server {PORT} --bind $(POD_IP)"
    script = serving if serve else "exec sleep 3600"
    return {
        "name": name, "cpu_cores_req": 0.2, "labels": {"app": "web"},
        "containers": [{
            "name": "web", "image": "python:3", "command": "sh", "args": ["-c", script],
            "ports": [{"name": "http", "container_port": PORT}],
        }],
    }  # fmt: skip


async def curl(url: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--max-time", "5", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"curl {url} failed ({proc.returncode}): {err.decode().strip()}")
    return out.decode().strip()


async def answers(url: str) -> bool:
    try:
        await curl(url)
    except AssertionError:
        return False
    return True


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_curl_through_the_cluster_ip_and_the_node_port(on_runtime: OnRuntime) -> None:
    """Round robin through the cluster IP, the node port from this machine, the service
    variables; then the Service deleted: both stop answering, and its node port is free for
    the next Service, which answers on it."""
    engine = await on_runtime.engine()
    await add_nodes(engine, ("w1", 2), ("w2", 2))
    body = {"name": "web", "selector": {"app": "web"}, "type": "NodePort",
            "ports": [{"name": "http", "port": 18090, "target_port": "http"}]}  # fmt: skip
    svc = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
    for i in range(3):
        await engine.create_pod_from_json(server_pod(f"web-{i}"))
    await engine.create_pod_from_json(server_pod("mute", serve=False))
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 4, timeout=30,
                   what="4 ready endpoints")  # fmt: skip
    node_port = svc.spec.ports[0].node_port
    cluster_url = f"http://{svc.cluster_ip}:18090/name.txt"
    # Ready is "running" here (no probe): wait until every server has bound its address.
    for pod in engine.pods():
        if pod.name != "mute":
            url = f"http://{pod.ip}:{PORT}/name.txt"
            await wait_for(lambda url=url: answers(url), timeout=30, what=f"{pod.name} serving")
    seen = Counter([await curl(cluster_url) for _ in range(9)])
    assert seen == {"web-0": 3, "web-1": 3, "web-2": 3}  # round robin; mute's turns retried
    via_node_port = Counter(
        [await curl(f"http://127.0.0.1:{node_port}/name.txt") for _ in range(6)]
    )
    assert set(via_node_port) == {"web-0", "web-1", "web-2"}
    env = await curl(f"http://{svc.cluster_ip}:18090/env.txt")
    assert env == f"{svc.cluster_ip}:18090:18090"
    await engine.delete_service(svc.id)
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    assert not await answers(cluster_url)
    assert not await answers(f"http://127.0.0.1:{node_port}/name.txt")
    again = {**body, "name": "web2", "ports": [{**body["ports"][0], "node_port": node_port}]}
    svc2 = (await engine.create_service(parse_body(ServiceCreate, again).to_spec())).view
    await wait_for(lambda: len(engine.service(svc2.id).ready_endpoints) == 4, timeout=30,
                   what="the new Service's endpoints")  # fmt: skip
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    assert await curl(f"http://127.0.0.1:{node_port}/name.txt") in {"web-0", "web-1", "web-2"}


async def web_service(engine: Engine) -> Any:
    body = {"name": "web", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 18090, "target_port": "http"}]}  # fmt: skip
    return (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view


async def serving(engine: Engine, svc_id: int, count: int) -> None:
    await wait_for(lambda: len(engine.service(svc_id).ready_endpoints) == count, timeout=30,
                   what=f"{count} ready endpoints")  # fmt: skip
    for e in engine.service(svc_id).ready_endpoints:
        url = f"http://{e.ip}:{PORT}/name.txt"
        await wait_for(lambda url=url: answers(url), timeout=30, what=f"{e.pod_name} serving")


class ReadyFlag:
    """The file a readiness probe tests for, where the pod's node sees it: on this machine for
    a process node, in the node's container (set by ``docker exec``) for a Docker node."""

    def __init__(self, on: OnRuntime, node: str, tmp_path: Path) -> None:
        self.container = on.container(node) if on.docker is not None else None
        self.path = f"{WORK_DIR}/ready" if self.container is not None else str(tmp_path / "ready")

    async def set(self, present: bool) -> None:
        if self.container is None:
            if present:
                Path(self.path).touch()
            else:
                Path(self.path).unlink()
            return
        argv = ["touch", self.path] if present else ["rm", self.path]
        done = await asyncio.to_thread(self.container.exec_run, argv)
        assert done.exit_code == 0, done.output


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_a_pod_failing_readiness_gets_no_traffic_until_ready(
    on_runtime: OnRuntime, tmp_path: Path
) -> None:
    engine = await on_runtime.engine()
    await add_nodes(engine, ("w1", 2))
    svc = await web_service(engine)
    flag = ReadyFlag(on_runtime, "w1", tmp_path)
    await flag.set(True)
    await engine.create_pod_from_json(server_pod("steady"))
    gated = server_pod("gated")
    gated["containers"][0]["readiness_probe"] = {
        "exec": {"command": ["test", "-f", flag.path]}, "period_s": 0.2, "failure_threshold": 1,
    }  # fmt: skip
    await engine.create_pod_from_json(gated)
    await serving(engine, svc.id, 2)
    url = f"http://{svc.cluster_ip}:18090/name.txt"
    assert {await curl(url) for _ in range(4)} == {"steady", "gated"}
    await flag.set(False)
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 1, timeout=20,
                   what="gated not ready")  # fmt: skip
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    assert {await curl(url) for _ in range(6)} == {"steady"}
    await flag.set(True)
    await serving(engine, svc.id, 2)
    await wait_for(engine.proxy.synced, what="the proxy took the tables up")
    assert {await curl(url) for _ in range(4)} == {"steady", "gated"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_a_node_crash_loses_no_request(on_runtime: OnRuntime) -> None:
    """Before the crash is detected its pod's endpoint is still ready, but its address refuses:
    the proxy retries those turns on the survivor; after detection the endpoint is gone."""
    engine = await on_runtime.engine()
    nodes = await add_nodes(engine, ("w1", 1), ("w2", 1))
    svc = await web_service(engine)
    for i in range(2):  # 0.6 CPU each: one pod per node
        await engine.create_pod_from_json({**server_pod(f"web-{i}"), "cpu_cores_req": 0.6})
    await serving(engine, svc.id, 2)
    survivor = next(e.pod_name for e in engine.service(svc.id).endpoints if e.node_name == "w2")
    await engine.inject_fault(nodes["w1"], "crash")
    url = f"http://{svc.cluster_ip}:18090/name.txt"
    assert {await curl(url) for _ in range(6)} == {survivor}  # every one answered
    await wait_for(lambda: len(engine.service(svc.id).endpoints) <= 1, timeout=20,
                   what="the crashed node's endpoint gone")  # fmt: skip
    # (the node may be restarted by now and its pod serve again: any answer, none lost)
    assert {await curl(url) for _ in range(4)} <= {"web-0", "web-1"}


@pytest.mark.docker
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_through_the_proxy_to_pods_in_a_docker_node(
    docker_cluster: tuple[Any, str], make_engine: EngineFactory
) -> None:
    """Pods inside a Docker node (host networking) reached through the cluster IP, from this
    machine with curl and from inside the node, where the pods run; there the Service's name
    resolves too, until it is deleted."""
    client, cluster = docker_cluster
    engine: Engine = await make_engine(runtime="docker", cluster_name=cluster, **FAST)
    await add_nodes(engine, ("d1", 2))
    svc = await web_service(engine)
    for i in range(2):
        await engine.create_pod_from_json(server_pod(f"web-{i}"))
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 2, timeout=60,
                   what="2 ready endpoints")  # fmt: skip
    await serving(engine, svc.id, 2)
    url = f"http://{svc.cluster_ip}:18090/name.txt"
    assert sorted([await curl(url) for _ in range(4)]) == ["web-0", "web-0", "web-1", "web-1"]
    (node,) = client.containers.list(filters={"label": f"kube9.cluster={cluster}"})
    fetch = f"import urllib.request as u; print(u.urlopen('{url}').read().decode().strip())"
    inside = await asyncio.to_thread(node.exec_run, ["python3", "-c", fetch])
    assert inside.exit_code == 0 and inside.output.strip() in (b"web-0", b"web-1")
    # The Service's name resolves inside the node, where its pods run.
    name = "web.default.svc.cluster.local"
    by_name = fetch.replace(svc.cluster_ip, name)

    async def resolves() -> bool:
        got = await asyncio.to_thread(node.exec_run, ["python3", "-c", by_name])
        return got.exit_code == 0 and got.output.strip() in (b"web-0", b"web-1")

    await wait_for(resolves, timeout=20, what=f"{name} answering inside the node")
    await engine.delete_service(svc.id)
    hosts = await asyncio.to_thread(node.exec_run, ["cat", "/etc/hosts"])

    async def forgotten() -> bool:
        got = await asyncio.to_thread(node.exec_run, ["cat", "/etc/hosts"])
        return name.encode() not in got.output

    await wait_for(forgotten, timeout=20, what="the name gone with the Service")
    assert b"localhost" in hosts.output  # Docker's own lines stay


DRAINING_SERVER = """
import asyncio, os, signal
BODY = os.environ["POD_NAME"].encode()
conns, draining = set(), False
class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, b""
        conns.add(self)
    def connection_lost(self, exc):
        conns.discard(self)
    def data_received(self, data):
        self.buf += data
        while b"\\r\\n\\r\\n" in self.buf:
            _, self.buf = self.buf.split(b"\\r\\n\\r\\n", 1)
            close = b"Connection: close\\r\\n" if draining else b""
            self.t.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n%s\\r\\n%s"
                         % (len(BODY), close, BODY))
            if draining:
                self.t.close()
                return
async def main():
    global draining
    loop = asyncio.get_running_loop()
    server = await loop.create_server(P, os.environ["POD_IP"], int(os.environ["PORT"]))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    draining = True
    server.close()
    await asyncio.sleep(0.5)
    for c in list(conns):
        c.t.close()
asyncio.run(main())
"""


async def test_a_rolling_update_under_traffic_loses_no_request(on_runtime: OnRuntime) -> None:
    """Old pods leave the endpoints in the commit that deletes them, before their SIGTERM, and
    drain within their grace period; new ones join once their readiness probe passes. Steady
    traffic through the Service sees every pod of both templates and not one failure."""
    from kube9_desktop.engine.traffic import TrafficSpec
    from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch

    engine = await on_runtime.engine()
    await add_nodes(engine, ("w1", 2))
    svc = await web_service(engine)

    def template(version: str) -> dict[str, Any]:
        return {
            "labels": {"app": "web"},
            "containers": [{
                "name": "web", "image": "python:3", "cpu_req": "100m",
                "command": "python3", "args": ["-c", DRAINING_SERVER],
                "ports": [{"name": "http", "container_port": PORT}],
                "readiness_probe": {"tcp_socket": {"port": "http"}, "period_s": 0.2},
            }],
            "config": [{"name": "p", "type": "env", "key": "PORT", "value": str(PORT)},
                       {"name": "v", "type": "env", "key": "VERSION", "value": version}],
        }  # fmt: skip

    body = {"name": "web", "replicas": 3, "template": template("1"),
            "strategy": {"max_unavailable": 0, "max_surge": 1}}  # fmt: skip
    d = await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 3, timeout=60,
                   what="three ready endpoints")  # fmt: skip
    old = {e.pod_name for e in engine.service(svc.id).endpoints}
    run = await engine.start_traffic(svc.id, TrafficSpec(200, 3600, concurrency=8))
    await wait_for(lambda: run.totals()["ok"] >= 100, timeout=20, what="answers")
    patch = DeploymentPatch.model_validate({"template": template("2")})
    await engine.update_deployment(d.view.id, patch)

    def rolled() -> bool:
        names = {e.pod_name for e in engine.service(svc.id).ready_endpoints}
        return len(names) == 3 and not names & old

    await wait_for(rolled, timeout=90, what="the rollout")
    new = {e.pod_name for e in engine.service(svc.id).endpoints}
    await wait_for(lambda: set(run.totals()["by_endpoint"]) >= new, timeout=20,
                   what="every new pod answering")  # fmt: skip
    await engine.stop_traffic(svc.id)
    totals = run.totals()
    assert totals["errors"] == {"refused": 0, "reset": 0, "timeout": 0, "http_5xx": 0}, totals
    assert totals["ok"] == totals["requests"] >= 200
    assert set(totals["by_endpoint"]) == old | new  # both templates served, nobody else
