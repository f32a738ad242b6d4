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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine import deployments, replicasets
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, wait_event
from kube9_desktop.engine.cluster import Cluster, Txn
from kube9_desktop.engine.cluster import workloads as ops
from kube9_desktop.engine.cluster.base import ClusterBase
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.state import DeploymentState, ReplicaSetState
from kube9_desktop.engine.terminating import TerminatingPods
from kube9_desktop.engine.workloads import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    DeploymentStatus,
    LabelSelector,
    ReplicaSetSpec,
    max_surge,
)

log = logging.getLogger(__name__)
_VERDICTS = (EventKind.DEPLOYMENT_COMPLETE, EventKind.DEPLOYMENT_STALLED)
STEPS_MAX = 200  # per reconcile: a plan that never settles is a bug, not a hang
# Work per reconcile call (a step is 1, plus 1 per pod it creates or deletes): scaling to
# 100,000 replicas is 200 steps of 500 pods, a minute of commits, so a call does about half a
# second of it and the loop goes on after the event loop had its turn (heartbeats, requests).
WORK_PER_SLICE = 1000


@dataclass(frozen=True)
class WorkloadConfig:
    tick: float = 0.25


def take_lowest(ids: set[int]) -> int:
    """The oldest dirty object first: the order of steps (and so of the scheduler's choices
    for their pods) is the same every run, and the what-if preview can follow it."""
    lowest = min(ids)
    ids.discard(lowest)
    return lowest


def no_terminating(_replicaset_id: int) -> int:
    return 0


def rs_facts(
    rs: ReplicaSetState, cluster: ClusterBase, now: datetime,
    terminating: Callable[[int], int] = no_terminating,
) -> deployments.RSFacts:  # fmt: skip
    state = cluster.state
    pods = (state.pods[p] for p in rs.pod_ids)
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
        status=replicasets.status_of_pods(pods, rs.spec.min_ready_seconds, now),
        created_at=rs.created_at,
        desired=number(DESIRED_REPLICAS),
        max_total=number(MAX_REPLICAS),
        terminating=terminating(rs.id),
    )


def deployment_facts(
    d: DeploymentState, status: DeploymentStatus | None = None
) -> deployments.DeploymentFacts:
    return deployments.DeploymentFacts(
        d.name, d.spec, d.generation, d.status if status is None else status, d.revision,
        d.collision_count,
    )  # fmt: skip


def plan_for(
    d: DeploymentState, cluster: ClusterBase, now: datetime,
    status: DeploymentStatus | None = None,
    terminating: Callable[[int], int] = no_terminating,
) -> deployments.Plan:  # fmt: skip
    """The next step; ``status``: as if this status were already stored (within a step);
    ``terminating``: a ReplicaSet's deleted pods still stopping on their nodes."""
    rss = [
        rs_facts(cluster.state.replicasets[i], cluster, now, terminating)
        for i in sorted(d.replicaset_ids)
    ]
    return deployments.plan(deployment_facts(d, status), rss, now)


