"""The Engine's node operations beyond create and delete: drain, and the eviction settings
(the "Kubernetes defaults" tolerations) that apply at once (a mixin, as workload_ops.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kube9_desktop.engine import noexecute, what_if
from kube9_desktop.engine.cluster import largest_first
from kube9_desktop.engine.constraints import Toleration
from kube9_desktop.engine.errors import Conflict
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.outcomes import Drained, DrainStep
from kube9_desktop.engine.what_if import WhatIf

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster
    from kube9_desktop.engine.health import HealthMonitor
    from kube9_desktop.engine.workload_controller import WorkloadController

DEFAULT_TOLERATIONS = noexecute.default_tolerations()


class EngineNodes:
    cluster: Cluster
    health: HealthMonitor
    workloads: WorkloadController
    kubernetes_defaults: bool
    _draining: set[int]

    def extra_tolerations(self) -> tuple[Toleration, ...]:
        """What every pod tolerates besides its own tolerations (for NoExecute evictions)."""
        return DEFAULT_TOLERATIONS if self.kubernetes_defaults else ()

    def set_kubernetes_defaults(self, on: bool) -> bool:
        """Turn the Kubernetes default tolerations on or off, at once; True if it changed.

        Turning them off sends away, at the eviction's pace, the pods of unhealthy nodes that
        stayed only by them: each such node's eviction is due again.
        """
        if on is self.kubernetes_defaults:
            return False
        self.kubernetes_defaults = on
        if not on:
            self.health.evictions_due_again()
        return True

    def what_if(self, node_ids: Sequence[int], strategy: str | None = None) -> WhatIf:
        """Where the pods of ``node_ids`` would go if those nodes crashed now (what_if.py);
        computed by a rehearsal that is undone, so nothing in the cluster changes."""
        return what_if.preview(self.cluster, node_ids, doomed=self.health.doomed,
                               strategy=strategy)  # fmt: skip

    async def inject_what_if(self, result: WhatIf, timeout: float = 60.0) -> list[str]:
        """ "Inject now": crash the preview's nodes for real, wait until the failure has been
        dealt with (or ``timeout`` seconds), and record on each node's incident whether the
        outcome matched the preview (a ``what_if_checked`` event; the incident's
        ``what_if_matched``). Returns the differences (empty: it matched)."""
        known = set(self.cluster.state.pods)
        done = asyncio.Event()
        found: list[str] = []

        def look(_changes: object) -> None:
            # Compared in the commit that settles it, before a recovery can move anything.
            if not done.is_set() and what_if.settled(self.cluster, result, known):
                found.extend(what_if.differences(self.cluster, result, known))
                done.set()

        unsubscribe = self.cluster.bus.subscribe_changes(look)
        try:
            for node_id in result.fail_nodes:
                await self.inject_fault(node_id, "crash")  # type: ignore[attr-defined]
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except TimeoutError:
                found.append(f"the failure was not dealt with within {timeout:g} s")
        finally:
            unsubscribe()
        matched = not found
        with self.cluster.transaction() as t:
            for node_id in result.fail_nodes:
                node = self.cluster.state.nodes.get(node_id)
                if node is None:
                    continue
                t.event(
                    EventKind.WHAT_IF_CHECKED,
                    f"What-if preview of {node.name}: "
                    + ("the outcome matched it" if matched else "; ".join(found)),
                    obj=node.ref(),
                    data={"matched": matched, "differences": found,
                          "previewed_at_resource_version": result.resource_version},
                )  # fmt: skip
        return found

    async def drain_node(self, node_id: int) -> Drained:
        """kubectl drain: cordon, then evict every pod that can go, one commit per pod so each
        scheduler choice counts the pods moved (and the replacements made) before it.

        A ReplicaSet's pod is deleted and its ReplicaSet makes another at once (placed, or
        pending with its reasons); a bare pod moves; a daemon-like pod, or one no other node
        would take, stays and is listed with why. Two drains of one node at once: 409.
        """
        node = self.cluster.node(node_id)  # NotFound: 404
        draining = self._draining
        if node_id in draining:
            raise Conflict(f"Node {node.name} is already being drained", node=node.name)
        draining.add(node_id)
        try:
            _, cordoned = self.cluster.set_cordoned(node_id, True)
            steps: list[DrainStep] = []
            for pod in largest_first(self.cluster.state.pods_of(node)):
                if node_id not in self.cluster.state.nodes:
                    break  # deleted meanwhile
                step = self.cluster.drain_pod(node_id, pod.id)
                if step is None:
                    continue
                if step.action == "replaced":
                    self.workloads.reconcile()  # its replacement takes its room now
                steps.append(step)
                await asyncio.sleep(0)  # heartbeats and requests go between the pods
            return Drained(node.name, cordoned, tuple(steps))
        finally:
            draining.discard(node_id)
