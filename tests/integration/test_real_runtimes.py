"""Real nodes: local agent processes and Docker containers. Pods are real processes (seen from
the host's /proc in both cases), failures are real signals, and every scenario ends clean."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus, PodPhase
from kube9_desktop.engine.runtime.base import RuntimeState
from kube9_desktop.selftest import processes_of
from kube9_desktop.ui.shell_command import shell_argv, shell_command
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
)
from tests.helpers import assert_invariants, wait_for
from tests.integration.conftest import EngineFactory
from tests.procs import (
    alive,
    environ_of,
    marker,
    pids_with,
    sleeper_pod,
    wait_sync,
)

FAST = {"heartbeat_interval": 0.25, "grace_period": 1.5, "recovery_backoff": 0.2}
RUNTIMES = ["process", pytest.param("docker", marks=pytest.mark.docker)]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test runs on both real runtimes; Docker gets its own cluster, removed after."""
    name: str = request.param
    if name != "docker":
        yield name
        return
    client = connect_or_skip()
    ensure_offline_base(client)
    remove_clusters(client, leftover)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    request.node.kube9_cluster = cluster
    try:
        yield name
    finally:
        running = client.containers.list(filters={"label": f"kube9.cluster={cluster}"})
        remove_clusters(client, lambda c: c == cluster)
        client.close()
        assert running == [], "node containers still running after the engine stopped"


@pytest.fixture
async def real_engine(
    runtime: str, make_engine: EngineFactory, request: pytest.FixtureRequest
) -> Engine:
    extra = {"cluster_name": request.node.kube9_cluster} if runtime == "docker" else {}
    return await make_engine(runtime=runtime, **FAST, **extra)


async def nodes(engine: Engine, *names: str, cpu: float = 2) -> dict[str, int]:
    ids = {}
    for name in names:
        created = await engine.create_node_from_json({"name": name, "cpu_cores_avail": cpu})
        ids[name] = created.view.id
    await wait_for(
        lambda: all(status(engine, i) is NodeStatus.HEALTHY for i in ids.values()),
        timeout=30,
        what="agents heartbeating",
    )
    return ids


def node_storage_exists(engine: Engine, node_id: int, name: str) -> bool:
    """The node's disk: a work directory (process) or a named volume (Docker)."""
    if engine.runtime.name == "process":
        return any(Path(engine.settings.data_dir, "nodes").glob(f"{node_id}-{name}"))
    client = connect_or_skip()
    try:
        return any(v.name.endswith(f"-{name}-work") for v in client.volumes.list())
    finally:
        client.close()


def agent_logs(engine: Engine) -> bytes:
    """Everything the agents wrote: files in the data dir, or container output and log files."""
    if engine.runtime.name == "process":
        return b"".join(p.read_bytes() for p in engine.settings.data_dir.rglob("*.log"))
    client = connect_or_skip()
    try:
        out = b""
        mine = {"label": f"kube9.cluster={engine.settings.cluster_name}"}
        for c in client.containers.list(filters=mine):
            out += c.logs()
            out += c.exec_run(["sh", "-c", "cat /var/lib/kube9/*.log"]).output
        return out
    finally:
        client.close()


def status(engine: Engine, node_id: int) -> NodeStatus:
    return engine.cluster.state.nodes[node_id].status


async def test_pod_runs_as_a_process_with_only_its_env(real_engine: Engine) -> None:
    engine = real_engine
    await nodes(engine, "w1")
    mark = marker()
    created = await engine.create_pod_from_json(sleeper_pod("p", mark, config=[
        {"name": "mode", "type": "env", "key": "MODE", "value": "batch"},
        {"name": "key", "type": "secret", "key": "API_KEY", "value": "canary-7f3a"},
    ]))  # fmt: skip
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod process")
    env = environ_of(pids_with(mark)[0])
    assert env["MODE"] == "batch" and env["API_KEY"] == "canary-7f3a"
    assert not any(k.startswith("KUBE9_") for k in env), "the agent's env leaked into the pod"
    pod = engine.cluster.state.pods[created.view.id]
    await wait_for(lambda: pod.phase is PodPhase.RUNNING, what="running reported")
    # The agent never logs the secret.
    assert b"canary-7f3a" not in agent_logs(engine)
    await engine.delete_pod(created.view.id)
    await wait_for(lambda: pids_with(mark) == [], timeout=20, what="pod process stopped")


