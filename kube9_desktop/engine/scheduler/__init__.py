"""Scheduling: filter nodes with ``fit``, score the survivors with a strategy, explain the result.

``schedule`` is pure over node snapshots and explains every node; ``SchedulingIndex`` gives the
same choice in O(log n) for the engine's hot path, and ``SchedulingIndexes`` for pods with
tolerations or a node selector (tests hold them to agreement).

Ranking: among the nodes that pass every filter, those with fewer untolerated PreferNoSchedule
taints come first, then those whose matching preferred node-affinity terms weigh more, then
those whose preferred pod (anti-)affinity terms score more (``topology.py``), then those with
fewer pods matching a ScheduleAnyway spread constraint in their domain, and the strategy orders
nodes equal in all. Kubernetes adds these scores to the others (the taint's with weight 3,
node and pod affinity's and spread's with 2); here they are tried in that order, so a soft
taint always costs more than any affinity weight, and either more than any difference in free
room. Example: best-fit puts a 1-core pod on a worker with 4 cores free rather than on one
with 1 core free and a ``spot:PreferNoSchedule`` taint. Each candidate carries these parts
(``scores``), as the decision's explanation shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from kube9_desktop.engine.constraints import NO_CONSTRAINTS, PodConstraints
from kube9_desktop.engine.model import CandidateResult, Decision, Resources
from kube9_desktop.engine.scheduler import best_fit, first_fit, worst_fit
from kube9_desktop.engine.scheduler.fit import SchedNode, fit, is_eligible, is_open
from kube9_desktop.engine.scheduler.index import SchedulingIndex
from kube9_desktop.engine.scheduler.indexes import SchedulingIndexes
from kube9_desktop.engine.scheduler.topology import TopologyCheck, rank

KeyFn = Callable[[SchedNode, Resources], tuple[int, int, int]]
NO_RANK = (0, 0, 0, 0)  # ``rank`` of a node without taints for a pod without constraints


@dataclass(frozen=True)
class Strategy:
    name: str
    key: KeyFn
    pick: Callable[[SchedulingIndex, Resources], int | None]
    summary: str
    walk: Callable[[SchedulingIndex, Resources], Iterator[int]]


STRATEGIES: dict[str, Strategy] = {
    "best-fit": Strategy(
        "best-fit", best_fit.key, SchedulingIndex.best_fit, "least free CPU left (packs nodes)",
        SchedulingIndex.walk_best,
    ),
    "first-fit": Strategy(
        "first-fit", first_fit.key, SchedulingIndex.first_fit, "lowest id that fits",
        SchedulingIndex.walk_first,
    ),
    "worst-fit": Strategy(
        "worst-fit", worst_fit.key, SchedulingIndex.worst_fit, "most free CPU left (spreads)",
        SchedulingIndex.walk_worst,
    ),
}  # fmt: skip
DEFAULT_STRATEGY = "best-fit"


def score_parts(
    node: SchedNode, constraints: PodConstraints, check: TopologyCheck | None
) -> tuple[tuple[str, int], ...]:
    """The rank's parts that apply to this pod, by name (what "why it is here" shows)."""
    penalty, node_aff, pod_aff, spread = rank(node, constraints, check)
    parts: list[tuple[str, int]] = []
    if penalty:
        parts.append(("prefer_no_schedule_taints", penalty))
    if constraints.affinity is not None and constraints.affinity.preferred:
        parts.append(("node_affinity", -node_aff))
    if check is not None and check.preferred:
        parts.append(("pod_affinity", -pod_aff))
    if check is not None and any(not s.constraint.hard for s in check.spread):
        parts.append(("topology_spread", spread))
    return tuple(parts)


def candidate(
    node: SchedNode,
    request: Resources,
    constraints: PodConstraints = NO_CONSTRAINTS,
    check: TopologyCheck | None = None,
) -> CandidateResult:
    free = node.capacity - node.allocated
    reasons = fit(request, node, free, constraints)
    if check is not None:
        reasons.extend(check.reasons(node))
        scores = score_parts(node, constraints, check)
    elif constraints:
        scores = score_parts(node, constraints, None)
    else:
        scores = ()
    # node_id, node_name, fits, reasons, free_cpu_m, free_mem_mi (positional: a hot path)
    return CandidateResult(
        node.id, node.name, not reasons, tuple(reasons), free.cpu_m, free.mem_mi, scores
    )


def schedule(
    request: Resources,
    nodes: Sequence[SchedNode],
    strategy: str = DEFAULT_STRATEGY,
    *,
    constraints: PodConstraints = NO_CONSTRAINTS,
    check: TopologyCheck | None = None,
    at: datetime | None = None,
    explain_limit: int | None = None,
) -> Decision:
    """Choose a node for ``request`` among ``nodes`` by a full scan, explaining every node.

    Fitting nodes rank by ``rank`` (taints, node affinity, pod affinity, spread), then the
    strategy's key; ``check`` is the pod's inter-pod rules over the counts. With
    ``explain_limit`` the candidate list keeps the chosen node, the best alternatives and the
    rejected nodes up to that many entries, and counts the rest in ``omitted``.
    """
    strat = STRATEGIES[strategy]
    results = [candidate(n, request, constraints, check) for n in nodes]
    # A pod with no constraints ranks every node alike but for soft taints: a node without
    # taints needs no rank (most pods, most nodes: the rank's calls were a third of a decision).
    plain = check is None and not constraints
    fitting = sorted(
        (
            (
                NO_RANK if plain and not n.taints else rank(n, constraints, check),
                strat.key(n, request),
                c,
            )
            for n, c in zip(nodes, results, strict=True)
            if c.fits
        ),
        key=lambda kc: (kc[0], kc[1]),
    )
    ordered = [c for _, _, c in fitting] + [c for c in results if not c.fits]
    chosen = fitting[0][2] if fitting else None
    omitted = 0
    if explain_limit is not None and len(ordered) > explain_limit:
        omitted = len(ordered) - explain_limit
        ordered = ordered[:explain_limit]
    return Decision(
        strategy=strategy,
        node_id=chosen.node_id if chosen else None,
        node_name=chosen.node_name if chosen else None,
        candidates=tuple(ordered),
        omitted=omitted,
        at=at,
    )


__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "SchedNode",
    "SchedulingIndex",
    "SchedulingIndexes",
    "Strategy",
    "TopologyCheck",
    "candidate",
    "fit",
    "is_eligible",
    "is_open",
    "rank",
    "schedule",
]
