"""The scheduling index: eligible nodes ordered by free resources, for O(log n) decisions.

Keys are ``(free_cpu_m, free_mem_mi, node_id)`` in one sorted list. Best-fit is the first key
at or after ``(request_cpu, -inf)`` whose memory also fits; worst-fit walks down from the top
group. Each bind/unbind moves one key (two O(log n) operations).
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedList

from kube9_desktop.engine.model import Resources

_NEG = -(2**62)


class SchedulingIndex:
    def __init__(self) -> None:
        self._keys: SortedList = SortedList()
        self._by_id: dict[int, tuple[int, int, int]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def ids(self) -> Iterator[int]:
        return iter(self._by_id)

    def put(self, node_id: int, free: Resources) -> None:
        """Insert or move a node's key."""
        new = (free.cpu_m, free.mem_mi, node_id)
        old = self._by_id.get(node_id)
        if old == new:
            return
        if old is not None:
            self._keys.remove(old)
        self._keys.add(new)
        self._by_id[node_id] = new

    def discard(self, node_id: int) -> None:
        old = self._by_id.pop(node_id, None)
        if old is not None:
            self._keys.remove(old)

    def best_fit(self, request: Resources) -> int | None:
        """Least free CPU that still fits; ties: less free memory, then lowest id."""
        keys = self._keys
        i = keys.bisect_left((request.cpu_m, _NEG, _NEG))
        n = len(keys)
        while i < n:
            cpu, mem, node_id = keys[i]
            if mem >= request.mem_mi:
                return int(node_id)
            # Skip to the first key of this CPU value with enough memory, or the next CPU value.
            j = keys.bisect_left((cpu, request.mem_mi, _NEG))
            i = j if j > i else i + 1
        return None

    def worst_fit(self, request: Resources) -> int | None:
        """Most free CPU; ties: more free memory, then lowest id."""
        keys = self._keys
        hi = len(keys)
        while hi > 0:
            cpu, mem, _ = keys[hi - 1]
            if cpu < request.cpu_m:
                return None
            if mem >= request.mem_mi:
                return int(keys[keys.bisect_left((cpu, mem, _NEG))][2])  # lowest id of the tie
            hi = keys.bisect_left((cpu, _NEG, _NEG))  # nothing at this CPU has more memory
        return None

    def first_fit(self, request: Resources) -> int | None:
        """Lowest id that fits (a scan over ids; first-fit has no better order to exploit)."""
        best: int | None = None
        for node_id, (cpu, mem, _) in self._by_id.items():
            if cpu >= request.cpu_m and mem >= request.mem_mi and (best is None or node_id < best):
                best = node_id
        return best
