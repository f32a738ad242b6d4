"""Pod affinity, anti-affinity and topology spread, from counts of matching pods per domain.

Kubernetes' InterPodAffinity and PodTopologySpread plugins. A ``TopologyCheck`` is what one
pod's rules say, made once per decision and asked of each node (its filter reasons, its score
parts). It is built from a count source: ``ScanCounts`` walks every bound pod (what the full
scan ``schedule`` uses) and ``topology_books.PodTopology`` keeps the counts as pods bind and
unbind (what the engine's indexes use); the hypothesis tests hold the two to the same choices.

The rules, as kube-scheduler has them:

- required affinity: the node carries every term's topology key and each term's domain there
  holds a pod matching all the terms; when no such pod exists anywhere and the pod matches its
  own terms, any node passes (the first pod of a group that wants to be together);
- required anti-affinity: no pod matching a term in the node's domain (a node without the key
  has no domain: it passes); and, the other way round, the node is in no domain where an
  existing pod's required anti-affinity term matches this pod;
- preferred terms: each adds (anti: subtracts) its weight once per matching pod in the
  node's domain;
- spread: for each constraint, the pods matching its selector in the pod's namespace are
  counted per domain over the nodes the pod's node selector and required node affinity accept
  (and, with ``node_taints_policy: Honor``, whose taints it tolerates) that carry every key of
  the pod's constraints; placing the pod in domain d must keep ``count[d] + 1 - min(count)``
  (the 1 only if the pod matches the selector itself) within ``max_skew``. Example: zones
  a=3, b=1, c=1 matching pods and max_skew 1: zone a gives 3 + 1 - 1 = 3 > 1 and is refused,
  b and c give 1 + 1 - 1 = 1 and pass. ScheduleAnyway constraints score instead: fewer
  matching pods in the node's domain rank first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kube9_desktop.engine.constraints import PodConstraints, prefer_penalty, untolerated
from kube9_desktop.engine.interpod import (
    HOSTNAME_KEY,
    InterPodRules,
    PodSelector,
    SpreadConstraint,
    TaintsPolicy,
)
from kube9_desktop.engine.scheduler.fit import SchedNode

# kube-scheduler's own words (InterPodAffinity, PodTopologySpread plugins)
AFFINITY_MISMATCH = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_MISMATCH = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
SPREAD_MISMATCH = "node(s) didn't match pod topology spread constraints"
SPREAD_MISSING_LABEL = (
    "node(s) didn't match pod topology spread constraints (missing required label)"
)

Part = tuple[frozenset[str], PodSelector | None]  # namespaces and selector: one term's pods
Match = tuple[Part, ...]  # a pod counts when it matches every part
Counts = Mapping[str, int]  # domain -> matching pods there


def domain_of(node: SchedNode, key: str) -> str | None:
    """The node's domain for ``key``: its label's value (its name for the hostname key)."""
    value = node.labels.get(key)
    if value is None and key == HOSTNAME_KEY:
        return node.name
    return value


def part_matches(part: Part, namespace: str, labels: Mapping[str, str]) -> bool:
    namespaces, selector = part
    return selector is not None and namespace in namespaces and selector.matches(labels)


def matches(match: Match, namespace: str, labels: Mapping[str, str]) -> bool:
    return all(part_matches(p, namespace, labels) for p in match)


class PlacedPod(Protocol):
    """What the books read of a pod (the engine's PodState qualifies)."""

    @property
    def id(self) -> int: ...
    @property
    def namespace(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def node_id(self) -> int | None: ...
    @property
    def interpod(self) -> InterPodRules | None: ...


class CountSource(Protocol):
    def domain_counts(self, match: Match, key: str) -> Counts: ...
    def node_counts(self, match: Match) -> Mapping[int, int]: ...
    def existing_anti(self, namespace: str, labels: Mapping[str, str]) -> list[tuple[str, Counts]]:
        """(key, domain -> pods) of the existing pods' required anti-affinity terms that match
        a pod of ``namespace`` with ``labels``."""
        ...


def anti_terms(pod: PlacedPod) -> Iterable[tuple[Part, str]]:
    rules = pod.interpod
    if rules is None or rules.anti_affinity is None:
        return ()
    return (
        ((t.scope(pod.namespace), t.selector), t.topology_key) for t in rules.anti_affinity.required
    )


class ScanCounts:
    """Counts by walking every bound pod each time they are asked (the full scan's source)."""

    def __init__(self, pods: Iterable[PlacedPod], nodes: Mapping[int, SchedNode]) -> None:
        self._pods = [p for p in pods if p.node_id is not None and p.node_id in nodes]
        self._nodes = nodes

    def node_counts(self, match: Match) -> dict[int, int]:
        out: dict[int, int] = {}
        for p in self._pods:
            if matches(match, p.namespace, p.labels):
                assert p.node_id is not None
                out[p.node_id] = out.get(p.node_id, 0) + 1
        return out

    def domain_counts(self, match: Match, key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for node_id, n in self.node_counts(match).items():
            d = domain_of(self._nodes[node_id], key)
            if d is not None:
                out[d] = out.get(d, 0) + n
        return out

    def existing_anti(self, namespace: str, labels: Mapping[str, str]) -> list[tuple[str, Counts]]:
        found: dict[tuple[Part, str], dict[str, int]] = {}
        for p in self._pods:
            for part, key in anti_terms(p):
                if not part_matches(part, namespace, labels):
                    continue
                assert p.node_id is not None
                d = domain_of(self._nodes[p.node_id], key)
                if d is not None:
                    counts = found.setdefault((part, key), {})
                    counts[d] = counts.get(d, 0) + 1
        return [(key, counts) for (_, key), counts in found.items()]


def _crowded(node: SchedNode, terms: list[tuple[str, Counts]]) -> bool:
    """A term's pods are in the node's domain (a node without the key has no domain)."""
    for key, counts in terms:
        d = domain_of(node, key)
        if d is not None and counts.get(d, 0) > 0:
            return True
    return False


@dataclass
class _Spread:
    constraint: SpreadConstraint
    counts: dict[str, int]
    minimum: int
    self_match: int


@dataclass
class TopologyCheck:
    """One pod's inter-pod rules, evaluated against the counts once: ask it of each node."""

    affinity: list[tuple[str, Counts]] = field(default_factory=list)  # per required term
    affinity_first: bool = False  # no matching pod anywhere and the pod matches its terms
    anti: list[tuple[str, Counts]] = field(default_factory=list)
    existing: list[tuple[str, Counts]] = field(default_factory=list)
    spread: list[_Spread] = field(default_factory=list)
    preferred: list[tuple[str, int, Counts]] = field(default_factory=list)  # signed weights
    spread_keys: tuple[str, ...] = ()

    @property
    def scored(self) -> bool:
        """It ranks nodes (preferred terms, ScheduleAnyway), not only filters them."""
        return bool(self.preferred) or any(not s.constraint.hard for s in self.spread)

    def reasons(self, node: SchedNode) -> list[str]:
        """At most one inter-pod reason (kube-scheduler's InterPodAffinity checks the existing
        pods' anti-affinity, then the pod's own, then its affinity, and stops at the first),
        then at most one spread reason (PodTopologySpread's)."""
        out: list[str] = []
        if _crowded(node, self.existing):
            out.append(EXISTING_ANTI_AFFINITY)
        elif _crowded(node, self.anti):
            out.append(ANTI_AFFINITY_MISMATCH)
        elif self.affinity and not self._affine(node):
            out.append(AFFINITY_MISMATCH)
        for s in self.spread:
            if not s.constraint.hard:
                continue
            d = domain_of(node, s.constraint.topology_key)
            if d is None:
                out.append(SPREAD_MISSING_LABEL)
                break
            if s.counts.get(d, 0) + s.self_match - s.minimum > s.constraint.max_skew:
                out.append(SPREAD_MISMATCH)
                break
        return out

    def allows(self, node: SchedNode) -> bool:
        return not self.reasons(node)

    def _affine(self, node: SchedNode) -> bool:
        exist = True
        for key, counts in self.affinity:
            d = domain_of(node, key)
            if d is None:
                return False
            if counts.get(d, 0) <= 0:
                exist = False
        return exist or self.affinity_first

    def affinity_score(self, node: SchedNode) -> int:
        """The preferred terms' weights, once per matching pod in the node's domain."""
        total = 0
        for key, weight, counts in self.preferred:
            d = domain_of(node, key)
            if d is not None:
                total += weight * counts.get(d, 0)
        return total

    def spread_score(self, node: SchedNode) -> int:
        """ScheduleAnyway: matching pods in the node's domains (lower ranks first); a node
        without a key gets one more than the fullest domain."""
        total = 0
        for s in self.spread:
            if s.constraint.hard:
                continue
            d = domain_of(node, s.constraint.topology_key)
            if d is None:
                total += max(s.counts.values(), default=0) + 1
            else:
                total += s.counts.get(d, 0)
        return total


def topology_check(
    namespace: str,
    labels: Mapping[str, str],
    constraints: PodConstraints,
    source: CountSource,
    nodes: Mapping[int, SchedNode],
) -> TopologyCheck | None:
    """What ``source``'s counts say of a pod's rules; None when nothing applies to it."""
    rules = constraints.interpod
    existing = source.existing_anti(namespace, labels)
    if rules is None and not existing:
        return None
    check = TopologyCheck(existing=existing)
    if rules is None:
        return check
    aff = rules.affinity
    if aff is not None and aff.required:
        match = tuple((t.scope(namespace), t.selector) for t in aff.required)
        check.affinity = [(t.topology_key, source.domain_counts(match, t.topology_key))
                          for t in aff.required]  # fmt: skip
        anywhere = any(c for _, c in check.affinity)
        check.affinity_first = not anywhere and matches(match, namespace, labels)
    anti = rules.anti_affinity
    if anti is not None:
        for t in anti.required:
            match = ((t.scope(namespace), t.selector),)
            check.anti.append((t.topology_key, source.domain_counts(match, t.topology_key)))
    for sign, group in ((1, aff), (-1, anti)):
        for weight, t in group.preferred if group is not None else ():
            match = ((t.scope(namespace), t.selector),)
            counts = source.domain_counts(match, t.topology_key)
            check.preferred.append((t.topology_key, sign * weight, counts))
    if rules.spread:
        check.spread_keys = tuple(c.topology_key for c in rules.spread)
        for c in rules.spread:
            check.spread.append(_spread(c, namespace, labels, constraints, source, nodes,
                                        check.spread_keys))  # fmt: skip
    return check


def _spread(
    c: SpreadConstraint,
    namespace: str,
    labels: Mapping[str, str],
    constraints: PodConstraints,
    source: CountSource,
    nodes: Mapping[int, SchedNode],
    keys: tuple[str, ...],
) -> _Spread:
    """Per-domain counts over the nodes that count for this pod (O(nodes): one pass)."""
    match = ((frozenset((namespace,)), c.selector),)
    per_node = source.node_counts(match)
    honor = c.node_taints_policy is TaintsPolicy.HONOR
    counts: dict[str, int] = {}
    for node in nodes.values():
        d = domain_of(node, c.topology_key)
        if d is None or any(domain_of(node, k) is None for k in keys):
            continue
        if (constraints.node_selector or constraints.affinity) and not constraints.selects(
            node.labels
        ):
            continue
        if honor and untolerated(node.taints, constraints.tolerations):
            continue
        counts[d] = counts.get(d, 0) + per_node.get(node.id, 0)
    self_match = 1 if c.selector is not None and c.selector.matches(labels) else 0
    return _Spread(c, counts, min(counts.values(), default=0), self_match)


Rank = tuple[int, int, int, int]  # the parts tried before the strategy's key


def rank(node: SchedNode, constraints: PodConstraints, check: TopologyCheck | None) -> Rank:
    """(untolerated PreferNoSchedule taints, -node affinity, -pod affinity, spread): lowest
    first."""
    penalty = prefer_penalty(node.taints, constraints.tolerations) if node.taints else 0
    if check is None:
        return (penalty, -constraints.preference(node.labels), 0, 0)
    return (
        penalty, -constraints.preference(node.labels), -check.affinity_score(node),
        check.spread_score(node),
    )  # fmt: skip
