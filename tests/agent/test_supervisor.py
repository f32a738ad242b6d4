"""Pod and container supervision with real processes: start, stop, restart, back-off, kill."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent import processes
from kube9_desktop.agent.containers import ContainerState, RestartPolicy, SupervisedContainer
from kube9_desktop.agent.pods import PodSupervisor
from kube9_desktop.agent.processes import descendants
from kube9_desktop.agent.spec import ContainerSpec, PodSpec, parse_pod
from tests.agent.helpers import SECRET, TOKEN, container, pid_alive, pod, sleeper, wait_for

FAST = RestartPolicy(base_s=0.05, cap_s=0.2, reset_after_s=60.0)
IGNORE_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(1000)"
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def supervisor(work_dir: Path) -> Iterator[PodSupervisor]:
    sup = PodSupervisor(work_dir, policy=FAST, stop_grace_s=0.5)
    yield sup
    sup.stop_all()


def spec(
    *containers: dict[str, Any],
    pod_id: int = 3,
    name: str = "web",
    env: list[dict[str, Any]] | None = None,
    volumes: list[dict[str, Any]] | None = None,
) -> PodSpec:
    return parse_pod(pod(pod_id, name, *containers, env=env, volumes=volumes))


def running_pid(sup: PodSupervisor, pod_id: int, name: str) -> int:
    """Tick until the container runs; return its pid."""

    def pid() -> int | None:
        sup.tick()
        c = sup.active[pod_id].containers[name]
        return c.process.pid if c.alive and c.process is not None else None

    return int(wait_for(pid, what=f"container {name} running"))


def tick_until(sup: PodSupervisor, predicate: Callable[[], Any], what: str) -> None:
    def ticked() -> Any:
        sup.tick()
        return predicate()

    wait_for(ticked, what=what)


def test_reconcile_starts_pod_with_directory_volumes_and_log(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    supervisor.reconcile(
        [
            spec(
                container("web", ["/bin/sh", "-c", "echo hello; exec sleep 1000"]),
                volumes=[{"name": "data-volume", "type": "emptyDir", "path": "/data"}],
            )
        ]
    )
    pid = running_pid(supervisor, 3, "web")
    pod_dir = work_dir / "pods" / "3-web"
    assert (pod_dir / "volumes" / "data-volume").is_dir()
    assert Path(f"/proc/{pid}/cwd").resolve() == pod_dir.resolve()
    wait_for(lambda: "hello" in (pod_dir / "logs" / "web.log").read_text(), what="log line")
    assert supervisor.report() == [
        {
            "id": 3,
            "phase": "running",
            "containers": [
                {
                    "name": "web",
                    "state": "running",
                    "exit_code": None,
                    "restarts": 0,
                    "pid": pid,
                    "ready": True,
                }
            ],
        }
    ]
    assert supervisor.pod_ids() == [3]


def test_pod_processes_share_the_agent_process_group(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(sleeper())])
    pid = running_pid(supervisor, 3, "main")
    assert os.getpgid(pid) == os.getpgid(0)
    assert os.getsid(pid) == os.getsid(0)


def test_placeholder_runs_under_the_image_name(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec({"name": "web", "image": "nginx:latest"})])
    pid = running_pid(supervisor, 3, "web")
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert argv[0] == b"nginx:latest"


def test_arguments_arrive_literally_without_a_shell(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    dump = "import json, sys; open('argv.json', 'w').write(json.dumps(sys.argv[1:]))"
    tricky = ["$HOME; rm -rf /", "*", "`id`", "a b"]
    supervisor.reconcile([spec(container("py", [sys.executable, "-c", dump], tricky))])
    out = work_dir / "pods" / "3-web" / "argv.json"
    tick_until(supervisor, out.exists, "argv.json")
    wait_for(lambda: out.read_text() and json.loads(out.read_text()) == tricky, what="argv")


def test_string_args_are_split_like_a_shell(supervisor: PodSupervisor, work_dir: Path) -> None:
    supervisor.reconcile([spec(container("sh", ["/bin/sh"], "-c 'echo split ok > out.txt'"))])
    out = work_dir / "pods" / "3-web" / "out.txt"
    tick_until(supervisor, lambda: out.exists() and out.read_text() == "split ok\n", "out.txt")


def test_pod_sees_only_its_own_environment(
    supervisor: PodSupervisor, work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBE9_NODE_TOKEN", TOKEN)
    env = [
        {"name": "ENV_TYPE", "value": "production", "secret": False},
        {"name": "API_KEY", "value": SECRET, "secret": True},
    ]
    supervisor.reconcile([spec(container("env", ["env"]), env=env)])
    log = work_dir / "pods" / "3-web" / "logs" / "env.log"
    tick_until(supervisor, lambda: log.exists() and "API_KEY" in log.read_text(), "env output")
    seen = dict(line.split("=", 1) for line in log.read_text().splitlines() if "=" in line)
    assert seen == {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(work_dir / "pods" / "3-web"),
        "POD_NAME": "web",
        "POD_NAMESPACE": "default",
        "ENV_TYPE": "production",
        "API_KEY": SECRET,
    }


def test_removed_pod_is_stopped_and_its_directory_deleted(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    supervisor.reconcile([spec(sleeper()), spec(sleeper(), pod_id=4, name="db")])
    web, db = running_pid(supervisor, 3, "main"), running_pid(supervisor, 4, "main")
    supervisor.reconcile([spec(sleeper(), pod_id=4, name="db")])
    assert supervisor.pod_ids() == [4]
    tick_until(supervisor, lambda: not pid_alive(web) and not supervisor.terminating, "stop")
    assert not (work_dir / "pods" / "3-web").exists()
    assert pid_alive(db)


def test_stop_escalates_to_sigkill_after_the_grace(
    supervisor: PodSupervisor, work_dir: Path
) -> None:
    supervisor.reconcile([spec(container("stubborn", [sys.executable, "-c", IGNORE_TERM]))])
    pid = running_pid(supervisor, 3, "stubborn")
    log = work_dir / "pods" / "3-web" / "logs" / "stubborn.log"
    wait_for(lambda: "ready" in log.read_text(), what="SIGTERM ignored")
    supervisor.reconcile([])
    tick_until(supervisor, lambda: not pid_alive(pid) and not supervisor.terminating, "kill")


def test_stop_kills_the_container_process_tree(supervisor: PodSupervisor) -> None:
    script = "sleep 1000 & sleep 1000 & wait"
    supervisor.reconcile([spec(container("tree", ["/bin/sh", "-c", script]))])
    pid = running_pid(supervisor, 3, "tree")
    children = wait_for(lambda: len(descendants(pid)) == 2 and descendants(pid), what="children")
    supervisor.stop_all()
    assert not pid_alive(pid)
    wait_for(lambda: not any(pid_alive(child.pid) for child in children), what="tree gone")


def test_stopping_many_pods_reads_proc_once(
    supervisor: PodSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One /proc snapshot per reconcile, not one per container (50 ms each at 1,000 pods)."""
    script = "sleep 1000 & wait"
    supervisor.reconcile(
        [
            spec(container("tree", ["/bin/sh", "-c", script]), pod_id=i, name=f"p{i}")
            for i in (3, 4, 5)
        ]
    )
    pids = [running_pid(supervisor, i, "tree") for i in (3, 4, 5)]
    children = wait_for(
        lambda: (
            all(len(descendants(pid)) == 1 for pid in pids)
            and [c for pid in pids for c in descendants(pid)]
        ),
        what="children",
    )
    scans: list[int] = []
    real = processes._all_stats

    def counted() -> Iterator[processes.ProcStat]:
        scans.append(1)
        return iter(list(real()))

    monkeypatch.setattr(processes, "_all_stats", counted)
    supervisor.reconcile([])
    assert len(scans) == 1
    tick_until(supervisor, lambda: not supervisor.terminating, "pods stopped")
    assert not any(pid_alive(pid) for pid in pids)
    wait_for(lambda: not any(pid_alive(child.pid) for child in children), what="trees gone")


