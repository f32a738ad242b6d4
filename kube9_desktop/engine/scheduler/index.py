"""The scheduling index: eligible nodes ordered by free resources, for O(log n) decisions.

Each node has one key ``(free_cpu_m, free_mem_mi, node_id)``, packed into a single int that
sorts like the tuple (one int compare instead of a tuple walk), kept in sorted runs of a few
hundred keys with the last key of each run in ``_maxes`` (the layout of sortedcontainers'
SortedList, without the positional index these queries never need). Best-fit is the first key
at or after ``(request_cpu, -inf)`` whose memory also fits; worst-fit walks down from the top
group. A bind moves one key: a few bisects and two short list edits.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from itertools import islice

from kube9_desktop.engine.model import Resources

_BITS = 42  # each part gets a 42-bit field: ids, millicores and MiB all stay far below 2**41
_MASK = (1 << _BITS) - 1
_CPU_SHIFT = 2 * _BITS
_BIAS = 1 << (_BITS - 1)  # free amounts may be negative (a reload onto lost capacity)


def pack(cpu_m: int, mem_mi: int, node_id: int) -> int:
    """``(cpu, mem, id)`` as one int ordered like the tuple: (1000, 512, 7) < (1000, 513, 1)."""
    return ((cpu_m + _BIAS) << _CPU_SHIFT) | ((mem_mi + _BIAS) << _BITS) | node_id


def unpack(key: int) -> tuple[int, int, int]:
    return (key >> _CPU_SHIFT) - _BIAS, ((key >> _BITS) & _MASK) - _BIAS, key & _MASK


class SchedulingIndex:
    def __init__(self, load: int = 256) -> None:
        self._load = load  # runs split beyond 2 * load keys
        self._runs: list[list[int]] = []
        self._maxes: list[int] = []
        self._by_id: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def ids(self) -> Iterator[int]:
        return iter(self._by_id)

    def put(self, node_id: int, free: Resources) -> None:
        """Insert or move a node's key."""
        new = ((free.cpu_m + _BIAS) << _CPU_SHIFT) | ((free.mem_mi + _BIAS) << _BITS) | node_id
        old = self._by_id.get(node_id)
        if old == new:
            return
        if old is not None:
            self._remove(old)
        self._add(new)
        self._by_id[node_id] = new

    def discard(self, node_id: int) -> None:
        old = self._by_id.pop(node_id, None)
        if old is not None:
            self._remove(old)

    def best_fit(self, request: Resources) -> int | None:
        """Least free CPU that still fits; ties: less free memory, then lowest id."""
        maxes, runs = self._maxes, self._runs
        mem_key = (request.mem_mi + _BIAS) << _BITS
        lo = (request.cpu_m + _BIAS) << _CPU_SHIFT
        pos = bisect_left(maxes, lo)
        while pos < len(maxes):
            run = runs[pos]
            key = run[bisect_left(run, lo)]
            if key & (_MASK << _BITS) >= mem_key:
                return key & _MASK
            # Skip to the first key of this CPU value with enough memory, or the next CPU value.
            lo = (key >> _CPU_SHIFT << _CPU_SHIFT) | mem_key
            pos = bisect_left(maxes, lo, pos)
        return None

    def worst_fit(self, request: Resources) -> int | None:
        """Most free CPU; ties: more free memory, then lowest id."""
        key = self._maxes[-1] if self._maxes else None
        while key is not None:
            cpu, mem, _ = unpack(key)
            if cpu < request.cpu_m:
                return None
            if mem >= request.mem_mi:
                return self._ceiling(pack(cpu, mem, 0)) & _MASK  # lowest id of the tie
            key = self._lower(pack(cpu, -_BIAS, 0))  # nothing at this CPU has more memory
        return None

    def first_fit(self, request: Resources) -> int | None:
        """Lowest id that fits (a scan over ids; first-fit has no better order to exploit)."""
        best: int | None = None
        for node_id, key in self._by_id.items():
            cpu, mem, _ = unpack(key)
            if cpu >= request.cpu_m and mem >= request.mem_mi and (best is None or node_id < best):
                best = node_id
        return best

    # ---- walks in a strategy's order (the filtered path: the caller skips what it rejects) ----

    def walk_best(self, request: Resources) -> Iterator[int]:
        """Ids of the nodes that fit, in best-fit order: (free cpu, free memory, id) ascending."""
        mem_key = (request.mem_mi + _BIAS) << _BITS
        for key in self._from((request.cpu_m + _BIAS) << _CPU_SHIFT):
            if key & (_MASK << _BITS) >= mem_key:
                yield key & _MASK

    def walk_worst(self, request: Resources) -> Iterator[int]:
        """Ids that fit in worst-fit order: most free cpu, then most memory, then lowest id.

        Keys run downwards, so the ids of one (cpu, memory) pair come highest first: each
        such run is collected and given back lowest first.
        """
        same: list[int] = []
        prefix = None
        fits = False
        for run in reversed(self._runs):
            for key in reversed(run):
                if (key >> _CPU_SHIFT) - _BIAS < request.cpu_m:
                    yield from sorted(same)
                    return
                if key >> _BITS != prefix:
                    yield from sorted(same)
                    same = []
                    prefix = key >> _BITS
                    fits = ((key >> _BITS) & _MASK) - _BIAS >= request.mem_mi
                if fits:
                    same.append(key & _MASK)
        yield from sorted(same)

    def walk_first(self, request: Resources) -> Iterator[int]:
        """Ids that fit, lowest first (sorts the ids: first-fit has no order to exploit)."""
        for node_id in sorted(self._by_id):
            cpu, mem, _ = unpack(self._by_id[node_id])
            if cpu >= request.cpu_m and mem >= request.mem_mi:
                yield node_id

    def _from(self, lo: int) -> Iterator[int]:
        """Every key >= ``lo``, ascending."""
        maxes, runs = self._maxes, self._runs
        pos = bisect_left(maxes, lo)
        if pos == len(maxes):
            return
        run = runs[pos]
        yield from islice(run, bisect_left(run, lo), None)
        for run in islice(runs, pos + 1, None):
            yield from run

    # ---- the sorted runs ---------------------------------------------------------------

    def _add(self, key: int) -> None:
        maxes, runs = self._maxes, self._runs
        if not maxes:
            runs.append([key])
            maxes.append(key)
            return
        pos = bisect_right(maxes, key)
        if pos == len(maxes):
            pos -= 1
            runs[pos].append(key)
            maxes[pos] = key
        else:
            insort(runs[pos], key)
        run = runs[pos]
        if len(run) > 2 * self._load:
            tail = run[self._load :]
            del run[self._load :]
            maxes[pos] = run[-1]
            runs.insert(pos + 1, tail)
            maxes.insert(pos + 1, tail[-1])

    def _remove(self, key: int) -> None:
        maxes, runs = self._maxes, self._runs
        pos = bisect_left(maxes, key)
        run = runs[pos]
        del run[bisect_left(run, key)]
        if not run:
            del runs[pos]
            del maxes[pos]
        else:
            maxes[pos] = run[-1]

    def _ceiling(self, key: int) -> int:
        """The smallest key >= ``key`` (the caller knows one exists)."""
        pos = bisect_left(self._maxes, key)
        run = self._runs[pos]
        return run[bisect_left(run, key)]

    def _lower(self, key: int) -> int | None:
        """The largest key < ``key``, if any."""
        pos = bisect_left(self._maxes, key)
        if pos < len(self._maxes):
            run = self._runs[pos]
            i = bisect_left(run, key)
            if i:
                return run[i - 1]
        return self._runs[pos - 1][-1] if pos else None
