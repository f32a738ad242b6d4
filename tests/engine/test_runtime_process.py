"""ProcessRuntime: real agent processes heartbeating to a recording engine; no orphans left."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.runtime.base import NodeLaunch, RuntimeState
from kube9_desktop.engine.runtime.process import (
    ProcessRuntime,
    agent_command,
    agent_environment,
)
from tests.agent.helpers import INTERVAL, FakeEngine, pid_alive, pod

TOKEN = "node-7-token"
PLACEHOLDER_POD = pod(3, "web", {"name": "web", "image": "nginx:latest", "command": []})


async def eventually(predicate: Callable[[], Any], what: str, within_s: float = 15.0) -> Any:
    """Poll without blocking the loop until ``predicate`` is truthy; fail after ``within_s``."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not (value := predicate()):
        if asyncio.get_running_loop().time() >= deadline:
            pytest.fail(f"timed out after {within_s}s waiting for {what}")
        await asyncio.sleep(0.02)
    return value


def proc_state(pid: int) -> str | None:
    """The /proc state letter of ``pid``; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()[0]


def environ_names(pid: int) -> set[str]:
    """Names of the environment variables ``pid`` was started with."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return {item.split(b"=", 1)[0].decode() for item in environ if item}


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def pod_pid(recorder: FakeEngine) -> int | None:
    """The pid of the placeholder pod container, once an agent reports it running."""
    for report in reversed(recorder.reports()):
        for reported in report.get("pods", []):
            for container in reported["containers"]:
                if container["state"] == "running" and container.get("pid"):
                    return int(container["pid"])
    return None


@pytest.fixture
def recorder() -> Iterator[FakeEngine]:
    """An engine that records heartbeats and hands every node one placeholder pod."""
    engine = FakeEngine()
    engine.set_desired(PLACEHOLDER_POD)
    yield engine
    engine.close()