def carry_out(
    t: Txn, d: DeploymentState, step: deployments.Plan, now: datetime,
    terminating: Callable[[int], int] = no_terminating,
) -> None:  # fmt: skip
    """Apply one Deployment step in the open transaction: the ReplicaSets it creates or
    scales get their pods in the same commit, and the status is the one after them."""
    state = t.state
    spec = d.spec
    surge = max_surge(spec.strategy, spec.replicas)
    touched: list[int] = []
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
        created = ops.create_replicaset(
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
        touched.append(created.id)
    for rs_id, replicas in step.scales:
        ops.scale_replicaset(
            t, state.replicasets[rs_id], replicas, desired=spec.replicas,
            max_total=spec.replicas + surge,
        )  # fmt: skip
        touched.append(rs_id)
    for rs_id in step.delete:
        ops.delete_replicaset(t, state.replicasets[rs_id])
    for rs_id in touched:
        replicasets.manage(t, state.replicasets[rs_id], now)
    events = list(step.events)
    status = step.status
    if touched:
        # The status after the pods of this step exist, judged against the step's own
        # status (its conditions, e.g. NewReplicaSetCreated, start the progress deadline).
        after = plan_for(d, t.cluster, now, step.status, terminating)
        status = after.status
        events += [(k, m) for k, m in after.events if k in _VERDICTS]
    for kind, message in events:
        t.event(kind, f"Deployment {d.name}: {message}", obj=d.ref())
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

    def __init__(
        self, cluster: Cluster, clock: Clock, config: WorkloadConfig | None = None,
        terminating: TerminatingPods | None = None,
    ) -> None:  # fmt: skip
        self.cluster = cluster
        self.terminating = terminating
        self._count_terminating = terminating.count if terminating is not None else no_terminating
        self.clock = clock
        self.config = config or WorkloadConfig()
        self.dirty_deployments: set[int] = set()
        self.dirty_replicasets: set[int] = set()
        # Steps that failed (their commit undone): tried again at the next tick, not at once.
        self._retry_deployments: set[int] = set()
        self._retry_replicasets: set[int] = set()
        self.steps = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reconciling = False
        self._stepping = False
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
        if not self._stepping:  # a Deployment's own step has already planned what it wrote
            self.dirty_deployments |= changes.ids(Kind.DEPLOYMENT)
        if self.dirty_replicasets or self.dirty_deployments:
            self._wake.set()

    def replicasets_released(self, rs_ids: set[int]) -> None:
        """Pods of these ReplicaSets finished stopping: their Deployments may take a step."""
        state = self.cluster.state
        for rs_id in rs_ids:
            rs = state.replicasets.get(rs_id)
            if rs is not None and rs.owner is not None:
                self.dirty_deployments.add(rs.owner.id)
        if self.dirty_deployments:
            self._wake.set()

    def _timed(self) -> None:
        """Mark what only time can move: pods becoming available, deadlines passing."""
        if self.terminating is not None:
            self.terminating.sweep()
        self.dirty_deployments |= self._retry_deployments
        self.dirty_replicasets |= self._retry_replicasets
        self._retry_deployments.clear()
        self._retry_replicasets.clear()
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

    @property
    def settled(self) -> bool:
        return not self.dirty_deployments and not self.dirty_replicasets

    def reconcile(self, work: int | None = None) -> int:
        """Step every dirty workload until all plans are idle or about ``work`` is done (the
        rest stays dirty and the loop is woken for it); returns the steps taken."""
        if self._reconciling:
            return 0  # a step's own commit re-entered us through the bus
        self._reconciling = True
        work = WORK_PER_SLICE if work is None else work
        taken = done = 0
        try:
            for _ in range(STEPS_MAX):
                progressed = False
                while self.dirty_deployments and done < work:
                    units = self._step_deployment(take_lowest(self.dirty_deployments))
                    if units:
                        progressed = True
                        taken += 1
                        done += units
                while self.dirty_replicasets and done < work:
                    units = self._step_replicaset(take_lowest(self.dirty_replicasets))
                    if units:
                        progressed = True
                        taken += 1
                        done += units
                if done >= work:
                    if not self.settled:
                        self._wake.set()  # the loop carries on after others had their turn
                    break
                if not progressed and not self.dirty_deployments:
                    break
            else:
                log.error("workloads did not settle after %d steps", STEPS_MAX)
        finally:
            self._reconciling = False
        self.steps += taken
        return taken

    @staticmethod
    def _work(t: Txn, acted: bool) -> int:
        pods = len(t.changes.added.get(Kind.POD, ())) + len(t.changes.removed.get(Kind.POD, {}))
        return 1 + pods if acted or pods else 0

    def _step_deployment(self, d_id: int) -> int:
        """One step of a Deployment; returns the work it did (0: none)."""
        d = self.cluster.state.deployments.get(d_id)
        if d is None:
            return 0
        try:
            now = self.clock.now()
            step = plan_for(d, self.cluster, now, terminating=self._count_terminating)
            if not step.acts and step.status == d.status and step.revision == d.revision:
                return 0
            self._stepping = True
            try:
                with self.cluster.transaction() as t:
                    carry_out(t, d, step, now, self._count_terminating)
            finally:
                self._stepping = False
            return self._work(t, step.acts) if step.acts else 0
        except Exception:
            log.exception("deployment %s: step failed; will retry", d.name)
            self._retry_deployments.add(d_id)
            return 0

    def _step_replicaset(self, rs_id: int) -> int:
        """One step of a ReplicaSet; returns the work it did (0: none)."""
        rs = self.cluster.state.replicasets.get(rs_id)
        if rs is None:
            return 0
        try:
            with self.cluster.transaction() as t:
                step = replicasets.manage(t, rs, self.clock.now())
            if rs.owner is not None:
                self.dirty_deployments.add(rs.owner.id)
            return self._work(t, True) if not step.idle else 0
        except Exception:
            log.exception("replicaset %s: step failed; will retry", rs.name)
            self._retry_replicasets.add(rs_id)
            return 0

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
            await wait_event(self._wake, self.config.tick)
            self._wake.clear()
            try:
                self._timed()
                self.reconcile()  # wakes itself again if it stopped at its slice of work
            except Exception:
                log.exception("workload reconcile failed; continuing")
            if not self.settled:
                await asyncio.sleep(0)  # a set event does not yield: let the others run first
