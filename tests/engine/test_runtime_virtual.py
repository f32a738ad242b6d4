"""Virtual nodes' pod reports: readiness from the spec on the node's clock."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from kube9_desktop.engine.runtime.base import NodeLaunch
from kube9_desktop.engine.runtime.virtual import (
    EARLY_BEAT_SHARE,
    STATUS_SYNC_S,
    EarlyBeats,
    VirtualNode,
)
from tests.helpers import wait_for

LAUNCH = NodeLaunch(1, "v1", "worker", 4000, 4096, "token", "virtual", 1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def never_called(
    node_id: int, token: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    raise AssertionError("no heartbeat in these tests")


def desired(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"generation": 2, "desired_pods": [
        {"id": 7, "name": "p", "cpu_req": 0.5, "containers": list(containers)}
    ]}  # fmt: skip


def ready_of(body: dict[str, Any]) -> dict[str, bool] | None:
    """Each container's reported readiness, or None when the pod is not in the report."""
    for pod in body.get("pods", []):
        if pod["id"] == 7:
            return {c["name"]: c["ready"] for c in pod["containers"]}
    return None


def test_readiness_waits_out_the_initial_delay_and_restarts_reset_it() -> None:
    clock = Clock()
    node = VirtualNode(LAUNCH, never_called, clock=clock)
    node.apply(desired(
        {"name": "probed", "readiness": {"http_get": {"path": "/", "port": 80},
                                         "initial_delay_s": 2.0, "period_s": 10.0}},
        {"name": "plain", "readiness": None},
    ))  # fmt: skip
    assert ready_of(node.report()) == {"probed": False, "plain": True}
    clock.now += 1.9
    assert ready_of(node.report()) is None  # nothing changed: not reported
    clock.now += 0.1  # exactly the delay: ready
    assert ready_of(node.report()) == {"probed": True, "plain": True}
    assert ready_of(node.report()) is None
    node.apply({"kill": [{"pod_id": 7, "container": "probed"}]})
    assert ready_of(node.report()) == {"probed": False, "plain": True}  # a new container
    clock.now += 2.0
    assert ready_of(node.report()) == {"probed": True, "plain": True}


def test_a_pod_that_stays_in_the_desired_set_keeps_its_readiness_clock() -> None:
    clock = Clock()
    node = VirtualNode(LAUNCH, never_called, clock=clock)
    spec = desired({"name": "c", "readiness": {"exec": {"command": ["true"]},
                                               "initial_delay_s": 5.0}})  # fmt: skip
    node.apply(spec)
    node.report()
    clock.now += 3.0
    node.apply(spec)  # the same pod in a later set: not started again
    clock.now += 2.0
    assert ready_of(node.report()) == {"c": True}


def test_early_beats_share_one_budget() -> None:
    """An early beat that cost c seconds puts the next early beat of any node c / share later;
    without spending, an early beat waits only the status-sync moment."""
    early = EarlyBeats()
    assert early.delay(100.0) == STATUS_SYNC_S
    early.spent(100.0, 0.01)  # one node's beat
    early.spent(100.0, 0.01)  # another's, at the same moment: the debts add up
    assert early.delay(100.0) == pytest.approx(0.02 / EARLY_BEAT_SHARE)
    assert early.delay(100.0 + 0.02 / EARLY_BEAT_SHARE) == STATUS_SYNC_S  # paid off
    early.spent(500.0, 0.0001)  # a cheap beat long after costs no more than the moment
    assert early.delay(500.0) == STATUS_SYNC_S


async def test_a_woken_node_still_beats_on_time_when_the_early_budget_is_spent() -> None:
    """An early beat waits for the shared budget, but never past the node's regular beat: the
    soak saw nodes woken by every change sleep through their beats and be declared dead."""
    loop = asyncio.get_running_loop()
    early = EarlyBeats()
    early.free_at = loop.time() + 3600.0  # spent for an hour by other nodes' early beats
    beats: list[float] = []

    async def sink(node_id: int, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        beats.append(loop.time())
        node.woken.set()  # every reply brings news (a busy cluster)
        return 200, {"generation": 1}

    launch = NodeLaunch(1, "v1", "worker", 4000, 4096, "token", "virtual", 0.05)
    node = VirtualNode(launch, sink, clock=loop.time, early=early)
    node.woken.set()
    task = asyncio.create_task(node.run())
    try:
        await wait_for(lambda: len(beats) >= 5, timeout=10, what="regular beats while woken")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_status_bar_sentence_says_why_the_nodes_are_virtual(tmp_path: Any) -> None:
    """--demo picks virtual nodes by itself: the reason must not blame the user's settings."""
    from kube9_desktop.engine.runtime import select_runtime
    from kube9_desktop.settings import Settings

    base = Settings(data_dir=tmp_path, runtime="virtual")
    _, chosen = await select_runtime(base, print)
    _, demo = await select_runtime(base.with_(demo=True), print)
    assert chosen == "virtual nodes (in-process), as chosen in settings"
    assert demo == "virtual nodes (in-process), for the demo (--runtime picks another)"


async def test_wakeup_waits_for_its_flag_or_its_timeout() -> None:
    from kube9_desktop.engine.runtime.virtual import Wakeup

    w = Wakeup()
    w.set()
    assert await w.wait(10.0) is True  # already set: at once
    w.clear()
    assert not w.is_set()
    assert await w.wait(0.01) is False  # nobody sets it: the timeout
    loop = asyncio.get_running_loop()
    loop.call_soon(w.set)
    assert await w.wait(10.0) is True and w.is_set()
    w.clear()
    task = asyncio.create_task(w.wait(10.0))
    await asyncio.sleep(0)
    w.set()
    task.cancel()  # set and cancelled in one turn: the cancellation still wins
    with pytest.raises(asyncio.CancelledError):
        await task
    assert w.waiter is None
