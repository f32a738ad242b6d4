"""The Engine: store, cluster, runtime and controllers, started and stopped together.

It serves nothing itself: the composition root (``kube9_desktop/serve.py``) opens the engine,
starts the HTTP API over it, then runs it. The API routes and the UI bridge both call its
operations (results, or ``Kube9Error``s with a message a person can act on) and its typed
reads (``reads.py``); neither reaches into its state or store.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kube9_desktop import __version__
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, SystemClock
from kube9_desktop.engine.cluster import (
    Cluster,
    ClusterConfig,
    CreatedNode,
    CreatedPod,
    DeletedNode,
    DeletedPod,
    NamespaceOutcome,
    incidents,
    namespaces,
)
from kube9_desktop.engine.cluster.nodes import delete_refusal
from kube9_desktop.engine.constraints import Taint
from kube9_desktop.engine.engine_ops import EngineHosts
from kube9_desktop.engine.errors import (
    Conflict,
    EnvironmentProblem,
    Kube9Error,
    NotFound,
    UserError,
)
from kube9_desktop.engine.events import EventBus, EventKind
from kube9_desktop.engine.faults import FaultInjector, Injected
from kube9_desktop.engine.health import HealthConfig, HealthMonitor
from kube9_desktop.engine.heartbeat import Heartbeats, Partitioned
from kube9_desktop.engine.meta import validate_annotations, validate_labels
from kube9_desktop.engine.model import ClusterSummary, NodeSpec, NodeStatus, NodeView, PodSpec
from kube9_desktop.engine.node_ops import EngineNodes
from kube9_desktop.engine.pod_logs import PodLogs
from kube9_desktop.engine.priority_ops import EnginePriorityClasses
from kube9_desktop.engine.proxy.probe import address_in_use
from kube9_desktop.engine.proxy.service_proxy import ServiceProxy
from kube9_desktop.engine.reads import EngineReads
from kube9_desktop.engine.recovery import RecoveryConfig, RecoveryController
from kube9_desktop.engine.runtime import select_runtime
from kube9_desktop.engine.runtime.base import NodeRuntime, RuntimeState
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from kube9_desktop.engine.service_dns import HostsWriter, ServiceDns
from kube9_desktop.engine.service_ops import EngineServices
from kube9_desktop.engine.specs import HeartbeatIn, NodeCreate, PodCreate, parse_body
from kube9_desktop.engine.split_brain import StaleCopies
from kube9_desktop.engine.store.lock import StoreLock, acquire_store_lock
from kube9_desktop.engine.store.store import Store
from kube9_desktop.engine.supervisor import NodeSupervisor
from kube9_desktop.engine.taint_eviction import TaintEvictionConfig, TaintEvictionController
from kube9_desktop.engine.terminating import TerminatingPods
from kube9_desktop.engine.tokens import Authenticator, Principal, load_or_create_admin_token
from kube9_desktop.engine.workload_controller import WorkloadConfig, WorkloadController
from kube9_desktop.engine.workload_ops import EngineWorkloads
from kube9_desktop.settings import Settings

log = logging.getLogger(__name__)
FLUSH_CHUNK = 1000  # rows per batched write: ~20 ms of loop time on a 2-core machine
Stopper = Callable[[], Awaitable[None]]


class Engine(
    EngineReads, EngineWorkloads, EngineServices, EngineNodes, EnginePriorityClasses, EngineHosts
):
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        runtime: NodeRuntime | None = None,
        runtime_reason: str = "",
        data_plane: bool = True,
    ) -> None:
        """``data_plane=False`` (a simulated scenario run): no proxy thread, no listening
        socket, no probe of Service addresses; nothing outside the loop moves."""
        self.settings = settings.validate()
        self.data_plane = data_plane
        self.kubernetes_defaults = settings.kubernetes_default_tolerations
        self._draining: set[int] = set()  # nodes a drain is under way on
        self.traffic_runs = {}
        self.clock = clock or SystemClock()
        self.bus = EventBus()
        self._runtime_override = runtime
        self.runtime_reason = runtime_reason
        self.api_url = ""
        self.k8s_url = ""  # the Kubernetes API's, when composition serves it (serve.py)
        self.admin_token = ""
        self.token_path: Path = settings.data_dir / "api-token"
        self.heartbeat_rate = 0.0
        self.opened = False
        self.started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._stoppers: list[Stopper] = []
        self.demo_task: asyncio.Task[None] | None = None
        self.store_lock: StoreLock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open and run without serving anything (benchmarks, tests of the engine alone)."""
        await self.open()
        await self.run()

    async def open(self) -> None:
        """Store, runtime, the working copy and the controllers: ready to serve requests."""
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
        self.pod_logs = PodLogs(self.pod, self.runtime)
        self.cluster = Cluster(
            self.store,
            self.clock,
            self.bus,
            ClusterConfig(scheduler=s.scheduler, runtime=self.runtime.name),
        )
        await asyncio.to_thread(self.cluster.load)
        with self.cluster.transaction() as t:
            namespaces.ensure_system_namespaces(t)
            closed = incidents.close_all(t, "interrupted")  # their engine is gone
        if closed:
            log.info("closed %d incident(s) left open by the previous engine", closed)
        self.admin_token, self.token_path = load_or_create_admin_token(s.data_dir, s.api_token)
        self.auth = Authenticator(self.admin_token, self._node_token_hash)
        grace = s.effective_grace_period
        self.health = HealthMonitor(
            self.cluster,
            self.clock,
            HealthConfig(
                grace_period=grace,
                tick=s.monitor_tick,
                eviction_delay=s.eviction_delay,
                startup_timeout=s.startup_timeout,
                restart_timeout=s.effective_restart_timeout,
                stall_threshold=max(1.0, s.heartbeat_interval),
                fresh_window=1.5 * s.heartbeat_interval + s.monitor_tick,
            ),
            extra_tolerations=self.extra_tolerations,
        )
        self.taint_eviction = TaintEvictionController(
            self.cluster, self.clock, TaintEvictionConfig(tick=s.monitor_tick),
            extra_tolerations=self.extra_tolerations,
            paused=lambda: self.health.evictions_paused,
            pending=lambda node_id: self.health.evict_at(node_id) is not None,
        )  # fmt: skip
        self.faults = FaultInjector(
            self.cluster, self.runtime, self.clock, tick=s.monitor_tick,
            on_healed=self.health.restart_watch,
        )  # fmt: skip
        self.terminating = TerminatingPods(self.cluster, self.clock)
        self.stale_copies = StaleCopies(self.cluster, self.faults.partitioned)
        self.heartbeats = Heartbeats(
            self.cluster, interval=s.heartbeat_interval, fault_active=self.faults.active,
            on_reported=self._node_reported,
        )  # fmt: skip
        self.supervisor = NodeSupervisor(
            self.cluster, self.runtime, lambda: self.api_url, s.heartbeat_interval, s.cluster_name,
            on_adopted_paused=lambda node_id: self.faults.set_hung(node_id, True),
            crash_backoff=(s.crash_backoff, s.crash_backoff_cap),
        )  # fmt: skip
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
            self.supervisor.available_for,
            partitioned=self.faults.partitioned,
            on_restart=self.faults.clear_for_restart,
        )
        self.workloads = WorkloadController(
            self.cluster, self.clock, WorkloadConfig(tick=s.monitor_tick), self.terminating
        )
        self.terminating.on_released = self.workloads.replicasets_released
        self.bind_engines()
        if isinstance(self.runtime, VirtualRuntime):
            self.runtime.bind(self.node_heartbeat, self.desired_pods_page)
            self.bus.subscribe_changes(self._wake_virtual_nodes)
        self.proxy = ServiceProxy(
            self.services, self.find_service,
            virtual=isinstance(self.runtime, VirtualRuntime),
            proxy_faulted=lambda node_id: "kube_proxy" in self.faults.component_faults(node_id),
            monotonic=self.clock.monotonic, on_problem=self._proxy_problem,
            node_dead=self._virtual_node_dead,
        )  # fmt: skip
        self.bus.subscribe_changes(self.proxy.on_changes)
        if self.data_plane:
            self.cluster.address_taken = address_in_use  # another engine's Service, say
        self.service_dns: ServiceDns | None = None
        if isinstance(self.runtime, HostsWriter):  # Docker: pods share their node's hosts file
            self.service_dns = ServiceDns(self.cluster, self.runtime)
            self.bus.subscribe_changes(self.service_dns.on_changes)
        self.opened = True

    async def run(self) -> None:
        """Bring the nodes up (adopt, relaunch) and start the controllers."""
        if not self.opened:
            await self.open()
        if self.api_url and self.store_lock is not None:
            await asyncio.to_thread(self.store_lock.update, api_url=self.api_url)
        counts = await self.supervisor.reconcile()
        self._loop = asyncio.get_running_loop()
        if self.data_plane:
            self.proxy.start()
        if self.service_dns is not None:
            self.service_dns.start()
        self.health.start()
        self.taint_eviction.start()
        self.recovery.start()
        self.faults.start()
        self.workloads.start()
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="flush"),
            asyncio.create_task(self._meter_loop(), name="heartbeat-meter"),
            asyncio.create_task(self._runtime_watch_loop(), name="runtime-watch"),
        ]
        if self.data_plane:  # a simulated run's store is thrown away: no checkpoints needed
            self._tasks.append(asyncio.create_task(self._checkpoint_loop(), name="wal-checkpoint"))
        self.started = True
        if self.settings.detect_from_runtime:
            self.runtime.watch_exits(self._node_died)
        self.cluster.record_event(
            EventKind.ENGINE,
            f"Engine {__version__} started: runtime {self.runtime.name}, "
            f"{len(self.cluster.state.nodes)} "
            f"node(s) and {len(self.cluster.state.pods)} pod(s) loaded"
            + (f", {counts['adopted']} adopted" if counts["adopted"] else ""),
            data={"runtime": self.runtime.name, **counts},
        )

    def on_stop(self, stopper: Stopper) -> None:
        """Have ``stopper`` awaited first when the engine stops (the API server, say)."""
        self._stoppers.append(stopper)

    async def stop(self) -> None:
        """Stop whatever was started (also after a start that failed half-way)."""
        self.started = False
        for stopper in reversed(self._stoppers):
            try:
                await stopper()
            except Exception:
                log.exception("stopping a service failed")
        self._stoppers = []
        await self.stop_all_traffic()
        if getattr(self, "proxy", None) is not None:
            await self.proxy.stop()
        if getattr(self, "service_dns", None) is not None:
            assert self.service_dns is not None
            await self.service_dns.stop()
        for task in [*self._tasks, *([self.demo_task] if self.demo_task else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for name in ("workloads", "health", "taint_eviction", "recovery", "faults"):
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
        if getattr(self, "cluster", None) is not None:
            try:
                self.cluster.flush()
                self.store.save_resource_version(self.cluster.resource_version)
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
        last = self.heartbeats.received
        while True:
            await asyncio.sleep(1.0)
            now = self.heartbeats.received
            self.heartbeat_rate = 0.7 * self.heartbeat_rate + 0.3 * (now - last)
            last = now

    def _virtual_node_dead(self, node_id: int) -> bool:
        """A virtual node killed or frozen: its pods answer nothing (the proxy answers for
        them), as real processes would not; other runtimes' pods answer or refuse themselves."""
        runtime = self.runtime
        return isinstance(runtime, VirtualRuntime) and not runtime.answering(node_id)

    def _node_died(self, node_id: int, how: str) -> None:
        """The runtime's news of a node's death (``--detect-from-runtime``)."""
        if not self.started:
            return  # stopping: the nodes are being stopped on purpose
        if self.faults.defer_while_killing(node_id, lambda: self._node_died(node_id, how)):
            return
        try:
            self.health.runtime_exit(node_id, how)
        except Exception:
            log.exception("acting on the runtime's word that node %s died failed", node_id)

    async def _runtime_watch_loop(self) -> None:
        """While the runtime is unavailable, probe it; recovery resumes when it answers."""
        while True:
            await asyncio.sleep(2.0)
            if self.supervisor.several_engines:
                await self.probe_engines()
            elif not self.supervisor.runtime_available:
                try:
                    await self.runtime.discover()
                except Exception:
                    continue
                self.supervisor.mark_available()

    def _wake_virtual_nodes(self, changes: Changes) -> None:
        """A node whose desired pods moved on hears of it at once (virtual nodes only: real
        agents learn it at their next heartbeat)."""
        runtime = self.runtime
        assert isinstance(runtime, VirtualRuntime)
        nodes = self.cluster.state.nodes
        for node_id in changes.changed.get(Kind.NODE, ()):
            node = nodes.get(node_id)
            session = self.heartbeats.sessions.get(node_id)
            behind = node is not None and (
                session is None or session.acked_generation != node.generation
            )
            if behind:
                runtime.wake(node_id)

    def _node_reported(self, node_id: int, current: bool, stopping: int | None) -> None:
        """A heartbeat got through: what waited for the agent to stop pods may end."""
        self.terminating.reported(node_id, current=current, terminating=stopping)
        self.stale_copies.reported(node_id, current=current, terminating=stopping)

    def _proxy_problem(self, message: str) -> None:
        """From the proxy's thread: a listener it cannot bind, as an event on the engine loop."""
        log.warning("%s", message)
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._proxy_event, message)

    def _proxy_event(self, message: str) -> None:
        if self.started:
            self.cluster.record_event(EventKind.RUNTIME, message)

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
        spec = await self.place(spec)  # its engine: unknown 400, down 503 naming it
        created = self.cluster.create_node(spec)
        node = self.cluster.state.nodes[created.view.id]
        task = self.supervisor.launch(node)
        # Answer promptly: wait a moment for a fast runtime, never for an image build.
        # asyncio.wait, not wait_for(shield(...)): on Python 3.11 wait_for can swallow the
        # caller's cancellation (Ctrl+C on a live scenario) when the launch ends meanwhile.
        await asyncio.wait({task}, timeout=0.5)
        if node.id not in self.cluster.state.nodes:
            return created
        return replace(created, view=self.cluster.node_view(node))

    async def create_node_from_json(self, body: Any) -> CreatedNode:
        """Validate an API-shaped body (the forms and tests use this too) and create the node."""
        return await self.create_node(parse_body(NodeCreate, body).to_spec())

    async def create_pod_from_json(self, body: Any) -> CreatedPod:
        return await self.create_pod(parse_body(PodCreate, body).to_spec())

    async def delete_node(self, node_id: int, *, force: bool = False) -> DeletedNode:
        node = self.cluster.node(node_id)
        name = node.name
        deleted = self.cluster.delete_node(node_id, force=force)
        self.heartbeats.forget(node_id)
        try:
            await self.supervisor.remove(node_id)
        except Kube9Error as exc:
            self.cluster.record_event(
                EventKind.RUNTIME,
                f"Node {name} deleted, but its instance was not removed: {exc.message}",
            )
        return deleted

    def set_node_taints(self, node_id: int, taints: tuple[Taint, ...]) -> NodeView:
        """Replace the node's taints (pods on it stay; pending pods that now fit are placed)."""
        return self.cluster.set_taints(node_id, taints)

    def set_node_cordoned(self, node_id: int, cordoned: bool) -> tuple[NodeView, bool]:
        """Cordon or uncordon; the node as it now is and whether this changed it."""
        return self.cluster.set_cordoned(node_id, cordoned)

    def delete_node_refusal(self, node_id: int, *, force: bool = False) -> str | None:
        """Why deleting this node would be refused now (the window asks before it offers)."""
        node = self.cluster.state.nodes.get(node_id)
        if node is None:
            return f"Node {node_id} not found"
        refusal = delete_refusal(self.cluster.state, node, force)
        return refusal.message if refusal else None

    async def create_pod(self, spec: PodSpec) -> CreatedPod:
        return self.cluster.create_pod(spec)

    async def create_pods(self, specs: list[PodSpec]) -> list[CreatedPod]:
        """Several pods in one commit: all are created, or none (the first refusal says why)."""
        return self.cluster.create_pods(specs)

    async def delete_pod(self, pod_id: int) -> DeletedPod:
        return self.cluster.delete_pod(pod_id)

    async def delete_pods(self, pod_ids: Sequence[int], batch: int = 50) -> list[DeletedPod]:
        """Delete many pods (the window's bulk delete): one commit per ``batch`` of them, the
        loop free between commits; pods already gone are skipped (absent from the result)."""
        deleted: list[DeletedPod] = []
        for start in range(0, len(pod_ids), batch):
            deleted += self.cluster.delete_pods(pod_ids[start : start + batch])
            await asyncio.sleep(0)
        return deleted

    async def replace_pod_from_json(self, pod_id: int, body: Any) -> CreatedPod:
        """Validate ``body``, then delete and recreate the pod in one commit (kept if refused)."""
        return self.cluster.replace_pod(pod_id, parse_body(PodCreate, body).to_spec())

    async def create_namespace(
        self, name: str, labels: Any = None, annotations: Any = None
    ) -> NamespaceOutcome:
        return self.cluster.create_namespace(
            name, validate_labels(labels), validate_annotations(annotations)
        )

    async def delete_namespace(self, name: str) -> NamespaceOutcome:
        return self.cluster.delete_namespace(name)

    async def inject_fault(
        self, node_id: int, mode: str = "crash", *, component: str | None = None,
        duration_s: float | None = None,
    ) -> Injected:  # fmt: skip
        node = self.cluster.node(node_id)
        return await self.faults.inject(node, mode, component=component, duration_s=duration_s)

    def fault_refusal(
        self, node_id: int, mode: str = "crash", *, component: str | None = None
    ) -> str | None:
        """Why this fault cannot be injected now (None: it can); the window shows this."""
        node = self.cluster.state.nodes.get(node_id)
        if node is None:
            return f"Node {node_id} not found"
        refusal = self.faults.refusal(node, mode, component=component)
        return refusal.message if refusal else None

    async def kill_pod(self, pod_id: int, container: str | None = None) -> str:
        return self.faults.kill_pod(pod_id, container)

    def kill_refusal(self, pod_id: int, container: str | None = None) -> str | None:
        pod = self.cluster.state.pods.get(pod_id)
        if pod is None:
            return f"Pod {pod_id} not found"
        refusal = self.faults.kill_refusal(pod, container)
        return refusal.message if refusal else None

    def recover_refusal(self, node_id: int) -> str | None:
        """Why Recover has nothing to do for this node now (None: it would act)."""
        node = self.cluster.state.nodes.get(node_id)
        if node is None:
            return f"Node {node_id} not found"
        if node.status is NodeStatus.RECOVERING:
            return f"Node {node.name} is already being restarted"
        if node.status in (NodeStatus.FAILED, NodeStatus.UNHEALTHY) or self.faults.active(node.id):
            return None
        return f"Node {node.name} is {node.status}: nothing to recover"

    async def recover_node(self, node_id: int) -> str:
        """Heal injected faults; restart a failed or unhealthy node with a fresh budget."""
        node = self.cluster.node(node_id)
        if node.status is NodeStatus.RECOVERING:
            raise Conflict(f"Node {node.name} is already being restarted")
        healed = await self.faults.heal(node)
        if node.status in (NodeStatus.FAILED, NodeStatus.UNHEALTHY):
            self.cluster.set_recovery_attempts(node, 0)
            self.recovery.begin_restart(node, "recovery requested by the user", 1)
            return f"Node '{node.name}' is being restarted" + (
                f" (healed: {', '.join(healed)})" if healed else ""
            )
        if healed:
            return f"Node '{node.name}': healed {', '.join(healed)}"
        return f"Node '{node.name}' is {node.status}: nothing to recover"

    def identify(self, token: str | None) -> Principal:
        """The caller behind a bearer token (raises Unauthorized); the HTTP layer asks first."""
        return self.auth.identify(token)

    def heartbeat_body_limit(self, node_id: int) -> int:
        """How large a heartbeat body this node may send (grows with the pods it holds)."""
        return self.heartbeats.body_limit(node_id)

    async def node_heartbeat(
        self, node_id: int, token: str | None, payload: Any, *, principal: Principal | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The heartbeat handler of the API route and of virtual nodes: auth, validate, apply.

        ``principal``: who ``token`` is, when the caller has just identified it (the API's auth
        middleware, before it read the body); the token is not looked up a second time."""
        try:
            if principal is None:
                principal = self.auth.identify(token)
            self.auth.require_node(principal, node_id)
            body = parse_body(HeartbeatIn, payload)
            node = self.cluster.node(node_id)
            if self.faults.partitioned(node_id):
                raise Partitioned("partitioned", node=node.name)
            if principal.admin:
                # By hand: it may report, never revive a node whose instance is not running.
                state = await self.runtime.status(node_id)
                if state is not RuntimeState.RUNNING:
                    raise Conflict(
                        f"Node {node.name}'s {self.runtime.name} instance is {state}: a "
                        "heartbeat sent by hand cannot bring it back (use Recover)"
                    )
            reply = self.heartbeats.process(node_id, body.to_report(), manual=principal.admin)
            self.health.heard(node_id)
            reply["component_faults"] = self.faults.component_faults(node_id)
            kills = self.faults.take_kills(node_id)
            if kills:
                reply["kill"] = kills
            return 200, reply
        except NotFound as exc:
            return 404, {**exc.to_json(), "should_stop_heartbeat": True}
        except Kube9Error as exc:
            return exc.status, exc.to_json()

    async def desired_pods_page(
        self, node_id: int, token: str | None, generation: int, offset: int, limit: int
    ) -> dict[str, Any]:
        """A page of a node's desired pods, for its agent (or the admin: secrets masked)."""
        principal = self.auth.identify(token)
        self.auth.require_node(principal, node_id)
        if offset < 0:
            raise UserError("offset: must be 0 or more", field="offset")
        return self.heartbeats.desired_page(
            node_id, generation, offset, limit, manual=principal.admin
        )

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
