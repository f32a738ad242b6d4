"""Time as an injected dependency: controllers ask a Clock, tests hand them a FakeClock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, overload


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps; deadlines use this."""
        ...

    def now(self) -> datetime:
        """Wall-clock time in UTC; timestamps shown to people use this."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start: float = 1000.0, wall: datetime | None = None) -> None:
        self._mono = start
        self._wall = wall or datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)


@overload
def utc_iso(value: datetime) -> str: ...
@overload
def utc_iso(value: None) -> None: ...
@overload
def utc_iso(value: datetime | None) -> str | None: ...
def utc_iso(value: datetime | None) -> str | None:
    """ISO-8601 with an explicit UTC offset, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


async def tick_forever(tick: Callable[[], None], interval: float, what: str) -> None:
    """Call ``tick`` every ``interval`` seconds; a failing tick is logged, never fatal."""
    log = logging.getLogger(__name__)
    while True:
        await asyncio.sleep(interval)
        try:
            tick()
        except Exception:
            log.exception("%s tick failed; continuing", what)


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` passes; True if it was set.

    Not asyncio.wait_for: on Python 3.11 that can swallow a cancellation arriving as the event
    is set, and a task meant to stop would carry on.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return bool(done)
