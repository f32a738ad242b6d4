"""The ReplicaSet controller: keep exactly ``replicas`` active pods of each ReplicaSet.

``plan`` is pure (a table-tested function of the pods and ``now``); ``manage`` carries one
ReplicaSet's plan out as one transaction step. A ReplicaSet counts and adopts only the pods it
owns (owner reference), never others that happen to match its selector.

Which pods go first when there are too many (Kubernetes' ActivePods ranking), e.g. of a pending
pod, a running-not-ready pod and two ready pods on one node, the pending one goes first, then
the not-ready one, then the ready pod that shares its node and became ready last:

1. not bound to a node before bound;
2. pending or scheduled before running;
3. not ready before ready;
4. on a node holding more of this ReplicaSet's pods before on a node holding fewer;
5. ready for a shorter time before longer;
6. more container restarts before fewer;
7. newer before older (then the higher id).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine.cluster import Txn
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster import workloads as workload_ops
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import PodPhase
from kube9_desktop.engine.state import PodState, ReplicaSetState
from kube9_desktop.engine.workloads import (
    POD_SUFFIX,
    POD_TEMPLATE_HASH,
    SAFE_ALPHABET,
    ReplicaSetStatus,
    available,
)

TERMINAL = (PodPhase.FAILED, PodPhase.SUCCEEDED)
_PHASE_RANK = {PodPhase.PENDING: 0, PodPhase.SCHEDULED: 1, PodPhase.RUNNING: 2}
BURST_MAX = 500  # pods created or deleted per step (Kubernetes' burstReplicas)


@dataclass(frozen=True, slots=True)
class PodFacts:
    """What the plan reads of one owned pod."""

    id: int
    phase: PodPhase
    node_id: int | None
    ready_since: datetime | None
    restarts: int
    created_at: datetime
    labels_match: bool = True

    @property
    def active(self) -> bool:
        return self.phase not in TERMINAL


def facts(pod: PodState, labels_match: bool = True) -> PodFacts:
    return PodFacts(
        pod.id, pod.phase, pod.node_id, pod.ready_since,
        sum(c.restarts for c in pod.containers.values()), pod.created_at, labels_match,
    )  # fmt: skip


def status_of(pods: Sequence[PodFacts], min_ready_seconds: int, now: datetime) -> ReplicaSetStatus:
    active = [p for p in pods if p.active]
    return ReplicaSetStatus(
        replicas=len(active),
        fully_labeled=sum(1 for p in active if p.labels_match),
        ready=sum(1 for p in active if p.ready_since is not None),
        available=sum(1 for p in active if available(p.ready_since, min_ready_seconds, now)),
    )


def status_of_pods(
    pods: Iterable[PodState], min_ready_seconds: int, now: datetime
) -> ReplicaSetStatus:
    """``status_of`` over the pods themselves (all matching the selector), in one pass and
    without a PodFacts each: the workload controller asks it for every ReplicaSet at every
    step (1,000-pod ReplicaSets made ``facts`` its hottest call)."""
    replicas = ready = avail = 0
    for pod in pods:
        if pod.phase in TERMINAL:
            continue
        replicas += 1
        since = pod.ready_since
        if since is not None:
            ready += 1
            if available(since, min_ready_seconds, now):
                avail += 1
    return ReplicaSetStatus(replicas=replicas, fully_labeled=replicas, ready=ready,
                            available=avail)  # fmt: skip


def deletion_order(pods: Sequence[PodFacts]) -> list[PodFacts]:
    """Active pods, the first to delete first (the ranking in the module docstring)."""
    per_node = Counter(p.node_id for p in pods if p.node_id is not None)

    def key(p: PodFacts) -> tuple[object, ...]:
        return (
            p.node_id is not None,
            _PHASE_RANK.get(p.phase, 2),
            p.ready_since is not None,
            -(per_node[p.node_id] if p.node_id is not None else 0),
            -(p.ready_since.timestamp() if p.ready_since else 0.0),
            -p.restarts,
            -p.created_at.timestamp(),
            -p.id,
        )

    return sorted((p for p in pods if p.active), key=key)


@dataclass(frozen=True, slots=True)
class Plan:
    create: int
    delete: tuple[int, ...]  # surplus active pods, in deletion order
    remove_terminal: tuple[int, ...]  # failed or succeeded pods, replaced: taken away
    status: ReplicaSetStatus

    @property
    def idle(self) -> bool:
        return not self.create and not self.delete and not self.remove_terminal


def plan(replicas: int, pods: Sequence[PodFacts], min_ready_seconds: int, now: datetime) -> Plan:
    """What one step does: create or delete pods toward ``replicas`` (at most BURST_MAX)."""
    active = [p for p in pods if p.active]
    diff = len(active) - replicas
    create = min(BURST_MAX, -diff) if diff < 0 else 0
    delete = tuple(p.id for p in deletion_order(active)[: min(BURST_MAX, diff)]) if diff > 0 else ()
    terminal = tuple(p.id for p in pods if not p.active)
    return Plan(create, delete, terminal, status_of(pods, min_ready_seconds, now))


def pod_name(
    rs_name: str,
    taken: Container[tuple[str, str]],
    namespace: str,
    batch: Container[str] = frozenset(),
) -> str:
    """``<replicaset>-<5 random chars>`` not yet taken in the namespace, nor by an earlier name
    of the same ``batch`` (a step's new pods are named before any of them exists: at 1,200
    pods, two of 27^5 suffixes drawn at random coincide about once in 20 scale-ups)."""
    while True:
        suffix = "".join(secrets.choice(SAFE_ALPHABET) for _ in range(POD_SUFFIX))
        name = f"{rs_name}-{suffix}"
        if (namespace, name) not in taken and name not in batch:
            return name


def manage(t: Txn, rs: ReplicaSetState, now: datetime) -> Plan:
    """Carry out one step of ``plan`` for ``rs`` in the open transaction."""
    state = t.state
    selector = rs.spec.selector.selector()
    owned = [state.pods[p] for p in sorted(rs.pod_ids)]
    step = plan(
        rs.spec.replicas,
        [facts(p, selector.matches(p.spec.labels)) for p in owned],
        rs.spec.min_ready_seconds,
        now,
    )
    for pod_id in (*step.remove_terminal, *step.delete):
        pod = state.pods[pod_id]
        why = (
            f"it {pod.phase.value}; ReplicaSet {rs.name} replaces it"
            if pod_id in step.remove_terminal
            else f"ReplicaSet {rs.name} keeps {rs.spec.replicas}"
        )
        pod_ops.delete_pod(t, pod, why=why)
    if step.create:
        labels = {POD_TEMPLATE_HASH: rs.template_hash} if rs.template_hash else {}
        names: set[str] = set()
        for _ in range(step.create):
            names.add(name := pod_name(rs.name, state.pod_ids.keys(), rs.namespace, names))
            spec = rs.spec.template.pod_spec(name, rs.namespace, rs.ref(), labels)
            pod_ops.create_pod(t, spec, allow_pending=True)
    if step.create or step.delete or step.remove_terminal:
        before = len(owned) - len(step.remove_terminal)
        after = before + step.create - len(step.delete)
        t.event(
            EventKind.REPLICASET_SCALED,
            f"ReplicaSet {rs.name}: {before} → {after} pod(s)"
            + (f" ({len(step.remove_terminal)} failed replaced)" if step.remove_terminal else ""),
            obj=rs.ref(),
            data={"from": before, "to": after, "created": step.create,
                  "deleted": len(step.delete), "replaced": len(step.remove_terminal)},
        )  # fmt: skip
        workload_ops.touch_replicaset(t, rs)
    return step
