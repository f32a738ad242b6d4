"""The cluster's invariants as one function: every chaos, soak and integration check calls it.

Returns human-readable violations (empty when all hold): no node over capacity; each node's
books equal the sum of its bound pods; every pod bound at most once and to an existing node;
no pod on an unhealthy node once eviction has run; pod IPs unique; index and pending queue
consistent with the pods.
"""

from __future__ import annotations

from collections.abc import Callable

from kube9_desktop.engine.model import NodeStatus, PodPhase, Resources
from kube9_desktop.engine.scheduler import is_eligible
from kube9_desktop.engine.state import ClusterState


def check_invariants(
    state: ClusterState,
    *,
    evictions_settled: bool = False,
    eviction_scheduled: Callable[[int], bool] = lambda _node_id: False,
) -> list[str]:
    """``eviction_scheduled(node_id)``: the health monitor still has an eviction due there."""
    problems: list[str] = []
    bound_to: dict[int, int] = {}
    for node in state.nodes.values():
        total = Resources()
        for pod_id in node.pod_ids:
            pod = state.pods.get(pod_id)
            if pod is None:
                problems.append(f"node {node.name} lists unknown pod {pod_id}")
                continue
            if pod.node_id != node.id:
                problems.append(f"node {node.name} lists pod {pod.name} bound to {pod.node_id}")
            if pod_id in bound_to:
                problems.append(f"pod {pod.name} is bound to two nodes")
            bound_to[pod_id] = node.id
            total = total + pod.request
        if total != node.allocated:
            problems.append(
                f"node {node.name}: books say {node.allocated}, its pods add up to {total}"
            )
        if not node.capacity.covers(node.allocated):
            problems.append(
                f"node {node.name} is over capacity: {node.allocated} > {node.capacity}"
            )
        in_index = node.id in state.index
        if in_index != (is_eligible(node)):
            problems.append(f"node {node.name}: index membership {in_index} != eligibility")
        if (
            evictions_settled
            and node.pod_ids
            and node.status in (NodeStatus.UNHEALTHY, NodeStatus.FAILED)
            and not eviction_scheduled(node.id)
        ):
            problems.append(f"node {node.name} is {node.status} but still holds pods")
    ips: dict[str, str] = {}
    for pod in state.pods.values():
        if pod.node_id is not None:
            if pod.node_id not in state.nodes:
                problems.append(f"pod {pod.name} is bound to a missing node {pod.node_id}")
            elif bound_to.get(pod.id) != pod.node_id:
                problems.append(f"pod {pod.name} thinks it is on {pod.node_id}, no node lists it")
            if pod.id in state.pending:
                problems.append(f"pod {pod.name} is bound and pending at once")
        else:
            if pod.id not in state.pending:
                problems.append(f"pod {pod.name} is unbound but not pending")
            if pod.phase is not PodPhase.PENDING:
                problems.append(f"pod {pod.name} is unbound but {pod.phase}")
        if state.pod_ids.get((pod.namespace, pod.name)) != pod.id:
            problems.append(f"pod {pod.namespace}/{pod.name} is not indexed by its name")
        if pod.namespace not in state.namespaces:
            problems.append(f"pod {pod.name} is in a missing namespace {pod.namespace}")
        if pod.ip in ips:
            problems.append(f"pods {ips[pod.ip]} and {pod.name} share IP {pod.ip}")
        ips[pod.ip] = pod.name
    return problems
