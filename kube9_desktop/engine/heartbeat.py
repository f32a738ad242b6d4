"""What a heartbeat does: refresh the node's deadline, move its status, read its pod reports,
and answer with the desired pods when they changed. It never rewrites the books: a report
that disagrees with them is recorded as drift and corrected by the desired set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    REQUIRED_COMPONENTS,
    ContainerStatus,
    NodeStatus,
    PodPhase,
    cores,
    format_cpu,
)
from kube9_desktop.engine.state import NodeState, PodState


class Partitioned(Kube9Error):
    """The node is cut off by an injected partition: its heartbeat is dropped."""

    status = 503


@dataclass(frozen=True, slots=True)
class ContainerReport:
    name: str
    state: str
    exit_code: int | None = None
    restarts: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PodReport:
    id: int
    phase: str
    containers: tuple[ContainerReport, ...] = ()


@dataclass(frozen=True, slots=True)
class HeartbeatReport:
    pod_ids: tuple[int, ...] | None = None
    cpu_m_avail: int | None = None
    health_status: str | None = None
    components: Mapping[str, str] | None = None
    pods: tuple[PodReport, ...] | None = None
    generation: int | None = None
    seq: int | None = None
    version: str | None = None


def desired_pod(pod: PodState) -> dict[str, Any]:
    """Everything an agent needs to run one pod (secrets included: only agents get this)."""
    spec = pod.spec
    return {
        "id": pod.id,
        "name": spec.name,
        "cpu_req": cores(spec.request.cpu_m),
        "memory_req": spec.request.mem_mi,
        "containers": [
            {
                "name": c.name,
                "image": c.image,
                "command": list(c.command),
                "args": list(c.args),
                "cpu_req": cores(c.cpu_m),
                "memory_req": c.mem_mi,
            }
            for c in spec.containers
        ],
        "env": [{"name": i.key, "value": i.value, "secret": i.is_secret} for i in spec.config],
        "volumes": [
            {"name": v.name, "type": v.type, "size": v.size, "path": v.path} for v in spec.volumes
        ],
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


def _apply_components(node: NodeState, components: Mapping[str, str] | None) -> None:
    if components is None:
        if all(v == "unknown" for v in node.components.values()):
            # A hand-written heartbeat without components: an agent that does not report them.
            node.components = {c: COMPONENT_RUNNING for c in node.components}
        return
    current = node.components
    if not components.items() <= current.items():  # something changed
        node.components = {**current, **components}  # a new dict: flushes hold the old one


def _update_status(cluster: Cluster, node: NodeState) -> None:
    down = [c for c in REQUIRED_COMPONENTS if node.components.get(c) != COMPONENT_RUNNING]
    if node.status is NodeStatus.FAILED:
        return  # stays failed until the user asks for recovery
    if not down and node.status is not NodeStatus.HEALTHY:
        was_incident = node.incident_id is not None or node.status in (
            NodeStatus.UNHEALTHY,
            NodeStatus.RECOVERING,
        )
        cluster.set_status(
            node,
            NodeStatus.HEALTHY,
            "",
            EventKind.NODE_RECOVERED if was_incident else EventKind.NODE_READY,
            message=(
                f"Node {node.name} recovered: heartbeating again"
                if was_incident
                else f"Node {node.name} is ready (first heartbeat)"
            ),
            close_incident="recovered" if node.incident_id is not None else None,
        )
    elif down and node.status in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING):
        reason = ", ".join(f"{c} {node.components.get(c, 'missing')}" for c in down)
        cluster.set_status(
            node,
            NodeStatus.UNHEALTHY,
            reason,
            EventKind.NODE_DETECTED,
            message=f"Node {node.name} is unhealthy: {reason}",
            open_incident="component",
        )


def _apply_pod_reports(cluster: Cluster, node: NodeState, pods: tuple[PodReport, ...]) -> None:
    state = cluster.state
    at = cluster.clock.now()
    phases: list[tuple[PodState, PodPhase, str]] = []
    for report in pods:
        pod = state.pods.get(report.id)
        if pod is None or pod.node_id != node.id:
            continue  # not ours (any more): the desired set tells the agent to stop it
        previous = pod.containers
        pod.containers = {
            c.name: ContainerStatus(c.name, c.state, c.exit_code, c.restarts, c.reason)
            for c in report.containers
        }
        pod.last_report = at
        cluster.dirty_reports[pod.id] = (
            [
                {"name": c.name, "state": c.state, "exit_code": c.exit_code,
                 "restarts": c.restarts}
                for c in report.containers
            ],
            at,
        )  # fmt: skip
        for c in report.containers:
            before = previous.get(c.name)
            if before is not None and c.restarts > before.restarts:
                cluster.record_event(
                    EventKind.POD_RESTARTED,
                    f"Container {c.name} of pod {pod.name} restarted (restart #{c.restarts}"
                    + (f", last exit code {c.exit_code}" if c.exit_code is not None else "")
                    + ")",
                    node=node,
                    pod=pod,
                    data={"container": c.name, "restarts": c.restarts, "exit_code": c.exit_code},
                )
        phase = _phase_from_report(pod, report.phase)
        reason = "; ".join(f"{c.name}: {c.reason}" for c in report.containers if c.reason)
        if phase is not pod.phase or (phase is PodPhase.FAILED and reason != pod.reason):
            phases.append((pod, phase, reason if phase is PodPhase.FAILED else ""))
    cluster.set_pod_phases(phases)  # one commit for the whole report, not one per pod


def _check_drift(cluster: Cluster, node: NodeState, report: HeartbeatReport) -> None:
    if report.generation is not None and report.generation != node.generation:
        return  # the agent has not applied the current desired set yet: not drift, just lag
    free_cpu = node.free.cpu_m
    ids = report.pod_ids
    # Same length and same set: no duplicates either (the books are a set).
    ids_differ = ids is not None and (len(ids) != len(node.pod_ids) or set(ids) != node.pod_ids)
    if not ids_differ and (report.cpu_m_avail is None or report.cpu_m_avail == free_cpu):
        node.drift_signature = None
        return  # the common case, decided without sorting anything
    books_ids = tuple(sorted(node.pod_ids))
    reported_ids = tuple(sorted(ids)) if ids is not None else None
    signature = (reported_ids, report.cpu_m_avail, books_ids, free_cpu)
    if signature == node.drift_signature:
        return
    node.drift_signature = signature
    parts = []
    if reported_ids is not None and reported_ids != books_ids:
        parts.append(f"pods {list(reported_ids)} (books: {list(books_ids)})")
    if report.cpu_m_avail is not None and report.cpu_m_avail != free_cpu:
        parts.append(f"{format_cpu(report.cpu_m_avail)} CPU free (books: {format_cpu(free_cpu)})")
    cluster.record_event(
        EventKind.DRIFT,
        f"Node {node.name} reports {' and '.join(parts)}; the books stand and the node "
        "is sent its desired pods",
        node=node,
        data={"reported_pod_ids": list(reported_ids or ()), "books_pod_ids": list(books_ids)},
    )
    node.generation += 1  # a new generation makes the reply carry the desired set again


def process_heartbeat(
    cluster: Cluster, node_id: int, report: HeartbeatReport, *, interval: float
) -> dict[str, Any]:
    """Apply one heartbeat and build the reply the agent acts on."""
    node = cluster.node(node_id)
    now = cluster.clock.monotonic()
    if node.partition_until is not None and now < node.partition_until:
        raise Partitioned("partitioned", node=node.name)
    node.last_heartbeat_mono = now
    node.last_heartbeat_at = cluster.clock.now()
    node.heartbeat_count += 1
    node.agent_seq = report.seq
    cluster.heartbeats_received += 1
    cluster.dirty_heartbeats[node.id] = (node.last_heartbeat_at, node.components)
    _apply_components(node, report.components)
    _update_status(cluster, node)
    if report.pods:
        _apply_pod_reports(cluster, node, report.pods)
    _check_drift(cluster, node, report)
    if report.generation == node.generation and node.acked_generation != node.generation:
        node.acked_generation = node.generation
    reply: dict[str, Any] = {
        "message": "Heartbeat received",
        "node_status": str(node.status),
        "should_stop_heartbeat": False,
        "heartbeat_interval_s": interval,
        "generation": node.generation,
        "component_faults": dict(node.component_faults),
    }
    if report.generation != node.generation or node.acked_generation is None:
        reply["desired_pods"] = [desired_pod(p) for p in cluster.state.pods_of(node)]
    if node.pending_kills:
        reply["kill"] = node.pending_kills
        node.pending_kills = []
    return reply
