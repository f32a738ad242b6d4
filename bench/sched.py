"""Scheduling decisions per second: the engine's index against a full scan of every node.

Both place the same pods, in the same order, on identical clusters; every decision also books
the pod on the chosen node (the index moves that node's key, the scan updates the node). The
scan is the straightforward approach the original Kube-9 took in SQL: look at every node, keep
the eligible ones that fit, take the best by the strategy's key. The index must agree with it.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from bench.common import Figure, Figures, Sizes, median, rnd
from kube9_desktop.engine.constraints import (
    CONTROL_PLANE_TAINT,
    PodConstraints,
    Taint,
    TaintEffect,
    Toleration,
    TolerationOperator,
    prefer_penalty,
    untolerated,
)
from kube9_desktop.engine.model import NodeStatus, NodeType, Resources
from kube9_desktop.engine.scheduler import (
    STRATEGIES,
    SchedulingIndex,
    SchedulingIndexes,
    best_fit,
    is_eligible,
)
from kube9_desktop.engine.state import NodeState

CORES = (4, 8, 16, 32, 64)
MEM_MI_PER_CORE = 2048
POD_MEM_MI = (64, 128, 256, 512, 1024)
RUNNING = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running",
           "node_agent": "running"}  # fmt: skip


def cluster(n: int, seed: int) -> list[NodeState]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    nodes = []
    for i in range(1, n + 1):
        cores = rng.choice(CORES)
        nodes.append(
            NodeState(
                id=i, uid=f"bench-{i}", name=f"w{i}", node_type=NodeType.WORKER,
                capacity=Resources(cores * 1000, cores * MEM_MI_PER_CORE),
                status=NodeStatus.HEALTHY, token_hash="", created_at=now, runtime="virtual",
                components=dict(RUNNING),
            )
        )  # fmt: skip
    return nodes


def requests(count: int, seed: int) -> list[Resources]:
    rng = random.Random(seed + 1)
    return [Resources(rng.randrange(100, 1001, 50), rng.choice(POD_MEM_MI)) for _ in range(count)]


def run_index(nodes: list[NodeState], reqs: list[Resources]) -> tuple[float, list[int | None]]:
    """Decisions/s of the engine's index; each decision moves the chosen node's key."""
    index = SchedulingIndex()
    free = {}
    for node in nodes:
        free[node.id] = node.capacity - node.allocated
        index.put(node.id, free[node.id])
    pick = STRATEGIES["best-fit"].pick
    chosen: list[int | None] = []
    start = time.perf_counter()
    for request in reqs:
        node_id = pick(index, request)
        chosen.append(node_id)
        if node_id is not None:
            left = free[node_id] - request
            free[node_id] = left
            index.put(node_id, left)
    return len(reqs) / (time.perf_counter() - start), chosen


def scan(nodes: list[NodeState], request: Resources) -> NodeState | None:
    """Best-fit the straightforward way: every node, every time."""
    best: NodeState | None = None
    best_key: tuple[int, int, int] | None = None
    for node in nodes:
        if not is_eligible(node):
            continue
        free = node.capacity - node.allocated
        if free.cpu_m < request.cpu_m or free.mem_mi < request.mem_mi:
            continue
        key = best_fit.key(node, request)
        if best_key is None or key < best_key:
            best, best_key = node, key
    return best


def run_scan(nodes: list[NodeState], reqs: list[Resources]) -> tuple[float, list[int | None]]:
    chosen: list[int | None] = []
    start = time.perf_counter()
    for request in reqs:
        node = scan(nodes, request)
        chosen.append(node.id if node else None)
        if node is not None:
            node.allocated = node.allocated + request
    return len(reqs) / (time.perf_counter() - start), chosen


GPU = Taint("dedicated", "gpu", TaintEffect.NO_SCHEDULE)
SPOT = Taint("spot", "", TaintEffect.PREFER_NO_SCHEDULE)
CONSTRAINED = PodConstraints(
    (Toleration("dedicated", TolerationOperator.EXISTS),), {"disktype": "ssd"}
)


def constrained_cluster(n: int, seed: int) -> list[NodeState]:
    """The same nodes, labelled and tainted: half disktype=ssd, zones a/b/c, 10% with
    dedicated=gpu:NoSchedule, 30% with spot:PreferNoSchedule, the first 3 masters (the
    control-plane taint)."""
    rng = random.Random(seed + 2)
    nodes = cluster(n, seed)
    for node in nodes:
        node.labels = {"disktype": "ssd" if rng.random() < 0.5 else "hdd",
                       "zone": rng.choice("abc")}  # fmt: skip
        taints: list[Taint] = []
        if node.id <= 3:
            node.node_type = NodeType.MASTER
            taints.append(CONTROL_PLANE_TAINT)
        if rng.random() < 0.1:
            taints.append(GPU)
        if rng.random() < 0.3:
            taints.append(SPOT)
        node.taints = tuple(taints)
    return nodes


def run_constrained(
    nodes: list[NodeState], reqs: list[Resources]
) -> tuple[float, list[int | None]]:
    """Decisions/s of the engine's filtered path for a pod with a selector and a toleration."""
    by_id = {node.id: node for node in nodes}
    indexes = SchedulingIndexes()
    for node in nodes:
        indexes.put(node)
    strategy = STRATEGIES["best-fit"]
    chosen: list[int | None] = []
    start = time.perf_counter()
    for request in reqs:
        node_id = indexes.pick(strategy, request, CONSTRAINED, by_id)
        chosen.append(node_id)
        if node_id is not None:
            node = by_id[node_id]
            node.allocated = node.allocated + request
            indexes.put(node)
    return len(reqs) / (time.perf_counter() - start), chosen


