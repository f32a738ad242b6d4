"""The what-if preview (engine/what_if.py): tables of small clusters, each preview then held
to what the crash really does (what_if_world.World: the real controllers on a FakeClock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kube9_desktop.engine.constraints import Taint, TaintEffect, Toleration, TolerationOperator
from kube9_desktop.engine.errors import NotFound, UserError
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.noexecute import UNREACHABLE
from kube9_desktop.engine.what_if import MAX_FAIL_NODES, Fate
from tests.engine.what_if_world import World, predicted, snapshot

EXISTS = TolerationOperator.EXISTS


def fates(result: object) -> dict[str, tuple[str, str | None]]:
    return {f.name: (f.fate.value, f.node) for f in result.pods}  # type: ignore[attr-defined]


def test_bare_pods_move_largest_first_and_the_rest_wait_with_the_schedulers_reasons(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "c.db")
    n1 = w.node("n1", 4000)
    big = w.pod("big", 2000)
    small = w.pod("small", 1500)
    w.node("n2", 2500)
    before = snapshot(w)
    result = w.preview([n1])
    assert snapshot(w) == before  # nothing in the live cluster changed
    assert not check_invariants(w.cluster.state, evictions_settled=False,
                                eviction_scheduled=lambda _n: True)  # fmt: skip
    assert fates(result) == {"big": ("moves", "n2"), "small": ("pending", None)}
    pending = result.by_fate(Fate.PENDING)[0]
    assert pending.reasons is not None
    assert pending.reasons["n2"] == ("insufficient cpu: requested 1.5, free 0.5",)
    rooms = {r.name: r for r in result.nodes}
    assert rooms["n2"].cpu_m_free == 500 and rooms["n1"].failing
    assert result.resource_version == w.cluster.resource_version
    start = w.outcome()
    w.fail_and_settle([n1])
    assert w.outcome() == predicted(start, result)
    assert w.where(big) == "n2" and w.where(small) is None
    real = w.cluster.state.pods[small].decision
    assert real is not None and {n: tuple(r) for n, r in real.reasons.items()} == pending.reasons


def test_replicaset_pods_are_replaced_and_the_replacements_placed(tmp_path: Path) -> None:
    w = World(tmp_path / "c.db", strategy="worst-fit")
    n1 = w.node("n1", 2000)
    w.replicaset("web", 2, 900)
    n2 = w.node("n2", 4000)
    w.node("n3", 1000)
    result = w.preview([n1])
    assert {f.fate for f in result.pods} == {Fate.REPLACED}
    assert sorted(f.node for f in result.pods) == ["n2", "n2"]  # worst-fit: n2 has room
    assert all(f.owner == "ReplicaSet web" and f.replacement for f in result.pods)
    start = w.outcome()
    w.fail_and_settle([n1])
    assert w.outcome() == predicted(start, result)
    assert n2 in w.cluster.state.nodes


def test_a_strategy_of_its_own_is_previewed_without_changing_the_engines(tmp_path: Path) -> None:
    w = World(tmp_path / "c.db")
    n1 = w.node("n1", 2000)
    w.pod("p", 1000)
    w.node("roomy", 8000)
    w.node("tight", 1200)
    assert fates(w.preview([n1])) == {"p": ("moves", "tight")}  # best-fit packs
    assert fates(w.preview([n1], "worst-fit")) == {"p": ("moves", "roomy")}
    assert w.cluster.config.scheduler == "best-fit"


@pytest.mark.parametrize(
    ("tolerations", "fate"),
    [
        ((), "moves"),  # the unreachable NoExecute taint sends it away at once
        ((Toleration(UNREACHABLE, EXISTS, "", TaintEffect.NO_EXECUTE),), "stays"),  # forever
        ((Toleration(UNREACHABLE, EXISTS, "", TaintEffect.NO_EXECUTE, 60),), "stays"),  # 60 s
        ((Toleration("", EXISTS),), "stays"),  # tolerates everything
    ],
)
def test_tolerating_pods_stay(
    tmp_path: Path, tolerations: tuple[Toleration, ...], fate: str
) -> None:
    w = World(tmp_path / "c.db")
    n1 = w.node("n1")
    w.pod("p", tolerations=tolerations)
    w.node("n2")
    result = w.preview([n1])
    assert fates(result)["p"][0] == fate
    start = w.outcome()
    w.fail_and_settle([n1])
    assert w.outcome() == predicted(start, result)


def test_constraints_taints_selectors_cordon_and_max_pods_decide_as_the_scheduler(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "c.db", strategy="first-fit")
    n1 = w.node("n1", 8000, labels={"disk": "ssd"})
    w.node("cordoned", 8000, labels={"disk": "ssd"}, cordoned=True)
    w.node("gpu", 8000, taints=(Taint("gpu", "yes", TaintEffect.NO_SCHEDULE),))
    w.node("full", 8000, labels={"disk": "ssd"}, max_pods=1)
    w.pod("filler", 100, selector={"disk": "ssd"})  # first-fit: all three on n1
    ssd = w.pod("ssd", 100, selector={"disk": "ssd"})
    plain = w.pod("plain", 100)
    result = w.preview([n1])
    got = fates(result)
    # Equal requests go by id: the filler takes full's one slot, the others find nothing.
    assert got == {"filler": ("moves", "full"), "ssd": ("pending", None),
                   "plain": ("pending", None)}  # fmt: skip
    reasons = {f.name: f.reasons or {} for f in result.by_fate(Fate.PENDING)}
    assert reasons["ssd"]["cordoned"] == ("node(s) were unschedulable",)
    assert reasons["ssd"]["gpu"] == ("node(s) didn't match Pod's node affinity/selector",
                                     "node(s) had untolerated taint {gpu: yes}")  # fmt: skip
    assert reasons["plain"]["full"] == ("Too many pods",)
    start = w.outcome()
    w.fail_and_settle([n1])
    assert w.outcome() == predicted(start, result)
    assert w.where(ssd) == got["ssd"][1] and w.where(plain) == got["plain"][1]


def test_two_nodes_failing_together_and_the_guard_when_every_worker_would_fail(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "c.db")
    a, b = w.node("a", 2000), w.node("b", 2000)
    w.pod("pa", 1000)
    w.pod("pb", 1000)
    w.replicaset("web", 2, 500)
    c = w.node("c", 4000)
    both = w.preview([a, b])
    assert {f.node for f in both.pods} == {"c"}
    everything = w.preview([a, b, c])
    assert everything.evictions_paused
    assert {f.fate for f in everything.pods} == {Fate.STAYS}
    start = w.outcome()
    w.fail_and_settle([a, b])
    assert w.outcome() == predicted(start, both)


def test_a_replacement_nothing_takes_is_pending_and_pods_already_waiting_wait_on(
    tmp_path: Path,
) -> None:
    w = World(tmp_path / "c.db")
    n1 = w.node("n1", 2000)
    w.replicaset("web", 1, 2000)  # fills n1
    w.node("n2", 1000)
    w.pod("fits-n2", 800)
    waiting = w.pod("waiting", 1500)  # no room anywhere: pending before the failure
    assert w.where(waiting) is None
    result = w.preview([n1])
    (only,) = result.pods  # the waiting pod is not among the affected
    assert only.fate is Fate.PENDING and only.owner == "ReplicaSet web"
    assert only.replacement is not None and only.replacement != only.name
    assert only.reasons is not None
    assert only.reasons["n2"] == ("insufficient cpu: requested 2, free 0.2",)
    start = w.outcome()
    w.fail_and_settle([n1])
    assert w.outcome() == predicted(start, result)


def test_bad_requests_name_the_field(tmp_path: Path) -> None:
    w = World(tmp_path / "c.db")
    n1 = w.node("n1")
    with pytest.raises(UserError, match="fail_nodes: list at least one"):
        w.preview([])
    with pytest.raises(UserError, match=f"node {n1} is listed twice"):
        w.preview([n1, n1])
    with pytest.raises(NotFound, match="fail_nodes: node 99 not found"):
        w.preview([n1, 99])
    with pytest.raises(UserError, match=f"at most {MAX_FAIL_NODES}"):
        w.preview(list(range(1, MAX_FAIL_NODES + 2)))
    with pytest.raises(UserError, match="strategy: unknown strategy 'tightest'") as caught:
        w.preview([n1], "tightest")
    assert caught.value.field == "strategy"  # type: ignore[attr-defined]
