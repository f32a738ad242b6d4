"""The cluster's invariants as one function: every chaos, soak and integration check calls it.

Returns human-readable violations (empty when all hold): no node over capacity; each node's
books equal the sum of its bound pods; every pod bound at most once and to an existing node;
no pod on an unhealthy node once eviction has run (unless it tolerates the node's taints);
pod IPs unique; index and pending queue consistent with the pods; no pod placed against a
required pod anti-affinity (its own or another pod's) and the pod-topology books equal a fresh
count; Services' cluster IPs and node ports unique and booked, and their endpoints exactly
what a full scan derives (the per-commit sync missed nothing). ``check_placements`` judges
scheduling decisions as they are published: none onto a cordoned node or past an untolerated
NoSchedule taint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.constraints import Toleration, untolerated
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import NodeStatus, PodPhase, Resources
from kube9_desktop.engine.scheduler import is_eligible
from kube9_desktop.engine.scheduler.fit import is_full
from kube9_desktop.engine.scheduler.topology import ScanCounts, anti_terms, domain_of
from kube9_desktop.engine.state import ClusterState
from kube9_desktop.engine.workloads import ROLLING_UPDATE, available, max_surge, max_unavailable


def check_invariants(
    state: ClusterState,
    *,
    evictions_settled: bool = False,
    eviction_scheduled: Callable[[int], bool] = lambda _node_id: False,
    extra_tolerations: tuple[Toleration, ...] = (),
) -> list[str]:
    """``eviction_scheduled(node_id)``: the health monitor still has an eviction due there;
    ``extra_tolerations``: what every pod tolerates besides its own (the Kubernetes
    defaults), so a pod that tolerates an unhealthy node's taints may stay on it."""
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
        in_index = node.id in state.indexes
        if in_index != (is_eligible(node) and not is_full(node)):
            problems.append(f"node {node.name}: index membership {in_index} != eligibility")
        if (node.id in state.index) != (in_index and not node.taints):
            problems.append(f"node {node.name}: in the untainted index with taints {node.taints}")
        if (
            evictions_settled
            and node.pod_ids
            and node.status in (NodeStatus.UNHEALTHY, NodeStatus.FAILED)
            and not eviction_scheduled(node.id)
        ):
            added = {t: 0.0 for t in node.taints}
            untolerating = [
                p.name for p in state.pods_of(node)
                if noexecute.verdict(
                    added, noexecute.with_defaults(p.spec.tolerations, extra_tolerations), 0.0
                ).action is noexecute.Action.EVICT
            ]  # fmt: skip
            if untolerating:
                problems.append(
                    f"node {node.name} is {node.status} but still holds pods that do not "
                    f"tolerate its taints: {', '.join(sorted(untolerating)[:5])}"
                )
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
    problems.extend(check_anti_affinity(state))
    problems.extend(state.topology.drift())
    problems.extend(check_service_invariants(state))
    return problems


def check_anti_affinity(state: ClusterState) -> list[str]:
    """No two bound pods in one domain where either's required anti-affinity names the other
    (a node relabelled after the placement could break this: nothing in a soak does)."""
    problems: list[str] = []
    scan = ScanCounts(state.pods.values(), state.nodes)
    counted: dict[tuple[object, str], dict[str, int]] = {}
    for pod in state.pods.values():
        if pod.node_id is None or pod.node_id not in state.nodes:
            continue
        for part, key in anti_terms(pod):
            d = domain_of(state.nodes[pod.node_id], key)
            if d is None:
                continue
            counts = counted.get((part, key))
            if counts is None:
                counts = counted[(part, key)] = scan.domain_counts((part,), key)
            own = 1 if part[1] is not None and part[1].matches(pod.labels) and (
                pod.namespace in part[0]
            ) else 0  # fmt: skip
            if counts.get(d, 0) - own > 0:
                problems.append(
                    f"pod {pod.namespace}/{pod.name}: a pod its required anti-affinity refuses "
                    f"shares its {key} domain {d}"
                )
    return problems


PLACING = frozenset({EventKind.POD_CREATED, EventKind.POD_BOUND, EventKind.POD_REBOUND})


def check_placements(state: ClusterState, events: Iterable[Event]) -> list[str]:
    """Scheduling decisions, checked as their commit publishes them (a bus subscriber): no pod
    placed on a cordoned node, nor on one with a NoSchedule (or NoExecute) taint it does not
    tolerate. Taints and cordons that come after a pod was placed are not the scheduler's
    doing (NoSchedule never evicts), so only the commit that placed it is judged."""
    problems: list[str] = []
    for e in events:
        if e.kind not in PLACING or e.related is None or e.related.kind != "Node":
            continue
        pod = state.pods.get(e.pod_id) if e.pod_id is not None else None
        node = state.nodes.get(e.related.id)
        if pod is None or node is None or pod.node_id != node.id:
            continue  # gone or moved on in the same commit
        if node.cordoned:
            problems.append(f"pod {pod.name} was scheduled onto the cordoned node {node.name}")
        bad = untolerated(node.taints, pod.spec.tolerations)
        if bad:
            problems.append(
                f"pod {pod.name} was scheduled onto {node.name} with the untolerated taint(s) "
                + ", ".join(map(str, bad))
            )
    return problems


