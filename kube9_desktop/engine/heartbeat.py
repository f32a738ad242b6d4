"""What a heartbeat does: move the node's status, read its pod reports, and answer with the
desired pods when they changed. It never rewrites the books: a report that disagrees with
them is recorded as drift and corrected by the desired set.

Everything a heartbeat changes is committed in one transaction (status, the components it
was decided on, pod phases and container statuses, events); a heartbeat that changes nothing
writes nothing. Only the last-heartbeat time is batched (``Cluster.flush``).

Scale: the agent reports only pods whose status changed, and its pod set as a count and a
digest instead of a list; the reply says how large the next report may be (it grows with the
pods the node holds) and carries the desired pods inline up to ``DESIRED_INLINE_BYTES``, else
in pages the agent fetches from ``GET /nodes/{id}/desired`` (docs/protocol.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kube9_desktop.agent.report import pod_digest  # wire vocabulary: the agent owns it
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.cluster import Cluster, Txn, incidents
from kube9_desktop.engine.cluster import nodes as node_ops
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.errors import Conflict, Kube9Error, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    REQUIRED_COMPONENTS,
    SECRET_MASK,
    ContainerStatus,
    NodeStatus,
    PodPhase,
    components_for,
    cores,
    format_cpu,
)
from kube9_desktop.engine.state import NodeState, PodState
from kube9_desktop.engine.usage import PodUsage, UsageBook, declared_usage

REPORT_BASE_BYTES = 16 * 1024
REPORT_BYTES_PER_POD = 1024
REPORT_MAX_BYTES = 32 * 1024 * 1024
DESIRED_INLINE_BYTES = 1024 * 1024
DESIRED_PAGE_PODS_MAX = 2000


class Partitioned(Kube9Error):
    """The node is cut off by an injected partition: its heartbeat is dropped."""

    status = 503


def report_limit(pod_count: int) -> int:
    """The largest heartbeat body a node holding ``pod_count`` pods may send.

    16 KiB plus 1 KiB per pod (a full report of every container of every pod fits), at most
    32 MiB: a node with 10,000 pods may send 10,256 KiB; its agent sends far less (changes).
    """
    return min(REPORT_MAX_BYTES, REPORT_BASE_BYTES + REPORT_BYTES_PER_POD * pod_count)


@dataclass(frozen=True, slots=True)
class ContainerReport:
    name: str
    state: str
    exit_code: int | None = None
    restarts: int = 0
    reason: str = ""
    ready: bool | None = None
    last_reason: str = ""  # how the last run ended: Error, Completed, OOMKilled
    backoff_s: float | None = None  # waiting out a restart back-off of this many seconds


@dataclass(frozen=True, slots=True)
class PodReport:
    id: int
    phase: str
    containers: tuple[ContainerReport, ...] = ()
    reason: str = ""  # the agent's own word on a failed pod (it refused to run it)


@dataclass(frozen=True, slots=True)
class HeartbeatReport:
    pod_ids: tuple[int, ...] | None = None
    pod_count: int | None = None
    pod_digest: str | None = None
    cpu_m_avail: int | None = None
    health_status: str | None = None
    components: Mapping[str, str] | None = None
    pods: tuple[PodReport, ...] | None = None
    generation: int | None = None
    seq: int | None = None
    version: str | None = None
    terminating: int | None = None  # pods the agent is still stopping
    usage: tuple[PodUsage, ...] | None = None  # live usage per pod (engine/usage.py)
    node_usage: tuple[float, float] | None = None  # (cores, MiB) of the node's own cgroup


@dataclass(slots=True)
class AgentSession:
    """What the engine remembers of one node's agent between heartbeats (never stored)."""

    acked_generation: int | None = None
    seq: int | None = None
    drift_signature: tuple[object, ...] | None = None
    count: int = 0


