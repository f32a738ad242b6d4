"""The agent as a real process: heartbeats, pods, outages, deletion, signals, no leaked secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.agent.helpers import (
    NODE_ID,
    SECRET,
    TOKEN,
    AgentProcess,
    FakeEngine,
    container,
    pid_alive,
    pod,
    sleeper,
    wait_for,
)

StartAgent = Callable[..., AgentProcess]
SECRET_ENV = [
    {"name": "ENV_TYPE", "value": "production", "secret": False},
    {"name": "API_KEY", "value": SECRET, "secret": True},
]


def running_pid(fake_engine: FakeEngine, pod_id: int, name: str) -> int:
    """Wait until the engine hears that the container runs; return its reported pid."""

    def pid() -> int | None:
        entry = fake_engine.container_report(pod_id, name)
        return entry["pid"] if entry and entry["state"] == "running" else None

    return int(wait_for(pid, what=f"container {name} of pod {pod_id} running"))


def test_heartbeats_carry_node_id_token_and_sequence(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    start_agent()
    wait_for(lambda: len(fake_engine.reports()) >= 3, what="three heartbeats")
    request = fake_engine.requests[0]
    assert request.path == f"/nodes/{NODE_ID}/heartbeat"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    seqs = [r["agent"]["seq"] for r in fake_engine.reports()]
    assert seqs == sorted(seqs)
    assert seqs[0] == 1


def test_pods_run_with_their_own_environment_and_literal_args(
    fake_engine: FakeEngine, start_agent: StartAgent, work_dir: Path
) -> None:
    dump = "import json, sys; open('argv.json', 'w').write(json.dumps(sys.argv[1:]))"
    fake_engine.set_desired(
        pod(
            3,
            "web-app",
            container("env", ["env"]),
            container("argv", [sys.executable, "-c", dump], ["$HOME; rm -rf /", "*"]),
            env=SECRET_ENV,
            volumes=[{"name": "data-volume", "type": "emptyDir", "size": 1, "path": "/data"}],
            ip="127.244.0.9",
            namespace="shop",
        )
    )
    start_agent()
    pod_dir = work_dir / "pods" / "3-web-app"
    log = pod_dir / "logs" / "env.log"
    wait_for(lambda: log.exists() and "API_KEY" in log.read_text(), what="env output")
    variables = dict(line.split("=", 1) for line in log.read_text().splitlines() if "=" in line)
    assert set(variables) == {
        "PATH", "HOME", "ENV_TYPE", "API_KEY", "POD_NAME", "POD_NAMESPACE", "POD_IP"
    }  # fmt: skip
    assert variables["HOME"] == str(pod_dir)
    assert (variables["POD_NAME"], variables["POD_NAMESPACE"], variables["POD_IP"]) == (
        "web-app", "shop", "127.244.0.9"
    )  # fmt: skip
    assert TOKEN not in log.read_text()
    argv = pod_dir / "argv.json"
    wait_for(lambda: argv.exists() and argv.read_text(), what="argv.json")
    assert json.loads(argv.read_text()) == ["$HOME; rm -rf /", "*"]
    assert (pod_dir / "volumes" / "data-volume").is_dir()


def test_kill_request_is_restarted_and_counted(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    start_agent()
    old = running_pid(fake_engine, 3, "web")
    fake_engine.kill(3, "web")
    wait_for(lambda: running_pid(fake_engine, 3, "web") != old, what="restarted container")
    entry = fake_engine.container_report(3, "web")
    assert entry is not None
    assert (entry["restarts"], entry["exit_code"]) == (1, 137)
    assert not pid_alive(old)


def test_exec_failure_is_reported_as_waiting(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    fake_engine.set_desired(pod(3, "web", container("bad", ["/no/such/program"])))
    start_agent()

    def failed() -> bool:
        return (fake_engine.pod_report(3) or {}).get("phase") == "failed"

    wait_for(failed, what="failed pod")
    entry = fake_engine.container_report(3, "bad")
    assert entry is not None
    assert (entry["state"], entry["exit_code"]) == ("waiting", 127)
    assert "StartError" in entry["reason"]


def test_unreachable_engine_keeps_pods_running_and_agent_retries(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    agent = start_agent()
    pid = running_pid(fake_engine, 3, "web")
    port = fake_engine.port
    fake_engine.close()
    wait_for(lambda: "engine unreachable" in agent.logs(), what="outage noticed")
    assert pid_alive(pid)
    assert agent.process.poll() is None
    back = FakeEngine(port=port)
    try:
        back.generation = fake_engine.generation
        back.desired = fake_engine.desired
        assert running_pid(back, 3, "web") == pid
        wait_for(lambda: "engine answers again" in agent.logs(), what="recovery logged")
    finally:
        back.close()


def test_deleted_node_stops_pods_and_exits_0(
    fake_engine: FakeEngine, start_agent: StartAgent, work_dir: Path
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    agent = start_agent()
    pid = running_pid(fake_engine, 3, "web")
    fake_engine.script(404, {"error": "Node 7 not found", "should_stop_heartbeat": True})
    assert agent.wait() == 0
    assert not pid_alive(pid)
    assert not (work_dir / "pods" / "3-web").exists()


def test_sigterm_stops_pods_gracefully_and_exits_0(
    fake_engine: FakeEngine, start_agent: StartAgent, work_dir: Path
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web"), sleeper("side")))
    agent = start_agent()
    pids = [running_pid(fake_engine, 3, "web"), running_pid(fake_engine, 3, "side")]
    agent.process.send_signal(signal.SIGTERM)
    assert agent.wait() == 0
    assert not any(pid_alive(pid) for pid in pids)
    assert "agent stopped" in agent.logs()


def test_sigkilled_agent_leaves_no_orphans(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    agent = start_agent()
    pid = running_pid(fake_engine, 3, "web")
    os.kill(agent.pid, signal.SIGKILL)
    agent.wait()
    wait_for(lambda: not pid_alive(pid), what="pod process killed by PR_SET_PDEATHSIG")


def test_secrets_and_env_values_never_reach_the_logs(
    fake_engine: FakeEngine, start_agent: StartAgent
) -> None:
    bad_pods: list[dict[str, Any]] = [
        pod(4, "bad", sleeper(), env=[{"name": "X=Y", "value": SECRET, "secret": True}]),
        pod(5, "worse", sleeper(), env=[{"name": "API_KEY", "value": [SECRET]}]),
    ]
    fake_engine.set_desired(pod(3, "web", container("env", ["env"]), env=SECRET_ENV), *bad_pods)
    agent = start_agent()
    wait_for(lambda: "refusing" in agent.logs(), what="refused pods logged")
    fake_engine.script(200, b"{" + SECRET.encode())
    fake_engine.script(500, {"detail": SECRET})
    fake_engine.kill(3, "env")
    wait_for(
        lambda: (fake_engine.container_report(3, "env") or {}).get("restarts", 0) >= 2,
        what="restarts",
    )
    agent.process.send_signal(signal.SIGTERM)
    assert agent.wait() == 0
    logs = agent.logs()
    assert "agent stopped" in logs
    assert SECRET not in logs
    assert "production" not in logs
    assert TOKEN not in logs


def test_missing_configuration_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kube9_desktop.agent"],
        env={"PATH": os.environ.get("PATH", ""), "KUBE9_NODE_ID": "7"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "KUBE9_NODE_TOKEN is required" in result.stderr