def test_starts_beyond_the_tick_budget_wait_for_the_next_tick(work_dir: Path) -> None:
    """Out of time, a tick starts one process and leaves the rest: a thousand new pods never
    hold the loop (and its heartbeats) for the seconds their forks take."""
    sup = PodSupervisor(work_dir, policy=FAST, stop_grace_s=0.5, start_budget_s=0.0)
    try:
        sup.reconcile([spec(sleeper(), pod_id=i, name=f"p{i}") for i in range(1, 5)])

        def running() -> int:
            return sum(c.alive for p in sup.active.values() for c in p.containers.values())

        assert (running(), sup.starts_waiting) == (1, True)
        for expected in (2, 3):
            sup.tick()
            assert (running(), sup.starts_waiting) == (expected, True)
        sup.tick()
        assert (running(), sup.starts_waiting) == (4, False)
    finally:
        sup.stop_all()


def test_changed_spec_restarts_the_pod(supervisor: PodSupervisor, work_dir: Path) -> None:
    supervisor.reconcile([spec(container("main", ["sleep", "1000"]))])
    old = running_pid(supervisor, 3, "main")
    supervisor.reconcile([spec(container("main", ["sleep", "2000"]))])
    new = running_pid(supervisor, 3, "main")
    assert new != old
    tick_until(supervisor, lambda: not pid_alive(old) and not supervisor.terminating, "old gone")
    assert (work_dir / "pods" / "3-web").is_dir()
    assert Path(f"/proc/{new}/cmdline").read_bytes().split(b"\0")[1] == b"2000"


