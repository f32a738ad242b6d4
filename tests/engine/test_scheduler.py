"""Best-fit and friends on hand-made clusters, every rejection reason, and index == scan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.constraints import CONTROL_PLANE_TAINT, Taint
from kube9_desktop.engine.model import NodeStatus, NodeType, Resources
from kube9_desktop.engine.scheduler import STRATEGIES, SchedulingIndex, fit, is_eligible, schedule

RUNNING = {"kubelet": "running", "container_runtime": "running"}


@dataclass
class N:
    """A node snapshot as the scheduler sees it."""

    id: int
    name: str
    capacity: Resources
    allocated: Resources = field(default_factory=Resources)
    node_type: NodeType = NodeType.WORKER
    status: NodeStatus = NodeStatus.HEALTHY
    components: Mapping[str, str] = field(default_factory=lambda: dict(RUNNING))
    cordoned: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    deleting: bool = False
    pod_ids: frozenset[int] = frozenset()
    pod_limit: int = 110


def master(node_id: int, name: str, capacity: Resources, allocated: Resources | None = None) -> N:
    """A master as the engine makes one: it carries the control-plane NoSchedule taint."""
    return N(node_id, name, capacity, allocated or Resources(), node_type=NodeType.MASTER,
             taints=(CONTROL_PLANE_TAINT,))  # fmt: skip


def w(
    node_id: int, cpu: float, mem: int = 8192, used_cpu: float = 0, used_mem: int = 0, **kw: object
) -> N:
    return N(node_id, f"w{node_id}", Resources(int(cpu * 1000), mem),
             Resources(int(used_cpu * 1000), used_mem), **kw)  # type: ignore[arg-type]  # fmt: skip


def req(cpu: float, mem: int = 0) -> Resources:
    return Resources(int(cpu * 1000), mem)


def test_best_fit_picks_least_free_cpu_after_placement() -> None:
    nodes = [w(1, 4, used_cpu=2.5), w(2, 4, used_cpu=3), w(3, 8)]  # free 1.5, 1.0, 8
    assert schedule(req(1), nodes).node_name == "w2"


def test_best_fit_skips_nodes_that_do_not_fit() -> None:
    nodes = [w(1, 1), w(2, 4, used_cpu=1), w(3, 2)]  # free 1, 3, 2
    assert schedule(req(1.5), nodes).node_name == "w3"


def test_best_fit_tie_goes_to_less_free_memory_then_lowest_id() -> None:
    nodes = [w(1, 2, mem=4096), w(2, 2, mem=2048), w(3, 2, mem=2048)]
    assert schedule(req(1, 256), nodes).node_name == "w2"
    same = [w(5, 2), w(4, 2), w(6, 2)]
    assert schedule(req(1), same).node_name == "w4"


def test_masters_never_receive_pods_that_do_not_tolerate_their_taint() -> None:
    m1 = master(1, "m1", Resources(64000, 65536))
    decision = schedule(req(1), [m1, w(2, 1)])
    assert decision.node_name == "w2"
    assert (
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
        in decision.reasons["m1"]
    )
    assert schedule(req(2), [m1, w(2, 1)]).node_id is None


def test_every_rejection_reason_is_reported() -> None:
    m = master(1, "m", Resources(1000, 512), Resources(1000, 512))
    unhealthy = w(2, 4, status=NodeStatus.UNHEALTHY)
    kubelet_down = w(3, 4, components={"kubelet": "failed", "container_runtime": "running"})
    runtime_down = w(4, 4, components={"kubelet": "running", "container_runtime": "stopped"})
    cpu_short = w(5, 2, used_cpu=1)
    mem_short = w(6, 4, mem=1024, used_mem=900)
    cordoned = w(7, 4, cordoned=True)
    deleting = w(8, 4, cordoned=True, deleting=True)
    decision = schedule(
        req(2, 256),
        [m, unhealthy, kubelet_down, runtime_down, cpu_short, mem_short, cordoned, deleting],
    )
    assert decision.node_id is None
    r = decision.reasons
    assert r["m"] == [
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
        "insufficient cpu: requested 2, free 0",
        "insufficient memory: requested 256Mi, free 0Mi",
    ]
    assert r["w2"] == ["node is unhealthy (not ready)"]
    assert r["w3"] == ["kubelet is failed"]
    assert r["w4"] == ["container_runtime is stopped"]
    assert r["w5"] == ["insufficient cpu: requested 2, free 1"]
    assert r["w6"] == ["insufficient memory: requested 256Mi, free 124Mi"]
    assert r["w7"] == ["node(s) were unschedulable"]
    assert r["w8"] == ["node(s) were unschedulable (being deleted)"]


def test_fit_is_empty_when_the_node_fits() -> None:
    assert fit(req(1, 100), w(1, 1, mem=100)) == []
    assert is_eligible(w(1, 1))


def test_first_fit_and_worst_fit() -> None:
    nodes = [w(3, 4, used_cpu=3), w(1, 2), w(2, 8)]  # free 1, 2, 8
    assert schedule(req(1), nodes, "first-fit").node_name == "w1"
    assert schedule(req(1), nodes, "worst-fit").node_name == "w2"
    assert schedule(req(1), nodes, "best-fit").node_name == "w3"


def test_candidates_are_ordered_best_first_and_can_be_limited() -> None:
    nodes = [w(i, i) for i in range(1, 11)]
    decision = schedule(req(3), nodes, explain_limit=4)
    assert [c.node_name for c in decision.candidates[:2]] == ["w3", "w4"]
    assert len(decision.candidates) == 4
    assert decision.omitted == 6


# ---- the index agrees with the pure scan -----------------------------------------------

node_st = st.tuples(
    st.integers(0, 8000),  # free cpu
    st.integers(0, 8192),  # free mem
)


@settings(max_examples=300, deadline=None)
@given(
    nodes=st.lists(node_st, min_size=0, max_size=40),
    request=st.tuples(st.integers(1, 8000), st.integers(0, 8192)),
    strategy=st.sampled_from(sorted(STRATEGIES)),
)
def test_index_choice_equals_scan_choice(
    nodes: list[tuple[int, int]], request: tuple[int, int], strategy: str
) -> None:
    snapshot = [N(i + 1, f"n{i + 1}", Resources(c, m)) for i, (c, m) in enumerate(nodes)]
    index = SchedulingIndex()
    for n in snapshot:
        index.put(n.id, n.capacity - n.allocated)
    r = Resources(*request)
    assert STRATEGIES[strategy].pick(index, r) == schedule(r, snapshot, strategy).node_id


@settings(max_examples=200, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(1, 30), st.integers(-500, 8000), st.integers(-500, 8192)),
        min_size=1,
        max_size=120,
    ),
    drop=st.sets(st.integers(1, 30), max_size=10),
    request=st.tuples(st.integers(0, 8000), st.integers(0, 8192)),
    strategy=st.sampled_from(sorted(STRATEGIES)),
)
def test_index_with_short_runs_agrees_with_the_scan_after_moves(
    moves: list[tuple[int, int, int]], drop: set[int], request: tuple[int, int], strategy: str
) -> None:
    """Runs of at most 4 keys split and empty out all the time; answers must not change."""
    index = SchedulingIndex(load=2)
    free: dict[int, Resources] = {}
    for node_id, cpu, mem in moves:
        free[node_id] = Resources(cpu, mem)
        index.put(node_id, free[node_id])
    for node_id in drop:
        free.pop(node_id, None)
        index.discard(node_id)
    assert len(index) == len(free) and set(index.ids()) == set(free)
    snapshot = [N(i, f"n{i}", f) for i, f in sorted(free.items())]
    r = Resources(*request)
    assert STRATEGIES[strategy].pick(index, r) == schedule(r, snapshot, strategy).node_id


def test_index_walks_across_runs() -> None:
    """Best-fit skips memory-starved keys forward, worst-fit walks down, across short runs."""
    index = SchedulingIndex(load=1)
    for node_id, cpu in enumerate([8000, 7000, 6000, 5000, 4000, 3000, 2000], 1):
        index.put(node_id, Resources(cpu, 10 if cpu >= 6000 or cpu <= 3000 else 5000))
    assert index.worst_fit(Resources(100, 1000)) == 4
    assert index.best_fit(Resources(100, 1000)) == 5
    assert index.first_fit(Resources(100, 1000)) == 4
    assert index.worst_fit(Resources(100, 9000)) is None
    assert index.best_fit(Resources(100, 9000)) is None


def test_index_follows_binds_and_removals() -> None:
    index = SchedulingIndex()
    index.put(1, Resources(2000, 1000))
    index.put(2, Resources(1000, 1000))
    assert index.best_fit(Resources(1000, 0)) == 2
    index.put(2, Resources(500, 1000))  # a pod was bound to node 2
    assert index.best_fit(Resources(1000, 0)) == 1
    index.discard(1)
    assert index.best_fit(Resources(1000, 0)) is None
    assert len(index) == 1


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_memory_constrained_choice(strategy: str) -> None:
    index = SchedulingIndex()
    for i, (cpu, mem) in enumerate([(1000, 100), (1000, 5000), (3000, 100), (3000, 6000)], 1):
        index.put(i, Resources(cpu, mem))
    assert STRATEGIES[strategy].pick(index, Resources(500, 4000)) in (2, 4)
