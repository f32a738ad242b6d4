"""The Engine's PriorityClass operations and reads (a mixin of ``Engine``, as service_ops is)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kube9_desktop.engine.changes import Changes
from kube9_desktop.engine.cluster import priority as ops
from kube9_desktop.engine.errors import NotFound
from kube9_desktop.engine.priority import PriorityClassSpec, PriorityClassView

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster


@dataclass(frozen=True)
class PriorityClassOutcome:
    view: PriorityClassView
    changes: Changes


class EnginePriorityClasses:
    cluster: Cluster

    def priority_classes(self) -> list[PriorityClassView]:
        """Every class, the built-in ones included, by name."""
        return sorted(self.cluster.state.priority_classes.values(), key=lambda c: c.name)

    def priority_class(self, name: str) -> PriorityClassView:
        found = self.cluster.state.priority_classes.get(name)
        if found is None:
            raise NotFound(f"PriorityClass '{name}' not found")
        return found

    def find_priority_class(self, name: str) -> PriorityClassView | None:
        return self.cluster.state.priority_classes.get(name)

    async def create_priority_class(self, spec: PriorityClassSpec) -> PriorityClassOutcome:
        with self.cluster.transaction() as t:
            view = ops.create_priority_class(t, spec)
        return PriorityClassOutcome(view, t.changes)

    async def delete_priority_class(self, name: str) -> PriorityClassOutcome:
        with self.cluster.transaction() as t:
            view = ops.delete_priority_class(t, name)
        return PriorityClassOutcome(view, t.changes)
