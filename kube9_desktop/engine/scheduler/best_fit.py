"""Best-fit (default): the node left with the least free CPU after placement packs the cluster.

Ties go to the node left with less free memory, then to the lowest id. Example: a 1-core pod
on nodes with 1.5, 1.0 and 3.0 cores free goes to the 1.0 node (0 left), not the 1.5 (0.5 left).
"""

from __future__ import annotations

from kube9_desktop.engine.model import Resources
from kube9_desktop.engine.scheduler.fit import SchedNode


def key(node: SchedNode, request: Resources) -> tuple[int, int, int]:
    """Smaller is better: (cpu left, memory left, id)."""
    free = node.capacity - node.allocated
    return (free.cpu_m - request.cpu_m, free.mem_mi - request.mem_mi, node.id)
