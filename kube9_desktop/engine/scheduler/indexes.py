"""Every eligible node in one SchedulingIndex per taint set, plus label indexes made on demand.

``plain`` holds the eligible nodes with no taint at all: a pod with no tolerations and no node
selector is placed from it alone in O(log n), exactly as before taints existed. Tainted nodes
(the masters, with the control-plane taint) sit in one index per distinct taint set, so a pod's
tolerations are checked once per set, not once per node. A node selector ``disktype=ssd`` is
answered from an index of the eligible nodes with that label, built by one scan the first time
a pod asks for it and kept in step from then on (at most ``LABEL_INDEXES_MAX`` are kept).

``pick`` chooses exactly what ``schedule`` (the full scan) chooses: the fitting node with the
fewest untolerated PreferNoSchedule taints, then the heaviest preferred node affinity, then the
strategy's order. Required node affinity is a filter on the walk; preferred terms make every
candidate count (the one path here that is linear in the candidates).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from kube9_desktop.engine.constraints import PodConstraints, Taint, prefer_penalty, tolerated
from kube9_desktop.engine.model import Resources
from kube9_desktop.engine.scheduler.fit import SchedNode, is_eligible
from kube9_desktop.engine.scheduler.index import SchedulingIndex
from kube9_desktop.engine.scheduler.topology import TopologyCheck, rank

LABEL_INDEXES_MAX = 256
Group = tuple[Taint, ...]  # a node's taints, sorted: () is the plain index


class StrategyLike(Protocol):
    @property
    def key(self) -> Callable[[SchedNode, Resources], tuple[int, int, int]]: ...
    @property
    def pick(self) -> Callable[[SchedulingIndex, Resources], int | None]: ...
    @property
    def walk(self) -> Callable[[SchedulingIndex, Resources], Iterator[int]]: ...


class SchedulingIndexes:
    def __init__(self) -> None:
        self.plain = SchedulingIndex()
        self.tainted: dict[Group, SchedulingIndex] = {}
        self._group: dict[int, Group] = {}  # eligible node id -> its taint set
        self._labels: dict[tuple[str, str], SchedulingIndex] = {}

    def __len__(self) -> int:
        """How many nodes are eligible (tainted or not)."""
        return len(self._group)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._group

    def group_of(self, node_id: int) -> Group | None:
        return self._group.get(node_id)

    def put(self, node: SchedNode) -> None:
        """Index an eligible node by its free resources; remove an ineligible or full one
        (it holds its pod limit: ``Too many pods``)."""
        if not is_eligible(node) or len(node.pod_ids) >= node.pod_limit:
            self.discard(node)
            return
        node_id = node.id
        taints = node.taints
        group = tuple(sorted(taints)) if taints else ()
        old = self._group.get(node_id)
        if old is not None and old != group:
            self._remove(node_id, old)
        self._group[node_id] = group
        free = node.capacity - node.allocated
        if group:
            index = self.tainted.get(group)
            if index is None:
                index = self.tainted[group] = SchedulingIndex()
            index.put(node_id, free)
        else:
            self.plain.put(node_id, free)
        if self._labels:
            for pair in node.labels.items():
                labelled = self._labels.get(pair)
                if labelled is not None:
                    labelled.put(node_id, free)

    def discard(self, node: SchedNode) -> None:
        group = self._group.pop(node.id, None)
        if group is None:
            return
        self._remove(node.id, group)
        if self._labels:
            for pair in node.labels.items():
                labelled = self._labels.get(pair)
                if labelled is not None:
                    labelled.discard(node.id)

    def _remove(self, node_id: int, group: Group) -> None:
        if not group:
            self.plain.discard(node_id)
            return
        index = self.tainted[group]
        index.discard(node_id)
        if not len(index):
            del self.tainted[group]

    def labelled(self, key: str, value: str, nodes: Mapping[int, SchedNode]) -> SchedulingIndex:
        """The eligible nodes labelled ``key=value`` (one scan the first time it is asked)."""
        index = self._labels.get((key, value))
        if index is None:
            if len(self._labels) >= LABEL_INDEXES_MAX:
                del self._labels[next(iter(self._labels))]  # the oldest asked
            index = SchedulingIndex()
            for node_id in self._group:
                node = nodes[node_id]
                if node.labels.get(key) == value:
                    index.put(node_id, node.capacity - node.allocated)
            self._labels[(key, value)] = index
        return index

    def pick(
        self,
        strategy: StrategyLike,
        request: Resources,
        constraints: PodConstraints,
        nodes: Mapping[int, SchedNode],
        check: TopologyCheck | None = None,
    ) -> int | None:
        """The node ``schedule`` would choose among the eligible ones (None: none fits);
        ``check`` is the pod's inter-pod rules (topology.py), None when none apply."""
        if not constraints and check is None:
            chosen = strategy.pick(self.plain, request)
            if chosen is not None or not self.tainted:
                return chosen  # the hot path: untainted nodes always rank first for such a pod
        tolerations = constraints.tolerations
        penalties: dict[Group, int] = {(): 0}  # the taint sets this pod may land on
        for group in self.tainted:
            if all(not t.hard or tolerated(t, tolerations) for t in group):
                penalties[group] = prefer_penalty(group, tolerations)
        affinity = constraints.affinity
        if (affinity is not None and affinity.preferred) or (check is not None and check.scored):
            return self._pick_scored(strategy, request, constraints, nodes, penalties, check)
        if constraints.node_selector:
            return self._pick_selected(strategy, request, constraints, nodes, penalties, check)
        best: int | None = None
        best_key: tuple[int, tuple[int, int, int]] | None = None
        for group, penalty in penalties.items():
            if best_key is not None and penalty > best_key[0]:
                continue
            index = self.tainted[group] if group else self.plain
            if affinity is None and check is None:
                node_id = strategy.pick(index, request)
            else:  # required terms only: the first node of the walk that passes them
                walk = strategy.walk(index, request)
                node_id = next((i for i in walk if _passes(nodes[i], constraints, check)), None)
            if node_id is None:
                continue
            key = (penalty, strategy.key(nodes[node_id], request))
            if best_key is None or key < best_key:
                best, best_key = node_id, key
        return best

    def _pick_scored(
        self,
        strategy: StrategyLike,
        request: Resources,
        constraints: PodConstraints,
        nodes: Mapping[int, SchedNode],
        penalties: dict[Group, int],
        check: TopologyCheck | None,
    ) -> int | None:
        """Preferred node or pod affinity, or a ScheduleAnyway spread: every candidate is
        scored (the smallest label index of the selector when there is one, else every node
        the pod may land on): O(candidates)."""
        if constraints.node_selector:
            pairs = constraints.node_selector.items()
            ids = min((self.labelled(k, v, nodes) for k, v in pairs), key=len).ids()
        else:
            ids = (
                i for g in penalties for i in (self.tainted[g] if g else self.plain).ids()
            )  # fmt: skip
        best: int | None = None
        best_key: tuple[tuple[int, int, int, int], tuple[int, int, int]] | None = None
        for node_id in ids:
            if self._group[node_id] not in penalties:
                continue
            node = nodes[node_id]
            free = node.capacity - node.allocated
            if free.cpu_m < request.cpu_m or free.mem_mi < request.mem_mi:
                continue
            if not _passes(node, constraints, check):
                continue
            key = (rank(node, constraints, check), strategy.key(node, request))
            if best_key is None or key < best_key:
                best, best_key = node_id, key
        return best

    def _pick_selected(
        self,
        strategy: StrategyLike,
        request: Resources,
        constraints: PodConstraints,
        nodes: Mapping[int, SchedNode],
        penalties: dict[Group, int],
        check: TopologyCheck | None,
    ) -> int | None:
        """Walk the smallest label index of the selector in the strategy's order: the first
        node that passes with the lowest penalty possible wins; else the lowest penalty seen."""
        selector = constraints.node_selector
        smallest = min(
            (self.labelled(k, v, nodes) for k, v in selector.items()), key=len
        )  # every pair's index is made now: the next pod asking finds them all
        floor = min(penalties.values())
        best: int | None = None
        best_penalty: int | None = None
        several = len(selector) > 1 or constraints.affinity is not None
        for node_id in strategy.walk(smallest, request):
            penalty = penalties.get(self._group[node_id])
            if penalty is None or (best_penalty is not None and penalty >= best_penalty):
                continue
            node = nodes[node_id]
            if several and not constraints.selects(node.labels):
                continue
            if check is not None and not check.allows(node):
                continue
            best, best_penalty = node_id, penalty
            if penalty == floor:
                break
        return best


def _passes(node: SchedNode, constraints: PodConstraints, check: TopologyCheck | None) -> bool:
    """The node selector, required node affinity and inter-pod rules (taints and room are
    the index's part)."""
    if (constraints.node_selector or constraints.affinity) and not constraints.selects(node.labels):
        return False
    return check is None or check.allows(node)