def check_service_invariants(state: ClusterState) -> list[str]:
    problems: list[str] = []
    cluster_ips: dict[str, str] = {}
    node_ports: dict[int, str] = {}
    for svc in state.services.values():
        if svc.cluster_ip in cluster_ips:
            problems.append(
                f"Services {cluster_ips[svc.cluster_ip]} and {svc.name} share {svc.cluster_ip}"
            )
        cluster_ips[svc.cluster_ip] = svc.name
        for port in svc.spec.node_ports():
            if port in node_ports:
                problems.append(
                    f"Services {node_ports[port]} and {svc.name} share node port {port}"
                )
            node_ports[port] = svc.name
        if state.service_ids.get((svc.namespace, svc.name)) != svc.id:
            problems.append(f"Service {svc.namespace}/{svc.name} is not indexed by its name")
        if svc.namespace not in state.namespaces:
            problems.append(f"Service {svc.name} is in a missing namespace {svc.namespace}")
        derived = state.derive_endpoints(svc)
        if derived != svc.endpoints:
            stale = sorted(set(svc.endpoints.items()) ^ set(derived.items()), key=str)
            problems.append(f"Service {svc.name}: endpoints out of step with its pods: {stale}")
    if set(node_ports) != state.node_ports.used:
        problems.append(
            f"node port books {sorted(state.node_ports.used)} != the Services' {sorted(node_ports)}"
        )
    return problems


def check_workload_invariants(
    state: ClusterState, now: datetime, *, nodes_failing: bool = False
) -> list[str]:
    """Workloads: owners exist, ReplicaSets own only pods they select, and a Deployment in a
    rollout stays within ``replicas + max_surge`` pods and (unless nodes are failing, when the
    rollout may only not make it worse) keeps ``replicas - max_unavailable`` available."""
    problems: list[str] = []
    for pod in state.pods.values():
        owner = pod.spec.owner
        if owner is not None and owner.kind == "ReplicaSet":
            rs = state.replicasets.get(owner.id)
            if rs is None:
                problems.append(f"pod {pod.name}'s owner ReplicaSet {owner.name} does not exist")
            elif pod.id not in rs.pod_ids:
                problems.append(f"pod {pod.name} is not in its ReplicaSet {rs.name}'s books")
    for rs in state.replicasets.values():
        selector = rs.spec.selector.selector()
        for pod_id in rs.pod_ids:
            owned = state.pods.get(pod_id)
            if owned is None:
                problems.append(f"ReplicaSet {rs.name} lists a missing pod {pod_id}")
            elif not selector.matches(owned.spec.labels):
                problems.append(f"ReplicaSet {rs.name} owns pod {owned.name}, not selected by it")
        if rs.owner is not None and rs.owner.id not in state.deployments:
            problems.append(f"ReplicaSet {rs.name}'s owner Deployment {rs.owner.name} is gone")
    for d in state.deployments.values():
        rss = [state.replicasets[i] for i in d.replicaset_ids if i in state.replicasets]
        if sum(1 for rs in rss if rs.spec.replicas > 0 or rs.pod_ids) < 2:
            continue  # not in a rollout
        spec = d.spec
        pods = [state.pods[p] for rs in rss for p in rs.pod_ids]
        active = [p for p in pods if p.phase not in (PodPhase.FAILED, PodPhase.SUCCEEDED)]
        limit = spec.replicas + max_surge(spec.strategy, spec.replicas)
        if len(active) > limit:
            problems.append(
                f"Deployment {d.name}: {len(active)} pods in a rollout, more than replicas + "
                f"max_surge = {limit}"
            )
        if not nodes_failing and spec.strategy.type == ROLLING_UPDATE and not spec.paused:
            floor = spec.replicas - max_unavailable(spec.strategy, spec.replicas)
            up = sum(
                1 for rs in rss for p in rs.pod_ids
                if available(state.pods[p].ready_since, rs.spec.min_ready_seconds, now)
            )  # fmt: skip
            if up < floor and d.status.available >= floor:
                problems.append(
                    f"Deployment {d.name}: {up} available in a rollout, fewer than replicas - "
                    f"max_unavailable = {floor}"
                )
    return problems
