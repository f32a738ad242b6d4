"""Filtering: every reason a node cannot take a pod, computed from a snapshot of the node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from kube9_desktop.engine.model import (
    COMPONENT_RUNNING,
    REQUIRED_COMPONENTS,
    NodeStatus,
    NodeType,
    Resources,
    format_cpu,
    format_mem,
)


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


def is_eligible(node: SchedNode) -> bool:
    """A healthy worker whose kubelet and container runtime run: it may receive pods."""
    return (
        node.node_type is NodeType.WORKER
        and node.status is NodeStatus.HEALTHY
        and not node.cordoned
        and all(node.components.get(c) == COMPONENT_RUNNING for c in REQUIRED_COMPONENTS)
    )


def fit(request: Resources, node: SchedNode, free: Resources | None = None) -> list[str]:
    """Every reason ``node`` cannot take a pod requesting ``request``; empty when it fits.

    A 2-core pod on a healthy worker with 1 core free gets
    ``["insufficient cpu: requested 2, free 1"]``; a master also gets the NoSchedule reason.
    ``free`` is the node's capacity minus its allocation, when the caller has it already.
    """
    reasons: list[str] = []
    if node.node_type is NodeType.MASTER:
        reasons.append("master node: reserved for the control plane (NoSchedule)")
    if node.status is not NodeStatus.HEALTHY:
        reasons.append(f"node is {node.status} (not ready)")
    if node.cordoned:
        reasons.append("node is cordoned (being deleted)")
    for component in REQUIRED_COMPONENTS:
        state = node.components.get(component)
        if state is None:
            if node.status is NodeStatus.HEALTHY:
                reasons.append(f"{component} has not reported")
        elif state not in (COMPONENT_RUNNING, "unknown"):
            reasons.append(f"{component} is {state}")
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
