"""Bars coloured by node status, drawn fast however many nodes there are.

A BarGraphItem with one brush per bar replays a recorded picture of every rectangle; with a
single brush it draws all of them in one call. So each status colour gets one item (at most
six, created once), and each redraw hands every item the bars of its status.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.ui.charts.ring import FloatArray
from kube9_desktop.ui.theme import STATUS_COLORS

OTHER = "other"
OTHER_COLOR = "#8a8a8a"


class StatusBars:
    """One bar per node on ``plot``, coloured by status, as a fixed handful of items."""

    def __init__(self, plot: pg.PlotItem, width: float = 0.8) -> None:
        self.items: dict[str, pg.BarGraphItem] = {}
        for status in (*(str(s) for s in NodeStatus), OTHER):
            brush = pg.mkBrush(STATUS_COLORS.get(status, OTHER_COLOR))
            item = pg.BarGraphItem(x=[], height=[], width=width, pen=None, brush=brush)
            plot.addItem(item)
            self.items[status] = item
        self._count = 0

    def set(self, x: FloatArray, heights: FloatArray, statuses: Sequence[str]) -> None:
        """Bar ``i`` at ``x[i]``, ``heights[i]`` tall, in the colour of ``statuses[i]``."""
        known = np.array([s if s in self.items else OTHER for s in statuses], dtype=object)
        for status, item in self.items.items():
            mask = known == status
            item.setOpts(x=x[mask], height=heights[mask])
        self._count = len(statuses)

    def count(self) -> int:
        """How many bars are drawn."""
        return self._count

    def heights(self) -> dict[str, list[float]]:
        """The drawn heights per status (for tests and tooltips)."""
        return {s: [float(h) for h in item.opts["height"]] for s, item in self.items.items()}
