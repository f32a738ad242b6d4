"""The Engine: store, cluster, runtime, controllers and the API, started and stopped together.

Both the GUI and headless mode build exactly this object; the API routes and the UI bridge
call its operations, which return results or raise ``Kube9Error``s with a message a person
can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.engine.api.auth import Authenticator, load_or_create_admin_token
from kube9_desktop.engine.api.schemas import HeartbeatIn, NodeCreate, PodCreate, parse_body
from kube9_desktop.engine.clock import Clock, SystemClock
from kube9_desktop.engine.cluster import Cluster, ClusterConfig, CreatedNode, CreatedPod
from kube9_desktop.engine.errors import (
    Conflict,
    EnvironmentProblem,
    Kube9Error,
    NotFound,
    RuntimeUnavailable,
)
from kube9_desktop.engine.events import EventBus, EventKind
from kube9_desktop.engine.faults import FaultInjector, Injected
from kube9_desktop.engine.health import HealthConfig, HealthMonitor
from kube9_desktop.engine.heartbeat import process_heartbeat
from kube9_desktop.engine.model import ClusterSummary, NodeSpec, NodeStatus, PodSpec
from kube9_desktop.engine.recovery import RecoveryConfig, RecoveryController
from kube9_desktop.engine.runtime import select_runtime
from kube9_desktop.engine.runtime.base import NodeRuntime
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from kube9_desktop.engine.store.lock import StoreLock, acquire_store_lock
from kube9_desktop.engine.store.store import Store
from kube9_desktop.engine.supervisor import NodeSupervisor
from kube9_desktop.settings import Settings

log = logging.getLogger(__name__)
FLUSH_CHUNK = 1000  # rows per batched write: ~20 ms of loop time on a 2-core machine


@dataclass(frozen=True)
class DeletedNode:
    name: str
    rebound: tuple[tuple[str, str], ...]
    pending: tuple[str, ...]


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        runtime: NodeRuntime | None = None,
        runtime_reason: str = "",
    ) -> None:
        self.settings = settings.validate()
        self.clock = clock or SystemClock()
        self.bus = EventBus()
        self._runtime_override = runtime
        self.runtime_reason = runtime_reason
        self.api_url = ""
        self.admin_token = ""
        self.token_path: Path = settings.data_dir / "api-token"
        self.heartbeat_rate = 0.0
        self.started = False
        self._api: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.demo_task: asyncio.Task[None] | None = None
        self.store_lock: StoreLock | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self, *, serve_api: bool = True) -> None:
        s = self.settings
        try:
            s.data_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(s.data_dir, 0o700)
        except OSError as exc:
            raise EnvironmentProblem(
                f"The data directory {s.data_dir} cannot be used ({exc.strerror}): choose a "
                "writable --data-dir."
            ) from exc
        # One engine per store and data dir: a second one is refused here, before any change.
        self.store_lock = await asyncio.to_thread(acquire_store_lock, s.database_url, s.data_dir)
        self.store = await asyncio.to_thread(Store.open, s.database_url)
        if self._runtime_override is not None:
            self.runtime: NodeRuntime = self._runtime_override
        else:
            self.runtime, self.runtime_reason = await select_runtime(s, self._runtime_progress)
        self.cluster = Cluster(
            self.store,
            self.clock,
            self.bus,
            ClusterConfig(
                scheduler=s.scheduler, eviction_delay=s.eviction_delay, runtime=self.runtime.name
            ),
        )
        await asyncio.to_thread(self.cluster.load)
        self.admin_token, self.token_path = load_or_create_admin_token(s.data_dir, s.api_token)
        self.auth = Authenticator(self.admin_token, self._node_token_hash)
        self.faults = FaultInjector(self.cluster, self.runtime)
        self.supervisor = NodeSupervisor(
            self.cluster, self.runtime, lambda: self.api_url, s.heartbeat_interval, s.cluster_name
        )
        grace = s.effective_grace_period
        self.health = HealthMonitor(
            self.cluster,
            self.clock,
            HealthConfig(
                grace_period=grace,
                tick=s.monitor_tick,
                startup_timeout=s.startup_timeout,
                restart_timeout=s.effective_restart_timeout,
                stall_threshold=max(1.0, s.heartbeat_interval),
                fresh_window=1.5 * s.heartbeat_interval + s.monitor_tick,
            ),
        )
        self.recovery = RecoveryController(
            self.cluster,
            self.clock,
            RecoveryConfig(
                max_attempts=s.max_recovery_attempts,
                backoff=s.recovery_backoff,
                backoff_cap=s.recovery_backoff_cap,
                reset_after=s.recovery_reset_after,
                tick=s.monitor_tick,
            ),
            self.supervisor.restart,
            lambda: self.supervisor.runtime_available,
        )
        if isinstance(self.runtime, VirtualRuntime):
            self.runtime.bind(self.node_heartbeat)
        if serve_api:
            from kube9_desktop.engine.api.server import ApiServer

            self._api = ApiServer(self, s)
            self.api_url = await self._api.start()
            await asyncio.to_thread(self.store_lock.update, api_url=self.api_url)
        counts = await self.supervisor.reconcile()
        self.health.start()
        self.recovery.start()
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="flush"),
            asyncio.create_task(self._meter_loop(), name="heartbeat-meter"),
            asyncio.create_task(self._runtime_watch_loop(), name="runtime-watch"),
            asyncio.create_task(self._checkpoint_loop(), name="wal-checkpoint"),
        ]
        self.started = True
        self.cluster.record_event(
            EventKind.ENGINE,
            f"Engine {__version__} started: runtime {self.runtime.name}, "
            f"{len(self.cluster.state.nodes)} "
            f"node(s) and {len(self.cluster.state.pods)} pod(s) loaded"
            + (f", {counts['adopted']} adopted" if counts["adopted"] else ""),
            data={"runtime": self.runtime.name, **counts},
        )
        if s.demo and not self.cluster.state.nodes:
            from kube9_desktop.engine.demo import create_demo_cluster

            await create_demo_cluster(self)

    async def stop(self) -> None:
        """Stop whatever was started (also after a start that failed half-way)."""
        self.started = False
        for task in [*self._tasks, *([self.demo_task] if self.demo_task else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for name in ("health", "recovery"):
            controller = getattr(self, name, None)
            if controller is not None:
                await controller.stop()
        if getattr(self, "supervisor", None) is not None:
            try:
                await self.supervisor.stop_all()
            except Exception:
                log.exception("stopping nodes failed")
        if getattr(self, "runtime", None) is not None:
            await self.runtime.close()
        if self._api is not None:
            await self._api.stop()
            self._api = None
        if getattr(self, "cluster", None) is not None:
            try:
                self.cluster.flush()
            except Kube9Error:
                log.exception("final flush failed")
        if getattr(self, "store", None) is not None:
            self.store.close()
        if self.store_lock is not None:
            await asyncio.to_thread(self.store_lock.release)
            self.store_lock = None

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_flush_interval)
            try:
                while True:
                    if self.cluster.flush(limit=FLUSH_CHUNK):
                        break
                    await asyncio.sleep(0)  # heartbeats and requests go between the chunks
            except Exception:
                log.exception("flushing heartbeats failed; will retry")

    async def _checkpoint_loop(self) -> None:
        """SQLite WAL checkpoints in a thread: no commit on the loop waits for an fsync."""
        while True:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(self.store.checkpoint)

    async def _meter_loop(self) -> None:
        last = self.cluster.heartbeats_received
        while True:
            await asyncio.sleep(1.0)
            now = self.cluster.heartbeats_received
            self.heartbeat_rate = 0.7 * self.heartbeat_rate + 0.3 * (now - last)
            last = now

    async def _runtime_watch_loop(self) -> None:
        """While the runtime is unavailable, probe it; recovery resumes when it answers."""
        while True:
            await asyncio.sleep(2.0)
            if not self.supervisor.runtime_available:
                try:
                    await self.runtime.discover()
                except Exception:
                    continue
                self.supervisor.mark_available()

    def _runtime_progress(self, message: str) -> None:
        if getattr(self, "cluster", None) is not None and self.started:
            self.cluster.record_event(EventKind.RUNTIME, message)
        else:
            log.info("%s", message)

    def _node_token_hash(self, node_id: int) -> str | None:
        node = self.cluster.state.nodes.get(node_id)
        if node is not None:
            return node.token_hash
        # A deleted node's agent still proves who it is, so it can be told to stop (404).
        return self.cluster.deleted_token_hashes.get(node_id)

    # ---- operations --------------------------------------------------------------------

    async def create_node(self, spec: NodeSpec) -> CreatedNode:
        if not self.supervisor.runtime_available:
            problem = self.supervisor.runtime_problem or "the runtime is down"
            raise RuntimeUnavailable(f"Cannot start new nodes: {problem}")
        created = self.cluster.create_node(spec)
        node = self.cluster.state.nodes[created.view.id]
        task = self.supervisor.launch(node)
        # Answer promptly: wait a moment for a fast runtime, never for an image build.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), timeout=0.5)
        return CreatedNode(self.cluster.node_view(node), created.token)

    async def create_node_from_json(self, body: Any) -> CreatedNode:
        """Validate an API-shaped body (the forms and tests use this too) and create the node."""
        return await self.create_node(parse_body(NodeCreate, body).to_spec())

    async def create_pod_from_json(self, body: Any) -> CreatedPod:
        return await self.create_pod(parse_body(PodCreate, body).to_spec())

    async def delete_node(self, node_id: int, *, force: bool = False) -> DeletedNode:
        node = self.cluster.node(node_id)
        name = node.name
        moved = self.cluster.delete_node(node_id, force=force)
        try:
            await self.supervisor.remove(node_id)
        except Kube9Error as exc:
            self.cluster.record_event(
                EventKind.RUNTIME,
                f"Node {name} deleted, but its instance was not removed: {exc.message}",
            )
        return DeletedNode(name, moved.rebound, moved.pending)

    async def create_pod(self, spec: PodSpec) -> CreatedPod:
        return self.cluster.create_pod(spec)

    async def delete_pod(self, pod_id: int) -> str:
        return self.cluster.delete_pod(pod_id).name

    async def inject_fault(
        self, node_id: int, mode: str = "crash", *, component: str | None = None,
        duration_s: float | None = None,
    ) -> Injected:  # fmt: skip
        node = self.cluster.node(node_id)
        return await self.faults.inject(node, mode, component=component, duration_s=duration_s)

    async def kill_pod(self, pod_id: int, container: str | None = None) -> str:
        return self.faults.kill_pod(pod_id, container)

    async def recover_node(self, node_id: int) -> str:
        """Heal injected faults; restart a failed or unhealthy node with a fresh budget."""
        node = self.cluster.node(node_id)
        healed = await self.faults.heal(node)
        if node.status in (NodeStatus.FAILED, NodeStatus.UNHEALTHY):
            self.cluster.set_recovery_attempts(node, 0)
            self.recovery.begin_restart(node, "recovery requested by the user", 1)
            return f"Node '{node.name}' is being restarted" + (
                f" (healed: {', '.join(healed)})" if healed else ""
            )
        if node.status is NodeStatus.RECOVERING:
            raise Conflict(f"Node {node.name} is already being restarted")
        if healed:
            return f"Node '{node.name}': healed {', '.join(healed)}"
        return f"Node '{node.name}' is {node.status}: nothing to recover"

    async def node_heartbeat(
        self, node_id: int, token: str | None, payload: Any
    ) -> tuple[int, dict[str, Any]]:
        """The heartbeat handler of the API route and of virtual nodes: auth, validate, apply."""
        try:
            principal = self.auth.identify(token)
            self.auth.require_node(principal, node_id)
            body = parse_body(HeartbeatIn, payload)
            reply = process_heartbeat(
                self.cluster, node_id, body.to_report(), interval=self.settings.heartbeat_interval
            )
            return 200, reply
        except NotFound as exc:
            return 404, {**exc.to_json(), "should_stop_heartbeat": True}
        except Kube9Error as exc:
            return exc.status, exc.to_json()

    def summary(self) -> ClusterSummary:
        return replace(
            self.cluster.summary(self.runtime.name, self.runtime_reason),
            heartbeats_per_s=self.heartbeat_rate,
            evictions_paused=self.health.evictions_paused,
            extra={
                "api_url": self.api_url,
                "runtime_available": self.supervisor.runtime_available,
                "runtime_problem": self.supervisor.runtime_problem,
                "grace_period_s": self.settings.effective_grace_period,
                "heartbeat_interval_s": self.settings.heartbeat_interval,
            },
        )