async def test_node_kill_leaves_no_orphans_and_node_delete_removes_everything(
    real_engine: Engine,
) -> None:
    engine = real_engine
    ids = await nodes(engine, "w1", "w2")
    marks = [marker() for _ in range(3)]
    for i, mark in enumerate(marks):
        await engine.create_pod_from_json(sleeper_pod(f"p{i}", mark))
    await wait_for(lambda: all(len(pids_with(m)) == 1 for m in marks), timeout=20, what="pods up")
    victim = engine.cluster.state.pods[1].node_id
    assert victim is not None
    on_victim = [
        m for i, m in enumerate(marks) if engine.cluster.state.pods[i + 1].node_id == victim
    ]
    old_pids = [pids_with(m)[0] for m in on_victim]
    await engine.runtime.kill(victim)
    assert await engine.runtime.status(victim) is RuntimeState.EXITED
    await wait_for(lambda: not any(alive(p) for p in old_pids), what="pods died with the node")
    # The engine notices, moves the pods (new processes elsewhere) and restarts the node.
    await wait_for(
        lambda: (
            status(engine, victim) is NodeStatus.HEALTHY
            and all(len(pids_with(m)) == 1 for m in marks)
        ),
        timeout=30,
        what="pods moved, node back",
    )
    assert_invariants(engine)
    other = next(i for i in ids.values() if i != victim)
    other_name = engine.cluster.state.nodes[other].name
    assert node_storage_exists(engine, other, other_name)
    await engine.delete_node(other, force=True)
    assert await engine.runtime.status(other) is RuntimeState.MISSING
    assert not node_storage_exists(engine, other, other_name)
    await wait_for(lambda: all(len(pids_with(m)) == 1 for m in marks), timeout=30,
                   what="pods rescheduled off the deleted node")  # fmt: skip


async def test_pause_is_reported_and_hang_is_recovered_without_orphans(
    real_engine: Engine,
) -> None:
    engine = real_engine
    ids = await nodes(engine, "w1", "w2")
    mark = marker()
    created = await engine.create_pod_from_json(sleeper_pod("p", mark))
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod up")
    holder = created.view.node_id
    assert holder is not None
    first = pids_with(mark)[0]
    await engine.inject_fault(holder, "hang")
    assert await engine.runtime.status(holder) is RuntimeState.PAUSED
    await wait_for(
        lambda: status(engine, holder) is not NodeStatus.HEALTHY, timeout=20, what="detected"
    )
    await wait_for(
        lambda: status(engine, holder) is NodeStatus.HEALTHY, timeout=30, what="restarted"
    )
    await wait_for(lambda: not alive(first), what="frozen pod process gone")
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="exactly one copy")
    other = next(i for i in ids.values() if i != holder)
    assert engine.cluster.state.pods[created.view.id].node_id == other
    assert_invariants(engine)


async def test_partition_second_copy_then_exactly_one(real_engine: Engine) -> None:
    engine = real_engine
    await nodes(engine, "w1", "w2")
    mark = marker()
    created = await engine.create_pod_from_json(sleeper_pod("p", mark))
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod up")
    holder = created.view.node_id
    assert holder is not None
    await engine.inject_fault(holder, "partition", duration_s=4)
    # Split brain: the cut-off node keeps its copy while the engine starts another elsewhere.
    await wait_for(lambda: len(pids_with(mark)) == 2, timeout=20, what="second copy")
    await wait_for(lambda: status(engine, holder) is NodeStatus.HEALTHY, timeout=30, what="healed")
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="one copy after heal")
    assert engine.cluster.state.pods[created.view.id].node_id != holder
    assert_invariants(engine)


async def test_exiting_container_restarts_with_backoff_and_counts(
    real_engine: Engine,
) -> None:
    engine = real_engine
    await nodes(engine, "w1")
    created = await engine.create_pod_from_json({
        "name": "flaky", "cpu_cores_req": 0.5,
        "containers": [{"name": "main", "image": "python:3", "command": "python3",
                        "args": ["-c", "import sys; sys.exit(3)"]}],
    })  # fmt: skip
    pod = engine.cluster.state.pods[created.view.id]
    await wait_for(lambda: "main" in pod.containers and pod.containers["main"].restarts >= 2,
                   timeout=30, what="restarts reported")  # fmt: skip
    assert pod.containers["main"].exit_code == 3


async def test_killed_pod_process_is_restarted_and_counted(real_engine: Engine) -> None:
    engine = real_engine
    await nodes(engine, "w1")
    mark = marker()
    created = await engine.create_pod_from_json(sleeper_pod("p", mark))
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod up")
    first = pids_with(mark)[0]
    await engine.kill_pod(created.view.id)
    await wait_for(lambda: not alive(first), timeout=20, what="process killed")
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="restarted")
    pod = engine.cluster.state.pods[created.view.id]
    await wait_for(lambda: pod.containers["main"].restarts == 1, timeout=20, what="count")
    assert pod.containers["main"].exit_code == 137
    from kube9_desktop.engine.api.serialize import pod_health_json

    health = pod_health_json(engine.cluster.state.pod_view(pod))
    assert health["containers"][0]["restarts"] == 1


