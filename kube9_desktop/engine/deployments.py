"""The Deployment controller, as Kubernetes' (pkg/controller/deployment) does it, step by step.

``plan`` is pure: from a Deployment, its ReplicaSets (spec replicas and pod counts) and
``now`` it decides one step — create the new ReplicaSet, scale ReplicaSets, bump a revision,
delete old history — and the status and conditions after it. ``carry_out`` applies a plan in
one transaction; the controller replans after every commit until a plan is idle.

A RollingUpdate of 10 replicas with max_surge 3 and max_unavailable 2 (25 %/25 %) from
ReplicaSet A (10 available) to B: B is created with 3 (13 in total, the surge); once pods are
counted, A may lose as many as keeps 8 available: 13 - 8 - (3 unavailable in B) = 2, A goes to 8;
as B's pods become available, B grows and A shrinks, never more than 13 pods, never fewer
than 8 available — unless nodes fail, and then no step makes it worse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.workloads import (
    DEPLOYMENT_NAME_MAX,
    RECREATE,
    ROLLING_UPDATE,
    Condition,
    DeploymentSpec,
    DeploymentStatus,
    PodTemplate,
    ReplicaSetStatus,
    max_surge,
    max_unavailable,
)

AVAILABLE = "Available"
PROGRESSING = "Progressing"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


@dataclass(frozen=True, slots=True)
class RSFacts:
    id: int
    name: str
    revision: int
    template: PodTemplate  # without the pod-template-hash label
    replicas: int  # spec
    status: ReplicaSetStatus  # its pods
    created_at: datetime
    desired: int | None = None  # deployment.kubernetes.io/desired-replicas
    max_total: int | None = None  # deployment.kubernetes.io/max-replicas
    terminating: int = 0  # deleted pods still stopping on their nodes (terminatingReplicas)


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    name: str
    spec: DeploymentSpec
    generation: int
    status: DeploymentStatus  # as last stored
    revision: int = 0
    collision_count: int = 0


@dataclass(frozen=True, slots=True)
class NewReplicaSet:
    replicas: int
    revision: int


@dataclass(frozen=True, slots=True)
class Plan:
    create: NewReplicaSet | None = None
    scales: tuple[tuple[int, int], ...] = ()  # (ReplicaSet id, new replicas)
    revisions: tuple[tuple[int, int], ...] = ()  # (ReplicaSet id, new revision)
    delete: tuple[int, ...] = ()  # old ReplicaSets beyond the revision history
    status: DeploymentStatus = field(default_factory=DeploymentStatus)
    revision: int = 0
    events: tuple[tuple[EventKind, str], ...] = ()

    @property
    def acts(self) -> bool:
        return bool(self.create or self.scales or self.revisions or self.delete)


# ---- counting ----------------------------------------------------------------------------


def spec_total(rss: Sequence[RSFacts]) -> int:
    return sum(r.replicas for r in rss)


def available_total(rss: Sequence[RSFacts]) -> int:
    return sum(r.status.available for r in rss)


def terminating_total(rss: Sequence[RSFacts]) -> int:
    return sum(r.terminating for r in rss)


def active(rss: Sequence[RSFacts]) -> list[RSFacts]:
    return [r for r in rss if r.replicas > 0]


def calculate_status(
    d: DeploymentFacts, rss: Sequence[RSFacts], new: RSFacts | None
) -> DeploymentStatus:
    """Kubernetes' calculateStatus: counts from the ReplicaSets' specs and their pods."""
    available = available_total(rss)
    return DeploymentStatus(
        replicas=sum(r.status.replicas for r in rss),
        updated=new.status.replicas if new else 0,
        ready=sum(r.status.ready for r in rss),
        available=available,
        unavailable=max(0, spec_total(rss) - available),
        observed_generation=d.generation,
        conditions=d.status.conditions,
        terminating=terminating_total(rss),
    )


def complete(d: DeploymentFacts, status: DeploymentStatus) -> bool:
    want = d.spec.replicas
    return (
        status.updated == want
        and status.replicas == want
        and status.available == want
        and status.observed_generation >= d.generation
    )


def progressing(old: DeploymentStatus, new: DeploymentStatus) -> bool:
    """Any progress since the stored status (Kubernetes' DeploymentProgressing)."""
    return (
        new.updated > old.updated
        or (new.replicas - new.updated) < (old.replicas - old.updated)
        or new.ready > old.ready
        or new.available > old.available
    )


def timed_out(d: DeploymentFacts, status: DeploymentStatus, now: datetime) -> bool:
    cond = status.condition(PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    return cond.last_update + timedelta(seconds=d.spec.progress_deadline_seconds) < now


def set_condition(
    conditions: tuple[Condition, ...], kind: str, status: str, reason: str, message: str,
    now: datetime, *, touch: bool = False,
) -> tuple[Condition, ...]:  # fmt: skip
    """Kubernetes' SetDeploymentCondition: same status and reason keeps the times (unless
    ``touch``: Progressing refreshes lastUpdateTime on progress); same status keeps the
    transition time."""
    current = next((c for c in conditions if c.type == kind), None)
    if current is not None and current.status == status and current.reason == reason:
        if not touch:
            return conditions
        new = replace(current, message=message, last_update=now)
    else:
        since = current.last_transition if current is not None and current.status == status else now
        new = Condition(kind, status, reason, message, now, since)
    return (*(c for c in conditions if c.type != kind), new)


# ---- scaling (proportional, as Kubernetes' sync.scale) -------------------------------------


def _fraction(r: RSFacts, spec: DeploymentSpec, status_replicas: int) -> int:
    if spec.replicas == 0:
        return -r.replicas
    allowed = spec.replicas + max_surge(spec.strategy, spec.replicas)
    annotated = r.max_total if r.max_total else status_replicas
    if annotated <= 0:
        return 0
    return round_half_away(r.replicas * allowed / annotated) - r.replicas


def round_half_away(x: float) -> int:
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def proportional_scale(
    spec: DeploymentSpec, rss: Sequence[RSFacts], new: RSFacts | None, status_replicas: int
) -> dict[int, int]:
    """New replicas per ReplicaSet for a change of the Deployment's replicas mid-rollout.

    One active ReplicaSet (or only the newest): it gets the Deployment's replicas. A saturated
    new one: the old ones go to 0. Otherwise the difference is shared in proportion to each
    ReplicaSet's size, the leftover going to the largest (newer first when growing, older
    first when shrinking).
    """
    live = active(rss)
    if len(live) <= 1:
        target = (
            live[0] if live else (new or (max(rss, key=lambda r: r.created_at) if rss else None))
        )
        if target is None or target.replicas == spec.replicas:
            return {}
        return {target.id: spec.replicas}
    if new is not None and new.replicas == spec.replicas and new.status.available == spec.replicas:
        return {r.id: 0 for r in live if r.id != new.id}
    if spec.strategy.type != ROLLING_UPDATE:
        return {}
    allowed = spec.replicas + max_surge(spec.strategy, spec.replicas) if spec.replicas > 0 else 0
    to_add = allowed - spec_total(live)
    if to_add == 0:
        return {}
    if to_add > 0:
        order = sorted(live, key=lambda r: (-r.replicas, -r.created_at.timestamp(), -r.id))
    else:
        order = sorted(live, key=lambda r: (-r.replicas, r.created_at.timestamp(), r.id))
    added = 0
    sizes: dict[int, int] = {}
    for r in order:
        if r.replicas == 0 or to_add == added:
            proportion = 0
        else:
            fraction = _fraction(r, spec, status_replicas)
            left = to_add - added
            proportion = min(fraction, left) if to_add > 0 else max(fraction, left)
        sizes[r.id] = r.replicas + proportion
        added += proportion
    first = order[0]
    sizes[first.id] = max(0, sizes[first.id] + (to_add - added))
    return {
        rid: n for rid, n in sizes.items() if n != next(r.replicas for r in live if r.id == rid)
    }


def scaling_event(spec: DeploymentSpec, rss: Sequence[RSFacts]) -> bool:
    """An active ReplicaSet records a desired count other than the Deployment's replicas."""
    return any(r.desired is not None and r.desired != spec.replicas for r in active(rss))


# ---- rollout steps -----------------------------------------------------------------------


def new_rs_replicas(spec: DeploymentSpec, rss: Sequence[RSFacts], new_replicas: int) -> int:
    """Kubernetes' NewRSNewReplicas: how large the new ReplicaSet may be now. Pods still
    stopping count against the surge, as with podReplacementPolicy TerminationComplete."""
    if spec.strategy.type == RECREATE:
        return spec.replicas
    surge = max_surge(spec.strategy, spec.replicas)
    current = spec_total(rss) + terminating_total(rss)
    max_total = spec.replicas + surge
    if current >= max_total:
        return new_replicas
    return new_replicas + min(max_total - current, spec.replicas - new_replicas)


def rolling_scale_down(spec: DeploymentSpec, rss: list[RSFacts], new: RSFacts) -> dict[int, int]:
    """reconcileOldReplicaSets: unhealthy old pods first, then old ones down to minAvailable."""
    olds = sorted((r for r in rss if r.id != new.id), key=lambda r: (r.created_at, r.id))
    if spec_total(olds) == 0:
        return {}
    min_available = spec.replicas - max_unavailable(spec.strategy, spec.replicas)
    new_unavailable = new.replicas - new.status.available
    max_down = spec_total(rss) - min_available - new_unavailable
    if max_down <= 0:
        return {}
    sizes = {r.id: r.replicas for r in olds}
    cleaned = 0
    for r in olds:  # cleanupUnhealthyReplicas
        if cleaned >= max_down:
            break
        unhealthy = sizes[r.id] - r.status.available
        if sizes[r.id] == 0 or unhealthy <= 0:
            continue
        down = min(max_down - cleaned, unhealthy)
        sizes[r.id] -= down
        cleaned += down
    # scaleDownOldReplicaSetsForRollingUpdate (over the sizes after the clean-up)
    available = sum(min(r.status.available, sizes[r.id]) for r in olds) + new.status.available
    if available > min_available:
        room = available - min_available
        for r in olds:
            if room <= 0:
                break
            if sizes[r.id] == 0:
                continue
            down = min(sizes[r.id], room)
            sizes[r.id] -= down
            room -= down
    return {
        rid: n for rid, n in sizes.items() if n != next(r.replicas for r in olds if r.id == rid)
    }


def _cleanup(spec: DeploymentSpec, olds: Sequence[RSFacts]) -> tuple[int, ...]:
    cleanable = sorted(olds, key=lambda r: (r.revision, r.created_at))
    extra = len(cleanable) - spec.revision_history_limit
    out: list[int] = []
    for r in cleanable:
        if len(out) >= extra:
            break
        if r.replicas == 0 and r.status.replicas == 0:
            out.append(r.id)
    return tuple(out)


def _describe_scales(scales: dict[int, int], rss: Sequence[RSFacts], new: RSFacts | None) -> str:
    by_id = {r.id: r for r in rss}
    parts = [f"ReplicaSet {by_id[i].name} scaled {by_id[i].replicas}→{n}" for i, n in
             sorted(scales.items(), key=lambda kv: (by_id[kv[0]] is new, kv[0]))]  # fmt: skip
    return ", ".join(parts)


def plan(d: DeploymentFacts, rss: Sequence[RSFacts], now: datetime) -> Plan:
    """One step for Deployment ``d`` over its ReplicaSets, and the status after it."""
    spec = d.spec
    rss = list(rss)
    new = next((r for r in rss if r.template == spec.template), None)
    olds = [r for r in rss if r is not new]
    max_old_revision = max((r.revision for r in olds), default=0)
    events: list[tuple[EventKind, str]] = []
    revisions: tuple[tuple[int, int], ...] = ()
    conditions = d.status.conditions
    if new is not None and new.revision <= max_old_revision:
        # The template of an older revision is back (a rollback): that ReplicaSet is the new
        # one and takes the next revision number, as in Kubernetes.
        revision = max_old_revision + 1
        revisions = ((new.id, revision),)
        new = replace(new, revision=revision)
        rss = [new if r.id == new.id else r for r in rss]
    revision = new.revision if new is not None else max_old_revision + 1
    scales: dict[int, int] = {}
    create: NewReplicaSet | None = None
    delete: tuple[int, ...] = ()

    if spec.paused or scaling_event(spec, rss):
        scales = proportional_scale(spec, rss, new, d.status.replicas)
        if spec.paused:
            conditions = set_condition(conditions, PROGRESSING, "Unknown", PAUSED,
                                       "Deployment is paused", now)  # fmt: skip
    elif spec.strategy.type == RECREATE:
        live_olds = active(olds)
        if live_olds:
            scales = {r.id: 0 for r in live_olds}
        elif any(r.status.replicas > 0 or r.terminating > 0 for r in olds):
            pass  # wait until the old pods are gone, their processes too
        elif new is None:
            create = NewReplicaSet(spec.replicas, revision)
        elif new.replicas != spec.replicas:
            scales = {new.id: spec.replicas}
    else:  # RollingUpdate
        if new is None:
            create = NewReplicaSet(new_rs_replicas(spec, rss, 0), revision)
        elif new.replicas > spec.replicas:
            scales = {new.id: spec.replicas}
        elif (
            new.replicas < spec.replicas
            and (grown := new_rs_replicas(spec, rss, new.replicas)) != new.replicas
        ):
            scales = {new.id: grown}
        else:
            scales = rolling_scale_down(spec, rss, new)

    if revisions and new is not None:
        again = f"ReplicaSet {new.name} is the new one again: revision {revision}"
        events.append((EventKind.DEPLOYMENT_SCALED, again))
        if DeploymentStatus(conditions=conditions).condition(PROGRESSING) is None:
            conditions = set_condition(conditions, PROGRESSING, "True", FOUND_NEW_RS,
                                       f'Found new replica set "{new.name}"', now)  # fmt: skip

    if create is not None:
        events.append((EventKind.DEPLOYMENT_SCALED,
                       f"Created a new ReplicaSet with {create.replicas} replica(s) "
                       f"(revision {create.revision})"))  # fmt: skip
        conditions = set_condition(conditions, PROGRESSING, "True", NEW_RS_CREATED,
                                   "Created new replica set", now)  # fmt: skip
    elif scales:
        events.append((EventKind.DEPLOYMENT_SCALED, _describe_scales(scales, rss, new)))
    # The status after this step: specs as planned, pods as they are.
    after = [replace(r, replicas=scales.get(r.id, r.replicas)) for r in rss]
    after_new = next((r for r in after if new is not None and r.id == new.id), None)
    status = calculate_status(d, after, after_new)
    if create is not None:
        status = replace(status, unavailable=status.unavailable + create.replicas)
    min_available = spec.replicas - max_unavailable(spec.strategy, spec.replicas)
    if status.available >= min_available:
        conditions = set_condition(conditions, AVAILABLE, "True", MIN_AVAILABLE,
                                   "Deployment has minimum availability.", now)  # fmt: skip
    else:
        conditions = set_condition(
            conditions, AVAILABLE, "False", MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.", now,
        )  # fmt: skip

    if not spec.paused:
        name = f'ReplicaSet "{after_new.name}"' if after_new else f'Deployment "{d.name}"'
        current = DeploymentStatus(conditions=conditions).condition(PROGRESSING)
        done = (
            status.replicas == status.updated and current is not None
            and current.reason == NEW_RS_AVAILABLE
        )  # fmt: skip
        if not done:
            if complete(d, status):
                conditions = set_condition(conditions, PROGRESSING, "True", NEW_RS_AVAILABLE,
                                           f"{name} has successfully progressed.", now)  # fmt: skip
                events.append((EventKind.DEPLOYMENT_COMPLETE,
                               f"Rollout complete: {name} has {spec.replicas} available "
                               "replica(s)"))  # fmt: skip
            elif progressing(d.status, status):
                conditions = set_condition(conditions, PROGRESSING, "True", RS_UPDATED,
                                           f"{name} is progressing.", now, touch=True)  # fmt: skip
            elif timed_out(d, replace(status, conditions=conditions), now):
                was = DeploymentStatus(conditions=conditions).condition(PROGRESSING)
                conditions = set_condition(conditions, PROGRESSING, "False", TIMED_OUT,
                                           f"{name} has timed out progressing.", now)  # fmt: skip
                if was is None or was.reason != TIMED_OUT:
                    events.append((EventKind.DEPLOYMENT_STALLED,
                                   f"Rollout stalled: {name} made no progress for "
                                   f"{spec.progress_deadline_seconds} s"))  # fmt: skip
        if complete(d, status) and create is None and not scales:
            delete = _cleanup(spec, [r for r in after if after_new is None or r.id != after_new.id])
    elif create is None and not scales:
        delete = _cleanup(spec, [r for r in after if after_new is None or r.id != after_new.id])
    status = replace(status, conditions=conditions)
    return Plan(create, tuple(sorted(scales.items())), revisions, delete, status, revision,
                tuple(events))  # fmt: skip


def replicaset_name(deployment: str, template_hash: str) -> str:
    assert len(deployment) <= DEPLOYMENT_NAME_MAX
    return f"{deployment}-{template_hash}"
