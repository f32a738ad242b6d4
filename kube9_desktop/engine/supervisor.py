"""The bridge between the books and the runtime: launch, restart, stop and adopt nodes.

Runtime work runs in tasks so no operation waits on Docker; failures become events and node
statuses (recovery retries them), never exceptions in a caller's face.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.recovery import finish_or_cancel
from kube9_desktop.engine.runtime.base import NodeLaunch, NodeRuntime, RuntimeState
from kube9_desktop.engine.state import NodeState

log = logging.getLogger(__name__)


class NodeSupervisor:
    def __init__(
        self,
        cluster: Cluster,
        runtime: NodeRuntime,
        api_url: Callable[[], str],
        heartbeat_interval: float,
        cluster_name: str = "default",
        on_adopted_paused: Callable[[int], None] = lambda _node_id: None,
        crash_backoff: tuple[float, float] = (10.0, 300.0),
    ) -> None:
        self.cluster = cluster
        self.runtime = runtime
        self._api_url = api_url
        self.heartbeat_interval = heartbeat_interval
        self.cluster_name = cluster_name
        self.crash_backoff = crash_backoff  # (first, longest) restart delay the agents use
        self._on_adopted_paused = on_adopted_paused  # the fault injector notes it as hung
        # engine -> why it is unavailable ("local": the one runtime, or this machine's engine)
        self.engine_problems: dict[str, str] = {}
        self.several_engines = False  # DockerEngines (engines.py): events name the engine
        self._tasks: dict[int, asyncio.Task[None]] = {}

    @property
    def runtime_available(self) -> bool:
        """Every engine answers (one runtime: it does)."""
        return not self.engine_problems

    @property
    def runtime_problem(self) -> str:
        return next(iter(self.engine_problems.values()), "")

    def available_for(self, node: NodeState) -> bool:
        """Whether the engine ``node`` runs on answers (recovery waits for it otherwise)."""
        return node.engine not in self.engine_problems

    def launch_spec(self, node: NodeState) -> NodeLaunch:
        token = self.cluster.tokens.get(node.id) or self.cluster.rotate_token(node)
        return NodeLaunch(
            node_id=node.id,
            name=node.name,
            node_type=str(node.node_type),
            cpu_m=node.capacity.cpu_m,
            mem_mi=node.capacity.mem_mi,
            token=token,
            api_url=self._api_url(),
            heartbeat_interval=self.heartbeat_interval,
            cluster=self.cluster_name,
            crash_backoff=self.crash_backoff[0],
            crash_backoff_cap=self.crash_backoff[1],
            engine=node.engine,
        )

    def launch(self, node: NodeState) -> asyncio.Task[None]:
        """Start the node's runtime instance in the background."""
        task = asyncio.create_task(self._start(node), name=f"launch-{node.name}")
        self._tasks[node.id] = task
        task.add_done_callback(functools.partial(self._forget, node.id))
        return task

    def _forget(self, node_id: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(node_id, None)

    async def _start(self, node: NodeState) -> None:
        try:
            handle = await self.runtime.start(self.launch_spec(node))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._start_failed(node, exc)
            return
        self.mark_available(node.engine)
        if node.id in self.cluster.state.nodes:
            self.cluster.set_runtime_handle(
                node,
                handle.handle,
                f"Node {node.name} started ({self.runtime.name}: {handle.handle[:12]})",
            )

    def _start_failed(self, node: NodeState, exc: Exception) -> None:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(exc, RuntimeUnavailable):
            self.mark_unavailable(message, engine_of(exc, node.engine))
        else:
            log.exception("starting node %s failed", node.name, exc_info=exc)
        if node.id in self.cluster.state.nodes and node.status in (
            NodeStatus.INITIALIZING,
            NodeStatus.RECOVERING,
        ):
            self.cluster.set_status(
                node, NodeStatus.UNHEALTHY, f"could not start: {message}", EventKind.RUNTIME
            )

    async def restart(self, node: NodeState) -> None:
        """Bring a node back whatever state its instance is in (used by recovery)."""
        try:
            handle = await self.runtime.restart(self.launch_spec(node))
        except RuntimeUnavailable as exc:
            self.mark_unavailable(exc.message, engine_of(exc, node.engine))
            raise
        self.mark_available(node.engine)
        if node.id in self.cluster.state.nodes and handle.handle != node.runtime_handle:
            self.cluster.set_runtime_handle(
                node, handle.handle, f"Node {node.name} restarted ({handle.handle[:12]})"
            )

    async def remove(self, node_id: int) -> None:
        task = self._tasks.pop(node_id, None)
        if task is not None:
            task.cancel()
        try:
            await self.runtime.remove(node_id)
        except RuntimeUnavailable as exc:
            self.mark_unavailable(exc.message, engine_of(exc))
            raise

    async def reconcile(self) -> dict[str, int]:
        """At start: adopt running instances of stored nodes, remove orphans, start the rest."""
        counts = {"adopted": 0, "removed": 0, "started": 0}
        try:
            found = await self.runtime.discover()
        except RuntimeUnavailable as exc:
            self.mark_unavailable(exc.message, engine_of(exc))
            found = []
        adopted: set[int] = set()
        nodes = self.cluster.state.nodes
        for f in found:
            node = nodes.get(f.node_id) if f.node_id is not None else None
            if (
                node is not None
                and node.name == f.name
                and f.state
                in (
                    RuntimeState.RUNNING,
                    RuntimeState.PAUSED,
                )
                and node.status is not NodeStatus.FAILED
            ):
                try:
                    handle = await self.runtime.adopt(self.launch_spec(node), f)
                except Exception:
                    log.exception("adopting node %s failed; it will be restarted", f.name)
                    continue
                adopted.add(node.id)
                if handle.handle != node.runtime_handle:
                    self.cluster.set_runtime_handle(
                        node, handle.handle, f"Node {node.name} adopted ({handle.handle[:12]})"
                    )
                if f.state is RuntimeState.PAUSED:
                    self._on_adopted_paused(node.id)
                counts["adopted"] += 1
            elif node is None or node.name != f.name:
                try:
                    await self.runtime.remove(f.node_id if f.node_id is not None else -1)
                    counts["removed"] += 1
                except Exception:
                    log.exception("removing orphan %s failed", f.name)
        for node in list(nodes.values()):
            if node.id in adopted or node.status is NodeStatus.FAILED:
                continue
            self.cluster.rotate_token(node)
            self.launch(node)
            counts["started"] += 1
        return counts

    async def stop_all(self, timeout: float = 10.0) -> None:
        # Launches under way finish first (their runtime call cannot be cancelled mid-way).
        await finish_or_cancel(list(self._tasks.values()), timeout)
        ids = list(self.cluster.state.nodes)
        if not ids:
            return
        results = await asyncio.wait_for(
            asyncio.gather(*(self.runtime.stop(i) for i in ids), return_exceptions=True),
            timeout,
        )
        for node_id, result in zip(ids, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, RuntimeUnavailable):
                log.warning("stopping node %s failed: %s", node_id, result)

    def mark_unavailable(self, message: str, engine: str = "local") -> None:
        if engine in self.engine_problems:
            self.engine_problems[engine] = message
            return
        self.engine_problems[engine] = message
        named = self._named(engine)
        self.cluster.record_event(
            EventKind.RUNTIME,
            message if message.startswith(named) else f"{named} is unavailable: {message}",
            data={"available": False, "engine": engine},
        )

    def mark_available(self, engine: str = "local") -> None:
        if self.engine_problems.pop(engine, None) is not None:
            self.cluster.record_event(
                EventKind.RUNTIME,
                f"{self._named(engine)} is available again",
                data={"available": True, "engine": engine},
            )

    def _named(self, engine: str) -> str:
        """How events name it: the one runtime, or a Docker engine of several."""
        if not self.several_engines:
            return f"The {self.runtime.name} runtime"
        return f"Docker engine {engine}"


def engine_of(exc: RuntimeUnavailable, default: str = "local") -> str:
    """The engine a RuntimeUnavailable is about (engines.py names it), else ``default``."""
    return str(exc.extra.get("engine") or default)
