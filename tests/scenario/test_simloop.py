"""The simulated loop: time jumps to the next timer, nothing sleeps, threads run inline."""

from __future__ import annotations

import asyncio
import time

import pytest

from kube9_desktop.scenario.simloop import SIM_EPOCH, SimClock, SimLoop, Stalled, run_simulated


def test_an_hour_of_sleeps_takes_no_wall_time() -> None:
    order: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float, loop: SimLoop) -> None:
        await asyncio.sleep(delay)
        order.append((name, loop.time()))

    async def main(loop: SimLoop) -> float:
        await asyncio.gather(sleeper("b", 3600.0, loop), sleeper("a", 1.5, loop))
        return loop.time()

    began = time.process_time()
    assert run_simulated(main) == 3600.0
    assert order == [("a", 1.5), ("b", 3600.0)]
    assert time.process_time() - began < 5  # a generous bound: no real waiting


def test_clock_follows_the_loop() -> None:
    async def main(loop: SimLoop) -> tuple[float, object]:
        clock = SimClock(loop)
        await asyncio.sleep(90)
        return clock.monotonic(), clock.now()

    mono, wall = run_simulated(main)
    assert mono == 90.0
    assert (wall - SIM_EPOCH).total_seconds() == 90.0  # type: ignore[operator]


def test_to_thread_runs_inline_at_the_same_simulated_moment() -> None:
    async def main(loop: SimLoop) -> tuple[int, float]:
        await asyncio.sleep(5)
        value = await asyncio.to_thread(lambda: 41 + 1)
        return value, loop.time()

    assert run_simulated(main) == (42, 5.0)


def test_exceptions_from_inline_work_reach_the_caller() -> None:
    def boom() -> None:
        raise ValueError("no")

    async def main(loop: SimLoop) -> None:
        await asyncio.to_thread(boom)

    with pytest.raises(ValueError, match="no"):
        run_simulated(main)


def test_waiting_on_what_can_never_come_is_a_stall_not_a_hang() -> None:
    async def main(loop: SimLoop) -> None:
        await asyncio.Event().wait()

    with pytest.raises(Stalled):
        run_simulated(main)
