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
from typing import Annotated, Any

from typing_extensions import TypedDict

from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.jsontypes import JsonObject, Timestamp, closed, one_of
from kube9_desktop.engine.meta import ObjectRef, ObjectRefJson

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
    NODE_TAINTED = "node_tainted"  # its taints changed (the event lists them)
    NODE_CORDONED = "node_cordoned"  # spec.unschedulable set by the user
    NODE_UNCORDONED = "node_uncordoned"
    RECOVERY_ATTEMPT = "recovery_attempt"
    FAULT_INJECTED = "fault_injected"
    FAULT_HEALED = "fault_healed"
    EVICTION_STARTED = "eviction_started"
    EVICTIONS_PAUSED = "evictions_paused"
    EVICTIONS_RESUMED = "evictions_resumed"
    WHAT_IF_CHECKED = "what_if_checked"  # a failure injected after its preview: did it match?
    SPLIT_BRAIN = "split_brain"  # a copy still runs on an unreachable node: replaced, stopped
    POD_CREATED = "pod_created"
    POD_DELETED = "pod_deleted"
    POD_BOUND = "pod_bound"
    POD_REBOUND = "pod_rebound"
    POD_PENDING = "pod_pending"
    POD_PHASE = "pod_phase"
    POD_RESTARTED = "pod_restarted"  # a container restarted inside its pod
    POD_KILLED = "pod_killed"  # a pod process was killed on purpose
    POD_PREEMPTED = "pod_preempted"  # deleted to make room for a higher-priority pod
    POD_NOMINATED = "pod_nominated"  # preemption chose its node and victims
    DRIFT = "drift"  # an agent's report disagreed with the books
    REPLICASET_CREATED = "replicaset_created"
    REPLICASET_SCALED = "replicaset_scaled"  # its pods created or deleted toward its replicas
    REPLICASET_DELETED = "replicaset_deleted"
    DEPLOYMENT_CREATED = "deployment_created"
    DEPLOYMENT_UPDATED = "deployment_updated"  # spec changed (replicas, template, strategy…)
    DEPLOYMENT_SCALED = "deployment_scaled"  # a rollout step: ReplicaSet A 4→3, B 1→2
    DEPLOYMENT_ROLLED_BACK = "deployment_rolled_back"
    DEPLOYMENT_PAUSED = "deployment_paused"
    DEPLOYMENT_RESUMED = "deployment_resumed"
    DEPLOYMENT_STALLED = "deployment_stalled"  # ProgressDeadlineExceeded
    DEPLOYMENT_COMPLETE = "deployment_complete"  # NewReplicaSetAvailable
    DEPLOYMENT_DELETED = "deployment_deleted"
    SERVICE_CREATED = "service_created"
    SERVICE_UPDATED = "service_updated"  # selector, ports, type… (not its endpoints)
    SERVICE_DELETED = "service_deleted"
    TRAFFIC_STARTED = "traffic_started"  # the built-in traffic generator, through a Service
    TRAFFIC_STOPPED = "traffic_stopped"  # stopped by the user (a run that ends says nothing)
    NAMESPACE_CREATED = "namespace_created"
    PRIORITY_CLASS_CREATED = "priority_class_created"
    PRIORITY_CLASS_DELETED = "priority_class_deleted"
    NAMESPACE_DELETED = "namespace_deleted"
    RUNTIME = "runtime"  # runtime availability, image builds, progress
    ENGINE = "engine"  # engine start/stop, stalls


# Kinds that a heartbeat-rate report can produce in bulk; the UI may fold them.
NOISY_KINDS = frozenset({EventKind.DRIFT, EventKind.POD_PHASE, EventKind.POD_RESTARTED})


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, about ``object`` (by kind, id and uid), maybe with a ``related``
    object (a pod's event names its node there). ``node_*``/``pod_*`` read either side."""

    id: int
    at: datetime
    kind: EventKind
    message: str
    object: ObjectRef | None = None
    related: ObjectRef | None = None
    incident_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    resource_version: int = 0

    def _ref(self, kind: str) -> ObjectRef | None:
        if self.object is not None and self.object.kind == kind:
            return self.object
        if self.related is not None and self.related.kind == kind:
            return self.related
        return None

    @property
    def node_id(self) -> int | None:
        ref = self._ref("Node")
        return ref.id if ref else None

    @property
    def node_name(self) -> str | None:
        ref = self._ref("Node")
        return ref.name if ref else None

    @property
    def pod_id(self) -> int | None:
        ref = self._ref("Pod")
        return ref.id if ref else None

    @property
    def pod_name(self) -> str | None:
        ref = self._ref("Pod")
        return ref.name if ref else None

    def to_json(self) -> EventJson:
        return {
            "id": self.id,
            "timestamp": utc_iso(self.at),
            "kind": str(self.kind),
            "message": self.message,
            "involved_object": self.object.to_json() if self.object else None,
            "related": self.related.to_json() if self.related else None,
            "node_id": self.node_id,
            "node_name": self.node_name,
            "pod_id": self.pod_id,
            "pod_name": self.pod_name,
            "incident_id": self.incident_id,
            "resource_version": self.resource_version,
            "data": dict(self.data),
        }


@closed
class EventJson(TypedDict):
    id: int
    timestamp: Timestamp
    kind: Annotated[str, one_of(EventKind)]
    message: str
    involved_object: ObjectRefJson | None
    related: ObjectRefJson | None
    node_id: int | None
    node_name: str | None
    pod_id: int | None
    pod_name: str | None
    incident_id: int | None
    resource_version: int
    data: JsonObject


Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers each event, and each commit's change set, to every subscriber, in order; one
    failing subscriber harms no other. Both are published only after their commit."""

    def __init__(self) -> None:
        # Tuples, replaced on (un)subscribe: a publish iterates the one it found, so a
        # subscriber added or removed meanwhile changes the next publish only, with no copy
        # made per publish (one per commit, and one per event).
        self._subscribers: tuple[Subscriber, ...] = ()
        self._change_subscribers: tuple[Callable[[Any], None], ...] = ()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers += (fn,)

        def unsubscribe() -> None:
            self._subscribers = _without(self._subscribers, fn)

        return unsubscribe

    def subscribe_changes(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        """``fn(changes)`` after every commit that changed something (a ``Changes``)."""
        self._change_subscribers += (fn,)

        def unsubscribe() -> None:
            self._change_subscribers = _without(self._change_subscribers, fn)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for fn in self._subscribers:
            try:
                fn(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", fn, event.kind)

    def publish_changes(self, changes: Any) -> None:
        for fn in self._change_subscribers:
            try:
                fn(changes)
            except Exception:
                log.exception("change subscriber %r failed", fn)


def _without(subscribers: tuple[Any, ...], fn: Any) -> tuple[Any, ...]:
    """``subscribers`` less the first ``fn`` (as list.remove did; none: unchanged)."""
    for i, found in enumerate(subscribers):
        if found == fn:
            return subscribers[:i] + subscribers[i + 1 :]
    return subscribers
