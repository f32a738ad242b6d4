"""One container of a pod: its process, restarts with back-off, its probes, and the state it
reports.

A liveness verdict of failure stops the process as a pod stop would (SIGTERM, SIGKILL after the
grace) and its exit goes through the same restart back-off as a crash, counted as a restart,
with the reason ``Liveness probe failed: …`` while it waits.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kube9_desktop.agent.expansion import expand_all
from kube9_desktop.agent.probes import ProbeKind, ProbeTarget, ProbeWorker
from kube9_desktop.agent.processes import (
    ProcessIdentity,
    ProcessTable,
    descendants,
    die_with_parent_hook,
    exit_code_of,
    signal_identities,
)
from kube9_desktop.agent.spec import FIXED_PATH, ContainerSpec

log = logging.getLogger("kube9.agent.containers")

MAX_CONTAINER_LOG_BYTES = 4 * 1024 * 1024  # per file: <c>.log rotates to <c>.log.1 past it
LOG_CHECK_S = 1.0  # how often a running container's log size is looked at
PLACEHOLDER_ARGS = ("infinity",)
MAX_REASON_CHARS = 300
KILL_GRACE_S = 2.0  # SIGTERM to SIGKILL for a container that failed its liveness probe


class ContainerState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Restart policy Always: back-off from ``base`` doubling to ``cap``, reset after a good run.

    Kubernetes' kubelet by default: 10 s doubling to 5 min, reset after 10 min of running. The
    engine's ``crash_backoff`` settings shorten the first two (tests, impatient lessons).
    """

    base_s: float = 10.0
    cap_s: float = 300.0
    reset_after_s: float = 600.0

    def delay(self, failures: int) -> float:
        """Wait before restart after ``failures`` consecutive failures: 10, 20, 40, 80, 160,
        300, 300 s by default (base * 2**(failures - 1), at most the cap)."""
        if failures <= 0:
            return 0.0
        return float(min(self.base_s * 2 ** min(failures - 1, 32), self.cap_s))


