"""Taints, tolerations and node selectors: matching tables, every reason, and the filtered
indexes held to the full scan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.constraints import (
    CONTROL_PLANE_TAINT,
    NodeAffinity,
    NodeSelectorTerm,
    PodConstraints,
    Taint,
    TaintEffect,
    Toleration,
    TolerationOperator,
)
from kube9_desktop.engine.model import NodeStatus, Resources
from kube9_desktop.engine.scheduler import STRATEGIES, SchedulingIndexes, schedule
from kube9_desktop.engine.selectors import Requirement
from tests.engine.test_scheduler import N, master, req, w

NS, PNS, NE = TaintEffect.NO_SCHEDULE, TaintEffect.PREFER_NO_SCHEDULE, TaintEffect.NO_EXECUTE
EQ, EX = TolerationOperator.EQUAL, TolerationOperator.EXISTS
GPU = Taint("dedicated", "gpu", NS)

# (toleration, taint, tolerated?) -- Kubernetes' ToleratesTaint
MATCHES = [
    (Toleration("dedicated", EQ, "gpu", NS), GPU, True),
    (Toleration("dedicated", EQ, "gpu"), GPU, True),  # no effect: every effect
    (Toleration("dedicated", EQ, "gpu", PNS), GPU, False),  # another effect
    (Toleration("dedicated", EQ, "cpu", NS), GPU, False),  # another value
    (Toleration("dedicated", EQ, "", NS), GPU, False),  # Equal "" is a value too
    (Toleration("dedicated", EX), GPU, True),  # Exists: any value
    (Toleration("other", EX), GPU, False),  # another key
    (Toleration("", EX), GPU, True),  # empty key + Exists: everything
    (Toleration("", EX, effect=NE), GPU, False),  # ... of that effect only
    (Toleration("", EX), CONTROL_PLANE_TAINT, True),
    (Toleration("node-role.kubernetes.io/control-plane", EX, effect=NS), CONTROL_PLANE_TAINT,
     True),
    (Toleration("node-role.kubernetes.io/control-plane", EQ, ""), CONTROL_PLANE_TAINT, True),
]  # fmt: skip


@pytest.mark.parametrize(("toleration", "taint", "expected"), MATCHES)
def test_toleration_matching(toleration: Toleration, taint: Taint, expected: bool) -> None:
    assert toleration.tolerates(taint) is expected


def tolerating(*tolerations: Toleration, **selector: str) -> PodConstraints:
    return PodConstraints(tuple(tolerations), selector)


CP = Toleration("node-role.kubernetes.io/control-plane", EX, effect=NS)


def test_a_pod_that_tolerates_the_control_plane_taint_may_run_on_a_master() -> None:
    nodes = [master(1, "m1", Resources(8000, 8192)), w(2, 1)]
    assert schedule(req(2), nodes).node_id is None
    decision = schedule(req(2), nodes, constraints=tolerating(CP))
    assert decision.node_name == "m1"
    assert decision.reasons["w2"] == ["insufficient cpu: requested 2, free 1"]


def test_each_filter_gives_its_reason_in_kube_schedulers_words() -> None:
    nodes = [
        w(1, 4, taints=(GPU, Taint("spot", "", PNS))),
        w(2, 4, taints=(Taint("maintenance", "now", NE),), labels={"disktype": "ssd"}),
        w(3, 4, labels={"disktype": "hdd"}),
        w(4, 4, cordoned=True, labels={"disktype": "ssd"}),
        w(5, 1, labels={"disktype": "ssd"}),
    ]
    r = schedule(req(2), nodes, constraints=tolerating(disktype="ssd")).reasons
    assert r["w1"] == [
        "node(s) didn't match Pod's node affinity/selector",
        "node(s) had untolerated taint {dedicated: gpu}",  # PreferNoSchedule only ranks
    ]
    assert r["w2"] == ["node(s) had untolerated taint {maintenance: now}"]
    assert r["w3"] == ["node(s) didn't match Pod's node affinity/selector"]
    assert r["w4"] == ["node(s) were unschedulable"]
    assert r["w5"] == ["insufficient cpu: requested 2, free 1"]


def test_prefer_no_schedule_ranks_before_the_strategy() -> None:
    spot = Taint("spot", "", PNS)
    nodes = [w(1, 1, taints=(spot,)), w(2, 4)]  # best-fit alone would pack onto w1
    assert schedule(req(1), nodes).node_name == "w2"
    assert schedule(req(1), nodes, constraints=tolerating(Toleration("spot", EX))).node_name == (
        "w1"
    )
    assert schedule(req(2), nodes).node_name == "w2"
    assert schedule(req(4), [w(1, 4, taints=(spot,))]).node_name == "w1"  # still allowed


def test_a_node_selector_needs_every_label() -> None:
    nodes = [w(1, 4, labels={"a": "1"}), w(2, 8, labels={"a": "1", "b": "2"})]
    assert schedule(req(1), nodes, constraints=tolerating(a="1", b="2")).node_name == "w2"
    assert schedule(req(1), nodes, constraints=tolerating(a="2")).node_id is None


def test_required_node_affinity_ors_terms_and_ands_expressions() -> None:
    fast = NodeSelectorTerm((Requirement("disktype", "In", ("ssd", "nvme")),
                             Requirement("zone", "NotIn", ("c",))))  # fmt: skip
    big = NodeSelectorTerm((Requirement("cores", "Gt", ("31",)),))
    nodes = [
        w(1, 4, labels={"disktype": "ssd", "zone": "c"}),  # first term fails on zone
        w(2, 4, labels={"cores": "32"}),  # second term
        w(3, 8, labels={"disktype": "nvme"}),  # first term (zone absent: NotIn matches)
        w(4, 8, labels={"cores": "x"}),  # Gt of a non-integer: no match
        w(5, 8),
    ]
    decision = schedule(req(1), nodes, constraints=PodConstraints(
        affinity=NodeAffinity(required=(fast, big))))  # fmt: skip
    assert decision.node_name == "w2"  # best-fit among w2 and w3
    assert [c.node_name for c in decision.candidates if c.fits] == ["w2", "w3"]
    mismatch = ["node(s) didn't match Pod's node affinity/selector"]
    assert decision.reasons["w1"] == decision.reasons["w4"] == decision.reasons["w5"] == mismatch
    empty = NodeSelectorTerm(())  # matches nothing, as Kubernetes
    assert schedule(req(1), nodes, constraints=PodConstraints(
        affinity=NodeAffinity(required=(empty,)))).node_id is None  # fmt: skip


def test_preferred_node_affinity_adds_weights_before_the_strategy() -> None:
    ssd = NodeSelectorTerm((Requirement("disktype", "In", ("ssd",)),))
    zone_a = NodeSelectorTerm((Requirement("zone", "In", ("a",)),))
    nodes = [w(1, 1), w(2, 8, labels={"disktype": "ssd"}), w(3, 8, labels={"zone": "a"}),
             w(4, 16, labels={"disktype": "ssd", "zone": "a"})]  # fmt: skip
    prefer = PodConstraints(affinity=NodeAffinity(preferred=((60, ssd), (50, zone_a))))
    assert schedule(req(1), nodes, constraints=prefer).node_name == "w4"  # 110
    nodes[3].cordoned = True
    assert schedule(req(1), nodes, constraints=prefer).node_name == "w2"  # 60 > 50
    assert schedule(req(1), nodes).node_name == "w1"  # no preference: best-fit


# ---- the filtered indexes agree with the scan ------------------------------------------

TAINTS = [GPU, Taint("dedicated", "db", NS), Taint("spot", "", PNS), Taint("drain", "", NE),
          CONTROL_PLANE_TAINT]  # fmt: skip
TOLERATIONS = [Toleration("dedicated", EX), Toleration("dedicated", EQ, "gpu", NS),
               Toleration("spot", EX), Toleration("", EX), CP, Toleration("drain", EX, effect=NE)]  # fmt: skip
LABELS = [("zone", "a"), ("zone", "b"), ("disktype", "ssd"), ("rank", "4"), ("rank", "7")]

node_st = st.fixed_dictionaries(
    {
        "cpu": st.integers(0, 4000),
        "mem": st.integers(0, 4096),
        "taints": st.lists(st.sampled_from(TAINTS), max_size=2, unique=True),
        "labels": st.lists(st.sampled_from(LABELS), max_size=3, unique_by=lambda kv: kv[0]),
        "healthy": st.booleans() | st.just(True),
        "cordoned": st.booleans() | st.just(False),
    }
)
EXPRESSIONS = [Requirement("zone", "In", ("a", "b")), Requirement("zone", "NotIn", ("a",)),
               Requirement("disktype", "Exists"), Requirement("disktype", "DoesNotExist"),
               Requirement("rank", "Gt", ("3",)), Requirement("rank", "Lt", ("5",))]  # fmt: skip
term_st = st.builds(
    lambda rs: NodeSelectorTerm(tuple(rs)), st.lists(st.sampled_from(EXPRESSIONS), max_size=2)
)
affinity_st = st.none() | st.builds(
    lambda req, pref: NodeAffinity(tuple(req), tuple(pref)),
    st.lists(term_st, max_size=2),
    st.lists(st.tuples(st.integers(1, 100), term_st), max_size=2),
)
constraints_st = st.builds(
    lambda tols, sel, aff: PodConstraints(tuple(tols), dict(sel), aff),
    st.lists(st.sampled_from(TOLERATIONS), max_size=2),
    st.lists(st.sampled_from(LABELS), max_size=2, unique_by=lambda kv: kv[0]),
    affinity_st,
)


def make(i: int, spec: dict[str, object]) -> N:
    return N(
        i, f"n{i}", Resources(spec["cpu"], spec["mem"]),  # type: ignore[arg-type]
        status=NodeStatus.HEALTHY if spec["healthy"] else NodeStatus.UNHEALTHY,
        cordoned=bool(spec["cordoned"]), labels=dict(spec["labels"]),  # type: ignore[call-overload]
        taints=tuple(spec["taints"]),  # type: ignore[arg-type]
    )  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    nodes=st.lists(node_st, max_size=30),
    pods=st.lists(
        st.tuples(st.integers(1, 2000), st.integers(0, 2048), constraints_st),
        min_size=1,
        max_size=8,
    ),
    strategy=st.sampled_from(sorted(STRATEGIES)),
    retaint=st.lists(st.tuples(st.integers(0, 29), st.lists(st.sampled_from(TAINTS), max_size=2,
                                                             unique=True)), max_size=3),
)  # fmt: skip
def test_filtered_choice_equals_scan_choice(
    nodes: list[dict[str, object]],
    pods: list[tuple[int, int, PodConstraints]],
    strategy: str,
    retaint: list[tuple[int, list[Taint]]],
) -> None:
    """Pods placed one after another (each booked on its node), taints changed between them:
    the indexes choose what schedule() chooses over every node, every time."""
    snapshot = {i + 1: make(i + 1, spec) for i, spec in enumerate(nodes)}
    indexes = SchedulingIndexes()
    for n in snapshot.values():
        indexes.put(n)
    for step, (cpu, mem, constraints) in enumerate(pods):
        if step < len(retaint) and snapshot:
            node = snapshot[retaint[step][0] % len(snapshot) + 1]
            node.taints = tuple(retaint[step][1])
            indexes.put(node)
        r = Resources(cpu, mem)
        expected = schedule(r, list(snapshot.values()), strategy, constraints=constraints).node_id
        got = indexes.pick(STRATEGIES[strategy], r, constraints, snapshot)
        assert got == expected
        if got is not None:
            snapshot[got].allocated = snapshot[got].allocated + r
            indexes.put(snapshot[got])


def test_label_indexes_follow_nodes_that_leave_and_return() -> None:
    ssd = {"disktype": "ssd"}
    a, b = w(1, 4, labels=ssd), w(2, 8, labels=ssd)
    nodes = {1: a, 2: b}
    indexes = SchedulingIndexes()
    for n in nodes.values():
        indexes.put(n)
    pick = STRATEGIES["best-fit"]
    assert indexes.pick(pick, req(1), tolerating(disktype="ssd"), nodes) == 1
    a.status = NodeStatus.UNHEALTHY
    indexes.put(a)
    assert indexes.pick(pick, req(1), tolerating(disktype="ssd"), nodes) == 2
    assert 1 not in indexes
    a.status = NodeStatus.HEALTHY
    indexes.put(a)
    assert indexes.pick(pick, req(1), tolerating(disktype="ssd"), nodes) == 1
    indexes.discard(a)
    assert indexes.pick(pick, req(1), tolerating(disktype="ssd"), nodes) == 2
    assert len(indexes) == 1


def test_unconstrained_pods_use_only_the_untainted_index() -> None:
    m = master(1, "m1", Resources(8000, 8192))
    nodes = {1: m, 2: w(2, 4)}
    indexes = SchedulingIndexes()
    for n in nodes.values():
        indexes.put(n)
    assert list(indexes.plain.ids()) == [2]
    assert indexes.group_of(1) == (CONTROL_PLANE_TAINT,)
    assert indexes.pick(STRATEGIES["best-fit"], req(1), PodConstraints(), nodes) == 2
    assert indexes.pick(STRATEGIES["best-fit"], req(5), PodConstraints(), nodes) is None
    assert indexes.pick(STRATEGIES["best-fit"], req(5), tolerating(CP), nodes) == 1


def test_manifests_show_taints_tolerations_and_the_node_selector() -> None:
    from datetime import UTC, datetime

    from kube9_desktop.engine.manifests import node_manifest, pod_spec_manifest
    from kube9_desktop.engine.model import ContainerSpec, NodeType
    from kube9_desktop.engine.state import NodeState
    from kube9_desktop.engine.workloads import PodTemplate

    now = datetime(2026, 1, 1, tzinfo=UTC)
    node = NodeState(1, "u", "m1", NodeType.MASTER, Resources(1000, 1024), NodeStatus.HEALTHY,
                     "", now, "virtual", taints=(CONTROL_PLANE_TAINT, GPU))  # fmt: skip
    assert node_manifest(node.view(now))["spec"]["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    ]
    template = PodTemplate(
        Resources(100, 0), (ContainerSpec("c", "x", 100, 0),),
        tolerations=(Toleration("drain", EX, "", NE, 30), Toleration("", EX)),
        node_selector={"disktype": "ssd"},
    )  # fmt: skip
    spec = pod_spec_manifest(template)
    assert spec["nodeSelector"] == {"disktype": "ssd"}
    assert spec["tolerations"] == [
        {"key": "drain", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        {"operator": "Exists"},
    ]
    assert "tolerations" not in pod_spec_manifest(PodTemplate(Resources(100, 0), ()))
    zone = NodeSelectorTerm((Requirement("zone", "In", ("a",)), Requirement("gpu", "Exists")))
    affine = PodTemplate(Resources(100, 0), (), node_affinity=NodeAffinity((zone,), ((7, zone),)))
    expressions = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                                        {"key": "gpu", "operator": "Exists"}]}  # fmt: skip
    assert pod_spec_manifest(affine)["affinity"] == {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [expressions]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 7, "preference": expressions}],
    }}  # fmt: skip
    assert PodTemplate.from_json(affine.to_json()) == affine
