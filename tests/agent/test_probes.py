"""Probe decisions with a fake clock (tables), then each kind of check against real sockets and
processes."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent.checks import Check, ExecCheck, HttpCheck, Outcome, TcpCheck
from kube9_desktop.agent.probes import (
    ProbeKind,
    ProbeTally,
    ProbeTarget,
    ProbeWorker,
    next_attempt,
    start_check,
)
from kube9_desktop.agent.spec import ProbeSpec
from tests.agent.helpers import pid_alive, wait_for
from tests.helpers import free_port

READY, LIVE = ProbeKind.READINESS, ProbeKind.LIVENESS

# --- counting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "failure", "success", "results", "verdicts"),
    [
        # readiness starts not ready; one success makes it ready (success_threshold 1)
        (READY, 3, 1, "P", "1"),
        (READY, 3, 1, "FP", "01"),  # a failure below the threshold keeps the initial verdict
        (READY, 3, 1, "PFFF", "1110"),  # three failures in a row: not ready
        (READY, 3, 1, "PFFPFF", "111111"),  # a success in between restarts the count
        (READY, 1, 1, "PFP", "101"),
        (READY, 3, 2, "PFPP", "0001"),  # success_threshold 2: two in a row
        (READY, 2, 2, "PPFFPFPP", "01100001"),
        # liveness starts alive
        (LIVE, 3, 1, "FF", "11"),
        (LIVE, 3, 1, "FFF", "110"),  # exactly the threshold: dead
        (LIVE, 1, 1, "F", "0"),
        (LIVE, 2, 1, "FPF", "111"),
    ],
)
def test_tally(kind: ProbeKind, failure: int, success: int, results: str, verdicts: str) -> None:
    tally = ProbeTally(success, failure, kind.initially_passing)
    seen = ""
    for result in results:
        tally.record(result == "P")
        seen += "1" if tally.passing else "0"
    assert seen == verdicts


def test_record_says_when_the_verdict_changed() -> None:
    tally = ProbeTally(1, 2, passing=False)
    assert [tally.record(ok) for ok in (False, True, True, False, False)] == [
        False, True, False, False, True
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("scheduled", "finished", "period", "due"),
    [
        (10.0, 10.1, 0.5, 10.5),  # the grid
        (10.0, 10.5, 0.5, 10.5),  # done exactly at the next slot
        (10.0, 11.2, 0.5, 11.2),  # outlasted the period: the next one at once
        (0.0, 0.0, 10.0, 10.0),
    ],
)
def test_next_attempt(scheduled: float, finished: float, period: float, due: float) -> None:
    assert next_attempt(scheduled, finished, period) == due


# --- the worker on a fake clock -------------------------------------------------------------


@dataclass
class Scripted:
    """A check that takes ``duration`` seconds, then gives ``ok``; it times out like a real one."""

    started: float
    deadline: float
    duration: float
    ok: bool
    cancelled: bool = False

    def poll(self, now: float) -> Outcome | None:
        if now >= self.started + self.duration:
            return Outcome(self.ok, "" if self.ok else "scripted failure")
        if now >= self.deadline:
            return Outcome(False, "timed out")
        return None

    def cancel(self) -> None:
        self.cancelled = True


class Script:
    """Starts ``Scripted`` checks from a list of (duration, ok); records when each began."""

    def __init__(self, *steps: tuple[float, bool]) -> None:
        self.steps = list(steps)
        self.starts: list[float] = []
        self.checks: list[Scripted] = []

    def __call__(self, spec: ProbeSpec, target: ProbeTarget, now: float) -> Check:
        duration, ok = self.steps.pop(0) if self.steps else (0.0, True)
        self.starts.append(round(now, 3))
        check = Scripted(now, now + spec.timeout_s, duration, ok)
        self.checks.append(check)
        return check


TARGET = ProbeTarget("127.0.0.1", Path("/"), {}, {})
STEP = 0.05


def run_worker(worker: ProbeWorker, until: float, start: float = 0.0) -> list[tuple[float, bool]]:
    """Step ``worker`` every 50 ms (an agent tick) from ``start`` to ``until``; the verdicts'
    changes as (time, passing)."""
    changes = []
    for i in range(round((until - start) / STEP) + 1):
        now = round(start + i * STEP, 3)
        if worker.step(now):
            changes.append((now, worker.passing))
    return changes


def http_probe(**timing: Any) -> ProbeSpec:
    return ProbeSpec("http_get", port=80, **timing)


@pytest.mark.parametrize(
    ("timing", "steps", "until", "starts"),
    [
        # no initial delay: at the start, then every period
        ({"period_s": 0.5}, [], 1.2, [0.0, 0.5, 1.0]),
        # initial delay 1.0: nothing before it, the first attempt exactly at it
        ({"initial_delay_s": 1.0, "period_s": 0.5}, [], 2.0, [1.0, 1.5, 2.0]),
        ({"initial_delay_s": 1.0, "period_s": 0.5}, [], 0.95, []),
        # an attempt taking 0.8 s with period 0.5: the next begins when it ends, then the grid
        ({"period_s": 0.5, "timeout_s": 2.0}, [(0.8, True)], 1.5, [0.0, 0.8, 1.3]),
        # a hung attempt ends at its timeout (0.3 s); the next one is on the grid
        ({"period_s": 0.5, "timeout_s": 0.3}, [(9.0, True)], 1.0, [0.0, 0.5, 1.0]),
        ({"period_s": 0.2, "timeout_s": 0.6}, [(9.0, True)], 1.0, [0.0, 0.6, 0.8, 1.0]),
    ],
)
def test_worker_schedule(
    timing: dict[str, float], steps: list[tuple[float, bool]], until: float, starts: list[float]
) -> None:
    script = Script(*steps)
    worker = ProbeWorker(http_probe(**timing), READY, TARGET, script)
    worker.container_started(0.0)
    run_worker(worker, until)
    assert script.starts == starts


@pytest.mark.parametrize(
    ("kind", "timing", "steps", "until", "changes"),
    [
        # readiness: not ready until the first success, then not ready after 3 failures
        (READY, {"period_s": 0.5}, [(0, False), (0, True), (0, False), (0, False), (0, False)],
         2.0, [(0.5, True), (2.0, False)]),
        # success_threshold 2: ready at the second success in a row
        (READY, {"period_s": 0.5, "success_threshold": 2}, [(0, True), (0, True)], 0.5,
         [(0.5, True)]),
        # a timeout is a failure: with failure_threshold 1 it ends readiness at once
        (READY, {"period_s": 0.5, "timeout_s": 0.2, "failure_threshold": 1},
         [(0, True), (5, True)], 0.9, [(0.0, True), (0.7, False)]),
        # liveness: alive from the start, dead after failure_threshold failures
        (LIVE, {"period_s": 0.5, "failure_threshold": 2}, [(0, False), (0, False)], 2.0,
         [(0.5, False)]),
    ],
)  # fmt: skip
def test_worker_verdicts(
    kind: ProbeKind,
    timing: dict[str, Any],
    steps: list[tuple[float, bool]],
    until: float,
    changes: list[tuple[float, bool]],
) -> None:
    worker = ProbeWorker(http_probe(**timing), kind, TARGET, Script(*steps))
    worker.container_started(0.0)
    assert worker.passing is kind.initially_passing
    assert run_worker(worker, until) == changes


def test_failed_liveness_holds_until_the_container_starts_again() -> None:
    script = Script((0, False))
    worker = ProbeWorker(http_probe(period_s=0.5, failure_threshold=1), LIVE, TARGET, script)
    worker.container_started(0.0)
    assert run_worker(worker, 3.0) == [(0.0, False)]
    assert worker.on_hold and script.starts == [0.0]
    assert worker.failure_text() == "Liveness probe failed: scripted failure"
    worker.container_started(10.0)  # the restarted container: alive again, probed again
    assert worker.passing and not worker.on_hold
    run_worker(worker, 11.0, start=10.0)
    assert script.starts == [0.0, 10.0, 10.5, 11.0]


def test_a_stopped_container_is_not_ready_and_not_probed() -> None:
    script = Script((5.0, True))
    worker = ProbeWorker(http_probe(period_s=0.5, timeout_s=9), READY, TARGET, script)
    worker.container_started(0.0)
    worker.step(0.0)
    assert worker.running
    worker.container_stopped()
    assert script.checks[0].cancelled and not worker.running and not worker.passing
    assert run_worker(worker, 2.0) == [] and script.starts == [0.0]


def test_only_exec_attempts_ask_for_the_start_budget() -> None:
    for kind, asked in (("exec", 1), ("tcp_socket", 0)):
        spec = ProbeSpec(kind, command=("true",), port=80)
        script, calls = Script(), list[int]()

        def refuse(calls: list[int] = calls) -> bool:
            calls.append(1)
            return False

        worker = ProbeWorker(spec, READY, TARGET, script)
        worker.container_started(0.0)
        worker.step(0.0, refuse)
        assert len(calls) == asked
        assert script.starts == ([] if asked else [0.0])


# --- real checks ----------------------------------------------------------------------------


def outcome_of(check: Check, timeout: float = 5.0) -> Outcome:
    """Poll ``check`` on the real clock, as agent ticks would."""
    result: Outcome = wait_for(
        lambda: check.poll(time.monotonic()), timeout=timeout, what="check outcome"
    )
    return result


def deadline(seconds: float = 2.0) -> float:
    return time.monotonic() + seconds


class Answer(BaseHTTPRequestHandler):
    status = 200
    body = b"ok"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[ThreadingHTTPServer, list[str]]]:
    seen: list[str] = []

    class Handler(Answer):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers['User-Agent']} {self.headers['Host']}")
            code = int(self.path.split("/")[-1]) if self.path.split("/")[-1].isdigit() else 200
            body = b"x" * 50_000 if self.path == "/big" else b"ok"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server, seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize(
    ("path", "ok", "message"),
    [
        ("/healthz", True, ""),
        ("/status/204", True, ""),
        ("/status/301", True, ""),  # redirects are not followed: 3xx passes
        ("/status/399", True, ""),
        ("/status/500", False, "HTTP probe failed with statuscode: 500"),
        ("/status/404", False, "HTTP probe failed with statuscode: 404"),
        ("/big", True, ""),  # a body over 10 KiB: read up to that much, then done
    ],
)
def test_http_check(
    http_server: tuple[ThreadingHTTPServer, list[str]], path: str, ok: bool, message: str
) -> None:
    server, seen = http_server
    port = server.server_address[1]
    assert outcome_of(HttpCheck("127.0.0.1", port, path, deadline())) == Outcome(ok, message)
    assert seen == [f"{path} kube-probe/kube9-0.1.0 127.0.0.1:{port}"]


def test_http_check_refused_and_timed_out() -> None:
    port = free_port()
    refused = outcome_of(HttpCheck("127.0.0.1", port, "/", deadline()))
    assert refused == Outcome(
        False,
        f'Get "http://127.0.0.1:{port}/": dial tcp 127.0.0.1:{port}: connect: connection refused',
    )
    with socket.socket() as silent:  # accepts (the kernel does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        begun = time.monotonic()
        hung = outcome_of(HttpCheck("127.0.0.1", port, "/x", begun + 0.3))
    assert hung == Outcome(False, f'Get "http://127.0.0.1:{port}/x": context deadline exceeded')
    assert time.monotonic() - begun < 2.0


def test_http_check_refuses_what_is_not_http() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        check = HttpCheck("127.0.0.1", port, "/", deadline())
        conn, _ = server.accept()
        with conn:
            assert check.poll(time.monotonic()) is None  # connected: the request goes out
            assert conn.recv(4096).startswith(b"GET / HTTP/1.1\r\n")
            conn.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")
            result = outcome_of(check)
    assert result == Outcome(False, f'Get "http://127.0.0.1:{port}/": malformed HTTP response')


def test_tcp_check_open_and_refused() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert outcome_of(TcpCheck("127.0.0.1", server.getsockname()[1], deadline())).ok
    port = free_port()
    assert outcome_of(TcpCheck("127.0.0.1", port, deadline())) == Outcome(
        False, f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )


def test_tcp_check_reaches_a_pod_address_on_loopback() -> None:
    with socket.socket() as server:
        server.bind(("127.244.3.4", 0))  # the pod network is loopback: bindable without root
        server.listen()
        port = server.getsockname()[1]
        assert outcome_of(TcpCheck("127.244.3.4", port, deadline())).ok
        assert not outcome_of(TcpCheck("127.244.3.5", port, deadline())).ok  # another pod


@pytest.mark.parametrize(
    ("argv", "ok", "message"),
    [
        (["true"], True, ""),
        (["sh", "-c", "echo nope; echo more >&2; exit 3"], False, "nope\nmore"),
        (["sh", "-c", "exit 4"], False, "command exited with code 4"),
        (["/no/such/probe"], False, "exec '/no/such/probe': No such file or directory"),
        ([sys.executable, "-c", "print('x' * 100_000)"], True, "x" * 10 * 1024),  # kept: 10 KiB
    ],
)
def test_exec_check(tmp_path: Path, argv: list[str], ok: bool, message: str) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    assert outcome_of(ExecCheck(argv, tmp_path, env, deadline())) == Outcome(ok, message)


def test_exec_check_runs_in_the_pod_directory_with_its_environment(tmp_path: Path) -> None:
    (tmp_path / "127.244.0.5.ok").touch()
    spec = ProbeSpec("exec", ("sh", "-c", 'test -f "$(POD_IP).ok" && test "$MODE" = batch'))
    target = ProbeTarget(
        "127.244.0.5", tmp_path, {"PATH": "/usr/bin:/bin", "MODE": "batch"},
        {"POD_IP": "127.244.0.5"},
    )  # fmt: skip
    assert outcome_of(start_check(spec, target, time.monotonic())).ok
    (tmp_path / "127.244.0.5.ok").unlink()
    assert not outcome_of(start_check(spec, target, time.monotonic())).ok


def test_exec_timeout_kills_the_probe_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 30 & echo $! > {pids}; echo $$ >> {pids}; wait"
    check = ExecCheck(["sh", "-c", script], tmp_path, {"PATH": "/usr/bin:/bin"}, deadline(0.5))
    wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, what="probe started")
    assert outcome_of(check) == Outcome(False, f'command "sh -c {script}" timed out')
    survivors = [int(pid) for pid in pids.read_text().split()]
    wait_for(lambda: not any(map(pid_alive, survivors)), what="probe processes killed")
