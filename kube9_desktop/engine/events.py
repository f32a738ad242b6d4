"""Typed cluster events and a tiny synchronous bus (the UI bridge and the API subscribe).

Events are records of what happened, stored in the event log; the bus delivers them after the
change they describe has been committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kube9_desktop.engine.clock import utc_iso

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    NODE_CREATED = "node_created"
    NODE_DELETED = "node_deleted"
    NODE_STARTED = "node_started"  # the runtime launched it (container id / pid known)
    NODE_READY = "node_ready"  # first heartbeat, or back after recovery
    NODE_STATUS = "node_status"  # any other status change
    NODE_DETECTED = "node_detected"  # heartbeats stopped, or a required component is down
    NODE_FAILED = "node_failed"  # recovery budget spent
    NODE_RECOVERED = "node_recovered"
    RECOVERY_ATTEMPT = "recovery_attempt"
    FAULT_INJECTED = "fault_injected"
    FAULT_HEALED = "fault_healed"
    EVICTION_STARTED = "eviction_started"
    EVICTIONS_PAUSED = "evictions_paused"
    EVICTIONS_RESUMED = "evictions_resumed"
    POD_CREATED = "pod_created"
    POD_DELETED = "pod_deleted"
    POD_BOUND = "pod_bound"
    POD_REBOUND = "pod_rebound"
    POD_PENDING = "pod_pending"
    POD_PHASE = "pod_phase"
    POD_RESTARTED = "pod_restarted"  # a container restarted inside its pod
    POD_KILLED = "pod_killed"  # a pod process was killed on purpose
    DRIFT = "drift"  # an agent's report disagreed with the books
    RUNTIME = "runtime"  # runtime availability, image builds, progress
    ENGINE = "engine"  # engine start/stop, stalls


# Kinds that a heartbeat-rate report can produce in bulk; the UI may fold them.
NOISY_KINDS = frozenset({EventKind.DRIFT, EventKind.POD_PHASE, EventKind.POD_RESTARTED})


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime
    kind: EventKind
    message: str
    node_id: int | None = None
    node_name: str | None = None
    pod_id: int | None = None
    pod_name: str | None = None
    incident_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": utc_iso(self.at),
            "kind": str(self.kind),
            "message": self.message,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "pod_id": self.pod_id,
            "pod_name": self.pod_name,
            "incident_id": self.incident_id,
            "data": dict(self.data),
        }


Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each event to every subscriber, in order; one failing subscriber harms no other."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", fn, event.kind)
