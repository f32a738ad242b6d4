"""The ReplicaSet plan, by table: how many pods to make, which to delete first, the counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kube9_desktop.engine.model import PodPhase
from kube9_desktop.engine.replicasets import PodFacts, deletion_order, plan, status_of
from kube9_desktop.engine.workloads import available

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUN, PEND, SCHED, FAIL = PodPhase.RUNNING, PodPhase.PENDING, PodPhase.SCHEDULED, PodPhase.FAILED


def pod(pid: int, phase: PodPhase = RUN, node: int | None = 1, ready_s: float | None = 0.0,
        restarts: int = 0, age_s: float = 100.0) -> PodFacts:  # fmt: skip
    """A pod created ``age_s`` before T0, ready since ``ready_s`` before T0 (None: not ready)."""
    return PodFacts(
        pid, phase, node, None if ready_s is None else T0 - timedelta(seconds=ready_s),
        restarts, T0 - timedelta(seconds=age_s),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("replicas", "pods", "create", "delete", "terminal"),
    [
        (3, [], 3, (), ()),  # nothing yet: make all three
        (3, [pod(1), pod(2), pod(3)], 0, (), ()),  # exactly right: idle
        (1, [pod(1), pod(2), pod(3)], 0, (3, 2), ()),  # too many: newest first among equals
        (2, [pod(1), pod(2, FAIL)], 1, (), (2,)),  # a failed pod is replaced, then taken away
        (0, [pod(1), pod(2)], 0, (2, 1), ()),
        (2000, [], 500, (), ()),  # at most a burst per step
    ],
)
def test_plan_counts(
    replicas: int, pods: list[PodFacts], create: int, delete: tuple[int, ...],
    terminal: tuple[int, ...],
) -> None:  # fmt: skip
    step = plan(replicas, pods, 0, T0)
    assert (step.create, step.delete, step.remove_terminal) == (create, delete, terminal)
    assert step.idle == (not create and not delete and not terminal)


def test_the_kubernetes_deletion_ranking() -> None:
    pods = [
        pod(1, RUN, node=1, ready_s=50),  # ready long, alone on node 1
        pod(2, RUN, node=2, ready_s=50),  # ready long, but shares node 2
        pod(3, RUN, node=2, ready_s=5),  # shares node 2, ready only recently
        pod(4, RUN, node=3, ready_s=None),  # running, not ready
        pod(5, SCHED, node=3, ready_s=None),  # bound, not started
        pod(6, PEND, node=None, ready_s=None),  # not bound at all
        pod(7, RUN, node=1, ready_s=50, restarts=4),  # ready long, but restarts a lot
    ]
    order = [p.id for p in deletion_order(pods)]
    # unbound first; then not running; then not ready; then doubled-up on a node (node 1 holds
    # 1 and 7, node 2 holds 2 and 3: the same count, so readiness age decides: 3 is newest
    # ready); then more restarts (7) before fewer; the oldest, steadiest last.
    assert order == [6, 5, 4, 3, 7, 2, 1]


@pytest.mark.parametrize(
    ("ready_s", "min_ready", "expected"),
    [
        (None, 0, False),  # not ready: never available
        (0.0, 0, True),  # no minReadySeconds: ready is available
        (9.0, 10, False),  # ready 9 s of 10
        (10.0, 10, True),  # exactly min_ready_seconds: available (ready + min <= now)
    ],
)
def test_availability(ready_s: float | None, min_ready: int, expected: bool) -> None:
    since = None if ready_s is None else T0 - timedelta(seconds=ready_s)
    assert available(since, min_ready, T0) is expected


def test_status_counts_active_ready_and_available() -> None:
    pods = [pod(1, ready_s=60), pod(2, ready_s=3), pod(3, ready_s=None), pod(4, FAIL, ready_s=None)]
    st = status_of(pods, 5, T0)
    assert (st.replicas, st.ready, st.available) == (3, 2, 1)
