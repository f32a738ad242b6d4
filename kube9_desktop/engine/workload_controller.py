"""Runs the Deployment and ReplicaSet plans: after every commit that touched a workload or its
pods, and on a tick for what time alone changes (minReadySeconds, progress deadlines).

Each step is one transaction. ``reconcile`` repeats steps until every plan is idle, with no
await between them, so no other task ever sees a Deployment halfway through a step (a
ReplicaSet scaled but its pods not yet created or deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine import deployments, replicasets
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock
from kube9_desktop.engine.cluster import Cluster, Txn
from kube9_desktop.engine.cluster import workloads as ops
from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.state import DeploymentState, ReplicaSetState
from kube9_desktop.engine.workloads import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    LabelSelector,
    ReplicaSetSpec,
    max_surge,
)

log = logging.getLogger(__name__)
STEPS_MAX = 200  # per reconcile: a plan that never settles is a bug, not a hang


@dataclass(frozen=True)
class WorkloadConfig:
    tick: float = 0.25


def rs_facts(rs: ReplicaSetState, cluster: Cluster, now: datetime) -> deployments.RSFacts:
    state = cluster.state
    pods = [replicasets.facts(state.pods[p]) for p in rs.pod_ids]
    notes = rs.spec.annotations

    def number(key: str) -> int | None:
        value = notes.get(key)
        return int(value) if value is not None and value.isdigit() else None

    return deployments.RSFacts(
        id=rs.id,
        name=rs.name,
        revision=rs.revision,
        template=rs.spec.template,
        replicas=rs.spec.replicas,
        status=replicasets.status_of(pods, rs.spec.min_ready_seconds, now),
        created_at=rs.created_at,
        desired=number(DESIRED_REPLICAS),
        max_total=number(MAX_REPLICAS),
    )


def deployment_facts(d: DeploymentState) -> deployments.DeploymentFacts:
    return deployments.DeploymentFacts(
        d.name, d.spec, d.generation, d.status, d.revision, d.collision_count
    )


def plan_for(d: DeploymentState, cluster: Cluster, now: datetime) -> deployments.Plan:
    rss = [rs_facts(cluster.state.replicasets[i], cluster, now) for i in sorted(d.replicaset_ids)]
    return deployments.plan(deployment_facts(d), rss, now)


def carry_out(t: Txn, d: DeploymentState, step: deployments.Plan) -> None:
    """Apply one Deployment step in the open transaction."""
    state = t.state
    spec = d.spec
    surge = max_surge(spec.strategy, spec.replicas)
    for rs_id, revision in step.revisions:
        rs = state.replicasets[rs_id]
        ops.update_replicaset(
            t, rs, revision=revision, annotations={**rs.spec.annotations, REVISION: str(revision)}
        )
    collisions = d.collision_count
    if step.create is not None:
        while True:
            template_hash = spec.template.template_hash(collisions)
            name = deployments.replicaset_name(d.name, template_hash)
            if (d.namespace, name) not in state.replicaset_ids:
                break
            collisions += 1  # another template hashed the same: Kubernetes' collisionCount
        selector = LabelSelector(
            {**spec.selector.match_labels, POD_TEMPLATE_HASH: template_hash},
            spec.selector.match_expressions,
        )
        notes = {
            REVISION: str(step.create.revision),
            DESIRED_REPLICAS: str(spec.replicas),
            MAX_REPLICAS: str(spec.replicas + surge),
        }
        if "kubernetes.io/change-cause" in spec.annotations:
            notes["kubernetes.io/change-cause"] = spec.annotations["kubernetes.io/change-cause"]
        ops.create_replicaset(
            t,
            ReplicaSetSpec(
                name=name,
                namespace=d.namespace,
                replicas=step.create.replicas,
                selector=selector,
                template=spec.template,
                min_ready_seconds=spec.min_ready_seconds,
                labels={**spec.template.labels, POD_TEMPLATE_HASH: template_hash},
                annotations=notes,
            ),
            owner=d,
            revision=step.create.revision,
            template_hash=template_hash,
        )
    for rs_id, replicas in step.scales:
        ops.scale_replicaset(
            t, state.replicasets[rs_id], replicas, desired=spec.replicas,
            max_total=spec.replicas + surge,
        )  # fmt: skip
    for rs_id in step.delete:
        ops.delete_replicaset(t, state.replicasets[rs_id])
    for kind, message in step.events:
        t.event(kind, f"Deployment {d.name}: {message}", obj=d.ref())
    status = step.status
    if (
        status != d.status
        or step.revision != d.revision
        or collisions != d.collision_count
        or step.acts
    ):
        ops.update_deployment(
            t, d, status=status, revision=step.revision, collision_count=collisions
        )


class WorkloadController:
    """Keeps every Deployment and ReplicaSet converging; one instance per engine."""

    def __init__(self, cluster: Cluster, clock: Clock, config: WorkloadConfig | None = None):
        self.cluster = cluster
        self.clock = clock
        self.config = config or WorkloadConfig()
        self.dirty_deployments: set[int] = set()
        self.dirty_replicasets: set[int] = set()
        self.steps = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reconciling = False
        cluster.bus.subscribe_changes(self._on_changes)

    # ---- what needs a look -------------------------------------------------------------

    def _on_changes(self, changes: Changes) -> None:
        state = self.cluster.state
        for pod_id in changes.added.get(Kind.POD, set()) | changes.changed.get(Kind.POD, set()):
            pod = state.pods.get(pod_id)
            owner = pod.spec.owner if pod is not None else None
            if owner is not None and owner.kind == "ReplicaSet":
                self.dirty_replicasets.add(owner.id)
        for view in changes.removed.get(Kind.POD, {}).values():
            owner = view.spec.owner if isinstance(view, PodView) else None
            if owner is not None and owner.kind == "ReplicaSet":
                self.dirty_replicasets.add(owner.id)
        self.dirty_replicasets |= changes.ids(Kind.REPLICASET)
        self.dirty_deployments |= changes.ids(Kind.DEPLOYMENT)
        if self.dirty_replicasets or self.dirty_deployments:
            self._wake.set()

    def _timed(self) -> None:
        """Mark what only time can move: pods becoming available, deadlines passing."""
        state = self.cluster.state
        for d in state.deployments.values():
            cond = d.status.condition(deployments.PROGRESSING)
            if not d.spec.paused and (cond is None or cond.reason != deployments.NEW_RS_AVAILABLE
                                      or d.status.available < d.spec.replicas):  # fmt: skip
                self.dirty_deployments.add(d.id)
        for rs in state.replicasets.values():
            if rs.spec.min_ready_seconds > 0 and rs.pod_ids:
                self.dirty_replicasets.add(rs.id)
                if rs.owner is not None:
                    self.dirty_deployments.add(rs.owner.id)

    # ---- stepping ----------------------------------------------------------------------

    def reconcile(self) -> int:
        """Step every dirty workload until all plans are idle; returns the steps taken."""
        if self._reconciling:
            return 0  # a step's own commit re-entered us through the bus
        self._reconciling = True
        taken = 0
        try:
            for _ in range(STEPS_MAX):
                progressed = False
                while self.dirty_deployments:
                    d_id = self.dirty_deployments.pop()
                    if self._step_deployment(d_id):
                        progressed = True
                        taken += 1
                while self.dirty_replicasets:
                    rs_id = self.dirty_replicasets.pop()
                    if self._step_replicaset(rs_id):
                        progressed = True
                        taken += 1
                if not progressed and not self.dirty_deployments:
                    break
            else:
                log.error("workloads did not settle after %d steps", STEPS_MAX)
        finally:
            self._reconciling = False
        self.steps += taken
        return taken

    def _step_deployment(self, d_id: int) -> bool:
        d = self.cluster.state.deployments.get(d_id)
        if d is None:
            return False
        try:
            now = self.clock.now()
            step = plan_for(d, self.cluster, now)
            if not step.acts and step.status == d.status and step.revision == d.revision:
                return False
            with self.cluster.transaction() as t:
                carry_out(t, d, step)
            return step.acts
        except Exception:
            log.exception("deployment %s: step failed; will retry", d.name)
            return False

    def _step_replicaset(self, rs_id: int) -> bool:
        rs = self.cluster.state.replicasets.get(rs_id)
        if rs is None:
            return False
        try:
            with self.cluster.transaction() as t:
                step = replicasets.manage(t, rs, self.clock.now())
            if rs.owner is not None:
                self.dirty_deployments.add(rs.owner.id)
            return not step.idle
        except Exception:
            log.exception("replicaset %s: step failed; will retry", rs.name)
            return False

    # ---- running -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            state = self.cluster.state
            self.dirty_deployments |= set(state.deployments)
            self.dirty_replicasets |= set(state.replicasets)
            self._task = asyncio.create_task(self._loop(), name="workloads")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the inner result
            # when the cancel arrives just as the event is set, swallowing the cancellation,
            # and stop() then waits for this loop forever (often, as commits set it often).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.tick):
                    await self._wake.wait()
            self._wake.clear()
            try:
                self._timed()
                self.reconcile()
            except Exception:
                log.exception("workload reconcile failed; continuing")
