"""Probes of real containers under the supervisor: readiness in the report, liveness restarts,
$(VAR) in argv. Periods are short (0.1 s) and every wait is on a condition."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent.containers import RestartPolicy
from kube9_desktop.agent.pods import PodSupervisor
from kube9_desktop.agent.spec import parse_pod
from tests.agent.helpers import container, pid_alive, pod, sleeper, wait_for

FAST = RestartPolicy(base_s=0.05, cap_s=0.2, reset_after_s=60.0)
IP = "127.244.9.9"
IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)"


@pytest.fixture
def supervisor(work_dir: Path) -> Iterator[PodSupervisor]:
    sup = PodSupervisor(work_dir, policy=FAST, stop_grace_s=0.5)
    yield sup
    sup.stop_all()


def file_probe(name: str, **timing: Any) -> dict[str, Any]:
    """An exec probe that passes while ``name`` exists in the pod's directory."""
    return {"exec": {"command": ["test", "-f", name]}, "period_s": 0.1, "timeout_s": 1, **timing}


def entry(sup: PodSupervisor, name: str = "main") -> dict[str, Any]:
    """Tick once and give the container's report entry."""
    sup.tick()
    report = sup.report()[0]
    return next(c for c in report["containers"] if c["name"] == name)


def tick_until_entry(sup: PodSupervisor, what: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = entry(sup)
        return found if all(found.get(k) == v for k, v in expected.items()) else None

    return dict(wait_for(matches, what=what))


def test_readiness_follows_the_probe_and_says_why(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    flag = work_dir / "pods" / "3-web" / f"{IP}.ok"
    probe = file_probe("$(POD_IP).ok", failure_threshold=2)
    supervisor.reconcile([parse_pod(pod(3, "web", sleeper() | {"readiness": probe}, ip=IP))])
    first = tick_until_entry(supervisor, "running", state="running")
    assert first["ready"] is False  # not ready until a probe passes
    exited = "Readiness probe failed: command exited with code 1"
    failed = tick_until_entry(supervisor, "a failed attempt", reason=exited)
    assert failed["ready"] is False and failed["state"] == "running"
    flag.touch()
    tick_until_entry(supervisor, "ready", ready=True)
    assert "reason" not in entry(supervisor)
    flag.unlink()
    not_ready = tick_until_entry(supervisor, "not ready again", ready=False)
    assert not_ready["reason"] == exited  # test -f prints nothing: the exit code says it
    assert not_ready["restarts"] == 0 and supervisor.report()[0]["phase"] == "running"


def test_a_container_without_readiness_probe_is_ready_while_it_runs(
    supervisor: PodSupervisor,
) -> None:
    supervisor.reconcile([parse_pod(pod(3, "web", container("main", ["sh", "-c", "exit 1"])))])
    waiting = tick_until_entry(supervisor, "crashed", state="waiting")
    assert waiting["ready"] is False
    supervisor.reconcile([parse_pod(pod(4, "other", sleeper()))])
    supervisor.reconcile([parse_pod(pod(3, "web", sleeper()))])
    assert tick_until_entry(supervisor, "running", state="running")["ready"] is True


def test_failed_liveness_restarts_the_container_through_the_back_off(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    flag = work_dir / "pods" / "3-web" / "alive"
    main = sleeper() | {"liveness": file_probe("alive", failure_threshold=2)}
    supervisor.reconcile([parse_pod(pod(3, "web", main))])
    first = tick_until_entry(supervisor, "running", state="running")
    flag.touch()
    assert first["ready"] is True  # liveness does not gate readiness
    old = first["pid"]
    flag.unlink()
    waiting = tick_until_entry(supervisor, "liveness restart", state="waiting")
    assert waiting["reason"] == "Liveness probe failed: command exited with code 1"
    assert waiting["exit_code"] == 143  # SIGTERM: stopped like a pod stop, not crashed
    assert not pid_alive(old)
    flag.touch()
    again = tick_until_entry(supervisor, "restarted", state="running", restarts=1)
    assert again["pid"] != old and again["ready"] is True
    assert "reason" not in again


def test_liveness_stop_escalates_to_sigkill_after_the_grace(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    trapping = IGNORE_TERM.replace("time.sleep", "open('trapped', 'w'); time.sleep")
    # The probe fails once the process ignores SIGTERM (it says so with a file).
    main = container("main", [sys.executable, "-c", trapping]) | {
        "liveness": {"exec": {"command": ["sh", "-c", "! test -f trapped"]}, "period_s": 0.1,
                     "failure_threshold": 1}
    }  # fmt: skip
    supervisor.reconcile([parse_pod(pod(3, "web", main))])
    running = tick_until_entry(supervisor, "running", state="running")
    stopping = tick_until_entry(supervisor, "liveness stop begun", ready=False)
    assert stopping["state"] == "running"  # SIGTERM ignored: still running for the grace
    assert stopping["reason"] == "Liveness probe failed: command exited with code 1"
    waiting = tick_until_entry(supervisor, "killed after the grace", state="waiting")
    assert waiting["exit_code"] == 137 and not pid_alive(running["pid"])


def test_argv_expands_pod_variables_like_kubernetes(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    dump = "import json, sys; open('argv.json', 'w').write(json.dumps(sys.argv[1:]))"
    args = [
        "$(POD_IP)",
        "$$(POD_IP)",
        "$(NOPE)",
        "$(POD_NAMESPACE)/$(POD_NAME)",
        "$(MODE)",
        "$HOME",
    ]
    env = [{"name": "MODE", "value": "batch"}]
    main = container("main", [sys.executable, "-c", dump], args)
    supervisor.reconcile([parse_pod(pod(3, "web", main, env=env, ip=IP, namespace="shop"))])
    out = work_dir / "pods" / "3-web" / "argv.json"

    def written() -> Any:
        supervisor.tick()
        return out.exists() and out.read_text() and json.loads(out.read_text())

    assert wait_for(written, what="argv.json") == [
        IP, "$(POD_IP)", "$(NOPE)", "shop/web", "batch", "$HOME"
    ]  # fmt: skip


def test_stopping_a_pod_cancels_its_probe_processes(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    pids = work_dir / "probe-pids"
    slow = {"exec": {"command": ["sh", "-c", f"echo $$$$ >> {pids}; sleep 30"]},
            "period_s": 0.1, "timeout_s": 60}  # fmt: skip
    supervisor.reconcile([parse_pod(pod(3, "web", sleeper() | {"readiness": slow}))])

    def probe_pid() -> int | None:
        supervisor.tick()
        return int(pids.read_text().split()[0]) if pids.exists() and pids.read_text() else None

    pid = int(wait_for(probe_pid, what="probe running"))
    supervisor.reconcile([])
    wait_for(lambda: not pid_alive(pid), what="probe killed with its pod")
    assert len(pids.read_text().split()) == 1  # one at a time: never two attempts at once
