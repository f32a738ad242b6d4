"""The Deployment plan, by table and by simulation: Kubernetes' fenceposts, rolling and
recreate steps, proportional scaling, revisions, history, conditions; and a property test
that no rollout ever leaves its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine import deployments as dp
from kube9_desktop.engine.model import ContainerSpec, Resources
from kube9_desktop.engine.workloads import (
    RECREATE,
    DeploymentSpec,
    DeploymentStatus,
    LabelSelector,
    PodTemplate,
    ReplicaSetStatus,
    Strategy,
    max_surge,
    max_unavailable,
    surge_and_unavailable,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def template(image: str) -> PodTemplate:
    return PodTemplate(Resources(100, 0), (ContainerSpec("c", image),), labels={"app": "web"})


def spec(replicas: int = 10, image: str = "v2", strategy: Strategy | None = None,
         **extra: object) -> DeploymentSpec:  # fmt: skip
    return DeploymentSpec(
        "web", "default", replicas, LabelSelector({"app": "web"}), template(image),
        strategy or Strategy(), **extra,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable rounds down
        (1, "25%", "25%", (1, 0)),
        (4, "25%", "25%", (1, 1)),
        (3, "50%", "50%", (2, 1)),
        (5, 1, 0, (1, 0)),
        (5, 0, 0, (0, 1)),  # both zero: Kubernetes makes unavailable 1
        (5, "0%", "0%", (0, 1)),
        (0, "25%", "25%", (0, 1)),  # as ResolveFenceposts; MaxUnavailable then says 0
        (10, "100%", 0, (10, 0)),
    ],
)
def test_fenceposts(replicas: int, surge: int | str, unavailable: int | str,
                    expected: tuple[int, int]) -> None:  # fmt: skip
    assert (
        surge_and_unavailable(Strategy("RollingUpdate", surge, unavailable), replicas) == expected
    )


def test_max_unavailable_never_exceeds_replicas_and_recreate_has_none() -> None:
    assert max_unavailable(Strategy("RollingUpdate", 0, 5), 3) == 3
    assert max_unavailable(Strategy(RECREATE), 10) == 0
    assert max_surge(Strategy(RECREATE), 10) == 0


# ---- a small world: ReplicaSets whose pods become available after some ticks -------------


@dataclass
class FakeRS:
    id: int
    name: str
    revision: int
    template: PodTemplate
    replicas: int
    created: datetime
    pods: list[int] = field(default_factory=list)  # ages in ticks of its pods
    desired: int | None = None
    max_total: int | None = None
    terminating: int = 0  # deleted pods whose processes still stop

    def facts(self, ready_after: int) -> dp.RSFacts:
        up = sum(1 for a in self.pods if a >= ready_after)
        return dp.RSFacts(
            self.id, self.name, self.revision, self.template, self.replicas,
            ReplicaSetStatus(len(self.pods), len(self.pods), up, up), self.created,
            self.desired, self.max_total, self.terminating,
        )  # fmt: skip


@dataclass
class World:
    spec: DeploymentSpec
    ready_after: int = 1  # ticks a new pod takes to become available
    now: datetime = T0
    rss: dict[int, FakeRS] = field(default_factory=dict)
    status: DeploymentStatus = field(default_factory=DeploymentStatus)
    generation: int = 1
    revision: int = 0
    next_id: int = 1
    steps: list[dp.Plan] = field(default_factory=list)

    def facts(self) -> tuple[dp.DeploymentFacts, list[dp.RSFacts]]:
        return (
            dp.DeploymentFacts("web", self.spec, self.generation, self.status, self.revision),
            [r.facts(self.ready_after) for r in self.rss.values()],
        )

    def step(self) -> dp.Plan:
        d, rss = self.facts()
        plan = dp.plan(d, rss, self.now)
        for rs_id, revision in plan.revisions:
            self.rss[rs_id].revision = revision
        if plan.create is not None:
            rs = FakeRS(self.next_id, f"rs{self.next_id}", plan.create.revision,
                        self.spec.template, plan.create.replicas, self.now)  # fmt: skip
            self.rss[rs.id] = rs
            self.next_id += 1
        for rs_id, replicas in plan.scales:
            self.rss[rs_id].replicas = replicas
        for rs in self.rss.values():
            rs.desired = self.spec.replicas
            rs.max_total = self.spec.replicas + max_surge(self.spec.strategy, self.spec.replicas)
        for rs_id in plan.delete:
            del self.rss[rs_id]
        self.status = plan.status
        self.revision = plan.revision
        self.steps.append(plan)
        return plan

    def converge_pods(self) -> None:
        """Each ReplicaSet's pods follow its spec at once: new ones at age 0, the youngest go."""
        for rs in self.rss.values():
            while len(rs.pods) < rs.replicas:
                rs.pods.append(0)
            rs.pods.sort(reverse=True)
            del rs.pods[rs.replicas :]

    def tick(self) -> None:
        """Plan until idle (the controller), then the pods catch up and age one tick."""
        for _ in range(20):
            if not self.step().acts:
                break
            self.converge_pods()
        self.converge_pods()
        for rs in self.rss.values():
            rs.pods = [a + 1 for a in rs.pods]
        self.now += timedelta(seconds=1)

    def total_pods(self) -> int:
        return sum(len(r.pods) for r in self.rss.values())

    def available(self) -> int:
        return sum(1 for r in self.rss.values() for a in r.pods if a >= self.ready_after)

    def settled(self) -> dp.Plan:
        for _ in range(200):
            self.tick()
            cond = self.status.condition(dp.PROGRESSING)
            if cond is not None and cond.reason == dp.NEW_RS_AVAILABLE and not self.step().acts:
                return self.steps[-1]
        raise AssertionError("the rollout never completed")


