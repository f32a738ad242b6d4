"""The node's pods: reconcile to the desired set, supervise containers, stop and clean up."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from kube9_desktop.agent.containers import RestartPolicy, SupervisedContainer
from kube9_desktop.agent.spec import PodSpec, is_safe_segment

log = logging.getLogger("kube9.agent.pods")

STOP_GRACE_S = 2.0


class PodDirectoryError(ValueError):
    """A pod or volume directory would land outside the agent's work directory."""


class Pod:
    """One running pod: its directory (volumes, logs) and its supervised containers."""

    def __init__(
        self, spec: PodSpec, pods_root: Path, policy: RestartPolicy, clock: Callable[[], float]
    ) -> None:
        self.spec = spec
        self.directory = contained_path(pods_root, spec.dir_name)
        env = spec.environment(self.directory)
        self.containers = {
            c.name: SupervisedContainer(
                c, self.directory, env, policy, clock, label=f"{spec.name}/{c.name}"
            )
            for c in spec.containers
        }
        self._prepared = False
        self.stop_deadline: float | None = None

    def start_due(self) -> None:
        """Create the pod directory once, then start containers whose back-off has passed."""
        if not self._prepared:
            due = [c for c in self.containers.values() if c.due()]
            if not due:
                return
            try:
                self._prepare()
            except (OSError, PodDirectoryError) as exc:
                for container in due:
                    container.fail_start(f"CreateContainerError: {exc}", 126)
                log.warning("pod %s: cannot create its directory: %s", self.spec.name, exc)
                return
            self._prepared = True
        for container in self.containers.values():
            container.poll()
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

    def terminate(self, deadline: float) -> None:
        self.stop_deadline = deadline
        for container in self.containers.values():
            container.terminate()

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
    ) -> None:
        self.pods_root = work_dir / "pods"
        self._policy = policy or RestartPolicy()
        self._clock = clock
        self._stop_grace_s = stop_grace_s
        self.active: dict[int, Pod] = {}
        self.terminating: list[Pod] = []

    def reconcile(self, desired: Sequence[PodSpec], keep_ids: Collection[int] = ()) -> None:
        """Start new pods, restart changed ones, stop the rest (except ``keep_ids``)."""
        wanted = {spec.id: spec for spec in desired}
        for pod_id, pod in list(self.active.items()):
            spec = wanted.get(pod_id)
            if spec is None and pod_id in keep_ids:
                continue
            if spec != pod.spec:
                reason = "removed" if spec is None else "spec changed"
                log.info("stopping pod %s (id %d): %s", pod.spec.name, pod_id, reason)
                self._stop(self.active.pop(pod_id))
        for spec in desired:
            if spec.id not in self.active:
                try:
                    self.active[spec.id] = Pod(spec, self.pods_root, self._policy, self._clock)
                except PodDirectoryError as exc:
                    log.error("refusing pod id %d: %s", spec.id, exc)
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
        """Reap exits, start what is due, escalate slow stops, delete finished pods' directories."""
        busy = {p.directory for p in self.terminating}
        for pod in self.active.values():
            if pod.directory not in busy:
                pod.start_due()
        now = self._clock()
        still: list[Pod] = []
        for pod in self.terminating:
            if pod.stop_deadline is not None and now >= pod.stop_deadline:
                for container in pod.containers.values():
                    container.force_kill()
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
        return [pod.report() for pod in self.active.values()]

    def pod_ids(self) -> list[int]:
        return sorted(self.active)

    def cpu_requested(self) -> float:
        return sum(pod.spec.cpu_req for pod in self.active.values())

    def stop_all(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Stop every pod gracefully (SIGTERM, SIGKILL after the grace) and wait for them."""
        for pod_id in list(self.active):
            self._stop(self.active.pop(pod_id))
        deadline = self._clock() + self._stop_grace_s + 3.0
        self.tick()
        while self.terminating and self._clock() < deadline:
            sleep(0.02)
            self.tick()

    def _stop(self, pod: Pod) -> None:
        pod.terminate(self._clock() + self._stop_grace_s)
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
