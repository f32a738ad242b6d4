"""The workload controller's loop stops when told, even when its wake-up arrives together with
the cancellation (Python 3.11's wait_for swallowed that cancel and the engine never stopped)."""

from __future__ import annotations

import asyncio
from typing import Any

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
