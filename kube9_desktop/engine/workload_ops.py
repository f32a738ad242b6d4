"""The Engine's workload operations (Deployments, ReplicaSets) and their reads.

Each operation commits its change, then lets the workload controller take every step that
follows from it before returning, so the answer already shows the ReplicaSets and pods the
change made (and no reader ever sees a spec that its pods have not caught up with).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kube9_desktop.engine import replicasets
from kube9_desktop.engine.changes import Changes
from kube9_desktop.engine.cluster import workloads as ops
from kube9_desktop.engine.errors import Conflict, NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.selectors import Selector
from kube9_desktop.engine.state import DeploymentState, ReplicaSetState
from kube9_desktop.engine.workload_specs import DeploymentPatch
from kube9_desktop.engine.workloads import (
    CHANGE_CAUSE,
    DeploymentSpec,
    DeploymentView,
    PodTemplate,
    ReplicaSetSpec,
    ReplicaSetView,
)

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster
    from kube9_desktop.engine.workload_controller import WorkloadController


@dataclass(frozen=True)
class WorkloadOutcome:
    view: Any  # DeploymentView | ReplicaSetView
    changes: Changes
    message: str = ""
    pods_deleted: int = 0


@dataclass(frozen=True)
class Revision:
    revision: int
    replicaset: str
    replicaset_id: int
    template: PodTemplate
    change_cause: str
    created_at: Any
    replicas: int
    current: bool


def describe_template_change(old: PodTemplate, new: PodTemplate) -> str:
    """ "image nginx:1.25 → nginx:1.26" and the like: what a rollout changes, in one line."""
    parts = []
    old_c = {c.name: c for c in old.containers}
    for c in new.containers:
        before = old_c.get(c.name)
        if before is None:
            parts.append(f"container {c.name} added")
        elif before.image != c.image:
            parts.append(f"{c.name}: image {before.image} → {c.image}")
        elif (before.command, before.args) != (c.command, c.args):
            parts.append(f"{c.name}: command changed")
        elif before != c:
            parts.append(f"{c.name}: changed")
    for name in old_c.keys() - {c.name for c in new.containers}:
        parts.append(f"container {name} removed")
    if old.labels != new.labels:
        parts.append("labels changed")
    if (old.request, old.config, old.volumes) != (new.request, new.config, new.volumes):
        parts.append("resources, config or volumes changed")
    return "; ".join(parts) or "template changed"


class EngineWorkloads:
    cluster: Cluster
    workloads: WorkloadController

    # ---- reads -------------------------------------------------------------------------

    def _deployment(self, deployment_id: int) -> DeploymentState:
        d = self.cluster.state.deployments.get(deployment_id)
        if d is None:
            raise NotFound(f"Deployment {deployment_id} not found")
        return d

    def _replicaset(self, rs_id: int) -> ReplicaSetState:
        rs = self.cluster.state.replicasets.get(rs_id)
        if rs is None:
            raise NotFound(f"ReplicaSet {rs_id} not found")
        return rs

    def deployment_view(self, d: DeploymentState) -> DeploymentView:
        return DeploymentView(
            d.id, d.uid, d.name, d.namespace, d.spec, d.revision, d.generation, d.status,
            tuple(sorted(d.replicaset_ids)), d.created_at, d.resource_version, d.collision_count,
        )  # fmt: skip

    def replicaset_view(self, rs: ReplicaSetState) -> ReplicaSetView:
        state = self.cluster.state
        pods = [replicasets.facts(state.pods[p]) for p in rs.pod_ids]
        status = replicasets.status_of(pods, rs.spec.min_ready_seconds, self.cluster.clock.now())
        spec = rs.spec
        return ReplicaSetView(
            rs.id, rs.uid, spec.name, spec.namespace, spec.replicas, spec.selector,
            spec.template, spec.min_ready_seconds, spec.labels, spec.annotations, rs.owner,
            rs.revision, rs.template_hash, status, tuple(sorted(rs.pod_ids)), rs.created_at,
            rs.generation, rs.resource_version,
        )  # fmt: skip

    def deployments(
        self, namespace: str | None = None, selector: Selector | None = None
    ) -> list[DeploymentView]:
        out = []
        for d in self.cluster.state.deployments.values():
            if namespace is not None and d.namespace != namespace:
                continue
            if selector is not None and not selector.matches(d.spec.labels):
                continue
            out.append(self.deployment_view(d))
        return out

    def deployment(self, deployment_id: int) -> DeploymentView:
        return self.deployment_view(self._deployment(deployment_id))

    def find_deployment(self, deployment_id: int) -> DeploymentView | None:
        d = self.cluster.state.deployments.get(deployment_id)
        return self.deployment_view(d) if d is not None else None

    def replicasets(
        self, namespace: str | None = None, selector: Selector | None = None
    ) -> list[ReplicaSetView]:
        out = []
        for rs in self.cluster.state.replicasets.values():
            if namespace is not None and rs.namespace != namespace:
                continue
            if selector is not None and not selector.matches(rs.spec.labels):
                continue
            out.append(self.replicaset_view(rs))
        return out

    def replicaset(self, rs_id: int) -> ReplicaSetView:
        return self.replicaset_view(self._replicaset(rs_id))

    def find_replicaset(self, rs_id: int) -> ReplicaSetView | None:
        rs = self.cluster.state.replicasets.get(rs_id)
        return self.replicaset_view(rs) if rs is not None else None

    def find_deployment_named(self, namespace: str, name: str) -> DeploymentView | None:
        deployment_id = self.cluster.state.deployment_ids.get((namespace, name))
        return self.find_deployment(deployment_id) if deployment_id is not None else None

    def find_replicaset_named(self, namespace: str, name: str) -> ReplicaSetView | None:
        rs_id = self.cluster.state.replicaset_ids.get((namespace, name))
        return self.find_replicaset(rs_id) if rs_id is not None else None

    def deployment_name_taken(self, name: str, namespace: str = "default") -> bool:
        """One lookup, not a scan: the Deployment form asks on every keystroke."""
        return (namespace, name) in self.cluster.state.deployment_ids

    def deployment_history(self, deployment_id: int) -> list[Revision]:
        """Every kept revision, oldest first (what rollback can go back to)."""
        d = self._deployment(deployment_id)
        state = self.cluster.state
        out = []
        for rs_id in d.replicaset_ids:
            rs = state.replicasets[rs_id]
            out.append(Revision(
                rs.revision, rs.name, rs.id, rs.spec.template,
                rs.spec.annotations.get(CHANGE_CAUSE, ""), rs.created_at, rs.spec.replicas,
                rs.revision == d.revision,
            ))  # fmt: skip
        return sorted(out, key=lambda r: r.revision)

    # ---- operations --------------------------------------------------------------------

    def _settle(self) -> None:
        self.workloads.reconcile()

    async def create_deployment(self, spec: DeploymentSpec) -> WorkloadOutcome:
        with self.cluster.transaction() as t:
            d = ops.create_deployment(t, spec)
        self.workloads.dirty_deployments.add(d.id)
        self._settle()
        return WorkloadOutcome(self.deployment_view(d), t.changes)

    async def update_deployment(
        self, deployment_id: int, patch: DeploymentPatch
    ) -> WorkloadOutcome:
        d = self._deployment(deployment_id)
        new = patch.apply(d.spec)
        return self._change(d, new)

    def _change(self, d: DeploymentState, new: DeploymentSpec, kind: EventKind | None = None,
                message: str | None = None) -> WorkloadOutcome:  # fmt: skip
        old = d.spec
        if new == old:
            return WorkloadOutcome(self.deployment_view(d), Changes(), "nothing changed")
        parts = []
        if new.template != old.template:
            parts.append(f"rollout: {describe_template_change(old.template, new.template)}")
        if new.replicas != old.replicas:
            parts.append(f"replicas {old.replicas} → {new.replicas}")
        if new.strategy != old.strategy:
            parts.append(f"strategy {new.strategy.to_json()}")
        if new.paused != old.paused:
            parts.append("paused" if new.paused else "resumed")
        text = message or f"Deployment {d.name}: " + ("; ".join(parts) or "spec changed")
        with self.cluster.transaction() as t:
            ops.update_deployment(t, d, spec=new)
            # "rollout": the template changed, so this starts a rollout (the window times it).
            t.event(kind or EventKind.DEPLOYMENT_UPDATED, text, obj=d.ref(),
                    data={"generation": d.generation,
                          "rollout": new.template != old.template})  # fmt: skip
        self.workloads.dirty_deployments.add(d.id)
        self._settle()
        return WorkloadOutcome(self.deployment_view(d), t.changes, text)

    async def scale_deployment(self, deployment_id: int, replicas: int) -> WorkloadOutcome:
        d = self._deployment(deployment_id)
        return self._change(
            d, replace(d.spec, replicas=replicas), EventKind.DEPLOYMENT_UPDATED,
            f"Deployment {d.name} scaled {d.spec.replicas} → {replicas}",
        )  # fmt: skip

    async def pause_deployment(self, deployment_id: int, paused: bool = True) -> WorkloadOutcome:
        d = self._deployment(deployment_id)
        if d.spec.paused == paused:
            raise Conflict(f"Deployment {d.name} is already {'paused' if paused else 'running'}")
        kind = EventKind.DEPLOYMENT_PAUSED if paused else EventKind.DEPLOYMENT_RESUMED
        word = "paused: its rollout waits" if paused else "resumed: its rollout goes on"
        return self._change(d, replace(d.spec, paused=paused), kind, f"Deployment {d.name} {word}")

    async def rollback_deployment(
        self, deployment_id: int, revision: int | None = None
    ) -> WorkloadOutcome:
        d = self._deployment(deployment_id)
        target = self._rollback_target(d, revision)
        return self._change(
            d, replace(d.spec, template=target.template), EventKind.DEPLOYMENT_ROLLED_BACK,
            f"Deployment {d.name} rolled back to revision {target.revision} "
            f"({describe_template_change(d.spec.template, target.template)})",
        )  # fmt: skip

    def _rollback_target(self, d: DeploymentState, revision: int | None) -> Revision:
        """The kept revision a rollback goes to (None: the previous one), or why there is none."""
        history = self.deployment_history(d.id)
        if revision is None:
            older = [r for r in history if r.revision < d.revision]
            if not older:
                raise Conflict(f"Deployment {d.name} has no earlier revision to roll back to")
            target = older[-1]
        else:
            found = [r for r in history if r.revision == revision]
            if not found:
                kept = ", ".join(str(r.revision) for r in history) or "none"
                raise UserError(
                    f"revision: {revision} is not kept for Deployment {d.name} (kept: {kept})",
                    field="revision",
                )
            target = found[0]
        if target.template == d.spec.template:
            raise Conflict(
                f"Deployment {d.name} already runs the template of revision {target.revision}"
            )
        return target

    def rollback_refusal(self, deployment_id: int, revision: int | None = None) -> str | None:
        """Why a rollback would be refused now (None: it would go ahead): the operation's own
        rule, so the window enables exactly what the engine accepts."""
        try:
            self._rollback_target(self._deployment(deployment_id), revision)
        except UserError as exc:
            return exc.message
        return None

    async def delete_deployment(
        self, deployment_id: int, *, cascade: bool = True
    ) -> WorkloadOutcome:
        d = self._deployment(deployment_id)
        view = self.deployment_view(d)
        with self.cluster.transaction() as t:
            gone = ops.delete_deployment(t, d, cascade=cascade)
        return WorkloadOutcome(view, t.changes, pods_deleted=gone)

    async def create_replicaset(self, spec: ReplicaSetSpec) -> WorkloadOutcome:
        with self.cluster.transaction() as t:
            rs = ops.create_replicaset(t, spec)
        self.workloads.dirty_replicasets.add(rs.id)
        self._settle()
        return WorkloadOutcome(self.replicaset_view(rs), t.changes)

    async def scale_replicaset(self, rs_id: int, replicas: int) -> WorkloadOutcome:
        rs = self._replicaset(rs_id)
        if rs.owner is not None:
            raise Conflict(
                f"ReplicaSet {rs.name} belongs to Deployment {rs.owner.name}: scale the "
                "Deployment instead (it would scale this back)"
            )
        with self.cluster.transaction() as t:
            before = ops.scale_replicaset(t, rs, replicas)
            t.event(EventKind.REPLICASET_SCALED,
                    f"ReplicaSet {rs.name} scaled {before} → {replicas}", obj=rs.ref())  # fmt: skip
        self.workloads.dirty_replicasets.add(rs.id)
        self._settle()
        return WorkloadOutcome(self.replicaset_view(rs), t.changes)

    async def delete_replicaset(self, rs_id: int, *, cascade: bool = True) -> WorkloadOutcome:
        rs = self._replicaset(rs_id)
        view = self.replicaset_view(rs)
        with self.cluster.transaction() as t:
            gone = ops.delete_replicaset(t, rs, cascade=cascade)
        if rs.owner is not None:
            self.workloads.dirty_deployments.add(rs.owner.id)
            self._settle()
        return WorkloadOutcome(view, t.changes, pods_deleted=gone)
