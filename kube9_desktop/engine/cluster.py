"""The cluster's operations: create/delete nodes and pods, bind, evict, change node status.

Every operation follows one order: validate against memory, commit to the store (with its
events), update memory, publish the events, return. A crash after the return loses nothing; a
failed commit leaves memory untouched. Operations are synchronous inside (SQLite commits take
tens of microseconds) so each is atomic with respect to the event loop.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from kube9_desktop.engine.clock import Clock
from kube9_desktop.engine.errors import Conflict, NotFound, Unschedulable
from kube9_desktop.engine.events import Event, EventBus, EventKind
from kube9_desktop.engine.model import (
    MIB_PER_CORE_DEFAULT,
    ClusterSummary,
    ContainerStatus,
    Decision,
    NodeSpec,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodSpec,
    PodView,
    Resources,
    components_for,
    format_cpu,
    format_mem,
)
from kube9_desktop.engine.scheduler import STRATEGIES, candidate, schedule
from kube9_desktop.engine.state import ClusterState, NodeState, PodState
from kube9_desktop.engine.store.store import Store, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN_PREFIX = "k9n"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_node_token(node_id: int) -> str:
    """A node token names its node, so auth finds the hash to compare without a scan."""
    return f"{TOKEN_PREFIX}.{node_id}.{secrets.token_urlsafe(24)}"


def epoch_generation() -> int:
    """Generations start from the clock so they never repeat across engine restarts."""
    return time.time_ns() // 1_000_000


def _take(dirty: dict[int, T], limit: int | None) -> dict[int, T]:
    """Remove and return up to ``limit`` of the oldest entries of a dirty map (all: None)."""
    if limit is None or len(dirty) <= limit:
        taken = dict(dirty)
        dirty.clear()
        return taken
    return {k: dirty.pop(k) for k in list(itertools.islice(dirty, limit))}


def largest_first(pods: Iterable[PodState]) -> list[PodState]:
    return sorted(pods, key=lambda p: (-p.request.cpu_m, -p.request.mem_mi, p.id))


@dataclass(frozen=True)
class ClusterConfig:
    scheduler: str = "best-fit"
    eviction_delay: float = 0.0
    explain_limit: int = 64  # explain every node in clusters up to this size
    runtime: str = "virtual"


@dataclass(frozen=True)
class CreatedNode:
    view: NodeView
    token: str


@dataclass(frozen=True)
class CreatedPod:
    view: PodView
    decision: Decision
    decision_text: str | None = None  # json.dumps(decision.to_json()): stored, and sent back as is


@dataclass(frozen=True)
class EvictionResult:
    rebound: tuple[tuple[str, str], ...]  # (pod, new node)
    pending: tuple[str, ...]


class Cluster:
    def __init__(
        self, store: Store, clock: Clock, bus: EventBus, config: ClusterConfig | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus
        self.config = config or ClusterConfig()
        self.state = ClusterState()
        self.tokens: dict[int, str] = {}  # plaintext node tokens issued by this process
        self.deleted_token_hashes: dict[int, str] = {}  # so deleted nodes' agents hear "stop"
        # Written in batches by flush(): heartbeat times/components, and pods' agent reports.
        self.dirty_heartbeats: dict[int, tuple[datetime, dict[str, str]]] = {}
        self.dirty_reports: dict[int, tuple[list[dict[str, Any]], datetime]] = {}
        self.heartbeats_received = 0

    # ---- plumbing ----------------------------------------------------------------------

    def _commit(self, fn: Callable[[Tx], T]) -> tuple[T, list[Event]]:
        with self.store.tx(self.clock.now()) as tx:
            result = fn(tx)
        return result, tx.events

    def _publish(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.bus.publish(ev)

    def node(self, node_id: int) -> NodeState:
        node = self.state.nodes.get(node_id)
        if node is None:
            raise NotFound(f"Node {node_id} not found", node_id=node_id)
        return node

    def pod(self, pod_id: int) -> PodState:
        pod = self.state.pods.get(pod_id)
        if pod is None:
            raise NotFound(f"Pod {pod_id} not found", pod_id=pod_id)
        return pod

    def node_view(self, node: NodeState) -> NodeView:
        return node.view(self.clock.monotonic())

    def node_views(self) -> list[NodeView]:
        now = self.clock.monotonic()
        return [n.view(now) for n in self.state.nodes.values()]

    def pod_views(self) -> list[PodView]:
        return [self.state.pod_view(p) for p in self.state.pods.values()]

    # ---- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Fill memory from the store (once, at start): every node and pod comes back."""
        loaded = self.store.load()
        now = self.clock.monotonic()
        gen = epoch_generation()
        for row in loaded.nodes:
            status = NodeStatus(row.status)
            if status is NodeStatus.RECOVERING:
                status = NodeStatus.UNHEALTHY
            node = NodeState(
                id=row.id,
                name=row.name,
                node_type=NodeType(row.node_type),
                capacity=Resources(row.cpu_m, row.mem_mi),
                status=status,
                token_hash=row.token_hash,
                created_at=row.created_at,
                runtime=row.runtime,
                status_reason=row.status_reason,
                components=dict(row.components),
                runtime_handle=row.runtime_handle,
                recovery_attempts=row.recovery_attempts,
                generation=gen,
                last_heartbeat_at=row.last_heartbeat,
                watch_since=now,
            )
            if status is NodeStatus.UNHEALTHY:
                node.unhealthy_since = now
            self.state.add_node(node)
        for inc in loaded.open_incidents:
            if inc.node_id in self.state.nodes:
                self.state.nodes[inc.node_id].incident_id = inc.id
        for prow in loaded.pods:
            pod = PodState(
                id=prow.id,
                spec=prow.spec,
                ip=prow.ip,
                phase=PodPhase(prow.phase),
                created_at=prow.created_at,
                node_id=prow.node_id if prow.node_id in self.state.nodes else None,
                decision=Decision.from_json(prow.decision) if prow.decision else None,
                reason=prow.reason,
                last_report=prow.last_report,
            )
            for c in prow.report or ():
                container = ContainerStatus(
                    name=str(c.get("name", "")),
                    state=str(c.get("state", "unknown")),
                    exit_code=c.get("exit_code"),
                    restarts=int(c.get("restarts", 0)),
                )
                pod.containers[container.name] = container
            self.state.add_pod(pod)

    # ---- scheduling --------------------------------------------------------------------

    def decide(self, request: Resources) -> Decision:
        """The strategy's choice from the index, explained by a scan in small clusters."""
        strategy = self.config.scheduler
        at = self.clock.now()
        chosen = STRATEGIES[strategy].pick(self.state.index, request)
        nodes = list(self.state.nodes.values())
        if chosen is None or len(nodes) <= self.config.explain_limit:
            decision = schedule(request, nodes, strategy, at=at)
            if chosen is not None and decision.node_id != chosen:
                log.error("index chose %s but the scan chose %s", chosen, decision.node_id)
            return decision
        node = self.state.nodes[chosen]
        return Decision(
            strategy=strategy,
            node_id=chosen,
            node_name=node.name,
            candidates=(candidate(node, request),),
            omitted=len(nodes) - 1,
            at=at,
        )

    def set_scheduler(self, strategy: str) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown scheduler {strategy!r}")
        self.config = ClusterConfig(
            strategy, self.config.eviction_delay, self.config.explain_limit, self.config.runtime
        )

    # ---- nodes -------------------------------------------------------------------------

    def create_node(self, spec: NodeSpec) -> CreatedNode:
        if spec.name in self.state.node_ids:
            raise Conflict(f"A node named '{spec.name}' already exists", field="name")
        capacity = spec.capacity
        if capacity.mem_mi <= 0:
            capacity = Resources(capacity.cpu_m, -(-capacity.cpu_m * MIB_PER_CORE_DEFAULT // 1000))
        placeholder = secrets.token_hex(16)  # replaced once the id (part of the token) is known
        components = {c: "unknown" for c in components_for(spec.node_type)}

        def write(tx: Tx) -> tuple[int, str]:
            node_id = tx.insert_node(
                name=spec.name,
                node_type=str(spec.node_type),
                cpu_m=capacity.cpu_m,
                mem_mi=capacity.mem_mi,
                status=str(NodeStatus.INITIALIZING),
                components=components,
                runtime=self.config.runtime,
                token_hash=placeholder,
            )
            token = new_node_token(node_id)
            tx.update_node(node_id, token_hash=hash_token(token))
            tx.add_event(
                EventKind.NODE_CREATED,
                f"Node {spec.name} created ({spec.node_type}, {format_cpu(capacity.cpu_m)} CPU, "
                f"{format_mem(capacity.mem_mi)})",
                node_id=node_id,
                node_name=spec.name,
                data={"cpu_m": capacity.cpu_m, "mem_mi": capacity.mem_mi},
            )
            return node_id, token

        (node_id, token), events = self._commit(write)
        node = NodeState(
            id=node_id,
            name=spec.name,
            node_type=spec.node_type,
            capacity=capacity,
            status=NodeStatus.INITIALIZING,
            token_hash=hash_token(token),
            created_at=events[0].at,
            runtime=self.config.runtime,
            components=components,
            generation=epoch_generation(),
            watch_since=self.clock.monotonic(),
        )
        self.state.add_node(node)
        self.tokens[node_id] = token
        self._publish(events)
        return CreatedNode(self.node_view(node), token)

    def rotate_token(self, node: NodeState) -> str:
        """A fresh token for a node this process must (re)launch; the old one stops working."""
        token = new_node_token(node.id)
        digest = hash_token(token)
        self._commit(lambda tx: tx.update_node(node.id, token_hash=digest))
        node.token_hash = digest
        self.tokens[node.id] = token
        return token

    def set_runtime_handle(self, node: NodeState, handle: str | None, message: str) -> None:
        def write(tx: Tx) -> None:
            tx.update_node(node.id, runtime_handle=handle, runtime=self.config.runtime)
            tx.add_event(
                EventKind.NODE_STARTED,
                message,
                node_id=node.id,
                node_name=node.name,
                incident_id=node.incident_id,
                data={"handle": handle},
            )

        _, events = self._commit(write)
        node.runtime_handle = handle
        node.runtime = self.config.runtime
        self._publish(events)

    def delete_node(self, node_id: int, *, force: bool = False) -> EvictionResult:
        node = self.node(node_id)
        if node.pod_ids and node.status is NodeStatus.HEALTHY and not force:
            n = len(node.pod_ids)
            raise Conflict(
                f"Cannot delete node with {n} running pod{'s' if n != 1 else ''}. Delete or "
                "move them first, or add ?force=true to evict them to other nodes.",
                pods=sorted(self.state.pods[p].name for p in node.pod_ids),
            )
        node.cordoned = True
        self.state.reindex(node)
        try:
            moved = self.evict(node, reason=f"node {node.name} is being deleted")
        except Exception:
            node.cordoned = False
            self.state.reindex(node)
            raise

        def write(tx: Tx) -> None:
            tx.delete_node(node.id)
            if node.incident_id is not None:
                tx.close_incident(node.incident_id, "deleted")
            tx.add_event(
                EventKind.NODE_DELETED,
                f"Node {node.name} deleted"
                + (f"; {len(moved.rebound)} pod(s) moved" if moved.rebound else "")
                + (f", {len(moved.pending)} pending" if moved.pending else ""),
                node_id=node.id,
                node_name=node.name,
                incident_id=node.incident_id,
            )

        _, events = self._commit(write)
        self.state.remove_node(node)
        self.tokens.pop(node.id, None)
        self.deleted_token_hashes[node.id] = node.token_hash
        if len(self.deleted_token_hashes) > 10_000:
            self.deleted_token_hashes.pop(next(iter(self.deleted_token_hashes)))
        self.dirty_heartbeats.pop(node.id, None)
        self._publish(events)
        return moved

    def set_status(
        self,
        node: NodeState,
        status: NodeStatus,
        reason: str,
        kind: EventKind = EventKind.NODE_STATUS,
        *,
        message: str | None = None,
        close_incident: str | None = None,
        open_incident: str | None = None,
        data: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Event:
        """Commit a node's status change with its event; incidents open/close with it."""
        now = self.clock.monotonic()

        def write(tx: Tx) -> Event:
            incident = node.incident_id
            if open_incident and incident is None:
                incident = tx.open_incident(node.id, node.name, open_incident)
            cols = {"status": str(status), "status_reason": reason}
            if "recovery_attempts" in fields:
                cols["recovery_attempts"] = fields["recovery_attempts"]
            tx.update_node(node.id, **cols)
            ev = tx.add_event(
                kind,
                message or f"Node {node.name} is {status}" + (f": {reason}" if reason else ""),
                node_id=node.id,
                node_name=node.name,
                incident_id=incident,
                data={"status": str(status), "previous": str(node.status), **(data or {})},
            )
            if close_incident and incident is not None:
                tx.close_incident(incident, close_incident)
            return ev

        ev, events = self._commit(write)
        previous = node.status
        node.status = status
        node.status_reason = reason
        node.incident_id = None if close_incident else ev.incident_id
        for key, value in fields.items():
            setattr(node, key, value)
        if status is NodeStatus.HEALTHY and previous is not NodeStatus.HEALTHY:
            node.healthy_since = now
            node.unhealthy_since = None
            node.evict_at = None
        elif status is NodeStatus.UNHEALTHY and previous is not NodeStatus.UNHEALTHY:
            node.unhealthy_since = now
            node.healthy_since = None
            if node.evict_at is None:
                node.evict_at = now + self.config.eviction_delay
        self.state.reindex(node)
        self._publish(events)
        if status is NodeStatus.HEALTHY:
            self.place_pending()
        return ev

    def set_recovery_attempts(self, node: NodeState, attempts: int) -> None:
        self._commit(lambda tx: tx.update_node(node.id, recovery_attempts=attempts))
        node.recovery_attempts = attempts

    def record_event(
        self,
        kind: EventKind,
        message: str,
        *,
        node: NodeState | None = None,
        pod: PodState | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        """Store and publish an event that changes nothing else."""

        def write(tx: Tx) -> Event:
            return tx.add_event(
                kind,
                message,
                node_id=node.id if node else (pod.node_id if pod else None),
                node_name=node.name
                if node
                else (self.state.node_name(pod.node_id) if pod else None),
                pod_id=pod.id if pod else None,
                pod_name=pod.name if pod else None,
                incident_id=node.incident_id if node else None,
                data=data,
            )

        ev, events = self._commit(write)
        self._publish(events)
        return ev

    def open_incident(self, node: NodeState, mode: str) -> int:
        if node.incident_id is not None:
            return node.incident_id
        incident, _ = self._commit(lambda tx: tx.open_incident(node.id, node.name, mode))
        node.incident_id = incident
        return incident

    # ---- pods --------------------------------------------------------------------------

    def create_pod(self, spec: PodSpec) -> CreatedPod:
        if spec.name in self.state.pod_ids:
            raise Conflict(f"A pod named '{spec.name}' already exists", field="name")
        decision = self.decide(spec.request)
        if decision.node_id is None:
            raise Unschedulable(
                f"No available worker node can fit pod '{spec.name}' (requests "
                f"{format_cpu(spec.request.cpu_m)} CPU, {format_mem(spec.request.mem_mi)})",
                reasons=decision.reasons
                or {"(cluster)": ["no worker nodes: add a worker node first"]},
            )
        node = self.state.nodes[decision.node_id]
        ip = self.state.ips.allocate()
        # Built and encoded once: stored with the pod and sent back to the caller as is.
        decision_json = decision.to_json()
        decision_text = json.dumps(decision_json)

        def write(tx: Tx) -> int:
            pod_id = tx.insert_pod(
                spec, ip=ip, node_id=node.id, phase=str(PodPhase.SCHEDULED),
                decision=decision_json, decision_text=decision_text,
            )  # fmt: skip
            tx.add_event(
                EventKind.POD_CREATED,
                f"Pod {spec.name} created and assigned to {node.name} ({decision.strategy})",
                node_id=node.id,
                node_name=node.name,
                pod_id=pod_id,
                pod_name=spec.name,
                data={"cpu_m": spec.request.cpu_m, "mem_mi": spec.request.mem_mi, "ip": ip},
            )
            return pod_id

        try:
            pod_id, events = self._commit(write)
        except Exception:
            self.state.ips.release(ip)
            raise
        pod = PodState(
            id=pod_id,
            spec=spec,
            ip=ip,
            phase=PodPhase.SCHEDULED,
            created_at=events[0].at,
            node_id=node.id,
            decision=decision,
        )
        self.state.add_pod(pod)
        self._publish(events)
        return CreatedPod(self.state.pod_view(pod), decision, decision_text)

    def delete_pod(self, pod_id: int) -> PodView:
        pod = self.pod(pod_id)
        node_name = self.state.node_name(pod.node_id)

        def write(tx: Tx) -> None:
            tx.delete_pod(pod.id)
            tx.add_event(
                EventKind.POD_DELETED,
                f"Pod {pod.name} deleted" + (f" from {node_name}" if node_name else ""),
                node_id=pod.node_id,
                node_name=node_name,
                pod_id=pod.id,
                pod_name=pod.name,
            )

        _, events = self._commit(write)
        view = self.state.pod_view(pod)
        self.state.remove_pod(pod)
        self.dirty_reports.pop(pod.id, None)
        self._publish(events)
        self.place_pending()
        return view

    def set_pod_phase(self, pod: PodState, phase: PodPhase, reason: str = "") -> None:
        self.set_pod_phases([(pod, phase, reason)])

    def set_pod_phases(self, changes: Iterable[tuple[PodState, PodPhase, str]]) -> None:
        """Phase changes of several pods (one agent report) in one commit, one event each."""
        todo = {
            pod.id: (pod, phase, reason)
            for pod, phase, reason in changes
            if not (pod.phase is phase and pod.reason == reason)
        }
        if not todo:
            return

        def write(tx: Tx) -> None:
            tx.update_pods([
                {"b_id": pod.id, "phase": str(phase), "reason": reason}
                for pod, phase, reason in todo.values()
            ])  # fmt: skip
            for pod, phase, reason in todo.values():
                tx.add_event(
                    EventKind.POD_PHASE,
                    f"Pod {pod.name} is {phase}" + (f": {reason}" if reason else ""),
                    node_id=pod.node_id,
                    node_name=self.state.node_name(pod.node_id),
                    pod_id=pod.id,
                    pod_name=pod.name,
                    data={"phase": str(phase), "previous": str(pod.phase)},
                )

        _, events = self._commit(write)
        for pod, phase, reason in todo.values():
            pod.phase = phase
            pod.reason = reason
        self._publish(events)

    # ---- moving pods -------------------------------------------------------------------

    def evict(self, node: NodeState, *, reason: str) -> EvictionResult:
        """Move every pod off ``node`` (largest request first): rebind, or leave pending."""
        rebound: list[tuple[str, str]] = []
        pending: list[str] = []
        for pod in largest_first(self.state.pods_of(node)):
            target = self._move(pod, reason=reason, incident_id=node.incident_id)
            if target is None:
                pending.append(pod.name)
            else:
                rebound.append((pod.name, target.name))
        return EvictionResult(tuple(rebound), tuple(pending))

    def place_pending(self) -> int:
        """Try to place every pending pod (largest first); returns how many were placed."""
        if not self.state.pending or not len(self.state.index):
            return 0
        placed = 0
        for pod in largest_first(self.state.pending_pods()):
            if self._move(pod, reason="capacity became available", incident_id=None) is not None:
                placed += 1
        return placed

    def _move(self, pod: PodState, *, reason: str, incident_id: int | None) -> NodeState | None:
        """Bind ``pod`` to the scheduler's choice, or make it pending; one commit either way."""
        old = self.state.nodes.get(pod.node_id) if pod.node_id is not None else None
        decision = self.decide(pod.request)
        target = self.state.nodes.get(decision.node_id) if decision.node_id is not None else None
        if target is None and old is None:
            return None  # still pending; nothing changes, nothing to record
        old_name = old.name if old else None

        def write(tx: Tx) -> None:
            if target is not None:
                tx.update_pod(
                    pod.id, node_id=target.id, phase=str(PodPhase.SCHEDULED), reason="",
                    decision=decision.to_json(), report=None,
                )  # fmt: skip
                kind = EventKind.POD_REBOUND if old else EventKind.POD_BOUND
                msg = (
                    f"Pod {pod.name} moved from {old_name} to {target.name} ({reason})"
                    if old
                    else f"Pod {pod.name} placed on {target.name} ({reason})"
                )
                tx.add_event(
                    kind, msg, node_id=target.id, node_name=target.name, pod_id=pod.id,
                    pod_name=pod.name, incident_id=incident_id,
                    data={"from": old_name, "to": target.name, "from_id": old.id if old else None},
                )  # fmt: skip
            else:
                why = "; ".join(f"{n}: {', '.join(r)}" for n, r in decision.reasons.items())
                tx.update_pod(
                    pod.id, node_id=None, phase=str(PodPhase.PENDING),
                    reason="no node fits", decision=decision.to_json(), report=None,
                )  # fmt: skip
                tx.add_event(
                    EventKind.POD_PENDING,
                    f"Pod {pod.name} is pending: no node fits ({reason})",
                    node_id=old.id if old else None, node_name=old_name, pod_id=pod.id,
                    pod_name=pod.name, incident_id=incident_id,
                    data={"from": old_name, "reasons": decision.reasons, "why": why},
                )  # fmt: skip

        _, events = self._commit(write)
        pod.decision = decision
        pod.containers = {}
        if target is not None:
            self.state.bind(pod, target)
            pod.phase = PodPhase.SCHEDULED
            pod.reason = ""
        else:
            self.state.unbind(pod)
            pod.phase = PodPhase.PENDING
            pod.reason = "no node fits"
        self._publish(events)
        return target

    def flush(self, limit: int | None = None) -> bool:
        """Write batched heartbeat times and pod reports (they never commit one by one).

        With ``limit``, at most that many of each per call (the rest stays dirty), so a flush
        of 100,000 pod reports never holds the loop for long. True once nothing is left.
        """
        beats = _take(self.dirty_heartbeats, limit)
        reports = _take(self.dirty_reports, limit)
        try:
            self.store.flush_heartbeats(beats)
            self.store.flush_reports(reports)
        except Exception:
            self.dirty_heartbeats = {**beats, **self.dirty_heartbeats}
            self.dirty_reports = {**reports, **self.dirty_reports}
            raise
        return not self.dirty_heartbeats and not self.dirty_reports

    # ---- summary -----------------------------------------------------------------------

    def summary(self, runtime: str, runtime_reason: str = "") -> ClusterSummary:
        by_status: dict[str, int] = {str(s): 0 for s in NodeStatus}
        capacity = Resources()
        allocated = Resources()
        for n in self.state.nodes.values():
            by_status[str(n.status)] += 1
            if n.node_type is NodeType.WORKER:
                capacity = capacity + n.capacity
                allocated = allocated + n.allocated
        by_phase: dict[str, int] = {str(p): 0 for p in PodPhase}
        for p in self.state.pods.values():
            by_phase[str(p.phase)] += 1
        return ClusterSummary(
            nodes_by_status=by_status,
            pods_by_phase=by_phase,
            capacity=capacity,
            allocated=allocated,
            node_count=len(self.state.nodes),
            pod_count=len(self.state.pods),
            runtime=runtime,
            runtime_reason=runtime_reason,
            scheduler=self.config.scheduler,
        )