def desired_pod(pod: PodState, *, mask_secrets: bool = False) -> dict[str, Any]:
    """Everything an agent needs to run one pod (secrets in clear only for the node's agent)."""
    spec = pod.spec
    return {
        "id": pod.id,
        "name": spec.name,
        "namespace": spec.namespace,
        "ip": pod.ip,
        "cpu_req": cores(spec.request.cpu_m),
        "memory_req": spec.request.mem_mi,
        "termination_grace_s": spec.termination_grace_s,
        "containers": [
            {
                "name": c.name,
                "image": c.image,
                "command": list(c.command),
                "args": list(c.args),
                "cpu_req": cores(c.cpu_m),
                "memory_req": c.mem_mi,
                **(c.extra_json() or {}),
            }
            for c in spec.containers
        ],
        "env": [
            # kubelet's service variables first: the pod's own items win over them.
            *({"name": k, "value": v, "secret": False} for k, v in pod.service_env),
            *(
                {
                    "name": i.key,
                    "value": SECRET_MASK if mask_secrets and i.is_secret else i.value,
                    "secret": i.is_secret,
                }
                for i in spec.config
            ),
        ],
        "volumes": [
            {"name": v.name, "type": v.type, "size": v.size, "path": v.path} for v in spec.volumes
        ],
        **declared_usage(spec.annotations),
    }


def _phase_from_report(pod: PodState, reported: str) -> PodPhase:
    if reported == "running":
        return PodPhase.RUNNING
    if reported == "failed":
        return PodPhase.FAILED
    if reported == "succeeded":
        return PodPhase.SUCCEEDED
    # Starting or waiting out a restart back-off: a running pod stays running (like Kubernetes).
    return PodPhase.RUNNING if pod.phase is PodPhase.RUNNING else PodPhase.SCHEDULED


def _container_status(
    c: ContainerReport, previous: Mapping[str, ContainerStatus], now: datetime
) -> ContainerStatus:
    """A reported container; a back-off keeps the time it was first seen (its restart is due
    ``backoff_s`` later, give or take a heartbeat)."""
    since = None
    if c.backoff_s is not None:
        before = previous.get(c.name)
        same = before is not None and (before.restarts, before.backoff_s) == (
            c.restarts,
            c.backoff_s,
        )
        since = before.backoff_since if same and before is not None else now
    return ContainerStatus(
        c.name, c.state, c.exit_code, c.restarts, c.reason, c.ready,
        c.last_reason, c.backoff_s, since,
    )  # fmt: skip


