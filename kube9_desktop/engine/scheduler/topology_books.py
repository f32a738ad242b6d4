"""The engine's pod-topology books: matching pods per node and per domain, kept as pods bind.

``PodTopology`` is a ``CountSource`` for ``topology.topology_check`` that never scans the pods
on a decision: a book per selector is made once (from the pods carrying its first label) and
then moved by each bind and unbind that may match it (``Watch`` finds those by the pod's
labels). ``drift`` compares every book with a fresh count (an invariant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from kube9_desktop.engine.scheduler.fit import SchedNode
from kube9_desktop.engine.scheduler.topology import (
    Counts,
    Match,
    Part,
    PlacedPod,
    ScanCounts,
    anti_terms,
    domain_of,
    matches,
    part_matches,
)

MATCHES_MAX = 256  # count books kept (the oldest asked goes first)
K = TypeVar("K", str, int)

Pair = tuple[str, str, str]  # (namespace, label key, value)
T = TypeVar("T")


def pairs_of(part: Part) -> list[Pair] | None:
    """The (namespace, key, value) a pod must carry to match ``part``: its selector's first
    matchLabels pair in each namespace; None when it has none (any pod may match)."""
    namespaces, selector = part
    if selector is None:
        return []  # matches no pod
    if not selector.match_labels:
        return None
    k, v = selector.match_labels[0]
    return [(ns, k, v) for ns in namespaces]


class Watch(Generic[T]):
    """Items (books, terms) found by the labels of a pod that may match them, so a bind or a
    decision looks only at those: the items of its (namespace, key, value) pairs and the few
    with no matchLabels."""

    def __init__(self) -> None:
        self._by_pair: dict[Pair, dict[T, None]] = {}
        self._general: dict[T, None] = {}

    def add(self, item: T, part: Part) -> None:
        pairs = pairs_of(part)
        if pairs is None:
            self._general[item] = None
        for pair in pairs or ():
            self._by_pair.setdefault(pair, {})[item] = None

    def remove(self, item: T, part: Part) -> None:
        pairs = pairs_of(part)
        if pairs is None:
            self._general.pop(item, None)
        for pair in pairs or ():
            items = self._by_pair.get(pair)
            if items is not None:
                items.pop(item, None)
                if not items:
                    del self._by_pair[pair]

    def candidates(self, namespace: str, labels: Mapping[str, str]) -> list[T]:
        out = list(self._general)
        by_pair = self._by_pair
        if by_pair:
            for k, v in labels.items():
                items = by_pair.get((namespace, k, v))
                if items:
                    out.extend(items)
        return out

    def clear(self) -> None:
        self._by_pair.clear()
        self._general.clear()


class PodTopology:
    """The engine's books: counts of matching pods per node and per domain, kept in step.

    A book for a selector is made by one scan of the bound pods the first time a pod asks
    for it, then moved by ``bound``/``unbound`` (at most ``MATCHES_MAX`` kept). The existing
    pods' required anti-affinity terms are always kept (the symmetric check every pod makes):
    when none exists, a pod with no rules of its own costs nothing here.
    """

    def __init__(self, pods: Mapping[int, PlacedPod], nodes: Mapping[int, SchedNode]) -> None:
        self._pods = pods
        self._nodes = nodes
        self._node_counts: dict[Match, dict[int, int]] = {}
        self._domain_counts: dict[tuple[Match, str], dict[str, int]] = {}
        self._anti: dict[tuple[Part, str], dict[str, int]] = {}
        # (namespace, label key, value) -> bound pods carrying it; None until a book needs it
        self._by_label: dict[tuple[str, str, str], set[int]] | None = None
        self._books = Watch[Match]()  # the books a pod's bind may move
        self._keys: dict[Match, list[str]] = {}  # the topology keys each book is counted by
        self._terms = Watch[tuple[Part, str]]()  # the anti-affinity terms a pod may match

    @property
    def has_anti(self) -> bool:
        return bool(self._anti)

    def node_counts(self, match: Match) -> dict[int, int]:
        counts = self._node_counts.get(match)
        if counts is None:
            if len(self._node_counts) >= MATCHES_MAX:
                self._forget(next(iter(self._node_counts)))
            counts = {}
            for pod in self._candidates(match):
                if pod.node_id in self._nodes and matches(match, pod.namespace, pod.labels):
                    assert pod.node_id is not None
                    counts[pod.node_id] = counts.get(pod.node_id, 0) + 1
            self._node_counts[match] = counts
            self._keys[match] = []
            self._books.add(match, match[0] if match else (frozenset(), None))
        return counts

    def _candidates(self, match: Match) -> Iterable[PlacedPod]:
        """Bound pods that may match: those carrying the first part's rarest matchLabels pair
        in one of its namespaces (from ``_by_label``, made by one scan when first needed),
        else every pod."""
        namespaces, selector = match[0] if match else (frozenset(), None)
        if selector is None:
            return ()  # names no pod
        if not selector.match_labels:
            return self._pods.values()
        by_label = self._by_label
        if by_label is None:
            by_label = self._by_label = {}
            for pod in self._pods.values():
                if pod.node_id is not None:
                    self._label(pod, 1)
        smallest: list[int] = []
        best: int | None = None
        for k, v in selector.match_labels:
            ids = [i for ns in namespaces for i in by_label.get((ns, k, v), ())]
            if best is None or len(ids) < best:
                smallest, best = ids, len(ids)
        pods = self._pods
        return [pods[i] for i in smallest]

    def _label(self, pod: PlacedPod, step: int) -> None:
        by_label = self._by_label
        assert by_label is not None
        namespace, pod_id = pod.namespace, pod.id
        for k, v in pod.labels.items():
            ids = by_label.get((namespace, k, v))
            if step > 0:
                if ids is None:
                    by_label[(namespace, k, v)] = {pod_id}
                else:
                    ids.add(pod_id)
            elif ids is not None:
                ids.discard(pod_id)
                if not ids:
                    del by_label[(namespace, k, v)]

    def domain_counts(self, match: Match, key: str) -> dict[str, int]:
        counts = self._domain_counts.get((match, key))
        if counts is None:
            counts = {}
            for node_id, n in self.node_counts(match).items():
                d = domain_of(self._nodes[node_id], key)
                if d is not None:
                    counts[d] = counts.get(d, 0) + n
            self._domain_counts[(match, key)] = counts
            self._keys[match].append(key)
        return counts

    def existing_anti(self, namespace: str, labels: Mapping[str, str]) -> list[tuple[str, Counts]]:
        if not self._anti:
            return []
        anti = self._anti
        return [
            (term[1], anti[term])
            for term in self._terms.candidates(namespace, labels)
            if part_matches(term[0], namespace, labels)
        ]

    def bound(self, pod: PlacedPod, node: SchedNode) -> None:
        self._move(pod, node, 1)

    def unbound(self, pod: PlacedPod, node: SchedNode) -> None:
        self._move(pod, node, -1)

    def reset(self) -> None:
        """Forget every book (a node's or a pod's labels changed): made again when asked."""
        self._node_counts.clear()
        self._domain_counts.clear()
        self._anti.clear()
        self._by_label = None
        self._books.clear()
        self._keys.clear()
        self._terms.clear()
        for pod in self._pods.values():
            if pod.node_id is not None and pod.node_id in self._nodes:
                self._move_anti(pod, self._nodes[pod.node_id], 1)

    def drift(self) -> list[str]:
        """Where the books differ from a fresh count (an invariant: empty)."""
        scan = ScanCounts(self._pods.values(), self._nodes)
        out = [
            f"pod-topology books: {match} counts {counts}, a scan {scan.node_counts(match)}"
            for match, counts in self._node_counts.items()
            if counts != scan.node_counts(match)
        ]
        out.extend(
            f"pod-topology books: {match} by {key} counts {counts}, a scan "
            f"{scan.domain_counts(match, key)}"
            for (match, key), counts in self._domain_counts.items()
            if counts != scan.domain_counts(match, key)
        )
        fresh = PodTopology(self._pods, self._nodes)
        fresh.reset()
        if fresh._anti != self._anti:
            out.append(f"pod-topology books: anti-affinity {self._anti} != {fresh._anti}")
        return out

    def _move(self, pod: PlacedPod, node: SchedNode, step: int) -> None:
        if self._by_label is not None:
            self._label(pod, step)
        if self._node_counts:
            namespace, labels = pod.namespace, pod.labels
            for match in self._books.candidates(namespace, labels):
                if not matches(match, namespace, labels):
                    continue
                _bump(self._node_counts[match], node.id, step)
                for key in self._keys[match]:
                    d = domain_of(node, key)
                    if d is not None:
                        _bump(self._domain_counts[(match, key)], d, step)
        if pod.interpod is not None:
            self._move_anti(pod, node, step)

    def _move_anti(self, pod: PlacedPod, node: SchedNode, step: int) -> None:
        for term in anti_terms(pod):
            d = domain_of(node, term[1])
            if d is None:
                continue
            counts = self._anti.get(term)
            if counts is None:
                counts = self._anti[term] = {}
                self._terms.add(term, term[0])
            _bump(counts, d, step)
            if not counts:
                del self._anti[term]
                self._terms.remove(term, term[0])

    def _forget(self, match: Match) -> None:
        del self._node_counts[match]
        for key in self._keys.pop(match):
            del self._domain_counts[(match, key)]
        self._books.remove(match, match[0] if match else (frozenset(), None))


def _bump(counts: dict[K, int], key: K, step: int) -> None:
    n = counts.get(key, 0) + step
    if n:
        counts[key] = n
    else:
        counts.pop(key, None)
