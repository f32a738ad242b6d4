"""DockerRuntime against the real Docker engine: containers, limits, faults, volume, adoption."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest
from aiohttp import web

import kube9_desktop
from kube9_desktop.engine.errors import Conflict, RuntimeUnavailable
from kube9_desktop.engine.runtime.base import NodeLaunch, RuntimeState
from kube9_desktop.engine.runtime.docker import (
    DockerRuntime,
    container_name,
    docker_available,
    network_name,
    volume_name,
)
from kube9_desktop.engine.runtime.images import OFFLINE_BASE_IMAGE, ensure_node_image
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
    wait_until,
)

pytestmark = pytest.mark.docker

CLUSTER = f"test-{os.getpid()}-{secrets.token_hex(2)}"
BOGUS_HOST = "unix:///nonexistent.sock"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def dclient() -> Iterator[docker.DockerClient]:
    client = connect_or_skip()
    remove_clusters(client, leftover)
    try:
        yield client
    finally:
        remove_clusters(client, lambda cluster: cluster == CLUSTER)
        client.close()


@pytest.fixture(scope="module")
def node_image(dclient: docker.DockerClient) -> str:
    ensure_offline_base(dclient)
    return ensure_node_image(dclient, kube9_desktop.__version__)


@pytest.fixture
async def runtime(node_image: str) -> AsyncIterator[DockerRuntime]:
    rt = DockerRuntime(cluster=CLUSTER)
    try:
        yield rt
    finally:
        await rt.close()


def make_launch(cpu_m: int = 500, mem_mi: int = 256, **changes: Any) -> NodeLaunch:
    node_id = next(_ids)
    fields: dict[str, Any] = {
        "node_id": node_id,
        "name": f"n{node_id}",
        "node_type": "worker",
        "cpu_m": cpu_m,
        "mem_mi": mem_mi,
        "token": f"token-{node_id}",
        "api_url": "http://127.0.0.1:9",
        "heartbeat_interval": 0.5,
        "cluster": CLUSTER,
    }
    fields.update(changes)
    return NodeLaunch(**fields)


async def wait_state(rt: DockerRuntime, node_id: int, state: RuntimeState) -> None:
    async def reached() -> bool:
        return await rt.status(node_id) is state

    await wait_until(reached, f"node {node_id} to be {state.value}")


def inspect(client: docker.DockerClient, launch: NodeLaunch) -> dict[str, Any]:
    attrs: dict[str, Any] = client.api.inspect_container(container_name(CLUSTER, launch.name))
    return attrs


def agent_running(client: docker.DockerClient, launch: NodeLaunch) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        name = container_name(CLUSTER, launch.name)
        # -ww: dockerd's ps cuts commands to $COLUMNS otherwise (80 if the daemon has one).
        top = await asyncio.to_thread(client.api.top, name, "-ef -ww")
        commands = [row[-1] for row in top.get("Processes") or []]
        return any(c.startswith("python3 -m kube9_desktop.agent") for c in commands)

    return check


async def test_start_creates_the_container_as_designed(
    runtime: DockerRuntime, dclient: docker.DockerClient, node_image: str
) -> None:
    launch = make_launch(cpu_m=1500, mem_mi=300)
    handle = await runtime.start(launch)

    attrs = inspect(dclient, launch)
    assert attrs["Name"] == f"/kube9-node-{CLUSTER}-{launch.name}"
    assert handle.handle == attrs["Id"]
    assert handle.ip == "127.0.0.1"
    assert handle.detail["image"] == node_image
    assert handle.detail["network"] == "host"
    assert (
        attrs["Config"]["Labels"].items()
        >= {
            "kube9.cluster": CLUSTER,
            "kube9.node": launch.name,
            "kube9.node_id": str(launch.node_id),
            "kube9.version": kube9_desktop.__version__,
        }.items()
    )
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "host"
    assert host["NanoCpus"] == 1_500_000_000
    assert host["Memory"] == 300 * 1024 * 1024
    assert host["RestartPolicy"]["Name"] == "no"
    assert host["Privileged"] is False
    assert host["Binds"] == [f"{volume_name(CLUSTER, launch.name)}:/var/lib/kube9:rw"]
    assert all("docker.sock" not in str(m) for m in attrs["Mounts"])
    [mount] = attrs["Mounts"]
    assert (mount["Type"], mount["Name"], mount["Destination"]) == (
        "volume",
        volume_name(CLUSTER, launch.name),
        "/var/lib/kube9",
    )
    env = set(attrs["Config"]["Env"])
    assert {f"{k}={v}" for k, v in launch.agent_env("/var/lib/kube9").items()} <= env
    await wait_until(agent_running(dclient, launch), "the agent process in the container")
    assert await runtime.status(launch.node_id) is RuntimeState.RUNNING


async def test_cpu_limit_is_capped_at_the_hosts_cores(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch(cpu_m=64_000)
    await runtime.start(launch)

    ncpu = dclient.info()["NCPU"]
    assert inspect(dclient, launch)["HostConfig"]["NanoCpus"] == ncpu * 1_000_000_000


async def test_faults_and_recovery_cycle(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch()
    await runtime.start(launch)
    node = launch.node_id

    await runtime.pause(node)
    assert await runtime.status(node) is RuntimeState.PAUSED
    assert inspect(dclient, launch)["State"]["Paused"] is True

    await runtime.restart(launch)
    assert await runtime.status(node) is RuntimeState.RUNNING

    await runtime.pause(node)
    await runtime.resume(node)
    assert await runtime.status(node) is RuntimeState.RUNNING

    await runtime.kill(node)
    await wait_state(runtime, node, RuntimeState.EXITED)
    await runtime.kill(node)
    with pytest.raises(Conflict, match="cannot pause"):
        await runtime.pause(node)

    await runtime.restart(launch)
    assert await runtime.status(node) is RuntimeState.RUNNING
    await wait_until(agent_running(dclient, launch), "the agent after restart")

    await runtime.kill(node)
    await wait_state(runtime, node, RuntimeState.EXITED)
    await runtime.start(launch)
    assert await runtime.status(node) is RuntimeState.RUNNING

    await runtime.pause(node)
    await runtime.kill(node)
    await wait_state(runtime, node, RuntimeState.EXITED)

    await runtime.restart(launch)
    await runtime.stop(node)
    assert await runtime.status(node) is RuntimeState.EXITED
    assert inspect(dclient, launch)["HostConfig"]["RestartPolicy"]["Name"] == "no"


async def test_remove_deletes_container_and_volume(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch()
    await runtime.start(launch)

    await runtime.remove(launch.node_id)

    assert await runtime.status(launch.node_id) is RuntimeState.MISSING
    with pytest.raises(docker.errors.NotFound):
        dclient.containers.get(container_name(CLUSTER, launch.name))
    with pytest.raises(docker.errors.NotFound):
        dclient.volumes.get(volume_name(CLUSTER, launch.name))
    await runtime.remove(launch.node_id)
    await runtime.kill(launch.node_id)
    await runtime.stop(launch.node_id)


async def test_work_volume_survives_restart_and_recreation(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch()
    await runtime.start(launch)
    container = dclient.containers.get(container_name(CLUSTER, launch.name))
    result = container.exec_run(["sh", "-c", "echo kept > /var/lib/kube9/marker"])
    assert result.exit_code == 0

    def marker() -> bytes:
        current = dclient.containers.get(container_name(CLUSTER, launch.name))
        output: bytes = current.exec_run(["cat", "/var/lib/kube9/marker"]).output
        return output

    await runtime.kill(launch.node_id)
    await runtime.restart(launch)
    assert marker() == b"kept\n"

    await runtime.start(launch)
    assert marker() == b"kept\n"


async def test_restart_recreates_when_the_launch_changed(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch()
    first = await runtime.start(launch)

    same = await runtime.restart(launch)
    assert same.handle == first.handle

    moved = await runtime.restart(make_launch_like(launch, api_url="http://127.0.0.1:10"))
    assert moved.handle != first.handle
    assert "KUBE9_API_URL=http://127.0.0.1:10" in inspect(dclient, launch)["Config"]["Env"]


def make_launch_like(launch: NodeLaunch, **changes: Any) -> NodeLaunch:
    fields = {f: getattr(launch, f) for f in NodeLaunch.__dataclass_fields__}
    fields.update(changes)
    return NodeLaunch(**fields)


async def test_discover_and_adopt_leave_containers_running(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    running, killed = make_launch(), make_launch()
    await runtime.start(running)
    await runtime.start(killed)
    await runtime.kill(killed.node_id)
    await wait_state(runtime, killed.node_id, RuntimeState.EXITED)
    started_at = inspect(dclient, running)["State"]["StartedAt"]

    fresh = DockerRuntime(cluster=CLUSTER)
    try:
        found = {f.node_id: f for f in await fresh.discover()}
        assert found[running.node_id].state is RuntimeState.RUNNING
        assert found[running.node_id].name == running.name
        assert found[killed.node_id].state is RuntimeState.EXITED

        handle = await fresh.adopt(running, found[running.node_id])
        assert handle.handle == found[running.node_id].handle
        assert handle.ip == "127.0.0.1"
        assert await fresh.status(running.node_id) is RuntimeState.RUNNING
        assert inspect(dclient, running)["State"]["StartedAt"] == started_at
        with pytest.raises(Conflict):
            await fresh.adopt(killed, found[running.node_id])
    finally:
        await fresh.close()


async def test_leftover_container_with_the_same_name_is_replaced(
    runtime: DockerRuntime, dclient: docker.DockerClient
) -> None:
    launch = make_launch()
    leftover = dclient.containers.create(
        OFFLINE_BASE_IMAGE,
        ["sleep", "300"],
        name=container_name(CLUSTER, launch.name),
        labels={"kube9.cluster": CLUSTER},
    )
    leftover.start()

    handle = await runtime.start(launch)

    assert handle.handle != leftover.id
    with pytest.raises(docker.errors.NotFound):
        dclient.containers.get(leftover.id)
    assert await runtime.status(launch.node_id) is RuntimeState.RUNNING


async def test_bridge_network_when_host_networking_is_unavailable(
    node_image: str, dclient: docker.DockerClient
) -> None:
    rt = DockerRuntime(cluster=CLUSTER, host_network=False)
    try:
        launch = make_launch(api_url="http://localhost:8123/")
        handle = await rt.start(launch)

        attrs = inspect(dclient, launch)
        assert attrs["HostConfig"]["NetworkMode"] == network_name(CLUSTER)
        assert "host.docker.internal:host-gateway" in attrs["HostConfig"]["ExtraHosts"]
        assert "KUBE9_API_URL=http://host.docker.internal:8123/" in attrs["Config"]["Env"]
        networks = attrs["NetworkSettings"]["Networks"]
        assert handle.ip == networks[network_name(CLUSTER)]["IPAddress"] != "127.0.0.1"
        assert handle.detail["network"] == network_name(CLUSTER)
        await wait_until(agent_running(dclient, launch), "the agent on the bridge network")
    finally:
        await rt.close()


@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
async def test_unreachable_daemon_raises_runtime_unavailable(node_image: str) -> None:
    reachable = False

    def factory() -> docker.DockerClient:
        return docker.from_env() if reachable else docker.DockerClient(base_url=BOGUS_HOST)

    rt = DockerRuntime(cluster=CLUSTER, client_factory=factory)
    launch = make_launch()
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: rt.start(launch),
            lambda: rt.restart(launch),
            lambda: rt.stop(launch.node_id),
            lambda: rt.kill(launch.node_id),
            lambda: rt.pause(launch.node_id),
            lambda: rt.remove(launch.node_id),
            rt.discover,
        ]
        for call in calls:
            with pytest.raises(RuntimeUnavailable) as caught:
                await call()
            assert "sudo systemctl start docker" in caught.value.message
            assert type(caught.value) is RuntimeUnavailable
        assert await rt.status(launch.node_id) is RuntimeState.UNKNOWN

        reachable = True
        assert launch.node_id not in {f.node_id for f in await rt.discover()}
        await rt.start(launch)
        assert await rt.status(launch.node_id) is RuntimeState.RUNNING
    finally:
        await rt.close()


@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
async def test_docker_available(
    monkeypatch: pytest.MonkeyPatch, dclient: docker.DockerClient
) -> None:
    ok, why = await docker_available()
    assert ok, why
    assert "running" in why

    monkeypatch.setenv("DOCKER_HOST", BOGUS_HOST)
    ok, why = await docker_available(timeout=1.0)
    assert not ok
    assert "sudo systemctl start docker" in why

    # No socket and no Docker program on PATH: "not running" would send the user looking for
    # a service that is not there.
    monkeypatch.setenv("PATH", "/nonexistent")
    ok, why = await docker_available(timeout=1.0)
    assert not ok
    assert why == "Docker is not installed (`sudo apt-get install docker.io`)"


async def test_agent_heartbeats_reach_the_hosts_loopback(runtime: DockerRuntime) -> None:
    beats: list[dict[str, Any]] = []

    async def heartbeat(request: web.Request) -> web.Response:
        beats.append({"node": request.match_info["node_id"], **await request.json()})
        reply = {"message": "Heartbeat received", "node_status": "healthy", "generation": 1}
        return web.json_response({**reply, "should_stop_heartbeat": False, "component_faults": {}})

    app = web.Application()
    app.router.add_post("/nodes/{node_id}/heartbeat", heartbeat)
    server = web.AppRunner(app, handle_signals=False)
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    try:
        port = server.addresses[0][1]
        launch = make_launch(api_url=f"http://127.0.0.1:{port}", heartbeat_interval=0.2)
        await runtime.start(launch)

        async def arrived() -> bool:
            return any(b["node"] == str(launch.node_id) for b in beats)

        await wait_until(arrived, "a heartbeat from the node container")
    finally:
        await server.cleanup()
