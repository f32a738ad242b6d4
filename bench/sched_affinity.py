"""Decisions/s for pods with a required pod anti-affinity over 20,000 running pods.

10,000 nodes as ``sched.cluster``, each labelled with a zone; 20,000 pods already bound, 100
of each of 200 apps, every one with a required anti-affinity to its own app on
``kubernetes.io/hostname`` (one replica per node, the usual spreading rule). Each new pod is of
one of those apps with the same rule, so it must avoid the nodes holding its app's pods (its own
term) and those whose pods' terms name it (the other way round). The engine's path keeps the
counts per domain in ``PodTopology`` and walks the indexes; the full scan counts the running
pods afresh for each decision, then checks every node. Both book each pod where it goes and
must choose the same nodes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.common import Figure, Figures, Sizes, median, rnd
from bench.sched import cluster, requests
from kube9_desktop.engine.constraints import PodConstraints
from kube9_desktop.engine.interpod import (
    HOSTNAME_KEY,
    ZONE_KEY,
    InterPodRules,
    PodAffinity,
    PodAffinityTerm,
    PodSelector,
)
from kube9_desktop.engine.model import Resources
from kube9_desktop.engine.scheduler import STRATEGIES, SchedulingIndexes, best_fit, is_eligible
from kube9_desktop.engine.scheduler.topology import ScanCounts, rank, topology_check
from kube9_desktop.engine.scheduler.topology_books import PodTopology
from kube9_desktop.engine.state import NodeState

APPS = 200
RUNNING = 20_000


@dataclass
class BenchPod:
    namespace: str
    labels: Mapping[str, str]
    interpod: InterPodRules | None
    request: Resources
    node_id: int | None = None
    constraints: PodConstraints = field(default_factory=PodConstraints)
    id: int = 0


RULES = [
    InterPodRules(anti_affinity=PodAffinity(required=(
        PodAffinityTerm(PodSelector((("app", f"svc-{a}"),)), HOSTNAME_KEY),
    )))
    for a in range(APPS)
]  # fmt: skip


def pod(i: int, request: Resources) -> BenchPod:
    a = i % APPS
    rules = RULES[a]
    return BenchPod(
        "default", {"app": f"svc-{a}"}, rules, request, None, PodConstraints(interpod=rules)
    )


def setup(n: int, seed: int) -> tuple[dict[int, NodeState], dict[int, BenchPod]]:
    """The nodes and the 20,000 running pods: app a's k-th pod on node (k + 50a) mod n + 1."""
    nodes = {node.id: node for node in cluster(n, seed)}
    for node in nodes.values():
        node.labels = {ZONE_KEY: "abc"[node.id % 3]}
    pods: dict[int, BenchPod] = {}
    for i in range(RUNNING):
        p = pod(i, Resources(100, 64))
        node = nodes[(i // APPS + 50 * (i % APPS)) % n + 1]
        p.node_id, p.id = node.id, i + 1
        pods[i + 1] = p
        node.pod_ids.add(i + 1)
        node.allocated = node.allocated + p.request
    return nodes, pods


def run_books(n: int, reqs: list[Resources], seed: int) -> tuple[float, list[int | None]]:
    nodes, pods = setup(n, seed)
    books = PodTopology(pods, nodes)
    books.reset()  # the running pods' anti-affinity terms, as the engine loads them
    indexes = SchedulingIndexes()
    for node in nodes.values():
        indexes.put(node)
    strategy = STRATEGIES["best-fit"]
    chosen: list[int | None] = []
    start = time.perf_counter()
    for j, request in enumerate(reqs):
        p = pod(j, request)
        check = topology_check(p.namespace, p.labels, p.constraints, books, nodes)
        node_id = indexes.pick(strategy, request, p.constraints, nodes, check)
        chosen.append(node_id)
        if node_id is not None:
            node = nodes[node_id]
            pod_id = p.id = len(pods) + 1
            p.node_id = node_id
            pods[pod_id] = p
            books.bound(p, node)
            node.pod_ids.add(pod_id)
            node.allocated = node.allocated + request
            indexes.put(node)
    return len(reqs) / (time.perf_counter() - start), chosen


def run_scan(n: int, reqs: list[Resources], seed: int) -> tuple[float, list[int | None]]:
    nodes, pods = setup(n, seed)
    chosen: list[int | None] = []
    start = time.perf_counter()
    for j, request in enumerate(reqs):
        p = pod(j, request)
        check = topology_check(
            p.namespace, p.labels, p.constraints, ScanCounts(pods.values(), nodes), nodes
        )
        best: NodeState | None = None
        best_key = None
        for node in nodes.values():
            if not is_eligible(node) or len(node.pod_ids) >= node.pod_limit:
                continue
            free = node.capacity - node.allocated
            if free.cpu_m < request.cpu_m or free.mem_mi < request.mem_mi:
                continue
            if check is not None and not check.allows(node):
                continue
            key = (rank(node, p.constraints, check), best_fit.key(node, request))
            if best_key is None or key < best_key:
                best, best_key = node, key
        chosen.append(best.id if best else None)
        if best is not None:
            pod_id = p.id = len(pods) + 1
            p.node_id = best.id
            pods[pod_id] = p
            best.pod_ids.add(pod_id)
            best.allocated = best.allocated + request
    return len(reqs) / (time.perf_counter() - start), chosen


def affinity_figures(sizes: Sizes) -> Figures:
    n = 10_000
    count = max(200, sizes.sched_decisions_per_node * 500)
    rates: list[float] = []
    scans: list[float] = []
    for rep in range(sizes.repeats):
        reqs = requests(count, seed=rep)
        rate, chosen = run_books(n, reqs, seed=rep)
        k = min(sizes.scan_decisions, len(reqs)) // 2 or 1
        scan_rate, scanned = run_scan(n, reqs[:k], seed=rep)
        if scanned != chosen[:k]:
            raise AssertionError("the pod-topology books and the scan chose different nodes")
        if None in chosen:
            raise AssertionError("the anti-affinity workload found no node")
        rates.append(rate)
        scans.append(scan_rate)
    text = (
        f"10,000 nodes as sched_per_s_10k, {RUNNING:,} running pods ({APPS} apps x 100, each "
        "with a required anti-affinity to its own app on kubernetes.io/hostname); new pods of "
        "those apps with the same rule, best-fit"
    )
    ratios = [i / s for i, s in zip(rates, scans, strict=True)]
    return {
        "sched_anti_affinity_per_s_10k": Figure(
            rnd(median(rates)), "decisions/s", text + f"; {count:,} decisions with the "
            "engine's PodTopology counts and SchedulingIndexes walk, each booking the pod; "
            f"median of {sizes.repeats}", samples=[rnd(r) for r in rates],
        ),
        "scan_anti_affinity_per_s_10k": Figure(
            rnd(median(scans)), "decisions/s", text + "; the first decisions by a full scan "
            "(the running pods counted afresh, then every node checked), choices checked "
            f"identical; median of {sizes.repeats}", samples=[rnd(r) for r in scans],
        ),
        "sched_anti_affinity_speedup_10k": Figure(
            rnd(median(ratios)), "x", "anti-affinity decisions/s ÷ scan decisions/s at "
            "10,000 nodes and 20,000 running pods, same run, median of the per-repeat ratios",
            samples=[rnd(r) for r in ratios],
        ),
    }  # fmt: skip