@pytest.fixture
def launch(recorder: FakeEngine) -> NodeLaunch:
    return NodeLaunch(
        node_id=7,
        name="worker-1",
        node_type="worker",
        cpu_m=2000,
        mem_mi=4096,
        token=TOKEN,
        api_url=recorder.url,
        heartbeat_interval=INTERVAL,
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    process_runtime = ProcessRuntime(tmp_path / "data")
    yield process_runtime
    await process_runtime.close()


async def started(runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine) -> int:
    """Start the node, wait until its pod runs; return the agent's pid."""
    handle = await runtime.start(launch)
    await eventually(lambda: pod_pid(recorder), "the pod to run")
    return int(handle.handle)


async def test_start_runs_an_agent_that_heartbeats(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine, tmp_path: Path
) -> None:
    handle = await runtime.start(launch)
    assert (handle.node_id, handle.name) == (7, "worker-1")
    assert runtime.pid(7) == int(handle.handle)
    assert await runtime.status(7) is RuntimeState.RUNNING
    await eventually(lambda: len(recorder.requests) >= 2, "heartbeats")
    first = recorder.requests[0]
    assert first.path == "/nodes/7/heartbeat"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.report["agent"]["seq"] == 1
    work_dir = tmp_path / "data" / "nodes" / "7-worker-1"
    assert handle.detail["work_dir"] == str(work_dir)
    assert (work_dir / "agent.log").is_file()


async def test_agent_gets_a_minimal_environment_and_its_own_session(
    runtime: ProcessRuntime, launch: NodeLaunch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBE9_API_TOKEN", "admin-token-must-not-leak")
    pid = int((await runtime.start(launch)).handle)
    names = environ_names(pid)
    assert "KUBE9_API_TOKEN" not in names
    assert {"PATH", "HOME", "LANG", "PYTHONPATH", "KUBE9_NODE_TOKEN", "KUBE9_NODE_ID"} <= names
    assert os.getsid(pid) == pid
    assert os.getpgid(pid) == pid


async def test_pause_silences_the_node_and_resume_revives_it(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine
) -> None:
    await started(runtime, launch, recorder)
    pod = pod_pid(recorder)
    assert pod is not None
    await runtime.pause(7)
    assert await runtime.status(7) is RuntimeState.PAUSED
    assert proc_state(pod) in ("T", "t")
    paused_at = len(recorder.requests)
    await asyncio.sleep(5 * INTERVAL)  # observing an absence needs a window of time
    assert len(recorder.requests) <= paused_at + 1
    await runtime.resume(7)
    assert await runtime.status(7) is RuntimeState.RUNNING
    await eventually(lambda: len(recorder.requests) > paused_at + 2, "heartbeats after resume")
    assert pid_alive(pod)


async def test_kill_leaves_no_orphans(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine
) -> None:
    agent = await started(runtime, launch, recorder)
    pod = pod_pid(recorder)
    assert pod is not None
    assert pod in group_members(agent)
    await runtime.kill(7)
    assert await runtime.status(7) is RuntimeState.EXITED
    await eventually(lambda: not pid_alive(pod) and not group_members(agent), "no orphans")


async def test_restart_after_kill_and_while_paused(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine
) -> None:
    first = await started(runtime, launch, recorder)
    await runtime.kill(7)
    second = int((await runtime.restart(launch)).handle)
    assert second != first
    assert await runtime.status(7) is RuntimeState.RUNNING
    await eventually(
        lambda: sum(r["agent"]["seq"] == 1 for r in recorder.reports()) == 2, "a second agent"
    )
    await runtime.pause(7)
    third = int((await runtime.restart(launch)).handle)
    assert third != second
    assert await runtime.status(7) is RuntimeState.RUNNING
    await eventually(lambda: not group_members(second), "the paused group to be gone")
    await eventually(
        lambda: sum(r["agent"]["seq"] == 1 for r in recorder.reports()) == 3, "a third agent"
    )


async def test_stop_is_graceful(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine, tmp_path: Path
) -> None:
    agent = await started(runtime, launch, recorder)
    pod = pod_pid(recorder)
    assert pod is not None
    await runtime.stop(7)
    assert await runtime.status(7) is RuntimeState.EXITED
    assert not pid_alive(pod)
    assert not group_members(agent)
    log = (tmp_path / "data" / "nodes" / "7-worker-1" / "agent.log").read_text()
    assert "pod web (id 3) stopped" in log
    assert "agent stopped" in log


async def test_stop_of_a_paused_node_still_stops_it(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine
) -> None:
    agent = await started(runtime, launch, recorder)
    await runtime.pause(7)
    await runtime.stop(7)
    assert await runtime.status(7) is RuntimeState.EXITED
    assert not group_members(agent)


async def test_remove_deletes_the_work_dir(
    runtime: ProcessRuntime, launch: NodeLaunch, recorder: FakeEngine, tmp_path: Path
) -> None:
    agent = await started(runtime, launch, recorder)
    work_dir = tmp_path / "data" / "nodes" / "7-worker-1"
    assert (work_dir / "pods" / "3-web").is_dir()
    await runtime.remove(7)
    assert not work_dir.exists()
    assert await runtime.status(7) is RuntimeState.MISSING
    assert not group_members(agent)


async def test_unknown_nodes_are_missing_and_harmless(runtime: ProcessRuntime) -> None:
    assert await runtime.status(99) is RuntimeState.MISSING
    for operation in (runtime.kill, runtime.pause, runtime.resume, runtime.stop, runtime.remove):
        await operation(99)
    assert await runtime.discover() == []
    assert runtime.name == "process"


async def test_close_kills_every_agent(
    tmp_path: Path, launch: NodeLaunch, recorder: FakeEngine
) -> None:
    process_runtime = ProcessRuntime(tmp_path / "data")
    first = int((await process_runtime.start(launch)).handle)
    other = NodeLaunch(8, "worker-2", "worker", 1000, 2048, "t8", recorder.url, INTERVAL)
    second = int((await process_runtime.start(other)).handle)
    await process_runtime.close()
    assert not pid_alive(first)
    assert not pid_alive(second)


APP = """
import asyncio, sys
from pathlib import Path
from kube9_desktop.engine.runtime.base import NodeLaunch
from kube9_desktop.engine.runtime.process import ProcessRuntime

async def main():
    runtime = ProcessRuntime(Path(sys.argv[1]))
    launch = NodeLaunch(9, "orphan-check", "worker", 1000, 2048, "t", sys.argv[2], 0.2)
    handle = await runtime.start(launch)
    print(handle.handle, flush=True)
    await asyncio.sleep(1000)

asyncio.run(main())
"""


def spawn_app(data_dir: Path, url: str) -> subprocess.Popen[str]:
    """A stand-in for the app: a Python process whose ProcessRuntime starts one node."""
    return subprocess.Popen(
        [sys.executable, "-c", APP, str(data_dir), url], stdout=subprocess.PIPE, text=True
    )


async def test_agents_die_with_the_app(tmp_path: Path, recorder: FakeEngine) -> None:
    app = spawn_app(tmp_path / "data", recorder.url)
    try:
        assert app.stdout is not None
        line = await asyncio.to_thread(app.stdout.readline)
        agent = int(line)
        await eventually(lambda: pod_pid(recorder), "the app's node to run its pod")
        pod = pod_pid(recorder)
        assert pod is not None
    finally:
        app.kill()
        await asyncio.to_thread(app.wait)
        if app.stdout is not None:
            app.stdout.close()
    await eventually(lambda: not pid_alive(agent) and not pid_alive(pod), "agent and pod to die")


def test_agent_command_and_environment_from_a_checkout(tmp_path: Path) -> None:
    launch = NodeLaunch(7, "w", "worker", 1000, 2048, "tok", "http://127.0.0.1:1", 1.0)
    assert agent_command() == [sys.executable, "-m", "kube9_desktop.agent"]
    env = agent_environment(launch, tmp_path)
    assert Path(env["PYTHONPATH"], "kube9_desktop", "agent", "__main__.py").is_file()
    assert env["KUBE9_WORK_DIR"] == str(tmp_path)
    assert env["KUBE9_NODE_TOKEN"] == "tok"


def test_agent_command_and_environment_when_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/bundle/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/lib/custom")
    launch = NodeLaunch(7, "w", "worker", 1000, 2048, "tok", "http://127.0.0.1:1", 1.0)
    assert agent_command() == [sys.executable, "agent"]
    env = agent_environment(launch, tmp_path)
    assert env["LD_LIBRARY_PATH"] == "/usr/lib/custom"
    assert "PYTHONPATH" not in env
