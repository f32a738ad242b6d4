"""Failure injection: one call breaks a node (crash, hang, partition, component) or kills a
pod's process, with an event that opens the failure's incident so its timeline can be shown.

The injector keeps its own books (``NodeFaults`` per node: partition deadline, frozen,
component faults, kills to deliver); the node record never holds them. ``refusal`` is the one
rule for "may this fault be injected now": the engine raises it, the window shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, tick_forever
from kube9_desktop.engine.cluster import Cluster, incidents
from kube9_desktop.engine.components import FAULT_ACTIVE, FAULT_ENDED
from kube9_desktop.engine.errors import Conflict, NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    REQUIRED_COMPONENTS,
    NodeStatus,
    PodPhase,
    components_for,
)
from kube9_desktop.engine.runtime.base import NodeRuntime
from kube9_desktop.engine.state import NodeState, PodState

log = logging.getLogger(__name__)

DEFAULT_PARTITION_S = 30.0
MODES = ("crash", "hang", "partition", "component")


@dataclass(frozen=True)
class Injected:
    mode: str
    node: str
    at: datetime
    incident_id: int
    message: str
    changes: Changes


@dataclass(slots=True)
class NodeFaults:
    partition_until: float | None = None
    hung: bool = False
    components: dict[str, str] = field(default_factory=dict)
    # Component faults healed (or ended by a restart) that the agent still reports failed:
    # its report lags by a heartbeat or two, and the window says so meanwhile.
    ended: set[str] = field(default_factory=set)
    kills: list[dict[str, object]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.partition_until is not None or self.hung or bool(self.components)

    def labels(self) -> tuple[str, ...]:
        out = []
        if self.partition_until is not None:
            out.append("partitioned")
        if self.hung:
            out.append("hung")
        out.extend(f"{c} {s}" for c, s in sorted(self.components.items()))
        return tuple(out)

    def end_components(self) -> None:
        self.ended.update(self.components)
        self.components.clear()

    def component_view(self) -> dict[str, str]:
        """{component: "failed" while injected, "ended" until its agent reports it running}."""
        view = dict.fromkeys(self.ended, FAULT_ENDED)
        view.update(dict.fromkeys(self.components, FAULT_ACTIVE))
        return view


class FaultInjector:
    def __init__(
        self,
        cluster: Cluster,
        runtime: NodeRuntime,
        clock: Clock,
        *,
        tick: float = 0.25,
        on_healed: Callable[[int], None] = lambda _node_id: None,
    ) -> None:
        self.cluster = cluster
        self.runtime = runtime
        self.clock = clock
        self.books: dict[int, NodeFaults] = {}
        self._tick_s = tick
        self._on_healed = on_healed  # the health monitor restarts the node's deadline
        self._task: asyncio.Task[None] | None = None
        cluster.fault_labels = self.labels
        cluster.fault_components = self.component_view
        cluster.bus.subscribe_changes(self._on_changes)

    # ---- books -------------------------------------------------------------------------

    def of(self, node_id: int) -> NodeFaults:
        found = self.books.get(node_id)
        if found is None:
            found = self.books[node_id] = NodeFaults()
        return found

    def labels(self, node_id: int) -> tuple[str, ...]:
        found = self.books.get(node_id)
        return found.labels() if found is not None else ()

    def component_view(self, node_id: int) -> dict[str, str]:
        found = self.books.get(node_id)
        return found.component_view() if found is not None else {}

    def active(self, node_id: int) -> bool:
        found = self.books.get(node_id)
        return found is not None and found.active

    def partitioned(self, node_id: int, now: float | None = None) -> bool:
        found = self.books.get(node_id)
        if found is None or found.partition_until is None:
            return False
        return (self.clock.monotonic() if now is None else now) < found.partition_until

    def hung(self, node_id: int) -> bool:
        found = self.books.get(node_id)
        return found is not None and found.hung

    def component_faults(self, node_id: int) -> dict[str, str]:
        found = self.books.get(node_id)
        return dict(found.components) if found is not None else {}

    def take_kills(self, node_id: int) -> list[dict[str, object]]:
        found = self.books.get(node_id)
        if found is None or not found.kills:
            return []
        kills, found.kills = found.kills, []
        return kills

    def set_hung(self, node_id: int, hung: bool) -> None:
        """A node found paused at start (adopted as it was) or restarted (no longer frozen)."""
        self.of(node_id).hung = hung

    def clear_for_restart(self, node_id: int) -> None:
        """A restart gives the node a fresh instance: no frozen process, no component faults."""
        found = self.books.get(node_id)
        if found is not None:
            found.hung = False
            found.end_components()

    def _on_changes(self, changes: Changes) -> None:
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.books.pop(node_id, None)
        for node_id in changes.changed.get(Kind.NODE, ()):
            found = self.books.get(node_id)
            node = self.cluster.state.nodes.get(node_id)
            if found is not None and found.ended and node is not None:
                # Its agent reports them running again: they are no longer worth a word.
                found.ended = {
                    c for c in found.ended if node.components.get(c) != COMPONENT_RUNNING
                }

    # ---- the one rule ------------------------------------------------------------------

    def refusal(
        self,
        node: NodeState,
        mode: str = "crash",
        *,
        component: str | None = None,
        duration_s: float | None = None,
    ) -> UserError | None:
        """Why this fault cannot be injected now, or None (the window asks the same rule)."""
        if mode not in MODES:
            return UserError(f"mode: must be one of {', '.join(MODES)}", field="mode")
        if node.status is not NodeStatus.HEALTHY:
            return Conflict(
                f"Node {node.name} is {node.status}, not running: a fault can only be injected "
                "into a healthy node (use Recover first)"
            )
        found = self.books.get(node.id)
        if found is not None and (found.partition_until is not None or found.hung):
            return Conflict(f"Node {node.name} already has a fault ({', '.join(found.labels())})")
        if mode == "component":
            name = component or "kubelet"
            if name not in components_for(node.node_type):
                return UserError(
                    f"component: {node.node_type} nodes have "
                    f"{', '.join(components_for(node.node_type))}",
                    field="component",
                )
            if found is not None and name in found.components:
                return Conflict(f"Node {node.name}: {name} has already failed")
        elif component is not None:
            return UserError("component: only used with mode 'component'", field="component")
        if duration_s is not None and mode != "partition":
            return UserError("duration_s: only used with mode 'partition'", field="duration_s")
        return None

    # ---- injecting and healing ---------------------------------------------------------

    async def inject(
        self,
        node: NodeState,
        mode: str = "crash",
        *,
        component: str | None = None,
        duration_s: float | None = None,
    ) -> Injected:
        refusal = self.refusal(node, mode, component=component, duration_s=duration_s)
        if refusal is not None:
            raise refusal
        if mode == "component":
            component = component or "kubelet"
        now = self.clock.monotonic()
        detail = {
            "crash": "the node was killed",
            "hang": "the node was frozen: alive but silent",
            "partition": f"its heartbeats are dropped for {duration_s or DEFAULT_PARTITION_S:g} s",
            "component": f"its {component} reports failed",
        }[mode]
        if mode == "crash":
            await self.runtime.kill(node.id)
        elif mode == "hang":
            await self.runtime.pause(node.id)
        if node.id not in self.cluster.state.nodes:
            raise NotFound(f"Node {node.name} was deleted while the fault was injected")
        books = self.of(node.id)
        if mode == "hang":
            books.hung = True
        elif mode == "partition":
            books.partition_until = now + (duration_s or DEFAULT_PARTITION_S)
        elif mode == "component":
            assert component is not None
            books.components[component] = "failed"
            books.ended.discard(component)
        with self.cluster.transaction() as t:
            incident = incidents.open_incident(
                t, node, mode,
                awaiting_detection=mode != "component" or component in REQUIRED_COMPONENTS,
            )  # fmt: skip
            ev = t.event(
                EventKind.FAULT_INJECTED,
                f"Injected {mode} into {node.name}: {detail}"
                + (" (the node becomes NotReady)" if component in REQUIRED_COMPONENTS else ""),
                obj=node.ref(),
                incident_id=incident,
                data={"mode": mode, "component": component, "duration_s": duration_s},
            )
            t.changed(Kind.NODE, node.id)  # its fault labels changed
        return Injected(mode, node.name, ev.at, incident, ev.message, t.changes)

    def kill_refusal(self, pod: PodState, container: str | None = None) -> UserError | None:
        if pod.node_id is None or pod.phase not in (PodPhase.RUNNING, PodPhase.SCHEDULED):
            return Conflict(f"Pod {pod.name} is {pod.phase}: it has no process to kill")
        names = [c.name for c in pod.spec.containers]
        if container is not None and container not in names:
            return UserError(f"container: pod {pod.name} has {', '.join(names)}", field="container")
        return None

    def kill_pod(self, pod_id: int, container: str | None = None) -> str:
        """Ask the pod's node agent to SIGKILL the pod's process(es) on its next heartbeat."""
        pod = self.cluster.pod(pod_id)
        refusal = self.kill_refusal(pod, container)
        if refusal is not None:
            raise refusal
        assert pod.node_id is not None
        node = self.cluster.state.nodes[pod.node_id]
        self.of(node.id).kills.append({"pod_id": pod.id, "container": container})
        what = f"container {container}" if container else "its containers"
        self.cluster.record_event(
            EventKind.POD_KILLED,
            f"Killing {what} of pod {pod.name} on {node.name}; the agent restarts with back-off",
            node=node,
            pod=pod,
            data={"container": container},
        )
        return f"Kill of pod '{pod.name}' ({what}) sent to node '{node.name}'"

    async def heal(self, node: NodeState) -> list[str]:
        """Undo partition, hang and component faults now; returns what was healed."""
        found = self.books.get(node.id)
        if found is None or not found.active:
            return []
        healed = []
        if found.partition_until is not None:
            found.partition_until = None
            healed.append("partition")
        if found.hung:
            await self.runtime.resume(node.id)
            found.hung = False
            healed.append("hang")
        if found.components:
            healed.extend(f"{c} fault" for c in sorted(found.components))
            found.end_components()
        self._healed(node, f"Healed {', '.join(healed)} on {node.name}")
        return healed

    def _healed(self, node: NodeState, message: str) -> None:
        """Record a heal; a node that stayed healthy through its fault ends its incident now."""
        if node.id not in self.cluster.state.nodes:
            return
        self._on_healed(node.id)
        with self.cluster.transaction() as t:
            t.event(EventKind.FAULT_HEALED, message, obj=node.ref())
            if node.status is NodeStatus.HEALTHY and not self.active(node.id):
                incidents.close_incident(t, node, "healed")
            t.changed(Kind.NODE, node.id)

    # ---- partitions end by themselves ---------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                tick_forever(self.tick, self._tick_s, "fault injector"), name="faults"
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def tick(self) -> None:
        now = self.clock.monotonic()
        for node_id, found in list(self.books.items()):
            if found.partition_until is not None and now >= found.partition_until:
                found.partition_until = None
                node = self.cluster.state.nodes.get(node_id)
                if node is None:
                    continue
                try:
                    self._healed(
                        node,
                        f"Partition of node {node.name} healed: its heartbeats get through again",
                    )
                except Exception:
                    log.exception("healing the partition of node %s failed", node.name)
