"""Priority classes and preemption: the pure plan by tables and hypothesis, then the cluster's
commit (victims deleted with a Preempted event, the preemptor bound, priorities stored)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.constraints import NO_CONSTRAINTS, PodConstraints, Taint
from kube9_desktop.engine.errors import Conflict, Unschedulable, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.interpod import InterPodRules, PodAffinity, PodAffinityTerm, PodSelector
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.model import PodPhase, Resources
from kube9_desktop.engine.priority import PreemptionPolicy, PriorityClassSpec
from kube9_desktop.engine.scheduler import candidate
from kube9_desktop.engine.scheduler.fit import TOO_MANY_PODS, UNSCHEDULABLE
from kube9_desktop.engine.scheduler.preemption import NO_VICTIMS, NOT_HELPFUL, _Lighter, plan
from kube9_desktop.engine.scheduler.topology import ScanCounts, topology_check
from kube9_desktop.engine.store.store import Store
from tests.engine.test_cluster import open_cluster, pod, ready_node
from tests.engine.test_scheduler import N, w


@dataclass
class P:
    """A bound pod as preemption sees it."""

    id: int
    node_id: int | None
    priority: int
    request: Resources
    name: str = ""
    namespace: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    interpod: InterPodRules | None = None

    def __post_init__(self) -> None:
        self.name = self.name or f"p{self.id}"


def cluster_of(nodes: list[N], pods: list[P]) -> dict[int, N]:
    """Nodes whose books hold ``pods`` (allocated and pod ids)."""
    out: dict[int, N] = {}
    for n in nodes:
        mine = [p for p in pods if p.node_id == n.id]
        used = Resources(sum(p.request.cpu_m for p in mine), sum(p.request.mem_mi for p in mine))
        n.allocated = used
        n.pod_ids = frozenset(p.id for p in mine)
        out[n.id] = n
    return out


def cpu(c: float) -> Resources:
    return Resources(int(c * 1000), 0)


def run(request: Resources, nodes: dict[int, N], pods: list[P], priority: int = 100,
        constraints: PodConstraints = NO_CONSTRAINTS, labels: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]  # fmt: skip
    return plan(request, constraints, namespace="default", labels=labels or {},
                priority=priority, nodes=nodes, pods=pods)  # fmt: skip


def victims(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.pod for v in found.victims]


# ---- the plan, by table --------------------------------------------------------------------


def test_the_docstring_example_reprieves_the_pod_that_can_return() -> None:
    pods = [P(1, 1, 10, cpu(2)), P(2, 1, 1, cpu(1)), P(3, 1, 1, cpu(1))]
    found = run(cpu(3), cluster_of([w(1, 4)], pods), pods)
    assert found.node_name == "w1"
    assert victims(found) == ["default/p1", "default/p3"]  # b (id 2) is older: back first


def test_only_strictly_lower_priority_pods_are_victims() -> None:
    pods = [P(1, 1, 100, cpu(2)), P(2, 1, 99, cpu(2))]  # equal priority is never a victim
    found = run(cpu(2), cluster_of([w(1, 4)], pods), pods)
    assert victims(found) == ["default/p2"]
    found = run(cpu(3), cluster_of([w(1, 4)], pods), pods)
    assert found.node_id is None
    (only,) = found.nodes
    assert only.outcome == "no_victims" and only.reasons[0] == NO_VICTIMS


def test_nodes_preemption_cannot_help_are_rejected_with_their_reasons() -> None:
    spot = Taint("spot", "yes", "NoSchedule")
    nodes = [w(1, 2, cordoned=True), w(2, 2, taints=(spot,)), w(3, 2, labels={"disk": "hdd"})]
    pods = [P(i, i, 0, cpu(2)) for i in (1, 2, 3)]
    sel = PodConstraints(node_selector={"disk": "hdd"})
    found = run(cpu(1), cluster_of(nodes, pods), pods, constraints=sel)
    by = {n.node_name: n for n in found.nodes}
    assert found.node_name == "w3" and victims(found) == ["default/p3"]
    assert by["w1"].outcome == "not_helpful"
    assert by["w1"].reasons[0] == NOT_HELPFUL and UNSCHEDULABLE in by["w1"].reasons
    assert by["w2"].outcome == "not_helpful"
    assert any("untolerated taint {spot: yes}" in r for r in by["w2"].reasons)
    assert found.nodes[0].outcome == "chosen"


@pytest.mark.parametrize(
    ("layout", "expected", "why"),
    [
        # node: [(priority, cores)], each node 4 cores; the pod wants 2 cores at priority 100
        ({1: [(50, 4)], 2: [(10, 2), (10, 2)]}, "w2", "lowest highest-victim priority"),
        ({1: [(10, 2), (10, 2)], 2: [(10, 2), (5, 2)]}, "w2", "smallest sum of priorities"),
        ({1: [(1, 1), (1, 1), (1, 2)], 2: [(1, 2), (1, 2)]}, "w2", "smallest sum (offset)"),
        ({1: [(10, 4)], 2: [(10, 4)]}, "w2", "the newest highest-priority victim"),
    ],
)
def test_the_node_is_chosen_in_kubernetes_order(
    layout: dict[int, list[tuple[int, float]]], expected: str, why: str
) -> None:
    ids = itertools.count(1)
    pods = [P(next(ids), node, prio, cpu(c)) for node, items in layout.items()
            for prio, c in items]  # fmt: skip
    found = run(cpu(2), cluster_of([w(1, 4), w(2, 4)], pods), pods)
    assert found.node_name == expected, why
    loser = next(n for n in found.nodes if n.node_name != expected)
    assert loser.outcome == "candidate" and loser.victims, "the other node says what it needed"


def test_fewest_victims_breaks_a_tie_in_the_sum() -> None:
    # w1 needs one victim of priority 1; w2 also one, but w1's victim... the same sum means
    # the same count (offset), so the tie goes on to the newest victim, then the node id.
    pods = [P(1, 1, 1, cpu(4)), P(2, 2, 1, cpu(2)), P(3, 2, 1, cpu(2))]
    found = run(cpu(4), cluster_of([w(1, 4), w(2, 4)], pods), pods)
    assert found.node_name == "w1" and victims(found) == ["default/p1"]


def test_the_pod_limit_is_resolved_by_removing_a_pod() -> None:
    pods = [P(1, 1, 0, cpu(0.1)), P(2, 1, 5, cpu(0.1))]
    nodes = cluster_of([w(1, 4, pod_limit=2)], pods)
    assert TOO_MANY_PODS in candidate(nodes[1], cpu(0.1)).reasons
    found = run(cpu(0.1), nodes, pods)
    assert victims(found) == ["default/p1"]  # the lowest-priority one goes


def test_required_anti_affinity_is_resolved_by_removing_the_matching_pod() -> None:
    sel = PodSelector(match_labels=(("app", "db"),))
    anti = InterPodRules(anti_affinity=PodAffinity(
        required=(PodAffinityTerm(selector=sel, topology_key="kubernetes.io/hostname"),)))  # fmt: skip
    pods = [P(1, 1, 0, cpu(0.5), labels={"app": "db"}), P(2, 1, 0, cpu(0.5), labels={"app": "web"})]
    nodes = cluster_of([w(1, 4)], pods)
    found = run(cpu(1), nodes, pods, constraints=PodConstraints(interpod=anti))
    assert victims(found) == ["default/p1"], "only the pod that crowds it, not the other one"


def test_no_lower_priority_pods_anywhere_means_no_node() -> None:
    pods = [P(1, 1, 100, cpu(4))]
    found = run(cpu(1), cluster_of([w(1, 4)], pods), pods, priority=100)
    assert found.node_id is None and found.victims == ()


# ---- the plan, by hypothesis ---------------------------------------------------------------


def fits(request: Resources, node: N, gone: list[P], pods: list[P],
         constraints: PodConstraints, nodes: dict[int, N]) -> bool:  # fmt: skip
    gone_ids = {p.id for p in gone}
    check = None
    if constraints.interpod is not None:
        rest = [p for p in pods if p.id not in gone_ids]
        check = topology_check("default", {}, constraints, ScanCounts(rest, nodes), nodes)
    return candidate(_Lighter(node, gone), request, constraints, check).fits


ANTI = InterPodRules(anti_affinity=PodAffinity(required=(PodAffinityTerm(
    selector=PodSelector(match_labels=(("app", "db"),)),
    topology_key="kubernetes.io/hostname"),)))  # fmt: skip


@st.composite
def clusters(draw: st.DrawFn) -> tuple[dict[int, N], list[P], Resources, int, PodConstraints]:
    n_nodes = draw(st.integers(1, 3))
    nodes = [w(i, draw(st.integers(1, 6)), pod_limit=draw(st.integers(1, 6)))
             for i in range(1, n_nodes + 1)]  # fmt: skip
    pods: list[P] = []
    for n in nodes:
        room = n.capacity.cpu_m
        for _ in range(draw(st.integers(0, min(5, n.pod_limit)))):
            c = draw(st.integers(1, 4)) * 250
            if c > room:
                break
            room -= c
            label = draw(st.sampled_from(["db", "web"]))
            pods.append(P(len(pods) + 1, n.id, draw(st.integers(0, 5)), Resources(c, 0),
                          labels={"app": label}))  # fmt: skip
    constraints = draw(st.sampled_from([NO_CONSTRAINTS, PodConstraints(interpod=ANTI)]))
    request = Resources(draw(st.integers(1, 12)) * 250, 0)
    return cluster_of(nodes, pods), pods, request, draw(st.integers(0, 6)), constraints


@settings(max_examples=300, deadline=None)
@given(clusters())
def test_victims_are_minimal_and_always_of_lower_priority(
    case: tuple[dict[int, N], list[P], Resources, int, PodConstraints],
) -> None:
    nodes, pods, request, priority, constraints = case
    found = run(request, nodes, pods, priority=priority, constraints=constraints)
    by_id = {p.id: p for p in pods}
    for outcome in found.nodes:
        chosen = [by_id[v.pod_id] for v in outcome.victims]
        assert all(v.priority < priority for v in chosen), "never an equal or higher one"
        assert all(v.node_id == outcome.node_id for v in chosen)
        if outcome.outcome not in ("chosen", "candidate"):
            continue
        node = nodes[outcome.node_id]
        assert fits(request, node, chosen, pods, constraints, nodes)
        for k in range(len(chosen)):
            for subset in itertools.combinations(chosen, k):
                assert not fits(request, node, list(subset), pods, constraints, nodes), (
                    f"{[p.name for p in subset]} would have been enough on {node.name}"
                )
    if found.node_id is None:
        # no node could have been helped by removing every lower-priority pod
        for node in nodes.values():
            lower = [p for p in pods if p.node_id == node.id and p.priority < priority]
            if fits(request, node, [], pods, constraints, nodes):
                continue
            assert not lower or not fits(request, node, lower, pods, constraints, nodes)


# ---- classes and the cluster's commit ------------------------------------------------------


def test_classes_resolve_at_creation_and_unknown_ones_are_refused(cluster: Cluster) -> None:
    ready_node(cluster, "n1", 4000)
    cluster.create_priority_class(PriorityClassSpec("high", 1000))
    cluster.create_priority_class(PriorityClassSpec("base", 5, global_default=True))
    a = cluster.create_pod(pod("a", 100))
    b = cluster.create_pod(_named(pod("b", 100), "high"))  # type: ignore[arg-type]
    assert (a.view.spec.priority_class_name, a.view.spec.priority) == ("base", 5)
    assert (b.view.spec.priority_class_name, b.view.spec.priority) == ("high", 1000)
    with pytest.raises(UserError, match="no PriorityClass with name nope was found"):
        cluster.create_pod(_named(pod("c", 100), "nope"))  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="already marked as default"):
        cluster.create_priority_class(PriorityClassSpec("other", 1, global_default=True))
    with pytest.raises(UserError, match="value: 1000000001 is out of range"):
        cluster.create_priority_class(PriorityClassSpec("huge", 1_000_000_001))
    with pytest.raises(UserError, match="reserved"):
        cluster.create_priority_class(PriorityClassSpec("system-mine", 1))
    with pytest.raises(UserError, match="built in"):
        cluster.delete_priority_class("system-node-critical")
    cluster.delete_priority_class("high")
    assert cluster.state.pods[b.view.id].spec.priority == 1000, "fixed for the pod's life"


def _fields(spec: object) -> dict[str, object]:
    return {f: getattr(spec, f) for f in spec.__dataclass_fields__}  # type: ignore[attr-defined]


def _named(spec: object, class_name: str) -> object:
    return spec.__class__(**{**_fields(spec), "priority_class_name": class_name})  # type: ignore[call-arg]


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return open_cluster(f"sqlite:///{tmp_path}/c.db")


def test_a_high_priority_pod_preempts_the_fewest_on_the_best_node(
    cluster: Cluster, tmp_path: Path
) -> None:
    ready_node(cluster, "n1", 4000)
    ready_node(cluster, "n2", 4000)
    cluster.create_priority_class(PriorityClassSpec("low", 10))
    cluster.create_priority_class(PriorityClassSpec("mid", 50))
    cluster.create_priority_class(PriorityClassSpec("high", 1000))
    cluster.create_priority_class(PriorityClassSpec("polite", 1000,
                                                    PreemptionPolicy.NEVER))  # fmt: skip
    # n1: one mid pod of 3 cores and a low one of 1; n2: two low pods of 2 cores each
    for name, cls, c in (("m", "mid", 3000), ("l1", "low", 1000), ("l2", "low", 2000),
                         ("l3", "low", 2000)):  # fmt: skip
        cluster.create_pod(_named(pod(name, c), cls))  # type: ignore[arg-type]
    on = {p.name: cluster.state.nodes[p.node_id].name for p in cluster.state.pods.values()
          if p.node_id is not None}  # fmt: skip
    assert on == {"m": "n1", "l1": "n1", "l2": "n2", "l3": "n2"}
    with pytest.raises(Unschedulable):
        cluster.create_pod(_named(pod("shy", 2000), "polite"))  # type: ignore[arg-type]
    created = cluster.create_pod(_named(pod("vip", 2000), "high"))  # type: ignore[arg-type]
    pre = created.decision.preemption
    assert pre is not None and pre.node_name == "n2"  # n1 would need the mid pod (50 > 10)
    # one 2-core pod is enough; the older l2 is reprieved first, so the newer l3 goes
    assert [v.pod for v in pre.victims] == ["default/l3"]
    assert created.view.node_name == "n2" and created.view.nominated_node_name == "n2"
    assert {n.node_name: n.outcome for n in pre.nodes} == {"n2": "chosen", "n1": "candidate"}
    assert [v.pod for v in next(n for n in pre.nodes if n.node_name == "n1").victims] == [
        "default/m"
    ]
    assert "l3" not in {p.name for p in cluster.state.pods.values()}
    evs = [e for e in created.changes.events if e.kind is EventKind.POD_PREEMPTED]
    assert [e.message for e in evs] == ["Preempted by default/vip on node n2"]
    assert created.decision.to_json()["preemption"]["victims"][0]["pod"] == "default/l3"
    check_invariants(cluster.state)
    # the record survives a restart: priority, class, decision with its preemption
    reopened = open_cluster(f"sqlite:///{tmp_path}/c.db")
    vip = next(p for p in reopened.state.pods.values() if p.name == "vip")
    assert (vip.spec.priority, vip.spec.priority_class_name) == (1000, "high")
    assert vip.decision is not None and vip.decision.preemption is not None
    assert vip.decision.preemption.victims[0].pod == "default/l3"
    assert set(reopened.state.priority_classes) >= {"low", "mid", "high", "polite"}
    assert reopened.state.pods[vip.id].phase is PodPhase.SCHEDULED
    Store.close(reopened.store)


def test_pending_pods_are_placed_highest_priority_first(cluster: Cluster) -> None:
    from kube9_desktop.engine.cluster import pods as pod_ops

    ready_node(cluster, "n1", 2000)
    cluster.create_priority_class(PriorityClassSpec("high", 1000, PreemptionPolicy.NEVER))
    blocker = cluster.create_pod(pod("blocker", 2000))
    with cluster.transaction() as t:  # (as a ReplicaSet's replicas wait: allow_pending)
        pod_ops.create_pod(t, pod("old-low", 1500), allow_pending=True)
        pod_ops.create_pod(t, _named(pod("new-high", 1500), "high"), allow_pending=True)  # type: ignore[arg-type]
    cluster.delete_pod(blocker.view.id)
    phases = {p.name: p.phase for p in cluster.state.pods.values()}
    assert phases == {"old-low": PodPhase.PENDING, "new-high": PodPhase.SCHEDULED}
