"""An asyncio event loop on simulated time: nothing sleeps, the clock jumps to the next timer.

The engine's controllers tick with ``asyncio.sleep`` and virtual nodes heartbeat on
``loop.time()``; on this loop both read a simulated clock that ``select`` moves forward to
the earliest due timer whenever no callback is ready and no file descriptor has news. The
order of callbacks is the loop's own (ready queue, then timers by due time), so the same
program gives the same run. Work sent to a thread (``asyncio.to_thread``) runs inline: a
thread's finishing time would depend on the machine.
"""

from __future__ import annotations

import asyncio
import contextvars
import selectors
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")
SIM_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Stalled(RuntimeError):
    """Nothing is scheduled and nothing can arrive: the simulated program would wait forever."""


class SimSelector(selectors.DefaultSelector):
    """A real selector (the loop's self-pipe, any real socket) that never blocks: a wait
    moves simulated time on by the wait instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            raise Stalled("the simulation has nothing scheduled")
        self.now += timeout
        return []


class SimLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._sim = SimSelector()
        super().__init__(self._sim)

    def time(self) -> float:
        return self._sim.now

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        fut: asyncio.Future[T] = self.create_future()
        try:
            fut.set_result(func(*args))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


class SimClock:
    """The engine's Clock on a SimLoop's time: monotonic is the loop's, wall time a fixed
    epoch plus it (so timestamps in a report never depend on when it ran)."""

    def __init__(self, loop: SimLoop) -> None:
        self._loop = loop

    def monotonic(self) -> float:
        return self._loop.time()

    def now(self) -> datetime:
        return SIM_EPOCH + timedelta(seconds=self._loop.time())


def run_simulated(main: Callable[[SimLoop], Any]) -> Any:
    """Run the coroutine ``main(loop)`` makes on a fresh SimLoop, then close the loop."""
    loop = SimLoop()
    try:
        asyncio.set_event_loop(loop)
        ctx = contextvars.copy_context()
        return ctx.run(loop.run_until_complete, main(loop))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
