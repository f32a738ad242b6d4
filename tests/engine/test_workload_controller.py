"""The workload controller's loop stops when told, even when its wake-up arrives together with
the cancellation (Python 3.11's wait_for swallowed that cancel and the engine never stopped)."""

from __future__ import annotations

import asyncio
from typing import Any

from kube9_desktop.engine.terminating import TerminatingPods
from kube9_desktop.engine.workload_controller import WorkloadConfig, WorkloadController


class _Bus:
    def subscribe_changes(self, _fn: Any) -> None:
        return None


class _Cluster:
    def __init__(self) -> None:
        self.bus = _Bus()
        self.state = type("State", (), {"deployments": {}, "replicasets": {}})()


async def test_stop_wins_over_a_wake_up_in_the_same_moment() -> None:
    for _ in range(200):  # the race is about one loop iteration: try it many times
        controller = WorkloadController(_Cluster(), clock=None, config=WorkloadConfig(tick=5.0))  # type: ignore[arg-type]
        controller.start()
        await asyncio.sleep(0)  # the loop is waiting for its wake-up
        controller._wake.set()
        await asyncio.wait_for(controller.stop(), timeout=2.0)


def test_an_empty_terminating_book_is_still_the_one_counted() -> None:
    # TerminatingPods has __len__, so an empty book is falsy: the controller must still count
    # from it (it fills later), not fall back to counting nothing for ever.
    cluster = _Cluster()
    book = TerminatingPods(cluster, clock=None)  # type: ignore[arg-type]
    assert len(book) == 0
    controller = WorkloadController(cluster, clock=None, terminating=book)  # type: ignore[arg-type]
    book._counts[7] = 2  # as after a pod of ReplicaSet 7 was deleted on a real node
    assert controller._count_terminating(7) == 2
