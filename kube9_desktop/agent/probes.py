"""Readiness and liveness probes of one container, with the kubelet's counting and timing.

``ProbeTally`` is the kubelet's result counting (``pkg/kubelet/prober/worker.go``): a verdict
changes only after ``failure_threshold`` failures or ``success_threshold`` successes in a row.
Readiness starts failing (not ready until a probe passes), liveness starts passing. Worked
example, readiness with failure_threshold 3, success_threshold 1::

    start            -> not ready
    fail             -> not ready (1 failure: the initial verdict stands)
    pass             -> ready
    fail, fail       -> ready (2 in a row < 3)
    fail             -> not ready (3 in a row)

``ProbeWorker`` runs one probe on the agent's clock: the first attempt ``initial_delay_s``
after the container started, then one every ``period_s`` (counted from the previous attempt's
scheduled time, never two at once: an attempt that outlasts the period is followed at once),
each failing after ``timeout_s``. A liveness verdict of failure puts the worker on hold until
the container starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kube9_desktop.agent.checks import Check, ExecCheck, HttpCheck, Outcome, TcpCheck
from kube9_desktop.agent.expansion import expand_all
from kube9_desktop.agent.spec import ProbeSpec


class ProbeKind(StrEnum):
    READINESS = "readiness"
    LIVENESS = "liveness"

    @property
    def initially_passing(self) -> bool:
        """Kubernetes: not ready until proven ready; alive until proven dead."""
        return self is ProbeKind.LIVENESS

    @property
    def failure_reason(self) -> str:
        return f"{self.value.capitalize()} probe failed"


@dataclass(slots=True)
class ProbeTally:
    """The verdict and the current run of equal results (see the module's example)."""

    success_threshold: int
    failure_threshold: int
    passing: bool
    last: bool | None = None
    run: int = 0

    def record(self, ok: bool) -> bool:
        """Count one result; True when it changed the verdict."""
        if ok == self.last:
            self.run += 1
        else:
            self.last, self.run = ok, 1
        needed = self.success_threshold if ok else self.failure_threshold
        if self.run < needed or ok == self.passing:
            return False
        self.passing = ok
        return True


def next_attempt(scheduled: float, finished: float, period_s: float) -> float:
    """When the attempt after one scheduled at ``scheduled`` and done at ``finished`` is due.

    One period after the previous one was due (a steady grid), but never before it finished:
    scheduled 10.0, period 0.5, done at 10.1 -> 10.5; done at 11.2 (a slow timeout) -> 11.2.
    """
    return max(scheduled + period_s, finished)


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Where a container's probes run: the pod's address, directory and environment."""

    host: str
    cwd: Path
    env: Mapping[str, str]
    variables: Mapping[str, str]


def start_check(spec: ProbeSpec, target: ProbeTarget, now: float) -> Check:
    """Begin one attempt of ``spec``; it fails by itself once ``timeout_s`` has passed."""
    deadline = now + spec.timeout_s
    if spec.kind == "exec":
        argv = expand_all(spec.command, target.variables)
        return ExecCheck(argv, target.cwd, target.env, deadline)
    if spec.kind == "tcp_socket":
        return TcpCheck(target.host, spec.port, deadline)
    return HttpCheck(target.host, spec.port, spec.path, deadline)


CheckStarter = Callable[[ProbeSpec, ProbeTarget, float], Check]


class ProbeWorker:
    """One probe of one container, stepped by the agent's tick (``step``), never blocking."""

    def __init__(
        self,
        spec: ProbeSpec,
        kind: ProbeKind,
        target: ProbeTarget,
        starter: CheckStarter = start_check,
    ) -> None:
        self.spec = spec
        self.kind = kind
        self._target = target
        self._starter = starter
        self.tally = self._fresh_tally()
        self.message: str | None = None  # why the last attempt failed (None: it passed)
        self.on_hold = False
        self._due: float | None = None  # None: the container is not running
        self._scheduled = 0.0
        self._check: Check | None = None

    @property
    def passing(self) -> bool:
        return self.tally.passing

    @property
    def running(self) -> bool:
        """True while an attempt is under way."""
        return self._check is not None

    def container_started(self, at: float) -> None:
        """A new container: initial verdict, first attempt ``initial_delay_s`` from ``at``."""
        self.cancel()
        self.tally = self._fresh_tally()
        self.message = None
        self.on_hold = False
        self._due = at + self.spec.initial_delay_s

    def container_stopped(self) -> None:
        """No container: no attempts, and the initial verdict (not ready) until it starts."""
        self.cancel()
        self.tally = self._fresh_tally()
        self._due = None

    def cancel(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None

    def step(self, now: float, may_start: Callable[[], bool] = lambda: True) -> bool:
        """Collect an attempt that finished and start one that is due (an exec one only if
        ``may_start`` allows: it is a process start); True when the verdict changed.

        Both can happen in one step: an attempt that outlasted its period is followed at once,
        and an attempt that finishes at once (a refused connect on loopback) counts at once.
        """
        changed = False
        for _ in range(2):
            if self._check is None:
                if self._due is None or self.on_hold or now < self._due:
                    break
                if self.spec.kind == "exec" and not may_start():
                    break
                self._scheduled = self._due
                self._check = self._starter(self.spec, self._target, now)
            outcome = self._check.poll(now)
            if outcome is None:
                break
            self._check = None
            self._due = next_attempt(self._scheduled, now, self.spec.period_s)
            changed = self.record(outcome) or changed
        return changed

    def record(self, outcome: Outcome) -> bool:
        """Count one attempt's outcome; a liveness failure verdict holds the worker."""
        self.message = None if outcome.ok else outcome.message
        changed = self.tally.record(outcome.ok)
        if self.kind is ProbeKind.LIVENESS and not self.tally.passing:
            self.on_hold = True
        return changed

    def failure_text(self) -> str:
        """``Readiness probe failed: <why>``, the kubelet's event text."""
        detail = self.message or ""
        return f"{self.kind.failure_reason}: {detail}" if detail else self.kind.failure_reason

    def _fresh_tally(self) -> ProbeTally:
        return ProbeTally(
            self.spec.success_threshold, self.spec.failure_threshold, self.kind.initially_passing
        )
