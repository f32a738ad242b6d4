"""Detection, guard and recovery decisions as tables over ``now`` (no sleeping)."""

from __future__ import annotations

import pytest

from kube9_desktop.engine.clock import FakeClock
from kube9_desktop.engine.health import (
    any_fresh,
    engine_stalled,
    eviction_due,
    full_disruption,
    heartbeat_overdue,
    start_overdue,
    tick_lag,
)
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.recovery import Action, RecoveryConfig, backoff_delay, decide

H, U, INIT, F, R = (NodeStatus.HEALTHY, NodeStatus.UNHEALTHY, NodeStatus.INITIALIZING,
                    NodeStatus.FAILED, NodeStatus.RECOVERING)  # fmt: skip


@pytest.mark.parametrize(
    ("last", "watch", "now", "overdue"),
    [
        (100.0, 0.0, 102.9, False),  # 2.9 s silent, grace 3
        (100.0, 0.0, 103.0, False),  # exactly the grace period: not yet
        (100.0, 0.0, 103.01, True),  # just past it
        (None, 100.0, 103.5, True),  # never heard from since we started watching
        (None, 100.0, 102.0, False),
        (90.0, 100.0, 102.0, False),  # a restart reset the window: count from watch_since
        (100.0, 100.0, 110.0, True),
    ],
)
def test_heartbeat_deadline_boundaries(
    last: float | None, watch: float, now: float, overdue: bool
) -> None:
    assert heartbeat_overdue(last, watch, now, grace=3.0) is overdue


def test_detection_within_grace_plus_one_tick() -> None:
    """The monitor ticks every 0.25 s: the first tick after grace detects the crash."""
    clock = FakeClock()
    last = clock.monotonic()  # the last heartbeat before the crash
    grace, tick = 3.0, 0.25
    detected_at = None
    while detected_at is None:
        clock.advance(tick)
        if heartbeat_overdue(last, 0.0, clock.monotonic(), grace):
            detected_at = clock.monotonic()
    assert grace < detected_at - last <= grace + tick


def test_start_timeout() -> None:
    assert not start_overdue(10.0, 69.0, 60.0)
    assert start_overdue(10.0, 70.5, 60.0)


@pytest.mark.parametrize(
    ("previous", "now", "tick", "threshold", "stalled"),
    [
        (10.0, 10.25, 0.25, 1.0, False),  # on time
        (10.0, 10.9, 0.25, 1.0, False),  # 0.65 s late: a busy loop, not a stall
        (10.0, 11.3, 0.25, 1.0, True),  # 1.05 s late
        (10.0, 70.0, 0.25, 1.0, True),  # laptop slept for a minute
    ],
)
def test_stall_detection(
    previous: float, now: float, tick: float, threshold: float, stalled: bool
) -> None:
    assert engine_stalled(previous, now, tick, threshold) is stalled
    assert tick_lag(previous, now, tick) == pytest.approx(max(0.0, now - previous - tick))


@pytest.mark.parametrize(
    ("workers", "disrupted"),
    [
        ([], False),
        ([H, H], False),
        ([H, U], False),  # one healthy worker: trust the detection
        ([U, U], True),  # all silent at once
        ([U], True),
        ([U, R, U], True),
        ([U, INIT], True),  # initializing nodes do not count either way
        ([INIT, INIT], False),
        ([F, F], False),  # failed nodes are out of the picture
        ([F, U], True),
        ([F, H], False),
    ],
)
def test_all_silent_guard(workers: list[NodeStatus], disrupted: bool) -> None:
    assert full_disruption(workers) is disrupted


def test_eviction_due() -> None:
    assert eviction_due(5.0, 5.0, paused=False)
    assert not eviction_due(5.0, 4.9, paused=False)
    assert not eviction_due(5.0, 9.0, paused=True)
    assert not eviction_due(None, 9.0, paused=False)


def test_backoff_sequence_doubles_to_the_cap() -> None:
    assert [backoff_delay(k, 1.0, 30.0) for k in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff_delay(1, 0.5, 30.0) == 0.5


CFG = RecoveryConfig(max_attempts=3, backoff=1.0, backoff_cap=30.0, reset_after=60.0)


def act(status: NodeStatus, attempts: int = 0, next_at: float | None = None, *,
        healthy_since: float | None = None, partitioned: bool = False,
        available: bool = True, now: float = 100.0) -> Action:  # fmt: skip
    return decide(
        status=status, attempts=attempts, next_at=next_at, healthy_since=healthy_since,
        partitioned=partitioned, runtime_available=available, now=now, config=CFG,
    )  # fmt: skip


def test_recovery_decisions() -> None:
    assert act(U) is Action.SCHEDULE  # first detection starts the back-off clock
    assert act(U, 0, next_at=101.0) is Action.NONE  # still backing off
    assert act(U, 0, next_at=100.0) is Action.RESTART
    assert act(U, 2, next_at=99.0) is Action.RESTART  # third attempt
    assert act(U, 3, next_at=99.0) is Action.FAIL  # budget spent
    assert act(R, 1) is Action.NONE  # a restart is in flight
    assert act(F, 3) is Action.NONE  # failed stays failed until the user acts
    assert act(U, 0, partitioned=True) is Action.NONE  # unreachable: cannot restart
    assert act(U, 0, available=False) is Action.NONE  # Docker down: wait, spend nothing


def test_attempt_count_resets_after_a_healthy_minute() -> None:
    assert act(H, 2, healthy_since=50.0, now=109.9) is Action.NONE
    assert act(H, 2, healthy_since=50.0, now=110.0) is Action.RESET
    assert act(H, 0, healthy_since=0.0, now=1000.0) is Action.NONE


def test_a_full_back_off_run_with_a_fake_clock() -> None:
    """Three failed restarts, waiting 1, 2 and 4 s, then failed."""
    clock = FakeClock(start=0.0)
    attempts, next_at, restarts = 0, None, []
    while True:
        action = act(U, attempts, next_at, now=clock.monotonic())
        if action is Action.SCHEDULE:
            next_at = clock.monotonic() + backoff_delay(attempts + 1, 1.0, 30.0)
        elif action is Action.RESTART:
            restarts.append(clock.monotonic())
            attempts, next_at = attempts + 1, None  # the restart came up dead
        elif action is Action.FAIL:
            break
        clock.advance(0.25)
    assert restarts == [1.0, 3.25, 7.5]  # each wait starts a tick after the previous attempt
    assert attempts == 3


def test_eviction_waits_until_some_worker_is_certainly_alive() -> None:
    # Three nodes crashed together: the others have missed a heartbeat too -> wait.
    assert not any_fresh([0.25, 0.28], window=0.175)
    # A single failure: another worker spoke a moment ago -> evict now.
    assert any_fresh([0.02, 0.28], window=0.175)
    assert not any_fresh([], window=0.175)