class Heartbeats:
    """Applies heartbeats to the cluster; keeps each agent's session (acks, drift, sequence)."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        interval: float,
        fault_active: Callable[[int], bool] = lambda _node_id: False,
        on_reported: Callable[[int, bool, int | None], None] = lambda _n, _c, _t: None,
    ) -> None:
        self.cluster = cluster
        self._on_reported = on_reported  # (node id, holds its desired set, still stopping)
        self.interval = interval
        self._fault_active = fault_active
        self.sessions: dict[int, AgentSession] = {}
        self.received = 0
        # A pod's spec never changes: its desired entry and encoded size are made once.
        self._desired: dict[int, tuple[dict[str, Any], int]] = {}
        self.usage = UsageBook()
        cluster.bus.subscribe_changes(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        for pod_id in changes.removed.get(Kind.POD, {}):
            self._desired.pop(pod_id, None)
            self.usage.forget_pod(pod_id)
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.sessions.pop(node_id, None)
            self.usage.forget_node(node_id)
        nodes = self.cluster.state.nodes
        for node_id in changes.changed.get(Kind.NODE, ()):
            node = nodes.get(node_id)
            if node is not None and node.status is not NodeStatus.HEALTHY:
                self.usage.lost_node(node_id)

    def _desired_entry(self, pod: PodState, manual: bool) -> tuple[dict[str, Any], int]:
        if manual:
            entry = desired_pod(pod, mask_secrets=True)
            return entry, len(json.dumps(entry))
        found = self._desired.get(pod.id)
        if found is None:
            entry = desired_pod(pod)
            found = self._desired[pod.id] = (entry, len(json.dumps(entry)))
        return found

    def session(self, node_id: int) -> AgentSession:
        session = self.sessions.get(node_id)
        if session is None:
            session = self.sessions[node_id] = AgentSession()
        return session

    def forget(self, node_id: int) -> None:
        self.sessions.pop(node_id, None)

    def body_limit(self, node_id: int) -> int:
        node = self.cluster.state.nodes.get(node_id)
        return report_limit(len(node.pod_ids) if node is not None else 0)

    # ---- the heartbeat -----------------------------------------------------------------

    def process(
        self, node_id: int, report: HeartbeatReport, *, manual: bool = False
    ) -> dict[str, Any]:
        """Apply one heartbeat and build the reply the agent acts on.

        ``manual`` (the admin token, not the node's own agent): the report is applied the same
        way, but the reply masks secrets.
        """
        cluster = self.cluster
        node = cluster.node(node_id)
        components = self._checked_components(node, report.components)
        now = cluster.clock.now()
        node.last_heartbeat_at = now
        cluster.dirty_heartbeats[node.id] = now
        session = self.session(node.id)
        session.count += 1
        session.seq = report.seq
        self.received += 1
        with cluster.transaction() as t:
            if components is not None:
                node_ops.set_components(t, node, components)  # stored with any status change
            self._update_status(t, node)
            if report.pods:
                self._apply_pod_reports(t, node, report.pods)
            self._check_drift(t, node, report, session)
        if report.generation == node.generation and session.acked_generation != node.generation:
            session.acked_generation = node.generation
        if report.usage is not None:
            self.usage.record(
                node.id, cluster.clock.monotonic(), report.usage, report.node_usage, node.pod_ids
            )
        self._on_reported(node.id, report.generation == node.generation, report.terminating)
        reply: dict[str, Any] = {
            "message": "Heartbeat received",
            "node_status": str(node.status),
            "should_stop_heartbeat": False,
            "heartbeat_interval_s": self.interval,
            "generation": node.generation,
            "max_report_bytes": report_limit(len(node.pod_ids)),
        }
        if session.count == 1:
            reply["report_all"] = True  # a new session (or a restarted engine): send everything
        if report.generation != node.generation or session.acked_generation is None:
            entries = [self._desired_entry(p, manual) for p in cluster.state.pods_of(node)]
            if sum(size for _, size in entries) + len(entries) > DESIRED_INLINE_BYTES:
                # Too large for one reply: the agent fetches it in pages, then applies it whole.
                reply["desired_pods_url"] = f"/nodes/{node.id}/desired?generation={node.generation}"
                reply["desired_pods_count"] = len(entries)
            else:
                reply["desired_pods"] = [entry for entry, _ in entries]
        return reply

    def desired_page(
        self, node_id: int, generation: int, offset: int, limit: int, *, manual: bool = False
    ) -> dict[str, Any]:
        """One page of a node's desired pods (for sets too large to ride in a reply)."""
        node = self.cluster.node(node_id)
        if generation != node.generation:
            raise Conflict(
                f"generation {generation} is stale (the node's desired pods are at "
                f"{node.generation}): take the set from the next heartbeat",
                field="generation",
                generation=node.generation,
            )
        pods = sorted(self.cluster.state.pods_of(node), key=lambda p: p.id)
        limit = max(1, min(limit, DESIRED_PAGE_PODS_MAX))
        page = pods[offset : offset + limit]
        end = offset + len(page)
        return {
            "generation": node.generation,
            "total": len(pods),
            "offset": offset,
            "pods": [self._desired_entry(p, manual)[0] for p in page],
            "next_offset": end if end < len(pods) else None,
        }

    # ---- parts -------------------------------------------------------------------------

    @staticmethod
    def _checked_components(
        node: NodeState, reported: Mapping[str, str] | None
    ) -> dict[str, str] | None:
        """The node's components after this report; names must be this node type's own."""
        known = components_for(node.node_type)
        if reported is None:
            if all(v == "unknown" for v in node.components.values()):
                # A hand-written heartbeat without components: an agent that does not report them.
                return {c: COMPONENT_RUNNING for c in known}
            return None
        unknown = sorted(set(reported) - set(known))
        if unknown:
            raise UserError(
                f"components: {unknown[0][:40]!r} is not a component of a {node.node_type} "
                f"node (it has {', '.join(known)})",
                field="components",
            )
        if reported.items() <= node.components.items():
            return None
        return {**node.components, **reported}

    def _update_status(self, t: Txn, node: NodeState) -> None:
        down = [c for c in REQUIRED_COMPONENTS if node.components.get(c) != COMPONENT_RUNNING]
        if node.status is NodeStatus.FAILED:
            return  # stays failed until the user asks for recovery
        if not down and node.status is not NodeStatus.HEALTHY:
            was_incident = node.id in t.state.open_incidents or node.status in (
                NodeStatus.UNHEALTHY,
                NodeStatus.RECOVERING,
            )
            node_ops.set_status(
                t,
                node,
                NodeStatus.HEALTHY,
                "",
                EventKind.NODE_RECOVERED if was_incident else EventKind.NODE_READY,
                message=(
                    f"Node {node.name} recovered: heartbeating again"
                    if was_incident
                    else f"Node {node.name} is ready (first heartbeat)"
                ),
            )
            if not self._fault_active(node.id):
                incidents.close_incident(t, node, "recovered")
        elif down and node.status in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING):
            reason = ", ".join(f"{c} {node.components.get(c, 'missing')}" for c in down)
            incidents.detected(t, node, "component")
            node_ops.set_status(
                t,
                node,
                NodeStatus.UNHEALTHY,
                reason,
                EventKind.NODE_DETECTED,
                message=f"Node {node.name} is unhealthy: {reason}",
                silent=False,  # its agent speaks and says not ready: not-ready, not unreachable
            )

    def _apply_pod_reports(self, t: Txn, node: NodeState, pods: tuple[PodReport, ...]) -> None:
        state = t.state
        updates: list[tuple[PodState, PodPhase, str, dict[str, ContainerStatus] | None]] = []
        for report in pods:
            pod = state.pods.get(report.id)
            if pod is None or pod.node_id != node.id:
                continue  # not ours (any more): the desired set tells the agent to stop it
            pod.last_report = t.now
            previous = pod.containers
            containers = {c.name: _container_status(c, previous, t.now) for c in report.containers}
            for c in report.containers:
                before = previous.get(c.name)
                if before is not None and c.restarts > before.restarts:
                    t.event(
                        EventKind.POD_RESTARTED,
                        f"Container {c.name} of pod {pod.name} restarted (restart #{c.restarts}"
                        + (f", last exit code {c.exit_code}" if c.exit_code is not None else "")
                        + ")",
                        obj=pod.ref(),
                        related=node.ref(),
                        data={"container": c.name, "restarts": c.restarts,
                              "exit_code": c.exit_code},
                    )  # fmt: skip
            phase = _phase_from_report(pod, report.phase)
            reason = report.reason or "; ".join(
                f"{c.name}: {c.reason}" for c in report.containers if c.reason
            )
            reason = reason if phase is PodPhase.FAILED else ""
            updates.append((pod, phase, reason, containers if containers != previous else None))
        pod_ops.set_pod_status(t, updates)  # one write for the whole report, not one per pod

    def _check_drift(
        self, t: Txn, node: NodeState, report: HeartbeatReport, session: AgentSession
    ) -> None:
        if report.generation is not None and report.generation != node.generation:
            return  # the agent has not applied the current desired set yet: not drift, just lag
        free_cpu = node.capacity.cpu_m - node.allocated.cpu_m  # node.free's, no Resources made
        ids = report.pod_ids
        if ids is not None:
            # Same length and same set: no duplicates either (the books are a set).
            ids_differ = len(ids) != len(node.pod_ids) or set(ids) != node.pod_ids
        elif report.pod_count is not None:
            ids_differ = report.pod_count != len(node.pod_ids) or (
                report.pod_digest is not None and report.pod_digest != pod_digest(node.pod_ids)
            )
        else:
            ids_differ = False
        if not ids_differ and (report.cpu_m_avail is None or report.cpu_m_avail == free_cpu):
            session.drift_signature = None
            return  # the common case, decided without sorting anything
        books_ids = tuple(sorted(node.pod_ids))
        reported: tuple[int, ...] | str | None = (
            tuple(sorted(ids)) if ids is not None else
            (f"{report.pod_count} pods" if report.pod_count is not None else None)
        )  # fmt: skip
        signature = (reported, report.pod_digest, report.cpu_m_avail, books_ids, free_cpu)
        if signature == session.drift_signature:
            return
        session.drift_signature = signature
        parts = []
        if isinstance(reported, tuple) and reported != books_ids:
            parts.append(f"pods {_ids_text(reported)} (books: {_ids_text(books_ids)})")
        elif isinstance(reported, str) and ids_differ:
            parts.append(f"{reported} (books: {len(books_ids)}, or other pods)")
        if report.cpu_m_avail is not None and report.cpu_m_avail != free_cpu:
            parts.append(
                f"{format_cpu(report.cpu_m_avail)} CPU free (books: {format_cpu(free_cpu)})"
            )
        if not parts:
            return
        t.event(
            EventKind.DRIFT,
            f"Node {node.name} reports {' and '.join(parts)}; the books stand and the node "
            "is sent its desired pods",
            obj=node.ref(),
            data={
                "reported_pod_ids": list(reported) if isinstance(reported, tuple) else None,
                "books_pod_count": len(books_ids),
            },
        )
        node.generation += 1  # a new generation makes the reply carry the desired set again


def _ids_text(ids: tuple[int, ...], limit: int = 20) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return f"[{shown}{', …' if len(ids) > limit else ''}] ({len(ids)})"
