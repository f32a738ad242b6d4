"""Filtering: every reason a node cannot take a pod, computed from a snapshot of the node."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from kube9_desktop.engine.constraints import (
    NO_CONSTRAINTS,
    PodConstraints,
    Taint,
    tolerated,
)
from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    REQUIRED_COMPONENTS,
    NodeStatus,
    NodeType,
    Resources,
    format_cpu,
    format_mem,
)

# kube-scheduler's own words (NodeUnschedulable, NodeAffinity, TaintToleration plugins)
UNSCHEDULABLE = "node(s) were unschedulable"
SELECTOR_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
TOO_MANY_PODS = "Too many pods"  # NodeResourcesFit: the node holds its max-pods already


def untolerated_reason(taint: Taint) -> str:
    """``node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }``."""
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


class SchedNode(Protocol):
    """What the scheduler reads of a node (NodeView and the engine's NodeState both qualify)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def node_type(self) -> NodeType: ...
    @property
    def status(self) -> NodeStatus: ...
    @property
    def components(self) -> Mapping[str, str]: ...
    @property
    def capacity(self) -> Resources: ...
    @property
    def allocated(self) -> Resources: ...
    @property
    def cordoned(self) -> bool: ...
    @property
    def deleting(self) -> bool: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def taints(self) -> tuple[Taint, ...]: ...
    @property
    def pod_ids(self) -> Collection[int]: ...
    @property
    def pod_limit(self) -> int: ...


def is_full(node: SchedNode) -> bool:
    """It holds as many pods as its pod limit (max-pods) allows: no more go there."""
    return len(node.pod_ids) >= node.pod_limit


def is_eligible(node: SchedNode) -> bool:
    """A healthy, uncordoned node whose kubelet and container runtime run: it may receive the
    pods its taints let in (a master's control-plane taint keeps out those not tolerating it)."""
    return (
        node.status is NodeStatus.HEALTHY
        and not node.cordoned
        and all(node.components.get(c) == COMPONENT_RUNNING for c in REQUIRED_COMPONENTS)
    )


def is_open(node: SchedNode) -> bool:
    """Eligible, and no NoSchedule/NoExecute taint: it takes a pod that tolerates nothing."""
    return is_eligible(node) and not any(t.hard for t in node.taints)


def fit(
    request: Resources,
    node: SchedNode,
    free: Resources | None = None,
    constraints: PodConstraints = NO_CONSTRAINTS,
) -> list[str]:
    """Every reason ``node`` cannot take a pod requesting ``request``; empty when it fits.

    A 2-core pod on a healthy worker with 1 core free gets
    ``["insufficient cpu: requested 2, free 1"]``; on a master (1 core free) it also gets
    ``node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }`` unless it
    tolerates that taint. ``free`` is the node's capacity minus its allocation, when the
    caller has it already.
    """
    reasons: list[str] = []
    if node.status is not NodeStatus.HEALTHY:
        reasons.append(f"node is {node.status} (not ready)")
    if node.cordoned:
        reasons.append(f"{UNSCHEDULABLE} (being deleted)" if node.deleting else UNSCHEDULABLE)
    if (constraints.node_selector or constraints.affinity) and not constraints.selects(node.labels):
        reasons.append(SELECTOR_MISMATCH)
    tolerations = constraints.tolerations
    for taint in node.taints:
        # (one line per key and value: an unhealthy node's not-ready taint is NoSchedule and
        # NoExecute both, and kube-scheduler's words do not name the effect)
        if taint.hard and not tolerated(taint, tolerations):
            reason = untolerated_reason(taint)
            if reason not in reasons:
                reasons.append(reason)
    for component in REQUIRED_COMPONENTS:
        state = node.components.get(component)
        if state is None:
            if node.status is NodeStatus.HEALTHY:
                reasons.append(f"{component} has not reported")
        elif state not in (COMPONENT_RUNNING, "unknown"):
            reasons.append(f"{component} is {state}")
    if len(node.pod_ids) >= node.pod_limit:
        reasons.append(TOO_MANY_PODS)
    if free is None:
        free = node.capacity - node.allocated
    if request.cpu_m > free.cpu_m:
        reasons.append(
            f"insufficient cpu: requested {format_cpu(request.cpu_m)}, "
            f"free {format_cpu(max(0, free.cpu_m))}"
        )
    if request.mem_mi > free.mem_mi:
        reasons.append(
            f"insufficient memory: requested {format_mem(request.mem_mi)}, "
            f"free {format_mem(max(0, free.mem_mi))}"
        )
    return reasons
