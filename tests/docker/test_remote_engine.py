"""A second Docker engine in a network namespace of the test's own: nodes on both engines in
one cluster, agents crossing a real non-loopback route (a veth pair, 10.213.x.1 on this side,
.2 inside), a crash and its recovery there, the engine going away and coming back.

Needs root and dockerd (CI: .ci/run). Everything it makes (netns, veth, dockerd, containers)
is removed again, also on failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bench.netns_engine import RemoteEngine, netns_engine, usable
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from tests.engine.docker_helpers import connect_or_skip, ensure_offline_base, remove_clusters
from tests.helpers import fast_settings, wait_for
from tests.procs import marker, sleeper_pod

pytestmark = [pytest.mark.docker, pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")]


@pytest.fixture
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEngine]:
    if not usable():
        pytest.skip("needs root, dockerd, docker, ip and nsenter")
    local = connect_or_skip()
    ensure_offline_base(local)
    try:
        with netns_engine("test-remote-") as engine:
            yield engine
    finally:
        remove_clusters(local, lambda cluster: cluster.startswith("test-remote-"))
        local.close()


@pytest.fixture(params=["http", "https"])
async def two_engines(
    tmp_path: Path, remote: RemoteEngine, request: pytest.FixtureRequest
) -> AsyncIterator[Engine]:
    """Both engines; the remote agents heartbeat over plain HTTP, or HTTPS verified with the
    cluster's CA (an https:// --advertise-url)."""
    settings = fast_settings(
        tmp_path / "data", runtime="docker", cluster_name=f"test-remote-{os.getpid()}",
        docker_engines=(f"far={remote.url}",), advertise_url=f"{request.param}://{remote.host_ip}",
        heartbeat_interval=0.25, grace_period=1.5, recovery_backoff=0.2,
        startup_timeout=120,
    )  # fmt: skip
    eng = Engine(settings)
    await start_engine(eng)
    try:
        yield eng
    finally:
        await eng.stop()


def status(engine: Engine, node_id: int) -> NodeStatus:
    return engine.cluster.state.nodes[node_id].status


async def test_nodes_on_a_second_engine_across_a_real_route(
    two_engines: Engine, remote: RemoteEngine
) -> None:
    engine = two_engines
    near = await engine.create_node_from_json(
        {"name": "near", "cpu_cores_avail": 1, "engine": "local"}
    )
    far = await engine.create_node_from_json(
        {"name": "far1", "cpu_cores_avail": 1, "engine": "far", "labels": {"site": "far"}}
    )
    assert near.view.engine == "local" and far.view.engine == "far"
    ids = (near.view.id, far.view.id)
    await wait_for(lambda: all(status(engine, i) is NodeStatus.HEALTHY for i in ids),
                   timeout=180, what="agents on both engines heartbeating")  # fmt: skip
    listed = {e.name: e for e in engine.engines()}
    assert listed["far"].state == "up" and listed["far"].nodes == 1
    scheme = engine.settings.advertise_url.split(":")[0]  # type: ignore[union-attr]
    assert listed["far"].agent_url.startswith(f"{scheme}://10.213.0.1:")
    # the remote agent's container runs in the namespace: its address is the route's far end
    c = remote.client()
    (container,) = c.containers.list(filters={"label": "kube9.node=far1"})
    env = dict(v.split("=", 1) for v in container.attrs["Config"]["Env"])
    assert env["KUBE9_API_URL"].startswith(f"{scheme}://10.213.0.1:")
    if scheme == "https":  # verified with the cluster's CA, the Kubernetes API's own
        ca = (engine.settings.data_dir / "k8s" / "ca.crt").read_text().strip()
        assert env["KUBE9_CA_PEM"].strip() == ca

    # scheduling onto the remote node
    pod = await engine.create_pod_from_json(
        sleeper_pod("far-pod", marker(), node_selector={"site": "far"})
    )
    await wait_for(lambda: engine.pod(pod.view.id).phase == "running", timeout=60,
                   what="the pod running on the remote node")  # fmt: skip
    assert engine.pod(pod.view.id).node_id == far.view.id

    # a crash there, and its recovery there
    container.kill()
    await wait_for(lambda: status(engine, far.view.id) is not NodeStatus.HEALTHY, timeout=10,
                   what="the crash detected")  # fmt: skip
    assert status(engine, near.view.id) is NodeStatus.HEALTHY
    await wait_for(lambda: status(engine, far.view.id) is NodeStatus.HEALTHY, timeout=60,
                   what="the remote node recovered")  # fmt: skip
    c.close()

    # the remote engine goes away: only its node is unhealthy, no attempt is spent
    attempts = engine.cluster.state.nodes[far.view.id].recovery_attempts
    remote.stop()
    await wait_for(lambda: engine.engines()[1].state == "down", timeout=20,
                   what="the remote engine seen down")  # fmt: skip
    await wait_for(lambda: status(engine, far.view.id) is NodeStatus.UNHEALTHY, timeout=10,
                   what="its node unhealthy")  # fmt: skip
    assert status(engine, near.view.id) is NodeStatus.HEALTHY
    from kube9_desktop.engine.errors import RuntimeUnavailable

    with pytest.raises(RuntimeUnavailable) as refused:
        await engine.create_node_from_json({"name": "far2", "cpu_cores_avail": 1, "engine": "far"})
    assert refused.value.extra["engine"] == "far" and "Docker engine far" in refused.value.message
    assert engine.cluster.state.nodes[far.view.id].recovery_attempts <= attempts

    # back again: its node comes back
    remote.start()
    await wait_for(lambda: status(engine, far.view.id) is NodeStatus.HEALTHY, timeout=120,
                   what="the remote node back with its engine")  # fmt: skip
    assert status(engine, near.view.id) is NodeStatus.HEALTHY
