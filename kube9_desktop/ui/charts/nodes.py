"""Per-node bar charts that stay readable at any cluster size: names on the axis, tooltips.

A chart shows as many nodes as fit with their names written out in full; beyond that it
shows the top N by its own measure (CPU used, heartbeat age) and says how many it left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetricsF

from kube9_desktop.engine.model import format_cpu, format_mem
from kube9_desktop.ui.charts.card import ChartCard
from kube9_desktop.ui.charts.ring import FloatArray
from kube9_desktop.ui.formatting import age

MAX_BARS = 40  # even on a wide screen, more bars than this are a blur
NAME_GAP_PX = 10.0  # clear space between two names on the axis


@dataclass(frozen=True, slots=True)
class NodeBar:
    """One node as the bar charts draw it (CPU in cores, memory in MiB, age in seconds)."""

    name: str
    status: str
    cpu_allocated: float
    cpu_capacity: float
    heartbeat_age: float | None
    cpu_used: float | None = None  # None: the node reports no usage
    mem_allocated: float = 0.0
    mem_capacity: float = 0.0
    mem_used: float | None = None


def by_cpu(bar: NodeBar) -> tuple[float, float]:
    """Busiest first: CPU used, then CPU requested."""
    return (bar.cpu_used or 0.0, bar.cpu_allocated)


def by_heartbeat(bar: NodeBar) -> tuple[float, float]:
    """Stalest first: a node never heard from counts as the oldest."""
    return (math.inf if bar.heartbeat_age is None else bar.heartbeat_age, 0.0)


def describe(bar: NodeBar) -> str:
    """A node's tooltip: status, CPU and memory used / requested / allocatable, heartbeat."""

    def used(value: float | None, fmt: Callable[[int], str], scale: float) -> str:
        return "not reported" if value is None else fmt(round(value * scale))

    heartbeat = "never" if bar.heartbeat_age is None else age(bar.heartbeat_age)
    return (
        f"{bar.name} · {bar.status}\n"
        f"CPU: used {used(bar.cpu_used, format_cpu, 1000)} · requested "
        f"{format_cpu(round(bar.cpu_allocated * 1000))} · allocatable "
        f"{format_cpu(round(bar.cpu_capacity * 1000))}\n"
        f"Memory: used {used(bar.mem_used, format_mem, 1)} · requested "
        f"{format_mem(round(bar.mem_allocated))} · allocatable "
        f"{format_mem(round(bar.mem_capacity))}\n"
        f"Heartbeat: {heartbeat}"
    )


class NodeSlots:
    """Which nodes one bar chart shows, their names on its axis, and the hover text."""

    def __init__(
        self, card: ChartCard, what: str, rank: Callable[[NodeBar], tuple[float, float]]
    ) -> None:
        self.card = card
        self.what = what  # "CPU used": says what the top N are the top of
        self.rank = rank
        self.shown: list[NodeBar] = []
        self._ticks: list[str] | None = None  # the names on the axis (None: not set yet)
        card.view.hover = self.hover
        card.view.empty.setText("no nodes yet")
        card.plot.getAxis("bottom").setStyle(tickFont=card.small_font)

    def fit(self, names: Sequence[str]) -> int:
        """How many of these names fit side by side on the axis, written out in full."""
        room = self.card.plot.getViewBox().width()
        metrics = QFontMetricsF(self.card.small_font)
        widest = max((metrics.horizontalAdvance(n) for n in names), default=0.0)
        return max(1, min(MAX_BARS, int(room // (widest + NAME_GAP_PX))))

    def choose(self, nodes: Sequence[NodeBar]) -> list[NodeBar]:
        """All nodes in their order if they fit, else the top N by ``rank``; sets the axis."""
        if len(nodes) <= self.fit([n.name for n in nodes[:MAX_BARS]]) or not nodes:
            shown = list(nodes)
        else:
            order = sorted(range(len(nodes)), key=lambda i: self.rank(nodes[i]), reverse=True)
            top = [nodes[i] for i in order[:MAX_BARS]]
            shown = top[: self.fit([n.name for n in top])]
        self.shown = shown
        left_out = len(nodes) - len(shown)
        self.card.set_note(
            f"top {len(shown)} of {len(nodes)} · and {left_out} more" if left_out else "",
            f"The {len(shown)} nodes with the highest {self.what} of {len(nodes)}; "
            f"{left_out} more not shown (widen the pane to see more)"
            if left_out
            else "",
        )
        names = [n.name for n in shown]
        if names != self._ticks:
            self._ticks = names
            self.card.plot.getAxis("bottom").setTicks([list(enumerate(names))])
            self.card.plot.setXRange(-0.6, max(len(names), 1) - 0.4, padding=0)
        self.card.view.show_empty(not shown)
        return shown

    def x(self) -> FloatArray:
        return np.arange(len(self.shown), dtype=np.float64)

    def hover(self, at: QPointF) -> str:
        i = round(at.x())
        if 0 <= i < len(self.shown) and abs(at.x() - i) <= 0.45:
            return describe(self.shown[i])
        return ""
