"""One rollout read from a Deployment's events: what started it, its steps, how it ended, and
how long it took. No Qt here.

A rollout starts with the Deployment's creation, a rollback, or an update whose template
changed (the event's ``data["rollout"]``); its steps are the controller's DEPLOYMENT_SCALED
events (and pauses and resumes) until DEPLOYMENT_COMPLETE. A DEPLOYMENT_STALLED on the way
marks it stalled (it may still complete later, when capacity appears); the next start ends
it as superseded. Example, from the events 1 created, 2 scaled, 3 complete, 4 updated
(rollout), 5 scaled, 6 stalled: the rollout around event 5 started at 4, has the steps [5],
is stalled, and its duration runs to ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from kube9_desktop.engine.events import Event, EventKind

K = EventKind
DEPLOYMENT_KINDS = frozenset(k for k in K if k.value.startswith("deployment_"))
STEP_KINDS = frozenset({K.DEPLOYMENT_SCALED, K.DEPLOYMENT_PAUSED, K.DEPLOYMENT_RESUMED})
COMPLETE, STALLED, IN_PROGRESS, SUPERSEDED = "complete", "stalled", "in progress", "superseded"


def starts_rollout(event: Event) -> bool:
    if event.kind in (K.DEPLOYMENT_CREATED, K.DEPLOYMENT_ROLLED_BACK):
        return True
    return event.kind is K.DEPLOYMENT_UPDATED and bool((event.data or {}).get("rollout"))


@dataclass(frozen=True)
class Rollout:
    start: Event
    steps: tuple[Event, ...] = ()
    end: Event | None = None  # its DEPLOYMENT_COMPLETE (or the next rollout's start)
    stalls: tuple[Event, ...] = field(default_factory=tuple)
    outcome: str = IN_PROGRESS

    def duration_s(self, now: datetime) -> float:
        """From its start to its end (to ``now`` while it has none)."""
        until = self.end.at if self.end is not None else now
        return max(0.0, (until - self.start.at).total_seconds())

    @property
    def stalled_after_s(self) -> float | None:
        if not self.stalls:
            return None
        return (self.stalls[0].at - self.start.at).total_seconds()


def rollout_around(events: Iterable[Event], deployment_id: int, anchor: int) -> Rollout | None:
    """The rollout of Deployment ``deployment_id`` that event id ``anchor`` belongs to (the
    last start at or before it), or None when no start is known from there."""
    mine = sorted(
        (e for e in events if e.object is not None and e.object.kind == "Deployment"
         and e.object.id == deployment_id),
        key=lambda e: e.id,
    )  # fmt: skip
    start_at = next((i for i in range(len(mine) - 1, -1, -1) if mine[i].id <= anchor
                     and starts_rollout(mine[i])), None)  # fmt: skip
    if start_at is None:
        return None
    start = mine[start_at]
    steps: list[Event] = []
    stalls: list[Event] = []
    for event in mine[start_at + 1 :]:
        if starts_rollout(event):
            return Rollout(start, tuple(steps), event, tuple(stalls), SUPERSEDED)
        if event.kind is K.DEPLOYMENT_COMPLETE:
            return Rollout(start, tuple(steps), event, tuple(stalls), COMPLETE)
        if event.kind is K.DEPLOYMENT_STALLED:
            stalls.append(event)
        elif event.kind in STEP_KINDS:
            steps.append(event)
    return Rollout(start, tuple(steps), None, tuple(stalls), STALLED if stalls else IN_PROGRESS)
