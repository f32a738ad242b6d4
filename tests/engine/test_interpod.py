"""Pod affinity, anti-affinity, topology spread and max-pods: every reason and score part,
and the engine's books and indexes held to a full scan that counts pods afresh."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.constraints import PodConstraints, Taint, TaintEffect
from kube9_desktop.engine.interpod import (
    HOSTNAME_KEY,
    ZONE_KEY,
    InterPodRules,
    PodAffinity,
    PodAffinityTerm,
    PodSelector,
    SpreadConstraint,
    TaintsPolicy,
    WhenUnsatisfiable,
)
from kube9_desktop.engine.model import Decision, Resources
from kube9_desktop.engine.scheduler import STRATEGIES, SchedulingIndexes, schedule
from kube9_desktop.engine.scheduler.fit import TOO_MANY_PODS
from kube9_desktop.engine.scheduler.topology import (
    AFFINITY_MISMATCH,
    ANTI_AFFINITY_MISMATCH,
    EXISTING_ANTI_AFFINITY,
    SPREAD_MISMATCH,
    SPREAD_MISSING_LABEL,
    ScanCounts,
    topology_check,
)
from kube9_desktop.engine.scheduler.topology_books import PodTopology
from kube9_desktop.engine.selectors import Requirement
from tests.engine.test_scheduler import N, w

DNS, ANY = WhenUnsatisfiable.DO_NOT_SCHEDULE, WhenUnsatisfiable.SCHEDULE_ANYWAY


@dataclass
class P:
    """A pod as the books read it."""

    name: str
    labels: Mapping[str, str]
    node_id: int | None = None
    interpod: InterPodRules | None = None
    namespace: str = "default"
    request: Resources = field(default_factory=lambda: Resources(100, 0))
    id: int = 0


def app(name: str) -> PodSelector:
    return PodSelector((("app", name),))


def term(name: str, key: str = HOSTNAME_KEY, *namespaces: str) -> PodAffinityTerm:
    return PodAffinityTerm(app(name), key, namespaces)


def zoned(node_id: int, zone: str | None, cpu: float = 4, **kw: object) -> N:
    labels = {ZONE_KEY: zone} if zone else {}
    return w(node_id, cpu, labels=labels, **kw)


class Cluster:
    """Nodes and bound pods, the books kept as the engine keeps them."""

    def __init__(self, nodes: list[N]) -> None:
        self.nodes = {n.id: n for n in nodes}
        self.pods: dict[int, P] = {}
        self.books = PodTopology(self.pods, self.nodes)
        self.indexes = SchedulingIndexes()
        for n in nodes:
            self.indexes.put(n)

    def bind(self, pod: P, node_id: int) -> None:
        pod_id = pod.id = len(self.pods) + 1
        self.pods[pod_id] = pod
        pod.node_id = node_id
        node = self.nodes[node_id]
        self.books.bound(pod, node)
        node.pod_ids = frozenset((*node.pod_ids, pod_id))
        node.allocated = node.allocated + pod.request
        self.indexes.put(node)

    def unbind(self, pod_id: int) -> None:
        pod = self.pods[pod_id]
        assert pod.node_id is not None
        node = self.nodes[pod.node_id]
        self.books.unbound(pod, node)
        node.pod_ids = node.pod_ids - {pod_id}
        node.allocated = node.allocated - pod.request
        pod.node_id = None
        self.indexes.put(node)

    def decide(
        self, pod: P, constraints: PodConstraints | None = None, strategy: str = "best-fit"
    ) -> Decision:
        c = constraints or PodConstraints(interpod=pod.interpod)
        scan = topology_check(pod.namespace, pod.labels, c, ScanCounts(self.pods.values(), self.nodes),
                              self.nodes)  # fmt: skip
        books = topology_check(pod.namespace, pod.labels, c, self.books, self.nodes)
        decision = schedule(pod.request, list(self.nodes.values()), strategy, constraints=c,
                            check=scan)  # fmt: skip
        got = self.indexes.pick(STRATEGIES[strategy], pod.request, c, self.nodes, books)
        assert got == decision.node_id
        return decision


def reasons_of(decision: Decision, node_id: int) -> list[str]:
    return next(list(c.reasons) for c in decision.candidates if c.node_id == node_id)


def scores_of(decision: Decision, node_id: int) -> dict[str, int]:
    return next(dict(c.scores) for c in decision.candidates if c.node_id == node_id)


def test_required_anti_affinity_keeps_a_pod_off_nodes_with_a_matching_pod() -> None:
    c = Cluster([w(1, 4), w(2, 8)])
    c.bind(P("web-1", {"app": "web"}), 1)
    rules = InterPodRules(anti_affinity=PodAffinity(required=(term("web"),)))
    d = c.decide(P("web-2", {"app": "web"}, interpod=rules))
    assert d.node_id == 2  # best-fit would pack onto node 1
    assert reasons_of(d, 1) == [ANTI_AFFINITY_MISMATCH]
    assert reasons_of(d, 2) == []


def test_existing_pods_anti_affinity_keeps_others_away_symmetrically() -> None:
    c = Cluster([w(1, 4), w(2, 8)])
    lonely = InterPodRules(anti_affinity=PodAffinity(required=(term("web"),)))
    c.bind(P("db", {"app": "db"}, interpod=lonely), 1)
    d = c.decide(P("web", {"app": "web"}))  # no rules of its own
    assert d.node_id == 2
    assert reasons_of(d, 1) == [EXISTING_ANTI_AFFINITY]
    assert c.decide(P("cache", {"app": "cache"})).node_id == 1  # not named: packs as ever


def test_zone_anti_affinity_refuses_the_whole_zone_and_passes_nodes_without_the_key() -> None:
    c = Cluster([zoned(1, "a", 4), zoned(2, "a", 8), zoned(3, "b", 16), zoned(4, None, 32)])
    c.bind(P("web-1", {"app": "web"}), 1)
    rules = InterPodRules(anti_affinity=PodAffinity(required=(term("web", ZONE_KEY),)))
    d = c.decide(P("web-2", {"app": "web"}, interpod=rules))
    assert reasons_of(d, 2) == [ANTI_AFFINITY_MISMATCH]  # same zone, another node
    assert reasons_of(d, 4) == []  # no zone label: no domain to share
    assert d.node_id == 3


def test_required_affinity_needs_a_matching_pod_in_the_domain_and_the_key() -> None:
    c = Cluster([zoned(1, "a", 4), zoned(2, "b", 8), zoned(3, "a", 16), zoned(4, None, 2)])
    c.bind(P("cache", {"app": "cache"}), 3)
    rules = InterPodRules(affinity=PodAffinity(required=(term("cache", ZONE_KEY),)))
    d = c.decide(P("web", {"app": "web"}, interpod=rules))
    assert d.node_id == 1  # zone a, least free
    assert reasons_of(d, 2) == [AFFINITY_MISMATCH]
    assert reasons_of(d, 4) == [AFFINITY_MISMATCH]  # no zone label


def test_the_first_pod_of_a_self_affine_group_may_go_anywhere() -> None:
    c = Cluster([w(1, 4), w(2, 8)])
    rules = InterPodRules(affinity=PodAffinity(required=(term("web"),)))
    assert c.decide(P("web-1", {"app": "web"}, interpod=rules)).node_id == 1
    # ...but a pod not matching its own term waits for one that does
    d = c.decide(P("sidecar", {"app": "other"}, interpod=rules))
    assert d.node_id is None and reasons_of(d, 1) == [AFFINITY_MISMATCH]
    c.bind(P("web-1", {"app": "web"}), 2)
    assert c.decide(P("web-2", {"app": "web"}, interpod=rules)).node_id == 2


def test_namespaces_default_to_the_pods_own() -> None:
    c = Cluster([w(1, 4), w(2, 8)])
    c.bind(P("web", {"app": "web"}, namespace="team-a"), 1)
    rules = InterPodRules(anti_affinity=PodAffinity(required=(term("web"),)))
    assert c.decide(P("web-b", {"app": "web"}, interpod=rules, namespace="team-b")).node_id == 1
    listed = InterPodRules(anti_affinity=PodAffinity(required=(term("web", HOSTNAME_KEY,
                                                                      "team-a"),)))  # fmt: skip
    assert c.decide(P("web-b", {"app": "web"}, interpod=listed, namespace="team-b")).node_id == 2


def test_preferred_terms_score_weight_per_matching_pod_before_the_strategy() -> None:
    c = Cluster([w(1, 4), w(2, 8), w(3, 16)])
    c.bind(P("cache-1", {"app": "cache"}), 3)
    c.bind(P("cache-2", {"app": "cache"}), 3)
    c.bind(P("web-1", {"app": "web"}), 2)
    rules = InterPodRules(
        affinity=PodAffinity(preferred=((10, term("cache")),)),
        anti_affinity=PodAffinity(preferred=((5, term("web")),)),
    )
    d = c.decide(P("web-2", {"app": "web"}, interpod=rules))
    assert d.node_id == 3
    assert scores_of(d, 3) == {"pod_affinity": 20}  # 10 x 2 cache pods
    assert scores_of(d, 2) == {"pod_affinity": -5}
    assert scores_of(d, 1) == {"pod_affinity": 0}


SPREAD = SpreadConstraint(1, ZONE_KEY, DNS, app("web"))


def test_spread_refuses_a_domain_that_would_exceed_max_skew() -> None:
    """Zones a=2, b=1, c=1 web pods, max_skew 1: a gives 2 + 1 - 1 = 2 > 1."""
    c = Cluster([zoned(1, "a", 4), zoned(2, "b", 8), zoned(3, "c", 16), zoned(4, None, 32)])
    for node_id in (1, 1, 2, 3):
        c.bind(P("web", {"app": "web"}), node_id)
    d = c.decide(P("web-5", {"app": "web"}, interpod=InterPodRules(spread=(SPREAD,))))
    assert reasons_of(d, 1) == [SPREAD_MISMATCH]
    assert reasons_of(d, 4) == [SPREAD_MISSING_LABEL]
    assert d.node_id == 2


def test_spread_counts_only_when_the_pod_matches_its_own_selector() -> None:
    c = Cluster([zoned(1, "a", 4), zoned(2, "b", 8)])
    c.bind(P("web", {"app": "web"}), 1)
    other = P("batch", {"app": "batch"}, interpod=InterPodRules(spread=(SPREAD,)))
    assert c.decide(other).node_id == 1  # 1 + 0 - 0 = 1 <= 1


def test_spread_domains_follow_the_node_selector_and_the_taints_policy() -> None:
    gpu = Taint("dedicated", "gpu", TaintEffect.NO_SCHEDULE)
    nodes = [zoned(1, "a", 4), zoned(2, "b", 8), zoned(3, "c", 16, taints=(gpu,))]
    c = Cluster(nodes)
    c.bind(P("web", {"app": "web"}), 1)
    c.bind(P("web", {"app": "web"}), 2)
    ignore = P("web-3", {"app": "web"}, interpod=InterPodRules(spread=(SPREAD,)))
    assert c.decide(ignore).node_id is None  # zone c (tainted, 0 pods) holds the minimum at 0
    honor = SpreadConstraint(1, ZONE_KEY, DNS, app("web"), TaintsPolicy.HONOR)
    assert (
        c.decide(P("web-3", {"app": "web"}, interpod=InterPodRules(spread=(honor,)))).node_id == 1
    )


def test_schedule_anyway_ranks_emptier_domains_first() -> None:
    c = Cluster([zoned(1, "a", 4), zoned(2, "b", 8)])
    c.bind(P("web", {"app": "web"}), 1)
    soft = SpreadConstraint(1, ZONE_KEY, ANY, app("web"))
    d = c.decide(P("web-2", {"app": "web"}, interpod=InterPodRules(spread=(soft,))))
    assert d.node_id == 2
    assert scores_of(d, 1) == {"topology_spread": 1} and scores_of(d, 2) == {"topology_spread": 0}


def test_a_full_node_is_too_many_pods() -> None:
    c = Cluster([w(1, 4, pod_limit=1), w(2, 8)])
    c.bind(P("a", {}), 1)
    d = c.decide(P("b", {}), PodConstraints())
    assert d.node_id == 2 and reasons_of(d, 1) == [TOO_MANY_PODS]
    assert 1 not in c.indexes  # out of the index while full


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        (InterPodRules(affinity=PodAffinity(required=(term("none"),))), AFFINITY_MISMATCH),
        (InterPodRules(anti_affinity=PodAffinity(required=(term("web"),))), ANTI_AFFINITY_MISMATCH),
        (InterPodRules(spread=(SpreadConstraint(1, "rack", DNS, app("web")),)), SPREAD_MISSING_LABEL),
    ],
)  # fmt: skip
def test_every_reason_reaches_the_decision(rules: InterPodRules, reason: str) -> None:
    c = Cluster([w(1, 4)])
    c.bind(P("web", {"app": "web"}), 1)
    d = c.decide(P("x", {"app": "x"}, interpod=rules))
    assert d.node_id is None and d.reasons == {"w1": [reason]}


# ---- the books and the indexes against a fresh count ------------------------------------

APPS = ("web", "db", "cache")
KEYS = (HOSTNAME_KEY, ZONE_KEY)
term_st = st.builds(
    lambda a, k, ns: PodAffinityTerm(None if a is None else app(a), k, ns),
    st.sampled_from(APPS) | st.none(), st.sampled_from(KEYS),
    st.sampled_from(((), ("default",), ("other",))),
)  # fmt: skip
affinity_st = st.none() | st.builds(
    lambda req, pref: PodAffinity(tuple(req), tuple(pref)),
    st.lists(term_st, max_size=2),
    st.lists(st.tuples(st.integers(1, 100), term_st), max_size=2),
)
spread_st = st.builds(
    lambda skew, key, when, a, honor: SpreadConstraint(
        skew, key, when, app(a), TaintsPolicy.HONOR if honor else TaintsPolicy.IGNORE
    ),
    st.integers(1, 2), st.sampled_from(KEYS), st.sampled_from((DNS, ANY)), st.sampled_from(APPS),
    st.booleans(),
)  # fmt: skip
rules_st = st.builds(
    lambda a, anti, spread: InterPodRules(a, anti, tuple({(c.topology_key, c.when_unsatisfiable): c
                                                           for c in spread}.values())) or None,
    affinity_st, affinity_st, st.lists(spread_st, max_size=2),
)  # fmt: skip
pod_st = st.tuples(
    st.sampled_from(APPS), st.sampled_from(("default", "other")), rules_st,
    st.integers(100, 1500), st.booleans(), st.integers(0, 3),
)  # fmt: skip
node_st = st.tuples(
    st.sampled_from(("a", "b", "c", None)), st.integers(1, 4), st.booleans(), st.integers(1, 6)
)


@settings(max_examples=300, deadline=None)
@given(
    nodes=st.lists(node_st, min_size=1, max_size=12),
    pods=st.lists(pod_st, min_size=1, max_size=25),
    strategy=st.sampled_from(sorted(STRATEGIES)),
    relabel=st.integers(0, 30),
)
def test_books_and_indexes_choose_what_a_fresh_scan_chooses(
    nodes: list[tuple[str | None, int, bool, int]],
    pods: list[tuple[str, str, InterPodRules | None, int, bool, int]],
    strategy: str,
    relabel: int,
) -> None:
    """Pods placed one after another, each bound where the scan says, some removed again: the
    books' counts and the indexes' choice equal a scan's that counts every pod afresh, every
    time; a relabelled node resets the books."""
    gpu = Taint("dedicated", "gpu", TaintEffect.NO_SCHEDULE)
    made = [zoned(i + 1, z, cpu, taints=(gpu,) if tainted else (), pod_limit=limit)
            for i, (z, cpu, tainted, limit) in enumerate(nodes)]  # fmt: skip
    c = Cluster(made)
    for step, (name, ns, rules, cpu_m, matching, remove) in enumerate(pods):
        bound = [i for i, p in c.pods.items() if p.node_id is not None]
        if remove == 0 and bound:
            c.unbind(bound[step % len(bound)])
        if step == relabel:
            node = c.nodes[1]
            node.labels = {ZONE_KEY: "c"} if node.labels.get(ZONE_KEY) != "c" else {}
            c.indexes.put(node)
            c.books.reset()
        labels = {"app": name} if matching else {"app": "x"}
        pod = P(name, labels, interpod=rules, namespace=ns, request=Resources(cpu_m, 0))
        decision = c.decide(pod, strategy=strategy)
        assert c.books.drift() == []
        if decision.node_id is not None:
            c.bind(pod, decision.node_id)


def test_selector_expressions_and_a_null_selector() -> None:
    sel = PodSelector((), (Requirement("app", "In", ("web", "db")),))
    assert sel.matches({"app": "db"}) and not sel.matches({"app": "x"})
    c = Cluster([w(1, 4), w(2, 8)])
    c.bind(P("web", {"app": "web"}), 1)
    null = InterPodRules(anti_affinity=PodAffinity(required=(PodAffinityTerm(None, HOSTNAME_KEY),)))
    assert c.decide(P("x", {"app": "web"}, interpod=null)).node_id == 1  # names no pod