def fully_rolled_out(replicas: int = 10, **extra: object) -> World:
    world = World(spec(replicas, "v1", **extra))  # type: ignore[arg-type]
    world.settled()
    return world


def test_a_new_deployment_creates_its_replicaset_and_completes() -> None:
    world = World(spec(3, "v1"))
    first = world.step()
    assert first.create == dp.NewReplicaSet(3, 1)
    assert first.status.condition(dp.PROGRESSING).reason == dp.NEW_RS_CREATED  # type: ignore[union-attr]
    world.settled()
    st_ = world.status
    assert (st_.replicas, st_.updated, st_.ready, st_.available, st_.unavailable) == (3, 3, 3, 3, 0)
    assert st_.condition(dp.AVAILABLE).status == "True"  # type: ignore[union-attr]
    assert st_.condition(dp.PROGRESSING).reason == dp.NEW_RS_AVAILABLE  # type: ignore[union-attr]


def test_the_rolling_update_of_the_module_docstring_step_by_step() -> None:
    world = fully_rolled_out(10)  # A: 10 available
    world.spec = spec(10, "v2")
    world.generation += 1
    create = world.step()
    assert create.create == dp.NewReplicaSet(3, 2)  # 13 in all: the surge of 3
    world.converge_pods()
    down = world.step()
    # 13 - 8 (min available) - 3 (B's unavailable) = 2: A goes from 10 to 8.
    assert down.scales == ((1, 8),)
    world.converge_pods()
    assert world.step().scales == ((2, 5),)  # 11 of 13: B takes the room back
    world.converge_pods()
    assert world.step().acts is False  # nothing more until B's pods are available
    peak_pods, low_available = world.total_pods(), world.available()
    for _ in range(40):
        world.tick()
        peak_pods = max(peak_pods, world.total_pods())
        low_available = min(low_available, world.available())
    assert peak_pods <= 13 and low_available >= 8
    assert [r.replicas for r in world.rss.values()] == [0, 10]
    assert world.status.condition(dp.PROGRESSING).reason == dp.NEW_RS_AVAILABLE  # type: ignore[union-attr]
    assert world.revision == 2


def test_recreate_empties_the_old_replicaset_before_making_the_new_one() -> None:
    world = fully_rolled_out(3, strategy=Strategy(RECREATE))
    world.spec = spec(3, "v2", Strategy(RECREATE))
    world.generation += 1
    down = world.step()
    assert down.scales == ((1, 0),) and down.create is None
    assert world.step().create is None  # the old pods still exist: wait
    world.converge_pods()
    made = world.step()
    assert made.create == dp.NewReplicaSet(3, 2)


def test_pods_still_stopping_count_against_the_surge() -> None:
    world = fully_rolled_out(3, strategy=Strategy("RollingUpdate", 1, 0))
    world.spec = spec(3, "v2", Strategy("RollingUpdate", 1, 0))
    world.generation += 1
    assert world.step().create == dp.NewReplicaSet(1, 2)  # 4 = 3 + the surge
    # B's pod became available and A went to 2; A's deleted pod still stops on its node.
    a, b = world.rss[1], world.rss[2]
    a.replicas, b.replicas, a.pods, b.pods, a.terminating = 2, 1, [9, 9], [9], 1
    plan = world.step()
    assert plan.scales == () and plan.create is None  # 3 pods + 1 stopping: no room
    assert plan.status.terminating == 1
    a.terminating = 0
    assert world.step().scales == ((2, 2),)  # it exited: B grows


def test_recreate_waits_for_the_old_processes_to_stop() -> None:
    world = fully_rolled_out(3, strategy=Strategy(RECREATE))
    world.spec = spec(3, "v2", Strategy(RECREATE))
    world.generation += 1
    assert world.step().scales == ((1, 0),)
    world.converge_pods()  # the old pods are gone from the store...
    world.rss[1].terminating = 3  # ...but their processes still stop
    assert world.step().create is None
    world.rss[1].terminating = 0
    assert world.step().create == dp.NewReplicaSet(3, 2)