def test_unchanged_spec_keeps_the_process(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(sleeper())])
    pid = running_pid(supervisor, 3, "main")
    supervisor.reconcile([spec(sleeper())])
    assert running_pid(supervisor, 3, "main") == pid


def test_refused_pod_keeps_running(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(sleeper())])
    pid = running_pid(supervisor, 3, "main")
    supervisor.reconcile([], keep_ids={3})
    assert running_pid(supervisor, 3, "main") == pid


def test_crashing_container_restarts_and_reports_exit_code(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(container("crash", ["/bin/sh", "-c", "exit 3"]))])

    def restarted_twice() -> bool:
        supervisor.tick()
        report = supervisor.report()[0]["containers"][0]
        return bool(report["restarts"] >= 2 and report["exit_code"] == 3)

    wait_for(restarted_twice, what="two restarts")
    assert supervisor.report()[0]["phase"] in ("pending", "running")


def test_kill_restarts_the_container_and_counts_it(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(sleeper("web"), sleeper("side"))])
    web, side = running_pid(supervisor, 3, "web"), running_pid(supervisor, 3, "side")
    assert supervisor.kill(3, "web") == ["web"]
    assert supervisor.kill(99, None) == []
    tick_until(supervisor, lambda: supervisor.active[3].containers["web"].restarts == 1, "restart")
    new = running_pid(supervisor, 3, "web")
    assert new != web
    report = {c["name"]: c for c in supervisor.report()[0]["containers"]}
    assert (report["web"]["exit_code"], report["web"]["restarts"]) == (137, 1)
    assert report["side"]["restarts"] == 0
    assert running_pid(supervisor, 3, "side") == side


def test_kill_without_container_kills_the_whole_pod(supervisor: PodSupervisor) -> None:
    supervisor.reconcile([spec(sleeper("a"), sleeper("b"))])
    running_pid(supervisor, 3, "a"), running_pid(supervisor, 3, "b")
    assert sorted(supervisor.kill(3, None)) == ["a", "b"]


@pytest.mark.parametrize(("make_program", "code"), [("missing", 127), ("not-executable", 126)])
def test_exec_failure_is_reported_and_retried(
    supervisor: PodSupervisor, tmp_path: Path, make_program: str, code: int
) -> None:
    program = tmp_path / "program"
    if make_program == "not-executable":
        program.write_text("#!/bin/sh\n")
        program.chmod(0o644)
    supervisor.reconcile([spec(container("bad", [str(program), "--flag"]))])

    def failed_twice() -> bool:
        supervisor.tick()
        return bool(supervisor.active[3].containers["bad"].restarts >= 2)

    wait_for(failed_twice, what="retries")
    report = supervisor.report()[0]
    entry = report["containers"][0]
    assert report["phase"] == "failed"
    assert (entry["state"], entry["exit_code"], entry["pid"]) == ("waiting", code, None)
    assert entry["reason"].startswith("StartError")


def test_stray_pod_directories_are_removed(supervisor: PodSupervisor, work_dir: Path) -> None:
    stale = work_dir / "pods" / "9-old"
    (stale / "volumes" / "data").mkdir(parents=True)
    supervisor.reconcile([spec(sleeper())])
    assert not stale.exists()
    assert (work_dir / "pods" / "3-web").is_dir()


def test_cpu_requested_sums_the_pods(supervisor: PodSupervisor) -> None:
    supervisor.reconcile(
        [spec(container("a", ["sleep", "1000"], cpu_req=0.5), container("b", cpu_req=0.25))]
    )
    assert supervisor.cpu_requested() == pytest.approx(0.75)


def waiting(c: SupervisedContainer) -> bool:
    """Reap an exit, if any; True once the container waits out its back-off."""
    c.poll()
    return c.state is ContainerState.WAITING


