"""Readiness and liveness end to end: the engine's view of a pod follows probes its node runs.

Process nodes run real servers on the pod's own loopback address; one Docker test runs the
same inside a node container; virtual nodes report readiness from the spec.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import PodPhase
from kube9_desktop.selftest import processes_of
from tests.helpers import free_port, wait_for
from tests.integration.conftest import EngineFactory, add_nodes
from tests.procs import wait_sync

FAST = {"heartbeat_interval": 0.25, "grace_period": 1.5, "recovery_backoff": 0.2}


def web_pod(name: str, gate: Path, port: int, **probe: Any) -> dict[str, Any]:
    """A pod serving HTTP on its own address once ``gate`` exists, probed by http_get."""
    script = (
        'while [ ! -f "$GATE" ]; do sleep 0.05; done; '
        f"exec python3 -m http.server {port} --bind $(POD_IP)"
    )
    return {
        "name": name,
        "cpu_cores_req": 0.2,
        "containers": [{
            "name": "web", "image": "python:3", "command": "sh", "args": ["-c", script],
            "ports": [{"name": "http", "container_port": port}],
            "readiness_probe": {"http_get": {"path": "/", "port": "http"}, "period_s": 0.2,
                                "timeout_s": 0.5, "failure_threshold": 1, **probe},
        }],
        "config": [{"name": "gate", "type": "env", "key": "GATE", "value": str(gate)}],
    }  # fmt: skip


def flag_pod(name: str, flag: Path, which: str, **probe: Any) -> dict[str, Any]:
    """A sleeping pod whose ``which`` probe passes while the file ``flag`` exists."""
    return {
        "name": name,
        "cpu_cores_req": 0.2,
        "containers": [{
            "name": "main", "image": "python:3", "command": "sleep", "args": ["3600"],
            which: {"exec": {"command": ["test", "-f", "$(FLAG)"]}, "period_s": 0.2,
                    "failure_threshold": 1, **probe},
        }],
        "config": [{"name": "flag", "type": "env", "key": "FLAG", "value": str(flag)}],
    }  # fmt: skip


def http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return int(reply.status)


def container(engine: Engine, pod_id: int, name: str) -> Any:
    return next((c for c in engine.pod(pod_id).containers if c.name == name), None)


def running(engine: Engine, pod_id: int) -> bool:
    pod = engine.pod(pod_id)
    return pod.phase is PodPhase.RUNNING and bool(pod.containers)


async def readiness_follows_the_server(engine: Engine, gate: Path) -> None:
    """Not ready while the server is down (the probe says why), ready once it answers."""
    await add_nodes(engine, ("w1", 2))
    port = free_port()
    created = await engine.create_pod_from_json(web_pod("web", gate, port))
    pod_id, ip = created.view.id, created.view.ip
    assert ip.startswith("127.244.")
    await wait_for(lambda: running(engine, pod_id), timeout=30, what="pod running")
    refused = f'Get "http://{ip}:{port}/": dial tcp {ip}:{port}: connect: connection refused'
    await wait_for(
        lambda: container(engine, pod_id, "web").reason == f"Readiness probe failed: {refused}",
        timeout=20,
        what="the probe's failure reported",
    )
    assert not engine.pod(pod_id).ready and engine.pod(pod_id).phase is PodPhase.RUNNING
    gate.touch()
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=20, what="pod ready")
    # The server binds the pod's address, as POD_IP told it, and the host reaches it there.
    assert await asyncio.to_thread(http_status, f"http://{ip}:{port}/") == 200
    assert container(engine, pod_id, "web").reason == ""
    await engine.delete_pod(pod_id)


@pytest.fixture
async def process_engine(make_engine: EngineFactory) -> Engine:
    return await make_engine(runtime="process", **FAST)


async def test_http_readiness_on_the_pod_address(process_engine: Engine, tmp_path: Path) -> None:
    await readiness_follows_the_server(process_engine, tmp_path / "go")


async def test_readiness_that_starts_failing_makes_the_pod_not_ready_then_ready(
    process_engine: Engine, tmp_path: Path
) -> None:
    engine, flag = process_engine, tmp_path / "ok"
    flag.touch()
    await add_nodes(engine, ("w1", 2))
    created = await engine.create_pod_from_json(flag_pod("toggle", flag, "readiness_probe"))
    pod_id = created.view.id
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=30, what="ready")
    first_ready = engine.pod(pod_id).ready_since
    flag.unlink()
    await wait_for(lambda: not engine.pod(pod_id).ready, timeout=20, what="not ready")
    main = container(engine, pod_id, "main")
    assert main.state == "running" and main.ready is False and main.restarts == 0
    assert main.reason == "Readiness probe failed: command exited with code 1"
    flag.touch()
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=20, what="ready again")
    assert engine.pod(pod_id).ready_since is not None and first_ready is not None
    assert engine.pod(pod_id).ready_since > first_ready  # readiness counts afresh
    assert container(engine, pod_id, "main").restarts == 0


async def test_failing_liveness_restarts_the_container(
    process_engine: Engine, tmp_path: Path
) -> None:
    engine, flag = process_engine, tmp_path / "alive"
    flag.touch()
    await add_nodes(engine, ("w1", 2))
    # The initial delay gives the restarted container a second before its first probe.
    live = flag_pod("live", flag, "liveness_probe", failure_threshold=2, initial_delay_s=1.0)
    pod_id = (await engine.create_pod_from_json(live)).view.id
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=30, what="running and ready")
    assert container(engine, pod_id, "main").restarts == 0
    reasons: set[str] = set()

    def restarted() -> bool:
        main = container(engine, pod_id, "main")
        reasons.add(main.reason)
        return bool(main.restarts >= 1)

    flag.unlink()
    await wait_for(restarted, timeout=30, what="a liveness restart")
    flag.touch()
    assert "Liveness probe failed: command exited with code 1" in reasons
    main = container(engine, pod_id, "main")
    assert (main.restarts, main.exit_code) == (1, 143)  # stopped with SIGTERM, counted once
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=30, what="ready after the restart")
    assert container(engine, pod_id, "main").restarts == 1


async def test_virtual_nodes_report_readiness_after_the_initial_delay(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    engine = await make_engine()
    await add_nodes(engine, ("v1", 4))
    probed = flag_pod("probed", tmp_path / "unused", "readiness_probe", initial_delay_s=1.0)
    plain = {"name": "plain", "cpu_cores_req": 0.2,
             "containers": [{"name": "main", "image": "busybox"}]}  # fmt: skip
    loop_start = time.monotonic()
    a = (await engine.create_pod_from_json(probed)).view.id
    b = (await engine.create_pod_from_json(plain)).view.id
    await wait_for(lambda: engine.pod(b).ready, what="plain pod ready at once")
    assert engine.pod(a).phase is PodPhase.RUNNING and not engine.pod(a).ready
    assert container(engine, a, "main").ready is False
    await wait_for(lambda: engine.pod(a).ready, timeout=10, what="probed pod ready")
    assert time.monotonic() - loop_start >= 1.0


@pytest.mark.docker
async def test_readiness_inside_a_docker_node(
    docker_cluster: tuple[Any, str], make_engine: EngineFactory
) -> None:
    client, cluster = docker_cluster
    engine = await make_engine(runtime="docker", cluster_name=cluster, **FAST)
    await add_nodes(engine, ("d1", 2))
    port = free_port()
    gate = Path("/var/lib/kube9/go")  # inside the node container: created with docker exec
    created = await engine.create_pod_from_json(web_pod("web", gate, port))
    pod_id, ip = created.view.id, created.view.ip
    await wait_for(lambda: running(engine, pod_id), timeout=60, what="pod running in the node")
    refused = f'Get "http://{ip}:{port}/": dial tcp {ip}:{port}: connect: connection refused'
    await wait_for(
        lambda: container(engine, pod_id, "web").reason == f"Readiness probe failed: {refused}",
        timeout=30,
        what="the probe's failure reported",
    )
    assert not engine.pod(pod_id).ready
    (node,) = client.containers.list(filters={"label": f"kube9.cluster={cluster}"})
    touched = await asyncio.to_thread(node.exec_run, ["touch", str(gate)])
    assert touched.exit_code == 0
    await wait_for(lambda: engine.pod(pod_id).ready, timeout=30, what="pod ready")
    fetch = f"import urllib.request as u; print(u.urlopen('http://{ip}:{port}/').status)"
    answer = await asyncio.to_thread(node.exec_run, ["python3", "-c", fetch])
    assert answer.output.strip() == b"200"  # the server runs in the node, on the pod address


@pytest.fixture(autouse=True)
def _no_orphans_after_the_engine_stops(tmp_path: Path) -> Iterator[None]:
    yield
    wait_sync(lambda: processes_of(tmp_path) == [], what="no leftover processes")
