"""The node's pods: reconcile to the desired set, supervise containers, stop and clean up."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kube9_desktop.agent.containers import MAX_REASON_CHARS, RestartPolicy, SupervisedContainer
from kube9_desktop.agent.processes import ProcessTable
from kube9_desktop.agent.spec import PodSpec, is_safe_segment

log = logging.getLogger("kube9.agent.pods")

STOP_GRACE_S = 2.0
# A process start costs ~7 ms here (fork with PR_SET_PDEATHSIG): a thousand new pods would hold
# the loop for seconds, past the engine's grace period. Each tick starts what fits in this much
# time and leaves the rest for the next tick, so heartbeats keep going out in between.
START_BUDGET_S = 0.1


class StartBudget:
    """The time one tick may spend starting processes; the first start always fits (progress)."""

    def __init__(self, clock: Callable[[], float], seconds: float) -> None:
        self._clock = clock
        self._deadline = clock() + seconds
        self._first = True
        self.exhausted = False  # a due start was refused: more work waits for the next tick

    def take(self) -> bool:
        """May one more start begin now?"""
        if self._first or self._clock() < self._deadline:
            self._first = False
            return True
        self.exhausted = True
        return False


class PodDirectoryError(ValueError):
    """A pod or volume directory would land outside the agent's work directory."""


class Pod:
    """One running pod: its directory (volumes, logs) and its supervised containers."""

    def __init__(
        self,
        spec: PodSpec,
        pods_root: Path,
        policy: RestartPolicy,
        clock: Callable[[], float],
        kill_grace_s: float = STOP_GRACE_S,
    ) -> None:
        self.spec = spec
        self.directory = contained_path(pods_root, spec.dir_name)
        env = spec.environment(self.directory)
        variables = spec.variables()
        host = spec.probe_host
        self.containers = {
            c.name: SupervisedContainer(
                c,
                self.directory,
                env,
                policy,
                clock,
                label=f"{spec.name}/{c.name}",
                variables=variables,
                probe_host=host,
                kill_grace_s=kill_grace_s,
            )
            for c in spec.containers
        }
        self._prepared = False
        self.stop_deadline: float | None = None

    def start_due(self, budget: StartBudget) -> None:
        """Start containers whose back-off has passed and step their probes, as long as the
        tick's ``budget`` allows (exec probes are process starts too); the pod directory is
        created just before its first start."""
        for container in self.containers.values():
            container.poll()
            container.probe(budget.take)
            if not container.due() or container.alive or not budget.take():
                continue
            if not self._prepared:
                try:
                    self._prepare()
                except (OSError, PodDirectoryError) as exc:
                    for due in (c for c in self.containers.values() if c.due()):
                        due.fail_start(f"CreateContainerError: {exc}", 126)
                    log.warning("pod %s: cannot create its directory: %s", self.spec.name, exc)
                    return
                self._prepared = True
            container.start_if_due()

    def phase(self) -> str:
        """Failed if a container cannot start, pending while one waits, else running."""
        containers = self.containers.values()
        if any(c.start_failed for c in containers):
            return "failed"
        if all(c.alive for c in containers):
            return "running"
        return "pending"

    def report(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "phase": self.phase(),
            "containers": [c.report() for c in self.containers.values()],
        }

    def terminate(self, deadline: float, table: ProcessTable | None = None) -> None:
        self.stop_deadline = deadline
        for container in self.containers.values():
            container.terminate(table)

    def _prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "logs").mkdir(exist_ok=True)
        for volume in self.spec.volumes:
            contained_path(self.directory / "volumes", volume.name).mkdir(
                parents=True, exist_ok=True
            )


