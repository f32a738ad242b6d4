"""A fixed-capacity ring of float64 series that share one write position (one per sample)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class RingBuffer:
    """Columns of float64 samples; once full, each new sample overwrites the oldest."""

    def __init__(self, names: Sequence[str], capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.names = tuple(names)
        self.capacity = capacity
        self._row = {name: i for i, name in enumerate(self.names)}
        self._data: FloatArray = np.full((len(self.names), capacity), np.nan, dtype=np.float64)
        self._next = 0
        self.size = 0

    def add_series(self, name: str) -> None:
        """A new column, NaN for every sample so far (a ReplicaSet that appears mid-way)."""
        if name in self._row:
            return
        self._row[name] = len(self.names)
        self.names = (*self.names, name)
        blank = np.full((1, self.capacity), np.nan, dtype=np.float64)
        self._data = np.concatenate((self._data, blank))

    def __contains__(self, name: object) -> bool:
        return name in self._row

    def append(self, values: Mapping[str, float]) -> None:
        """Write one sample; series not named in ``values`` get NaN (a gap in the line)."""
        self._data[:, self._next] = np.nan
        for name, value in values.items():
            self._data[self._row[name], self._next] = value
        self._next = (self._next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def series(self, name: str) -> FloatArray:
        """A copy of one series, oldest sample first."""
        row: FloatArray = self._data[self._row[name]]
        if self.size < self.capacity:
            return row[: self.size].copy()
        out: FloatArray = np.concatenate((row[self._next :], row[: self._next]))
        return out

    def last(self, name: str) -> float | None:
        """The newest value of one series (None while empty)."""
        if not self.size:
            return None
        return float(self._data[self._row[name], (self._next - 1) % self.capacity])

    def clear(self) -> None:
        self._data.fill(np.nan)
        self._next = 0
        self.size = 0
