"""A failure's story from the event log: injected -> detected -> pods rebound -> recovered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from typing_extensions import TypedDict

from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.events import Event, EventJson, EventKind
from kube9_desktop.engine.jsontypes import Timestamp, closed
from kube9_desktop.engine.store.store import Incident, Store


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


@closed
class MilestonesJson(TypedDict):
    injected: Timestamp | None
    detected: Timestamp | None
    eviction_started: Timestamp | None
    last_pod_rebound: Timestamp | None
    recovered: Timestamp | None
    failed: Timestamp | None


@closed
class DurationsJson(TypedDict):
    """Seconds between milestones; None where one has not happened."""

    detect_s: float | None
    rebind_s: float | None
    recover_s: float | None
    total_s: float | None


@closed
class IncidentJson(TypedDict):
    id: int
    node_id: int
    node_name: str
    mode: str
    outcome: str
    opened_at: Timestamp
    closed_at: Timestamp | None
    milestones: MilestonesJson
    durations: DurationsJson
    detected_by: str | None  # "heartbeat" (a missed grace period) or "runtime" (its events)
    pods_moved: int
    pods_pending: int
    restart_attempts: int
    what_if_matched: bool | None  # injected from a what-if preview: did the outcome match it?


@closed
class IncidentDetailJson(IncidentJson):
    events: list[EventJson]


@dataclass(frozen=True)
class Timeline:
    incident: Incident
    events: tuple[Event, ...]
    injected_at: datetime | None
    detected_at: datetime | None
    detected_by: str | None
    eviction_at: datetime | None
    last_rebound_at: datetime | None
    recovered_at: datetime | None
    failed_at: datetime | None
    pods_moved: int
    pods_pending: int
    restart_attempts: int
    what_if_matched: bool | None = None

    @property
    def started_at(self) -> datetime:
        return self.injected_at or self.detected_at or self.incident.opened_at

    def durations(self) -> DurationsJson:
        """Seconds between the milestones (None where a milestone has not happened)."""
        return {
            "detect_s": _secs(self.injected_at, self.detected_at),
            "rebind_s": _secs(self.detected_at, self.last_rebound_at),
            "recover_s": _secs(self.started_at, self.recovered_at),
            "total_s": _secs(self.started_at, self.recovered_at or self.failed_at),
        }

    def to_json(self) -> IncidentJson:
        inc = self.incident
        return {
            "id": inc.id,
            "node_id": inc.node_id,
            "node_name": inc.node_name,
            "mode": inc.mode,
            "outcome": inc.outcome,
            "opened_at": utc_iso(inc.opened_at),
            "closed_at": utc_iso(inc.closed_at),
            "milestones": {
                "injected": utc_iso(self.injected_at),
                "detected": utc_iso(self.detected_at),
                "eviction_started": utc_iso(self.eviction_at),
                "last_pod_rebound": utc_iso(self.last_rebound_at),
                "recovered": utc_iso(self.recovered_at),
                "failed": utc_iso(self.failed_at),
            },
            "durations": self.durations(),
            "detected_by": self.detected_by,
            "pods_moved": self.pods_moved,
            "pods_pending": self.pods_pending,
            "restart_attempts": self.restart_attempts,
            "what_if_matched": self.what_if_matched,
        }

    def to_json_with_events(self) -> IncidentDetailJson:
        return {**self.to_json(), "events": [e.to_json() for e in self.events]}


def build_timeline(incident: Incident, events: list[Event]) -> Timeline:
    def first(kind: EventKind) -> datetime | None:
        return next((e.at for e in events if e.kind is kind), None)

    moves = [e for e in events if e.kind in (EventKind.POD_REBOUND, EventKind.POD_PENDING)]
    detection = next((e for e in events if e.kind is EventKind.NODE_DETECTED), None)
    by = detection.data.get("detected_by") if detection is not None else None
    checked = next((e for e in events if e.kind is EventKind.WHAT_IF_CHECKED), None)
    matched = checked.data.get("matched") if checked is not None else None
    return Timeline(
        incident=incident,
        events=tuple(events),
        injected_at=first(EventKind.FAULT_INJECTED),
        detected_at=first(EventKind.NODE_DETECTED),
        detected_by=by if isinstance(by, str) else None,
        eviction_at=first(EventKind.EVICTION_STARTED),
        last_rebound_at=moves[-1].at if moves else None,
        recovered_at=first(EventKind.NODE_RECOVERED),
        failed_at=first(EventKind.NODE_FAILED),
        pods_moved=sum(1 for e in moves if e.kind is EventKind.POD_REBOUND),
        pods_pending=sum(1 for e in moves if e.kind is EventKind.POD_PENDING),
        restart_attempts=sum(1 for e in events if e.kind is EventKind.RECOVERY_ATTEMPT),
        what_if_matched=matched if isinstance(matched, bool) else None,
    )


def incident_timeline(store: Store, incident: Incident) -> Timeline:
    return build_timeline(incident, store.events(incident_id=incident.id, limit=5000))