def test_back_off_doubles_up_to_the_cap() -> None:
    """Kubernetes' kubelet by default: 10 s doubling to 5 min; a shorter setting likewise."""
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(8)] == [0, 10, 20, 40, 80, 160, 300, 300]
    short = RestartPolicy(base_s=1.0, cap_s=30.0)
    assert [short.delay(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]


def test_restart_waits_out_the_back_off(tmp_path: Path) -> None:
    clock = FakeClock()
    env = {"PATH": "/usr/bin:/bin"}
    c = SupervisedContainer(
        ContainerSpec("c", "img", ("/bin/sh", "-c", "exit 3")),
        tmp_path,
        env,
        RestartPolicy(),
        clock,
    )
    c.start_if_due()
    try:
        for restarts, delay in enumerate([10, 20, 40, 80, 160, 300, 300], start=1):
            wait_for(lambda: waiting(c), what="exit")
            assert (c.exit_code, c.delay_left()) == (3, delay)
            clock.advance(delay - 0.01)
            c.start_if_due()
            assert c.state is ContainerState.WAITING
            clock.advance(0.01)
            c.start_if_due()
            assert c.restarts == restarts
    finally:
        c.force_kill()
        wait_for(c.finished, what="reaped")


def test_back_off_resets_after_a_long_run(tmp_path: Path) -> None:
    clock = FakeClock()
    c = SupervisedContainer(
        ContainerSpec("c", "img", ("sleep", "1000")),
        tmp_path,
        {"PATH": "/usr/bin:/bin"},
        RestartPolicy(),
        clock,
    )
    try:
        for expected in (10, 20):
            c.start_if_due()
            assert c.kill()
            wait_for(lambda: waiting(c), what="killed")
            assert c.delay_left() == expected
            clock.advance(expected)
        c.start_if_due()
        clock.advance(601)  # ten minutes of running: the count starts again
        assert c.kill()
        wait_for(lambda: waiting(c), what="killed")
        assert (c.delay_left(), c.exit_code, c.restarts) == (10, 137, 2)
    finally:
        c.force_kill()
        wait_for(c.finished, what="reaped")


def test_unusable_pod_directory_is_retried_with_back_off(work_dir: Path) -> None:
    (work_dir / "pods").write_text("not a directory")
    clock = FakeClock()
    sup = PodSupervisor(work_dir, clock=clock)
    sup.reconcile([spec(sleeper())])
    for _ in range(5):
        sup.tick()
    entry = sup.report()[0]["containers"][0]
    assert sup.report()[0]["phase"] == "failed"
    assert (entry["state"], entry["exit_code"], entry["restarts"]) == ("waiting", 126, 0)
    assert entry["reason"].startswith("CreateContainerError")
    clock.advance(10.0)  # the first back-off, Kubernetes' 10 s
    sup.tick()
    sup.tick()
    assert sup.report()[0]["containers"][0]["restarts"] == 1


def test_a_pod_s_own_grace_period_holds_off_the_sigkill(work_dir: Path) -> None:
    """The engine sends each pod's termination grace: a stubborn pod gets all of it (30 s here,
    not the agent's 0.5 s), then SIGKILL; a pod with 0 s is killed at the next tick."""
    clock = FakeClock()
    sup = PodSupervisor(work_dir, policy=FAST, clock=clock, stop_grace_s=0.5)
    try:
        stubborn = [sys.executable, "-c", IGNORE_TERM]
        slow = parse_pod(pod(3, "slow", container("c", stubborn), termination_grace_s=30))
        quick = parse_pod(pod(4, "quick", container("c", stubborn), termination_grace_s=0))
        assert slow.grace_s == 30.0 and quick.grace_s == 0.0
        sup.reconcile([slow, quick])
        slow_pid, quick_pid = running_pid(sup, 3, "c"), running_pid(sup, 4, "c")
        for name in ("3-slow", "4-quick"):
            log = work_dir / "pods" / name / "logs" / "c.log"
            wait_for(lambda log=log: "ready" in log.read_text(), what="SIGTERM ignored")
        sup.reconcile([])
        tick_until(sup, lambda: not pid_alive(quick_pid), "the 0 s pod killed")
        clock.advance(5.0)  # past the agent's own grace, well within the pod's
        sup.tick()
        assert pid_alive(slow_pid)
        clock.advance(26.0)
        tick_until(sup, lambda: not pid_alive(slow_pid) and not sup.terminating, "killed")
    finally:
        sup.stop_all()


@pytest.mark.parametrize("grace", [-1, 3601, "30", True, float("nan")])
def test_a_bad_grace_period_is_refused(grace: Any) -> None:
    from kube9_desktop.agent.spec import SpecError

    with pytest.raises(SpecError, match="termination_grace_s must be a number of seconds"):
        parse_pod(pod(3, "p", container("c"), termination_grace_s=grace))