def scan_constrained(nodes: list[NodeState], request: Resources) -> NodeState | None:
    """The same rules the straightforward way: every node, every filter, every time."""
    tolerations = CONSTRAINED.tolerations
    best: NodeState | None = None
    best_key: tuple[int, tuple[int, int, int]] | None = None
    for node in nodes:
        if not is_eligible(node) or not CONSTRAINED.selects(node.labels):
            continue
        if untolerated(node.taints, tolerations):
            continue
        free = node.capacity - node.allocated
        if free.cpu_m < request.cpu_m or free.mem_mi < request.mem_mi:
            continue
        key = (prefer_penalty(node.taints, tolerations), best_fit.key(node, request))
        if best_key is None or key < best_key:
            best, best_key = node, key
    return best


def run_scan_constrained(
    nodes: list[NodeState], reqs: list[Resources]
) -> tuple[float, list[int | None]]:
    chosen: list[int | None] = []
    start = time.perf_counter()
    for request in reqs:
        node = scan_constrained(nodes, request)
        chosen.append(node.id if node else None)
        if node is not None:
            node.allocated = node.allocated + request
    return len(reqs) / (time.perf_counter() - start), chosen


def run(sizes: Sizes) -> Figures:
    figures: Figures = {}
    index_rates: dict[int, list[float]] = {1000: [], 10_000: []}
    scan_rates: list[float] = []
    for rep in range(sizes.repeats):
        for n in (1000, 10_000):
            reqs = requests(sizes.sched_decisions_per_node * n, seed=rep)
            rate, chosen = run_index(cluster(n, seed=rep), reqs)
            index_rates[n].append(rate)
            if n == 10_000:
                k = min(sizes.scan_decisions, len(reqs))
                scan_rate, scanned = run_scan(cluster(n, seed=rep), reqs[:k])
                scan_rates.append(scan_rate)
                if scanned != chosen[:k]:
                    raise AssertionError("the index and the scan chose different nodes")
                if None in chosen:
                    raise AssertionError("the workload overfilled the cluster")
    cluster_text = (
        "{n} healthy workers of 4-64 cores (2 GiB/core), pods of 0.1-1 CPU and 64-1024 MiB, "
        "best-fit"
    )
    per = sizes.sched_decisions_per_node
    for n, key in ((1000, "sched_per_s_1k"), (10_000, "sched_per_s_10k")):
        figures[key] = Figure(
            rnd(median(index_rates[n])), "decisions/s",
            cluster_text.format(n=f"{n:,}") + f"; {per * n:,} decisions with the engine's "
            f"SchedulingIndex, each booking the pod (one key move); median of {sizes.repeats}",
            samples=[rnd(r) for r in index_rates[n]],
        )  # fmt: skip
    figures["scan_per_s_10k"] = Figure(
        rnd(median(scan_rates)), "decisions/s",
        cluster_text.format(n="10,000") + f"; the first {sizes.scan_decisions} of the same "
        "decisions by a full scan (eligible + fits + best_fit.key over every node), choices "
        f"checked identical to the index's; median of {sizes.repeats}",
        samples=[rnd(r) for r in scan_rates],
    )  # fmt: skip
    ratios = [i / s for i, s in zip(index_rates[10_000], scan_rates, strict=True)]
    figures["sched_speedup_vs_scan_10k"] = Figure(
        rnd(median(ratios)), "x", "index decisions/s ÷ scan decisions/s at 10,000 nodes, "
        "same run, median of the per-repeat ratios", samples=[rnd(r) for r in ratios],
    )  # fmt: skip
    figures.update(constrained_figures(sizes))
    from bench.sched_affinity import affinity_figures  # it imports this module's cluster

    figures.update(affinity_figures(sizes))
    return figures


def constrained_figures(sizes: Sizes) -> Figures:
    n = 10_000
    count = sizes.sched_decisions_per_node * 1000
    rates: list[float] = []
    scans: list[float] = []
    for rep in range(sizes.repeats):
        reqs = requests(count, seed=rep)
        rate, chosen = run_constrained(constrained_cluster(n, seed=rep), reqs)
        k = min(sizes.scan_decisions, len(reqs))
        scan_rate, scanned = run_scan_constrained(constrained_cluster(n, seed=rep), reqs[:k])
        if scanned != chosen[:k]:
            raise AssertionError("the filtered indexes and the scan chose different nodes")
        if None in chosen:
            raise AssertionError("the constrained workload overfilled its nodes")
        rates.append(rate)
        scans.append(scan_rate)
    text = (
        "10,000 nodes as sched_per_s_10k, half labelled disktype=ssd, 10% tainted "
        "dedicated=gpu:NoSchedule, 30% spot:PreferNoSchedule, 3 masters; pods with "
        "node_selector {disktype: ssd} and a toleration of dedicated (Exists), best-fit"
    )
    ratios = [i / s for i, s in zip(rates, scans, strict=True)]
    return {
        "sched_constrained_per_s_10k": Figure(
            rnd(median(rates)), "decisions/s", text + f"; {count:,} decisions with the "
            f"engine's SchedulingIndexes (label index walk), each booking the pod; median of "
            f"{sizes.repeats}", samples=[rnd(r) for r in rates],
        ),
        "scan_constrained_per_s_10k": Figure(
            rnd(median(scans)), "decisions/s", text + f"; the first {sizes.scan_decisions} "
            "decisions by a full scan (every filter over every node), choices checked "
            f"identical; median of {sizes.repeats}", samples=[rnd(r) for r in scans],
        ),
        "sched_constrained_speedup_10k": Figure(
            rnd(median(ratios)), "x", "filtered decisions/s ÷ scan decisions/s for the "
            "constrained pod at 10,000 nodes, same run, median of the per-repeat ratios",
            samples=[rnd(r) for r in ratios],
        ),
    }  # fmt: skip