class SupervisedContainer:
    """Runs one container's argv as a child process, restarts it when it exits or fails its
    liveness probe, and knows whether it is ready."""

    def __init__(
        self,
        spec: ContainerSpec,
        pod_dir: Path,
        env: dict[str, str],
        policy: RestartPolicy,
        clock: Callable[[], float],
        label: str = "",
        variables: Mapping[str, str] | None = None,
        probe_host: str = "127.0.0.1",
        kill_grace_s: float = KILL_GRACE_S,
        log_cap_bytes: int = MAX_CONTAINER_LOG_BYTES,
    ) -> None:
        self.spec = spec
        self._log_cap = log_cap_bytes
        self._log_checked_at = 0.0
        self.label = label or spec.name
        self._pod_dir = pod_dir
        self._env = env
        self._variables = dict(variables or {})  # what $(VAR) in argv and exec probes may name
        self._policy = policy
        self._clock = clock
        self._kill_grace_s = kill_grace_s
        target = ProbeTarget(probe_host, pod_dir, env, self._variables)
        self.readiness = (
            ProbeWorker(spec.readiness, ProbeKind.READINESS, target) if spec.readiness else None
        )
        self.liveness = (
            ProbeWorker(spec.liveness, ProbeKind.LIVENESS, target) if spec.liveness else None
        )
        self._unhealthy: str | None = None  # "Liveness probe failed: …" while it is stopped
        self._unhealthy_kill_at = 0.0
        self.process: subprocess.Popen[bytes] | None = None
        self.state = ContainerState.WAITING
        self.reason: str | None = "ContainerCreating"
        self.exit_code: int | None = None
        self.last_reason: str | None = None  # how the last run ended: Error, Completed
        self.restarts = 0
        self.start_failed = False
        self._attempts = 0
        self._failures = 0
        self._last_delay = 0.0
        self._started_at = 0.0
        self._next_start: float | None = clock()
        self._tree: list[ProcessIdentity] = []

    @property
    def log_path(self) -> Path:
        return self._pod_dir / "logs" / f"{self.spec.name}.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def due(self) -> bool:
        """True when a (re)start is scheduled and its back-off has passed."""
        return self._next_start is not None and self._clock() >= self._next_start

    def start_if_due(self) -> None:
        """Start (or restart) the process once its back-off has passed."""
        if not self.due() or self.alive:
            return
        self._begin_attempt()
        try:
            self.process = self._spawn()
        except OSError as exc:
            self._start_failed(exc)
            return
        self._started_at = self._clock()
        self.state, self.reason, self.start_failed = ContainerState.RUNNING, None, False
        for worker in self._probes():
            worker.container_started(self._started_at)

    def fail_start(self, reason: str, exit_code: int) -> None:
        """Record a due start that could not happen (pod directory unusable) and back off."""
        self._begin_attempt()
        self._back_off(reason, exit_code, ran_s=0.0, start_failed=True)

    def _begin_attempt(self) -> None:
        """Every start after the first counts as a restart, failed or not."""
        self._next_start = None
        if self._attempts:
            self.restarts += 1
        self._attempts += 1

    def poll(self) -> None:
        """Notice an exit and schedule the restart (restart policy Always); finish the stop of
        a container that failed its liveness probe."""
        if self.process is None or self.state is not ContainerState.RUNNING:
            return
        returncode = self.process.poll()
        if returncode is None:
            self._check_log()
            if self._unhealthy is not None and self._clock() >= self._unhealthy_kill_at:
                self._unhealthy_kill_at = math.inf  # once: the exit is noticed next
                self._kill_tree()
            return
        self.process = None
        code = exit_code_of(returncode)
        for worker in self._probes():
            worker.container_stopped()
        # Kubernetes' vocabulary: the run ended as Completed (exit 0) or Error; the wait before
        # the restart is CrashLoopBackOff. No memory limit is enforced on this runtime, so a
        # SIGKILL is never claimed to be OOMKilled.
        self.last_reason = "Completed" if code == 0 else "Error"
        reason = "CrashLoopBackOff"
        if self._unhealthy is not None:
            reason, self._unhealthy = self._unhealthy, None
            signal_identities(self._tree, signal.SIGKILL)  # what the SIGTERM left behind
            self._tree = []
        self._back_off(reason, code, ran_s=self._clock() - self._started_at)
        log.info(
            "container %s exited with code %d; restart %d in %.1fs",
            self.label,
            code,
            self.restarts + 1,
            (self._next_start or 0.0) - self._clock(),
        )

    def probe(self, may_start: Callable[[], bool] = lambda: True) -> None:
        """Step the probes of a running container (``may_start`` rations new exec attempts);
        a liveness verdict of failure begins the container's restart."""
        if self.state is not ContainerState.RUNNING or self._unhealthy is not None:
            return
        now = self._clock()
        if self.readiness is not None:
            self.readiness.step(now, may_start)
        liveness = self.liveness
        if liveness is not None and liveness.step(now, may_start) and not liveness.passing:
            self._stop_unhealthy(liveness.failure_text())

    @property
    def ready(self) -> bool:
        """Running, not being restarted, and its readiness probe (if any) passing."""
        if self.state is not ContainerState.RUNNING or self._unhealthy is not None:
            return False
        return self.readiness is None or self.readiness.passing

    def _stop_unhealthy(self, reason: str) -> None:
        """SIGTERM a container whose liveness probe failed; SIGKILL follows after the grace."""
        self._unhealthy = reason
        self._unhealthy_kill_at = self._clock() + self._kill_grace_s
        if self.readiness is not None:
            self.readiness.container_stopped()
        # The probe's message may quote its output: it goes to the engine, never to the log.
        log.info("container %s failed its liveness probe; restarting it", self.label)
        if self.process is None:
            return
        self._tree = descendants(self.process.pid)
        with contextlib.suppress(OSError):
            self.process.send_signal(signal.SIGTERM)

    def _kill_tree(self) -> None:
        if self.process is not None:
            self._tree += descendants(self.process.pid)
            with contextlib.suppress(OSError):
                self.process.send_signal(signal.SIGKILL)
        signal_identities(self._tree, signal.SIGKILL)

    def _probes(self) -> list[ProbeWorker]:
        return [w for w in (self.readiness, self.liveness) if w is not None]

    def kill(self) -> bool:
        """SIGKILL the process and its descendants now (a simulated crash); True if it ran."""
        if not self.alive or self.process is None:
            return False
        tree = descendants(self.process.pid)
        with contextlib.suppress(OSError):
            self.process.send_signal(signal.SIGKILL)
        signal_identities(tree, signal.SIGKILL)
        return True

    def terminate(self, table: ProcessTable | None = None) -> None:
        """Ask the process to stop (SIGTERM), remembering its descendants for the final kill."""
        self._next_start = None
        self._unhealthy = None
        for worker in self._probes():
            worker.container_stopped()
        if not self.alive or self.process is None:
            return
        self._tree = descendants(self.process.pid, table)
        with contextlib.suppress(OSError):
            self.process.send_signal(signal.SIGTERM)

    def force_kill(self, table: ProcessTable | None = None) -> None:
        """SIGKILL whatever is left of the process tree recorded at ``terminate``."""
        if self.alive and self.process is not None:
            self._tree += descendants(self.process.pid, table)
            with contextlib.suppress(OSError):
                self.process.send_signal(signal.SIGKILL)
        signal_identities(self._tree, signal.SIGKILL)

    def finished(self) -> bool:
        """True once a terminated container's process has exited and been reaped."""
        if self.alive:
            return False
        if self.process is not None:
            returncode = self.process.poll()
            self.exit_code = None if returncode is None else exit_code_of(returncode)
            self.process = None
            self.state, self.reason = ContainerState.TERMINATED, "Completed"
        signal_identities(self._tree, signal.SIGKILL)
        return True

    def report(self) -> dict[str, Any]:
        """The container's entry in the heartbeat (protocol.md ``pods[].containers[]``)."""
        entry: dict[str, Any] = {
            "name": self.spec.name,
            "state": self.state.value,
            "exit_code": self.exit_code,
            "restarts": self.restarts,
            "pid": self.process.pid if self.alive and self.process is not None else None,
            "ready": self.ready,
        }
        if self.last_reason is not None:
            entry["last_reason"] = self.last_reason
        waiting = self.state is ContainerState.WAITING and self._next_start is not None
        if waiting and self._attempts:  # the delay of this back-off (not its countdown)
            entry["backoff_s"] = round(self._last_delay, 3)
        reason = self.reason
        if self.state is ContainerState.RUNNING:
            reason = self._unhealthy or self._readiness_reason()
        if reason is not None:
            entry["reason"] = reason[:MAX_REASON_CHARS]
        return entry

    def _readiness_reason(self) -> str | None:
        """Why a running container is not ready: its probe's last failure, if one failed."""
        worker = self.readiness
        if worker is None or worker.passing or worker.message is None:
            return None
        return worker.failure_text()

    def _back_off(
        self, reason: str, exit_code: int, ran_s: float, start_failed: bool = False
    ) -> None:
        if ran_s >= self._policy.reset_after_s:
            self._failures = 0
        self._failures += 1
        self.exit_code = exit_code
        self.state, self.reason, self.start_failed = ContainerState.WAITING, reason, start_failed
        self._last_delay = self._policy.delay(self._failures)
        self._next_start = self._clock() + self._last_delay

    def _start_failed(self, exc: OSError) -> None:
        not_found = isinstance(exc, FileNotFoundError) or exc.errno in (errno.ENOENT, errno.ENOTDIR)
        code = 127 if not_found else 126
        program = self.spec.argv[0] if self.spec.argv else "sleep"
        reason = f"StartError: cannot exec {program!r}: {exc.strerror or type(exc).__name__}"
        self._back_off(reason, code, ran_s=0.0, start_failed=True)
        log.warning("container %s: %s; retry in %.1fs", self.label, reason, self.delay_left())

    def delay_left(self) -> float:
        return max(0.0, (self._next_start or self._clock()) - self._clock())

    def _check_log(self) -> None:
        """Rotate the running container's log once a second at most (a stat is cheap)."""
        now = self._clock()
        if now - self._log_checked_at >= LOG_CHECK_S:
            self._log_checked_at = now
            rotate_log(self.log_path, self._log_cap)

    def _spawn(self) -> subprocess.Popen[bytes]:
        argv, executable = self._command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        keep_previous_run(self.log_path)
        with open(self.log_path, "ab") as output:
            return subprocess.Popen(
                argv,
                executable=executable,
                cwd=self._pod_dir,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                close_fds=True,
                preexec_fn=die_with_parent_hook(),
            )

    def _command(self) -> tuple[list[str], str | None]:
        if self.spec.argv:
            return expand_all(self.spec.argv, self._variables), None
        sleep = shutil.which("sleep", path=FIXED_PATH) or "/bin/sleep"
        return [self.spec.process_name, *PLACEHOLDER_ARGS], sleep


