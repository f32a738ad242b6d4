"""What one commit changed, by kind: the value every operation returns and the bus publishes.

The API answers from it and the UI bridge refreshes exactly these rows. Within one change set
an object is in at most one of ``added``, ``changed`` and ``removed``: added then changed is
added; added then removed is nothing; changed then removed is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kube9_desktop.engine.events import Event


class Kind(StrEnum):
    NODE = "Node"
    POD = "Pod"
    NAMESPACE = "Namespace"
    REPLICASET = "ReplicaSet"
    DEPLOYMENT = "Deployment"
    SERVICE = "Service"
    PRIORITY_CLASS = "PriorityClass"


@dataclass
class Changes:
    resource_version: int = 0  # the commit's resource version (0: nothing was committed)
    added: dict[Kind, set[int]] = field(default_factory=dict)
    changed: dict[Kind, set[int]] = field(default_factory=dict)
    removed: dict[Kind, dict[int, Any]] = field(default_factory=dict)  # id -> last view
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.events)

    def add(self, kind: Kind, obj_id: int) -> None:
        self.added.setdefault(kind, set()).add(obj_id)

    def change(self, kind: Kind, obj_id: int) -> None:
        if obj_id not in self.added.get(kind, ()):
            self.changed.setdefault(kind, set()).add(obj_id)

    def remove(self, kind: Kind, obj_id: int, view: Any = None) -> None:
        added = self.added.get(kind)
        if added is not None and obj_id in added:
            added.discard(obj_id)
            if not added:
                del self.added[kind]
            return
        changed = self.changed.get(kind)
        if changed is not None:
            changed.discard(obj_id)
            if not changed:
                del self.changed[kind]
        self.removed.setdefault(kind, {})[obj_id] = view

    def ids(self, kind: Kind) -> set[int]:
        """Every id of ``kind`` this change set touches (a new set, the caller's to keep)."""
        added = self.added.get(kind)
        changed = self.changed.get(kind)
        removed = self.removed.get(kind)
        # Most change sets touch a kind one way (a pod create: its node changed), and each of
        # the engine's subscribers asks after every commit: one copy, not three sets and two
        # unions.
        if removed is None:
            if added is None:
                return set() if changed is None else set(changed)
            if changed is None:
                return set(added)
        return (added or set()) | (changed or set()) | set(removed or ())

    def merge(self, other: Changes) -> None:
        """Fold a later change set into this one (the bridge coalesces bursts this way).

        Ids are never reused, so an id removed here is never added again later.
        """
        for kind, ids in other.added.items():
            for i in ids:
                self.add(kind, i)
        for kind, ids in other.changed.items():
            for i in ids:
                self.change(kind, i)
        for kind, gone in other.removed.items():
            for i, view in gone.items():
                self.remove(kind, i, view)
        self.events.extend(other.events)
        self.resource_version = max(self.resource_version, other.resource_version)