def test_scaling_mid_rollout_is_proportional() -> None:
    world = World(spec(10, "v2"))
    world.rss = {
        1: FakeRS(1, "old", 1, template("v1"), 6, T0, [9] * 6, desired=10, max_total=13),
        2: FakeRS(2, "new", 2, template("v2"), 7, T0 + timedelta(seconds=1), [9] * 7,
                  desired=10, max_total=13),
    }  # fmt: skip
    world.spec = spec(20, "v2")  # 25 allowed (20 + 5): 12 more, shared 6 and 6 by size
    plan = world.step()
    assert dict(plan.scales) == {1: 12, 2: 13}


def test_a_rollback_makes_the_old_replicaset_the_new_one_with_the_next_revision() -> None:
    world = World(spec(3, "v1"))
    world.rss = {
        1: FakeRS(1, "rs-v1", 1, template("v1"), 0, T0, []),
        2: FakeRS(2, "rs-v2", 2, template("v2"), 3, T0 + timedelta(seconds=1), [9] * 3),
    }
    done = dp.Condition(dp.PROGRESSING, "True", dp.NEW_RS_AVAILABLE, "", T0, T0)
    world.status = DeploymentStatus(3, 3, 3, 3, 0, 1, (done,))
    plan = world.step()
    assert plan.revisions == ((1, 3),) and plan.revision == 3
    assert plan.scales == ((1, 1),)  # the rollout back begins (surge 1 of 3)
    world.converge_pods()
    world.step()  # its first pod exists: progress, as Kubernetes reports it
    assert world.status.condition(dp.PROGRESSING).reason == dp.RS_UPDATED  # type: ignore[union-attr]
    assert world.settled().revision == 3


def test_old_replicasets_beyond_the_history_limit_are_deleted() -> None:
    world = World(spec(2, "v4", revision_history_limit=1))
    world.rss = {
        i: FakeRS(i, f"rs{i}", i, template(f"v{i}"), 0, T0 + timedelta(seconds=i), [])
        for i in (1, 2, 3)
    }
    world.rss[4] = FakeRS(4, "rs4", 4, template("v4"), 2, T0 + timedelta(seconds=4), [9, 9])
    world.status = DeploymentStatus(2, 2, 2, 2, 0, 1)
    plan = world.step()  # complete: the history is trimmed in the same step
    assert plan.delete == (1, 2)  # the oldest two; revision 3 stays
    assert world.step().delete == ()


def test_a_paused_deployment_does_not_roll_out() -> None:
    world = fully_rolled_out(3)
    world.spec = spec(3, "v2", paused=True)
    plan = world.step()
    assert plan.create is None and not plan.scales
    assert plan.status.condition(dp.PROGRESSING).reason == dp.PAUSED  # type: ignore[union-attr]


def test_a_rollout_that_makes_no_progress_stalls_after_its_deadline() -> None:
    world = fully_rolled_out(3, progress_deadline_seconds=30)
    world.spec = spec(3, "v2", progress_deadline_seconds=30)
    world.generation += 1
    world.ready_after = 10**6  # the new pods never become ready (they fit nowhere, say)
    world.tick()
    cond = world.status.condition(dp.PROGRESSING)
    assert cond is not None and cond.reason in (dp.NEW_RS_CREATED, dp.RS_UPDATED)
    for _ in range(29):
        world.tick()
    assert world.status.condition(dp.PROGRESSING).status == "True"  # type: ignore[union-attr]
    for _ in range(3):
        world.tick()
    stalled = world.status.condition(dp.PROGRESSING)
    assert stalled is not None and (stalled.status, stalled.reason) == ("False", dp.TIMED_OUT)
    kinds = [k for p in world.steps for k, _ in p.events]
    assert kinds.count(dp.EventKind.DEPLOYMENT_STALLED) == 1  # said once


@settings(max_examples=150, deadline=None)
@given(
    replicas=st.integers(1, 15),
    surge=st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%", "100%"])),
    unavailable=st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "50%"])),
    ready_after=st.integers(1, 3),
)
def test_no_rolling_update_leaves_its_limits(
    replicas: int, surge: int | str, unavailable: int | str, ready_after: int
) -> None:
    strategy = Strategy("RollingUpdate", surge, unavailable)
    world = World(spec(replicas, "v1", strategy), ready_after=ready_after)
    world.settled()
    world.spec = spec(replicas, "v2", strategy)
    world.generation += 1
    limit_surge, limit_unavailable = surge_and_unavailable(strategy, replicas)
    limit_unavailable = min(limit_unavailable, replicas)
    for _ in range(300):
        world.tick()
        assert world.total_pods() <= replicas + limit_surge
        assert world.available() >= replicas - limit_unavailable
        cond = world.status.condition(dp.PROGRESSING)
        if cond is not None and cond.reason == dp.NEW_RS_AVAILABLE and world.revision == 2:
            break
    else:
        raise AssertionError("the rollout never completed")
    assert sorted(r.replicas for r in world.rss.values()) == [0, replicas]
