"""Worst-fit (spread): the node left with the most free CPU, so load spreads evenly.

Ties go to the node left with more free memory, then to the lowest id.
"""

from __future__ import annotations

from kube9_desktop.engine.model import Resources
from kube9_desktop.engine.scheduler.fit import SchedNode


def key(node: SchedNode, request: Resources) -> tuple[int, int, int]:
    """Smaller is better: (-cpu left, -memory left, id)."""
    free = node.capacity - node.allocated
    return (request.cpu_m - free.cpu_m, request.mem_mi - free.mem_mi, node.id)
