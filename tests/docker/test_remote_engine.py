"""A second Docker engine in a network namespace of the test's own: nodes on both engines in
one cluster, agents crossing a real non-loopback route (a veth pair, 10.213.x.1 on this side,
.2 inside), a crash and its recovery there, the engine going away and coming back.

Needs root and dockerd (CI: .ci/run). Everything it makes (netns, veth, dockerd, containers)
is removed again, also on failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.runtime.images import OFFLINE_BASE_IMAGE
from kube9_desktop.serve import start_engine
from tests.engine.docker_helpers import connect_or_skip, ensure_offline_base, remove_clusters
from tests.helpers import fast_settings, wait_for
from tests.procs import marker, sleeper_pod

pytestmark = [pytest.mark.docker, pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")]


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def mounts_under(root: Path) -> list[str]:
    """Mount points below ``root``, deepest first."""
    found = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in found if m.startswith(f"{root}/")), reverse=True)


@dataclass
class RemoteEngine:
    netns: str
    sock: str
    root: Path
    host_ip: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        self.proc = subprocess.Popen(
            # nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds no cgroups
            ["nsenter", f"--net=/run/netns/{self.netns}", "dockerd",
             "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "--pidfile", str(self.root / "dockerd.pid"), "-H", self.url,
             "--bridge=none", "--iptables=false", "--ip6tables=false",
             "--config-file", str(self.root / "daemon.json")],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=30)

    def answers(self) -> bool:
        try:
            c = self.client()
            try:
                return bool(c.ping())
            finally:
                c.close()
        except Exception:
            return False

    def wait_answering(self, timeout: float) -> bool:
        """Until it answers a ping (True), it exits or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEngine]:
    if os.geteuid() != 0 or shutil.which("dockerd") is None or shutil.which("ip") is None:
        pytest.skip("needs root, dockerd and ip")
    local = connect_or_skip()
    ensure_offline_base(local)
    tag = uuid.uuid4().hex[:6]
    netns, host_if, ns_if = f"k9t{tag}", f"k9h{tag}", f"k9n{tag}"
    root = Path(f"/tmp/k9r-{tag}")  # short: the socket path must fit in sun_path
    root.mkdir()
    (root / "daemon.json").write_text("{}")
    engine = RemoteEngine(netns, str(root / "d.sock"), root, "10.213.0.1")
    try:
        run("ip", "netns", "add", netns)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        run("ip", "link", "set", ns_if, "netns", netns)
        run("ip", "addr", "add", "10.213.0.1/30", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        run("ip", "netns", "exec", netns, "ip", "addr", "add", "10.213.0.2/30", "dev", ns_if)
        run("ip", "netns", "exec", netns, "ip", "link", "set", ns_if, "up")
        run("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up")
        engine.start()
        assert engine.wait_answering(60), (root / "dockerd.log").read_text()[-2000:]
        # The offline base, as the node image's build wants it (no registry there).
        saved = subprocess.Popen(["docker", "save", OFFLINE_BASE_IMAGE], stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", engine.url, "load"], stdin=saved.stdout, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        assert saved.wait(60) == 0
        yield engine
    finally:
        if engine.proc is None:
            engine.start()  # its containers are removed below, through it
            engine.wait_answering(30)
        try:
            if engine.answers():
                c = engine.client()
                remove_clusters(c, lambda cluster: cluster.startswith("test-remote-"))
                c.close()
        finally:
            engine.stop()
            subprocess.run(["ip", "link", "del", host_if], capture_output=True)
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
            for mounted in mounts_under(root):  # dockerd's own netns file, say
                subprocess.run(["umount", "-l", mounted], capture_output=True)
            shutil.rmtree(root, ignore_errors=True)
        remove_clusters(local, lambda cluster: cluster.startswith("test-remote-"))
        local.close()


@pytest.fixture
async def two_engines(tmp_path: Path, remote: RemoteEngine) -> AsyncIterator[Engine]:
    settings = fast_settings(
        tmp_path / "data", runtime="docker", cluster_name=f"test-remote-{os.getpid()}",
        docker_engines=(f"far={remote.url}",), advertise_url=f"http://{remote.host_ip}",
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
    assert listed["far"].agent_url.startswith("http://10.213.0.1:")
    # the remote agent's container runs in the namespace: its address is the route's far end
    c = remote.client()
    (container,) = c.containers.list(filters={"label": "kube9.node=far1"})
    env = dict(v.split("=", 1) for v in container.attrs["Config"]["Env"])
    assert env["KUBE9_API_URL"].startswith("http://10.213.0.1:")

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