@pytest.fixture(autouse=True)
def _no_orphans_after_the_engine_stops(tmp_path: Path) -> Iterator[None]:
    """Torn down after the engine: no agent or pod process of this test may survive it."""
    yield
    wait_sync(lambda: processes_of(tmp_path) == [], what="no leftover processes")


async def test_crash_loop_reports_exit_code_reason_and_growing_back_off(
    real_engine: Engine,
) -> None:
    """A container that exits 1 over and over: CrashLoopBackOff, Error, exit 1, and a back-off
    that doubles, all through the real agent and engine (the API's pod JSON says so too)."""
    from kube9_desktop.engine.api.serialize import pod_json

    engine = real_engine
    await nodes(engine, "w1")
    created = await engine.create_pod_from_json({
        "name": "crasher", "cpu_cores_req": 0.5,
        "containers": [{"name": "main", "image": "python:3", "command": "python3",
                        "args": ["-c", "import sys; sys.exit(1)"]}],
    })  # fmt: skip
    pod = engine.cluster.state.pods[created.view.id]
    seen: list[float] = []

    def backing_off_longer() -> bool:
        status = pod.containers.get("main")
        if status is not None and status.backoff_s is not None and status.backoff_s not in seen:
            seen.append(status.backoff_s)
        return len(seen) >= 2

    await wait_for(backing_off_longer, timeout=30, what="two back-offs reported")
    assert seen[1] > seen[0] > 0
    await wait_for(lambda: pod.containers["main"].crashing, timeout=30, what="crash loop")
    body = pod_json(engine.cluster.state.pod_view(pod))
    container = body["containers"][0]
    assert body["reason"] == "CrashLoopBackOff"
    assert container["reason"] == "CrashLoopBackOff"
    assert (container["last_reason"], container["exit_code"]) == ("Error", 1)
    assert container["restarts"] >= 1
    assert container["backoff_s"] is not None and container["backoff_s"] >= seen[0]
    assert container["next_restart_at"] is not None
    assert body["health_status"] in ("running", "scheduled")  # a crash loop is not a failure


async def test_container_exiting_zero_is_completed_and_restarted(real_engine: Engine) -> None:
    """restartPolicy Always, as Kubernetes' default: exit 0 reads Completed and is restarted."""
    engine = real_engine
    await nodes(engine, "w1")
    created = await engine.create_pod_from_json({
        "name": "oneshot", "cpu_cores_req": 0.5,
        "containers": [{"name": "main", "image": "python:3", "command": "python3",
                        "args": ["-c", "print('done')"]}],
    })  # fmt: skip
    pod = engine.cluster.state.pods[created.view.id]
    await wait_for(
        lambda: "main" in pod.containers and pod.containers["main"].last_reason == "Completed",
        timeout=30,
        what="Completed reported",
    )
    assert pod.containers["main"].exit_code == 0
    await wait_for(lambda: pod.containers["main"].restarts >= 1, timeout=30, what="restarted")


async def test_the_shell_command_runs_where_the_pod_runs_with_its_environment(
    real_engine: Engine,
) -> None:
    """Open a Shell's command, run for real (without a terminal: ``-i``, not ``-it``): on
    either runtime the shell starts in the pod's own working directory with the pod's own
    environment, less its secret, and the node's shell in the node's work directory."""
    engine = real_engine
    ids = await nodes(engine, "w1")
    mark = marker()
    created = await engine.create_pod_from_json(sleeper_pod("p", mark, config=[
        {"name": "mode", "type": "env", "key": "MODE", "value": "batch run"},
        {"name": "key", "type": "secret", "key": "API_KEY", "value": "canary-5e1b"},
    ]))  # fmt: skip
    await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod process")
    pid = pids_with(mark)[0]
    pod_env = environ_of(pid)

    def run(argv: list[str], script: str) -> list[str]:
        argv = ["-i" if a == "-it" else a for a in argv]  # no terminal in a test
        done = subprocess.run([*argv, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    place = engine.pod_shell(created.view.id)
    assert "canary-5e1b" not in shell_command(place) and place.secrets_left_out == ("API_KEY",)
    cwd, *env_lines = await asyncio.to_thread(run, shell_argv(place), "pwd; env")
    assert cwd == os.readlink(f"/proc/{pid}/cwd")  # as the pod process sees it
    env = dict(line.split("=", 1) for line in env_lines)
    env.pop("PWD")  # the shell's own
    assert env == {k: v for k, v in pod_env.items() if k != "API_KEY"}
    node_place = engine.node_shell(ids["w1"])
    (node_cwd,) = await asyncio.to_thread(run, shell_argv(node_place), "pwd")
    assert node_cwd == node_place.directory
