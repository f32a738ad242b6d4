"""First-fit: the lowest-id node that fits; predictable, the way students first write it."""

from __future__ import annotations

from kube9_desktop.engine.model import Resources
from kube9_desktop.engine.scheduler.fit import SchedNode


def key(node: SchedNode, request: Resources) -> tuple[int, int, int]:
    """Smaller is better: only the id counts."""
    return (node.id, 0, 0)