def previous_path(path: Path) -> Path:
    """``<c>.log`` -> ``<c>.previous.log``: the run before the current one."""
    return path.with_name(path.name.removesuffix(".log") + ".previous.log")


def rotated_path(path: Path) -> Path:
    """``<c>.log`` -> ``<c>.log.1``: the older part of the same run."""
    return path.with_name(path.name + ".1")


def keep_previous_run(path: Path) -> None:
    """At a (re)start the last run's output (both generations) becomes the previous run's,
    replacing the one before it, as ``kubectl logs --previous`` shows one run back."""
    previous = previous_path(path)
    with contextlib.suppress(OSError):
        if path.exists():
            os.replace(path, previous)
            if rotated_path(path).exists():
                os.replace(rotated_path(path), rotated_path(previous))
            else:
                rotated_path(previous).unlink(missing_ok=True)


def rotate_log(path: Path, cap_bytes: int) -> bool:
    """Copy-truncate a log past ``cap_bytes`` to ``<c>.log.1`` (one generation kept); the
    process writes on with O_APPEND, so its next line lands at the start. A line written
    between the copy and the truncation is lost, as with logrotate's copytruncate."""
    try:
        if path.stat().st_size <= cap_bytes:
            return False
        shutil.copyfile(path, rotated_path(path))
        os.truncate(path, 0)
    except OSError as exc:
        log.warning("cannot rotate %s: %s", path.name, exc)
        return False
    return True
