"""NoExecute taints: the condition taints of unhealthy nodes and toleration_seconds, as tables
over ``now`` and as the controllers carry them out with a FakeClock (no sleeping)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.clock import FakeClock
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.constraints import Taint, TaintEffect, Toleration, TolerationOperator
from kube9_desktop.engine.errors import Unschedulable
from kube9_desktop.engine.events import Event, EventBus, EventKind
from kube9_desktop.engine.health import HealthConfig, HealthMonitor
from kube9_desktop.engine.heartbeat import HeartbeatReport, Heartbeats
from kube9_desktop.engine.invariants import check_invariants, check_placements
from kube9_desktop.engine.model import (
    ContainerSpec,
    NodeSpec,
    NodeStatus,
    NodeType,
    PodSpec,
    Resources,
)
from kube9_desktop.engine.noexecute import NOT_READY, UNREACHABLE, Action, Verdict, verdict
from kube9_desktop.engine.store.store import Store
from kube9_desktop.engine.taint_eviction import TaintEvictionConfig, TaintEvictionController

H, U, INIT, F, R = (NodeStatus.HEALTHY, NodeStatus.UNHEALTHY, NodeStatus.INITIALIZING,
                    NodeStatus.FAILED, NodeStatus.RECOVERING)  # fmt: skip
NX, NS = TaintEffect.NO_EXECUTE, TaintEffect.NO_SCHEDULE
EXISTS = TolerationOperator.EXISTS
UNREACH_NX = Taint(UNREACHABLE, "", NX)
MAINT_NX = Taint("example.com/maintenance", "", NX)
GPU_NS = Taint("gpu", "yes", NS)


def tol(key: str = "", seconds: int | None = None, effect: TaintEffect | None = NX) -> Toleration:
    return Toleration(key, EXISTS, "", effect, seconds)


@pytest.mark.parametrize(
    ("added", "tolerations", "since", "expected"),
    [
        ({}, (), 0.0, Verdict(Action.STAY)),  # no NoExecute taint
        ({GPU_NS: 100.0}, (), 0.0, Verdict(Action.STAY)),  # NoSchedule never evicts
        ({UNREACH_NX: 100.0}, (), 0.0, Verdict(Action.EVICT, None, UNREACH_NX)),
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE),), 0.0, Verdict(Action.STAY)),  # forever
        ({UNREACH_NX: 100.0}, (tol(),), 0.0, Verdict(Action.STAY)),  # Exists, no key: all
        ({UNREACH_NX: 100.0}, (tol(NOT_READY, 60),), 0.0,
         Verdict(Action.EVICT, None, UNREACH_NX)),  # tolerates the other one only
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE, 60),), 0.0,
         Verdict(Action.EVICT_AT, 160.0, UNREACH_NX)),
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE, 0),), 0.0,
         Verdict(Action.EVICT, None, UNREACH_NX)),  # 0 s: at once, as Kubernetes
        # Two tolerations of one taint: the smaller limit wins; a forever one does not help.
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE, 60), tol(UNREACHABLE, 30)), 0.0,
         Verdict(Action.EVICT_AT, 130.0, UNREACH_NX)),
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE, 60), tol(UNREACHABLE)), 0.0,
         Verdict(Action.EVICT_AT, 160.0, UNREACH_NX)),
        # The docstring's example: the soonest over the taints.
        ({UNREACH_NX: 100.0, MAINT_NX: 130.0},
         (tol(UNREACHABLE, 60), tol("example.com/maintenance", 300)), 90.0,
         Verdict(Action.EVICT_AT, 160.0, UNREACH_NX)),
        ({UNREACH_NX: 100.0, MAINT_NX: 130.0},
         (tol(UNREACHABLE, 60), tol("example.com/maintenance", 10)), 90.0,
         Verdict(Action.EVICT_AT, 140.0, MAINT_NX)),
        # One of two taints untolerated: at once, whatever the other's limit.
        ({UNREACH_NX: 100.0, MAINT_NX: 130.0}, (tol(UNREACHABLE, 60),), 90.0,
         Verdict(Action.EVICT, None, MAINT_NX)),
        # A pod that came after the taint counts from its arrival.
        ({MAINT_NX: 100.0}, (tol("example.com/maintenance", 60),), 500.0,
         Verdict(Action.EVICT_AT, 560.0, MAINT_NX)),
        # A toleration for another effect does not tolerate a NoExecute taint.
        ({UNREACH_NX: 100.0}, (tol(UNREACHABLE, None, NS),), 0.0,
         Verdict(Action.EVICT, None, UNREACH_NX)),
    ],
)  # fmt: skip
def test_verdict(
    added: dict[Taint, float], tolerations: tuple[Toleration, ...], since: float,
    expected: Verdict,
) -> None:  # fmt: skip
    assert verdict(added, tolerations, since) == expected


@pytest.mark.parametrize(
    ("at", "now", "due"),
    [(160.0, 159.99, False), (160.0, 160.0, True), (160.0, 200.0, True)],  # exactly: due
)
def test_due_boundaries(at: float, now: float, due: bool) -> None:
    assert noexecute.due(Verdict(Action.EVICT_AT, at), now) is due
    assert noexecute.due(Verdict(Action.EVICT), 0.0)
    assert not noexecute.due(Verdict(Action.STAY), 1e9)


@pytest.mark.parametrize(
    ("status", "silent", "current", "key"),
    [
        (H, False, None, None),
        (H, True, UNREACHABLE, None),  # healthy again: removed
        (INIT, True, None, None),  # a new node is not eligible until its first beat anyway
        (U, True, None, UNREACHABLE),  # heartbeats lost: Ready Unknown
        (U, False, None, NOT_READY),  # its agent says not ready: Ready False
        (U, False, UNREACHABLE, NOT_READY),  # heard again, still not ready: swapped
        (U, True, NOT_READY, UNREACHABLE),  # gone quiet since: swapped
        (R, False, UNREACHABLE, UNREACHABLE),  # a restart keeps what it had
        (R, False, None, NOT_READY),
        (F, False, UNREACHABLE, UNREACHABLE),
        (F, True, None, UNREACHABLE),
    ],
)
def test_condition_key(status: NodeStatus, silent: bool, current: str | None,
                       key: str | None) -> None:  # fmt: skip
    assert noexecute.condition_key(status, silent, current) == key


def test_condition_taints_replace_each_other_and_keep_the_users() -> None:
    users = (GPU_NS,)
    tainted = noexecute.with_condition(users, UNREACHABLE)
    assert [str(t) for t in tainted] == [
        "gpu=yes:NoSchedule",
        f"{UNREACHABLE}:NoSchedule",
        f"{UNREACHABLE}:NoExecute",
    ]
    swapped = noexecute.with_condition(tainted, NOT_READY)
    assert [str(t) for t in swapped][1:] == [f"{NOT_READY}:NoSchedule", f"{NOT_READY}:NoExecute"]
    assert noexecute.with_condition(swapped, None) == users
    assert noexecute.condition_of(swapped) == NOT_READY


def test_default_tolerations_are_added_unless_the_pod_has_its_own() -> None:
    defaults = noexecute.default_tolerations()
    assert [(d.key, d.effect, d.toleration_seconds) for d in defaults] == [
        (NOT_READY, NX, 300), (UNREACHABLE, NX, 300)]  # fmt: skip
    assert noexecute.with_defaults((), defaults) == defaults
    own = (tol(UNREACHABLE, 5),)
    assert noexecute.with_defaults(own, defaults) == own + defaults[:1]
    assert noexecute.with_defaults((tol(),), defaults) == (tol(),)  # tolerates everything


# ---- the controllers, with a FakeClock ---------------------------------------------------

READY = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running",
         "node_agent": "running"}  # fmt: skip
GRACE = 3.0


class World:
    """A cluster, its health monitor and taint eviction controller, ticked by hand."""

    def __init__(self, tmp_path: Path, defaults: bool = False) -> None:
        self.clock = FakeClock()
        self.cluster = Cluster(Store.open(f"sqlite:///{tmp_path}/c.db"), self.clock, EventBus())
        self.cluster.load()
        self.cluster.ensure_system_namespaces()
        self.defaults = defaults
        extra = lambda: noexecute.default_tolerations() if self.defaults else ()  # noqa: E731
        self.health = HealthMonitor(
            self.cluster, self.clock, HealthConfig(grace_period=GRACE, fresh_window=1.5),
            extra_tolerations=extra,
        )  # fmt: skip
        self.taints = TaintEvictionController(
            self.cluster, self.clock, TaintEvictionConfig(), extra_tolerations=extra,
            paused=lambda: self.health.evictions_paused,
            pending=lambda n: self.health.evict_at(n) is not None,
        )  # fmt: skip
        self.beats = Heartbeats(self.cluster, interval=1)
        self.alive: set[int] = set()

    def node(self, name: str, cpu_m: int = 4000) -> int:
        created = self.cluster.create_node(NodeSpec(name, NodeType.WORKER, Resources(cpu_m, 8192)))
        self.alive.add(created.view.id)
        self.beat()
        return created.view.id

    def pod(self, name: str, *tolerations: Toleration) -> int:
        spec = PodSpec(name, Resources(500, 64), (ContainerSpec("c", "img", 500, 64),),
                       tolerations=tolerations)  # fmt: skip
        return self.cluster.create_pod(spec).view.id

    def beat(self) -> None:
        for node_id in self.alive:
            self.beats.process(node_id, HeartbeatReport(components=READY))
            self.health.heard(node_id)

    def run(self, seconds: float, step: float = 0.25) -> None:
        """Time passes: live nodes beat each step, both controllers tick."""
        for _ in range(round(seconds / step)):
            self.clock.advance(step)
            self.beat()
            self.health.tick()
            self.taints.tick()

    def where(self, pod_id: int) -> str | None:
        pod = self.cluster.state.pods.get(pod_id)
        return None if pod is None else self.cluster.state.node_name(pod.node_id)

    def taint_strs(self, node_id: int) -> list[str]:
        return [str(t) for t in self.cluster.state.nodes[node_id].taints]


def test_a_silent_node_is_tainted_unreachable_and_tolerating_pods_stay_their_seconds(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    n1 = w.node("n1")
    plain = w.pod("plain")
    minute = w.pod("minute", tol(UNREACHABLE, 60))
    forever = w.pod("forever", tol(UNREACHABLE))
    w.node("n2")
    w.alive.discard(n1)  # n1 stops beating
    w.run(GRACE + 0.5)
    node = w.cluster.state.nodes[n1]
    assert node.status is U
    assert w.taint_strs(n1) == [f"{UNREACHABLE}:NoSchedule", f"{UNREACHABLE}:NoExecute"]
    assert w.where(plain) == "n2"  # the project's fast eviction, as before
    assert w.where(minute) == w.where(forever) == "n1"
    tainted_at = w.taints.books[n1].added[UNREACH_NX]
    w.run(60 - (w.clock.monotonic() - tainted_at) - 0.25)
    assert w.where(minute) == "n1"  # a tick before its 60 s
    w.run(0.25)
    assert w.where(minute) == "n2"  # at 60 s
    w.run(30)
    assert w.where(forever) == "n1"  # no seconds: forever
    assert not check_invariants(w.cluster.state, evictions_settled=True,
                                eviction_scheduled=lambda _n: False)  # fmt: skip
    # n1 comes back: its condition taints go in the commit that makes it healthy.
    w.alive.add(n1)
    w.run(0.25)
    assert w.cluster.state.nodes[n1].status is H and w.taint_strs(n1) == []
    assert n1 not in w.taints.books


def test_kubernetes_defaults_keep_every_pod_300_seconds(tmp_path: Path) -> None:
    w = World(tmp_path, defaults=True)
    n1 = w.node("n1")
    plain = w.pod("plain")
    quick = w.pod("quick", tol(UNREACHABLE, 10))  # its own toleration wins over the default
    w.node("n2")
    w.alive.discard(n1)
    w.run(GRACE + 0.5)
    assert w.cluster.state.nodes[n1].status is U
    assert w.where(plain) == "n1"
    w.run(10)
    assert w.where(quick) == "n2" and w.where(plain) == "n1"
    w.run(285)
    assert w.where(plain) == "n1"
    w.run(10)
    assert w.where(plain) == "n2"


def test_turning_the_defaults_off_sends_the_pods_they_kept(tmp_path: Path) -> None:
    w = World(tmp_path, defaults=True)
    n1 = w.node("n1")
    plain = w.pod("plain")
    w.node("n2")
    w.alive.discard(n1)
    w.run(GRACE + 0.5)
    assert w.where(plain) == "n1"
    w.defaults = False
    w.health.evictions_due_again()
    w.run(0.25)
    assert w.where(plain) == "n2"


def test_a_users_no_execute_taint_with_toleration_seconds(tmp_path: Path) -> None:
    w = World(tmp_path)
    n1 = w.node("n1")
    a_while = w.pod("a-while", tol("maintenance", 30))
    w.node("n2")
    w.cluster.set_taints(n1, (Taint("maintenance", "", NX),))
    assert w.where(a_while) == "n1"
    w.run(29.75)
    assert w.where(a_while) == "n1"
    w.run(0.25)
    assert w.where(a_while) == "n2"
    # A pod placed on the tainted node later gets its full 30 s from its arrival.
    n2 = w.cluster.state.node_by_name("n2")
    assert n2 is not None
    w.cluster.set_cordoned(n2.id, True)
    late = w.pod("late", tol("maintenance", 30))
    assert w.where(late) == "n1"
    w.run(29.75)
    assert w.where(late) == "n1"
    w.cluster.set_cordoned(n2.id, False)
    w.run(0.25)
    assert w.where(late) == "n2"


def test_every_worker_silent_evicts_nothing_even_when_tolerations_run_out(
    tmp_path: Path,
) -> None:
    w = World(tmp_path)
    n1 = w.node("n1")
    minute = w.pod("minute", tol(UNREACHABLE, 5))
    n2 = w.node("n2")
    w.alive.clear()
    w.run(GRACE + 10)
    assert w.health.evictions_paused
    assert w.cluster.state.nodes[n1].status is U and w.cluster.state.nodes[n2].status is U
    assert w.where(minute) == "n1"


def test_check_placements_judges_the_commit_that_placed_a_pod(tmp_path: Path) -> None:
    w = World(tmp_path)
    n1 = w.node("n1")
    seen: list[Event] = []
    problems: list[str] = []

    def judge(event: Event) -> None:  # at publish time, as the soak does
        seen.append(event)
        problems.extend(check_placements(w.cluster.state, [event]))

    w.cluster.bus.subscribe(judge)
    ok = w.pod("ok")
    # A taint or a cordon after the placement is not the scheduler's doing: still fine.
    w.cluster.set_taints(n1, (GPU_NS,))
    w.cluster.set_cordoned(n1, True)
    with pytest.raises(Unschedulable):
        w.pod("refused")  # no node fits: refused, nothing placed
    assert problems == []
    # The same placement judged as if it had been made now is refused, with both reasons.
    placed = next(e for e in seen if e.kind is EventKind.POD_CREATED and e.pod_id == ok)
    assert check_placements(w.cluster.state, [placed]) == [
        "pod ok was scheduled onto the cordoned node n1",
        "pod ok was scheduled onto n1 with the untolerated taint(s) gpu=yes:NoSchedule",
    ]