class PodSupervisor:
    """Keeps the node's processes equal to the desired pods, without ever blocking for long."""

    def __init__(
        self,
        work_dir: Path,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        stop_grace_s: float = STOP_GRACE_S,
        start_budget_s: float = START_BUDGET_S,
    ) -> None:
        self.pods_root = work_dir / "pods"
        self._policy = policy or RestartPolicy()
        self._clock = clock
        self._stop_grace_s = stop_grace_s
        self._start_budget_s = start_budget_s
        self.active: dict[int, Pod] = {}
        self.terminating: list[Pod] = []
        self.starts_waiting = False  # due starts left for the next tick (out of time budget)
        self.refused: dict[int, str] = {}  # pods the agent will not run -> why (reported failed)

    def reconcile(
        self,
        desired: Sequence[PodSpec],
        keep_ids: Collection[int] = (),
        refusals: Mapping[int, str] | None = None,
    ) -> None:
        """Start new pods, restart changed ones, stop the rest (except ``keep_ids``).

        ``refusals`` (pod id -> why) are desired pods the agent will not run: each one not
        already running is reported as failed with that reason until the engine drops it."""
        wanted = {spec.id: spec for spec in desired}
        self.refused = {
            i: f"Refused by the node agent: {why}" for i, why in (refusals or {}).items()
        }
        table: ProcessTable | None = None
        for pod_id, pod in list(self.active.items()):
            spec = wanted.get(pod_id)
            if spec is None and pod_id in keep_ids:
                continue
            if spec != pod.spec:
                reason = "removed" if spec is None else "spec changed"
                log.info("stopping pod %s (id %d): %s", pod.spec.name, pod_id, reason)
                table = table or ProcessTable()
                self._stop(self.active.pop(pod_id), table)
        for spec in desired:
            if spec.id not in self.active:
                try:
                    self.active[spec.id] = Pod(
                        spec, self.pods_root, self._policy, self._clock, self._stop_grace_s
                    )
                except PodDirectoryError as exc:
                    log.error("refusing pod id %d: %s", spec.id, exc)
                    self.refused[spec.id] = f"Refused by the node agent: {exc}"
                    continue
                log.info(
                    "starting pod %s (id %d): containers %s",
                    spec.name,
                    spec.id,
                    ", ".join(c.name for c in spec.containers),
                )
        self._remove_stray_directories()
        self.tick()

    def tick(self) -> None:
        """Reap exits, start what is due (within the time budget), escalate slow stops, delete
        finished pods' directories."""
        busy = {p.directory for p in self.terminating}
        budget = StartBudget(self._clock, self._start_budget_s)
        for pod in self.active.values():
            if pod.directory not in busy:
                pod.start_due(budget)
        self.starts_waiting = budget.exhausted
        now = self._clock()
        still: list[Pod] = []
        table: ProcessTable | None = None
        for pod in self.terminating:
            if pod.stop_deadline is not None and now >= pod.stop_deadline:
                for container in pod.containers.values():
                    if container.alive:
                        table = table or ProcessTable()
                    container.force_kill(table)
            if all(c.finished() for c in list(pod.containers.values())):
                self._remove_directory(pod)
                log.info("pod %s (id %d) stopped", pod.spec.name, pod.spec.id)
            else:
                still.append(pod)
        self.terminating = still

    def kill(self, pod_id: int, container: str | None) -> list[str]:
        """SIGKILL one container (or all of the pod when ``container`` is None); name the killed."""
        pod = self.active.get(pod_id)
        if pod is None:
            return []
        targets = pod.containers.values() if container is None else [pod.containers.get(container)]
        return [c.spec.name for c in targets if c is not None and c.kill()]

    def report(self) -> list[dict[str, Any]]:
        reports = [pod.report() for pod in self.active.values()]
        reports += [
            {"id": pod_id, "phase": "failed", "reason": why[:MAX_REASON_CHARS]}
            for pod_id, why in self.refused.items()
            if pod_id not in self.active
        ]
        return reports

    def roots(self) -> dict[int, list[int]]:
        """Each pod's running container processes (their trees are its usage)."""
        return {
            pod_id: [
                c.process.pid for c in pod.containers.values() if c.process is not None and c.alive
            ]
            for pod_id, pod in self.active.items()
        }

    def pod_ids(self) -> list[int]:
        """The pods this node holds: those it runs and those it refused (reported failed)."""
        return sorted(self.active.keys() | self.refused.keys())

    def cpu_requested(self) -> float:
        return sum(pod.spec.cpu_req for pod in self.active.values())

    def stop_all(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Stop every pod gracefully (SIGTERM, SIGKILL after the grace) and wait for them."""
        table = ProcessTable() if self.active else None
        for pod_id in list(self.active):
            # The node itself is stopping: its runtime kills what is left within seconds, so
            # every pod gets the agent's short grace, whatever its own.
            self._stop(self.active.pop(pod_id), table, self._stop_grace_s)
        deadline = self._clock() + self._stop_grace_s + 3.0
        self.tick()
        while self.terminating and self._clock() < deadline:
            sleep(0.02)
            self.tick()

    def _stop(
        self, pod: Pod, table: ProcessTable | None = None, grace: float | None = None
    ) -> None:
        """SIGTERM now, SIGKILL after the pod's own grace (else the agent's)."""
        if grace is None:
            grace = pod.spec.grace_s if pod.spec.grace_s is not None else self._stop_grace_s
        pod.terminate(self._clock() + grace, table)
        self.terminating.append(pod)

    def _remove_directory(self, pod: Pod) -> None:
        if any(p.directory == pod.directory for p in self.active.values()):
            return
        shutil.rmtree(pod.directory, ignore_errors=True)

    def _remove_stray_directories(self) -> None:
        """Delete pod directories no pod owns (left by a previous run of the agent)."""
        in_use = {p.directory.name for p in self._all_pods()}
        try:
            entries = list(self.pods_root.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name not in in_use and entry.is_dir() and not entry.is_symlink():
                log.info("removing stale pod directory %s", entry.name)
                shutil.rmtree(entry, ignore_errors=True)

    def _all_pods(self) -> Iterable[Pod]:
        yield from self.active.values()
        yield from self.terminating


def contained_path(root: Path, segment: str) -> Path:
    """``root/segment``, refusing any segment that could leave ``root``."""
    if not is_safe_segment(segment):
        raise PodDirectoryError(f"unsafe path segment {segment!r}")
    path = root / segment
    if path.resolve().parent != root.resolve():
        raise PodDirectoryError(f"{segment!r} resolves outside {root}")
    return path
