"""ChartsPanel: cluster CPU and memory (used, requested, allocatable), pods by phase, per-node
CPU and heartbeat ages, live.

Samples are taken from the bridge's snapshots and usage figures on its clock (once a second)
into ring buffers; the plots are redrawn from the buffers on a second timer, never per event.
Each series is one PlotDataItem created once; the per-node charts use one BarGraphItem per
status colour, never one per node, and show the top N nodes when all would not be readable.
The time charts follow the newest sample over the chosen window (time_range.py); fault
injections, detections and recoveries become markers on them (markers.py). The cards sit in a
grid of one to three columns inside a scroll area, so a small window scrolls rather than
squeezing the plots flat.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kube9_desktop.engine.events import Event
from kube9_desktop.engine.model import NodeGauge, PodPhase
from kube9_desktop.engine.what_if import WhatIf
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.charts.bars import StatusBars
from kube9_desktop.ui.charts.card import ChartCard, ChartsGrid, ChartsScroll
from kube9_desktop.ui.charts.markers import Marker, MarkerLayer, marker_for
from kube9_desktop.ui.charts.nodes import NodeBar, NodeSlots, by_cpu, by_heartbeat
from kube9_desktop.ui.charts.ring import FloatArray, RingBuffer
from kube9_desktop.ui.charts.time_range import TIME_RANGES, TimeRangeBar, range_key
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.theme import STATUS_COLORS

PHASES = tuple(str(p) for p in PodPhase)
TIME_SERIES = (
    "cpu_used",
    "cpu_allocated",
    "cpu_capacity",
    "mem_used",
    "mem_allocated",
    "mem_capacity",
    *(f"pods_{p}" for p in PHASES),
)
HISTORY_S = 3600.0  # what "All" shows: the last hour
REDRAW_MS = 250
HEARTBEAT_SPAN = 2.0  # the heartbeat chart shows ages up to this many grace periods
HEADROOM = 1.3  # the time charts' top: room above the data for the marker labels
EMPTY_WINDOW_S = 60.0  # "All" before any sample: the last minute, empty
USED_COLOR = "#e8833a"
CAPACITY_COLOR = "#8a8a8a"
CAPACITY_BAR = (140, 140, 140, 70)
LEGEND_PHASES = ("pending", "scheduled", "running", "failed")  # the rare ones are drawn, unnamed
# (series, legend name, colour, dashed) per time chart
CPU_LINES = (
    ("cpu_capacity", "allocatable", CAPACITY_COLOR, True),
    ("cpu_allocated", "requested", "#4a7fd6", False),
    ("cpu_used", "used", USED_COLOR, False),
)
MEM_LINES = (
    ("mem_capacity", "allocatable", CAPACITY_COLOR, True),
    ("mem_allocated", "requested", "#8e5bd0", False),
    ("mem_used", "used", USED_COLOR, False),
)


class ChartsPanel(QWidget):
    """The charts page: a time-range bar above a scrolling grid of chart cards."""

    def __init__(
        self,
        bridge: EngineBridge,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        prefs: Preferences | None = None,
        history_s: float = HISTORY_S,
        redraw_ms: int = REDRAW_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ChartsPanel")
        self.bridge = bridge
        self.settings = settings
        self.prefs = prefs
        self._ring = RingBuffer(("t", *TIME_SERIES), max(2, int(history_s * 1000 / bridge.TICK_MS)))
        self._nodes: list[NodeBar] = []
        self._grace = settings.effective_grace_period
        self._pending_markers: list[Marker] = []
        self._dirty = False
        self.following = True  # the time charts track the newest sample
        self._x_set: tuple[float, float] | None = None  # the window we last gave them

        self.range_bar = TimeRangeBar(range_key(prefs.chart_range() if prefs else None))
        self.range_bar.range_chosen.connect(self._on_range_bar_range_chosen)
        self.paused = QLabel("Paused · double-click a chart to follow live")
        self.paused.setObjectName("charts_paused")
        self.paused.hide()
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        top.addWidget(self.range_bar)
        top.addStretch(1)
        top.addWidget(self.paused)

        self._build_cards()
        self.grid = ChartsGrid(self.cards)
        self.scroll_area = ChartsScroll(self.grid)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.scroll_area, 1)
        self._apply_palette()
        self._draw_time_axes()

        # One sample per bridge tick, taken once the tick's other handlers (the tree's refresh,
        # the status bar) have returned to the loop: at 1,000 nodes each is 5-20 ms, and run
        # back to back in one emission they held the GUI thread for 40-60 ms.
        self._sample_soon = QTimer(self)
        self._sample_soon.setSingleShot(True)
        self._sample_soon.setInterval(0)
        self._sample_soon.timeout.connect(self.sample)
        bridge.ticked.connect(self._on_bridge_ticked)
        bridge.event_published.connect(self._on_bridge_event_published)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(redraw_ms)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._redraw_timer.start()

    # ---- building ---------------------------------------------------------------------

    def _build_cards(self) -> None:
        self.cpu_card = ChartCard(
            "cpu", "Cluster CPU (cores)", axis_items={"bottom": pg.DateAxisItem()}
        )
        self.mem_card = ChartCard(
            "memory", "Cluster memory (GiB)", axis_items={"bottom": pg.DateAxisItem()}
        )
        self.pods_card = ChartCard(
            "pods", "Pods by phase", axis_items={"bottom": pg.DateAxisItem()}
        )
        self.heartbeat_card = ChartCard("heartbeat", "Heartbeat age (s)")
        self.nodes_card = ChartCard("nodes", "CPU per node (cores)", wide=True)
        self.cards = [
            self.cpu_card,
            self.mem_card,
            self.pods_card,
            self.heartbeat_card,
            self.nodes_card,
        ]
        self.time_cards = self.cards[:3]
        self.cpu_plot, self.mem_plot, self.pods_plot = (c.plot for c in self.time_cards)
        self.what_if_line: pg.InfiniteLine | None = None  # a what-if preview's allocation
        self.heartbeat_plot, self.nodes_plot = self.heartbeat_card.plot, self.nodes_card.plot

        self.curves: dict[str, pg.PlotDataItem] = {}
        lines: list[tuple[ChartCard, tuple[tuple[str, str, str, bool], ...]]] = [
            (self.cpu_card, CPU_LINES),
            (self.mem_card, MEM_LINES),
            (
                self.pods_card,
                tuple(
                    (f"pods_{p}", p, STATUS_COLORS.get(p, CAPACITY_COLOR), False) for p in PHASES
                ),
            ),
        ]
        for card, specs in lines:
            for series, _, color, dashed in specs:
                style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
                item = card.plot.plot(pen=pg.mkPen(color, width=1, style=style), antialias=False)
                assert isinstance(item, pg.PlotDataItem)
                self.curves[series] = item
            card.set_legend(
                [
                    (n, c, d)
                    for s, n, c, d in specs
                    if not s.startswith("pods_") or n in LEGEND_PHASES
                ]
            )
        for card in self.time_cards:
            card.plot.setClipToView(True)
            card.plot.setDownsampling(auto=True, mode="peak")
            card.view.double_clicked.connect(self._on_chart_double_clicked)
            if card is not self.cpu_card:
                card.plot.setXLink(self.cpu_plot)
        self.marker_layer = MarkerLayer([c.plot for c in self.time_cards])
        for card in self.time_cards:
            card.view.hover = self.marker_layer.hover
        self.cpu_plot.getViewBox().sigXRangeChanged.connect(self._on_time_range_changed)

        self.heartbeat_slots = NodeSlots(self.heartbeat_card, "heartbeat age", by_heartbeat)
        self.heartbeat_bars = StatusBars(self.heartbeat_plot)
        self.grace_line = pg.InfiniteLine(
            pos=self._grace,
            angle=0,
            pen=pg.mkPen("#d9534f", width=1, style=Qt.PenStyle.DashLine),
        )
        self.heartbeat_plot.addItem(self.grace_line)
        self.heartbeat_card.set_legend([("grace period", "#d9534f", True)])

        self.nodes_slots = NodeSlots(self.nodes_card, "CPU used", by_cpu)
        self.capacity_bars = pg.BarGraphItem(
            x=[], height=[], width=0.8, pen=None, brush=pg.mkBrush(CAPACITY_BAR)
        )
        self.nodes_plot.addItem(self.capacity_bars)
        self.allocation_bars = StatusBars(self.nodes_plot)
        self.used_bars = pg.BarGraphItem(
            x=[], height=[], width=0.3, pen=None, brush=pg.mkBrush(USED_COLOR)
        )
        self.nodes_plot.addItem(self.used_bars)
        self.nodes_card.set_legend(
            [
                ("allocatable", CAPACITY_COLOR, False),
                ("requested (in the status colour)", STATUS_COLORS["healthy"], False),
                ("used", USED_COLOR, False),
            ]
        )
        for card in (self.heartbeat_card, self.nodes_card):
            card.plot.getViewBox().sigResized.connect(self._on_bar_view_resized)

    def _apply_palette(self) -> None:
        """Follow the application theme: background from Base, axes and text from Text."""
        palette = self.palette()
        for card in self.cards:
            card.apply_palette(palette)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    # ---- sampling ---------------------------------------------------------------------

    def sample(self) -> None:
        """Take one sample of the cluster now (nothing while the engine is not attached)."""
        summary = self.bridge.summary()
        if summary is None:
            return
        views = sorted(self.bridge.node_gauges(), key=_node_key)
        self._nodes = [self._node_bar(n) for n in views]
        reported = [b for v, b in zip(views, self._nodes, strict=True) if v.node_type == "worker"]
        reported = [b for b in reported if b.cpu_used is not None]
        values = {
            "t": time.time(),
            "cpu_allocated": summary.allocated.cpu_m / 1000,
            "cpu_capacity": summary.capacity.cpu_m / 1000,
            "mem_allocated": summary.allocated.mem_mi / 1024,
            "mem_capacity": summary.capacity.mem_mi / 1024,
        }
        if reported:  # no line at all while no worker reports usage, rather than a false 0
            values["cpu_used"] = sum(b.cpu_used or 0.0 for b in reported)
            values["mem_used"] = sum(b.mem_used or 0.0 for b in reported) / 1024
        for phase in PHASES:
            values[f"pods_{phase}"] = float(summary.pods_by_phase.get(phase, 0))
        self._ring.append(values)
        grace = summary.extra.get("grace_period_s") if summary.extra else None
        self._grace = float(grace) if grace else self.settings.effective_grace_period
        self._dirty = True

    def _node_bar(self, node: NodeGauge) -> NodeBar:
        usage = self.bridge.node_usage(node.id)
        return NodeBar(
            node.name,
            str(node.status),
            node.allocated.cpu_m / 1000,
            node.capacity.cpu_m / 1000,
            node.seconds_since_heartbeat,
            cpu_used=None if usage is None else usage["cpu_cores"],
            mem_allocated=float(node.allocated.mem_mi),
            mem_capacity=float(node.capacity.mem_mi),
            mem_used=None if usage is None else usage["memory_mb"],
        )

    def _on_bridge_ticked(self) -> None:
        self._sample_soon.start()

    def _on_redraw_timer_timeout(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw()

    def _on_bridge_event_published(self, event: Event) -> None:
        marker = marker_for(event)
        if marker is not None:
            self._pending_markers.append(marker)
            self._dirty = True

    def _on_bar_view_resized(self) -> None:
        self._dirty = True  # how many names fit has changed

    # ---- the time window ----------------------------------------------------------------

    def _on_range_bar_range_chosen(self, key: str) -> None:
        if self.prefs is not None:
            self.prefs.save_chart_range(key)
        self.follow_live()

    def _on_chart_double_clicked(self) -> None:
        self.follow_live()

    def follow_live(self) -> None:
        """Back to the chosen window, tracking the newest sample."""
        self.following = True
        self.paused.hide()
        self._draw_time_axes()

    def time_window(self) -> tuple[float, float]:
        """The x range the chosen time window gives now (seconds since the epoch)."""
        seconds = TIME_RANGES[self.range_bar.current()][1]
        t = self._ring.series("t")
        end = float(t[-1]) if t.size else time.time()
        if seconds is None:
            start = float(t[0]) if t.size > 1 else end - EMPTY_WINDOW_S
        else:
            start = end - seconds
        return start, end

    def _on_time_range_changed(self, _box: Any, x_range: tuple[float, float]) -> None:
        """Anything but this panel moving the time axes pauses following (until a
        double-click); a resize keeps the range and so changes nothing here."""
        if self._x_set is None or not self.following:
            return
        width = max(1e-9, self._x_set[1] - self._x_set[0])
        if any(abs(a - b) > width * 1e-3 for a, b in zip(x_range, self._x_set, strict=True)):
            self.following = False
            self.paused.show()

    def _draw_time_axes(self) -> None:
        if self.following:
            start, end = self.time_window()
            self._x_set = (start, end)
            self.cpu_plot.setXRange(start, end, padding=0)
        (x0, x1), _ = self.cpu_plot.getViewBox().viewRange()
        t = self._ring.series("t")
        shown = (t >= x0) & (t <= x1)
        for card, names in (
            (self.cpu_card, [s for s, *_ in CPU_LINES]),
            (self.mem_card, [s for s, *_ in MEM_LINES]),
            (self.pods_card, [f"pods_{p}" for p in PHASES]),
        ):
            top = _top(self._ring, names, shown)
            card.plot.setYRange(0, top * HEADROOM if top > 0 else 1.0, padding=0)
            card.view.show_empty(not top > 0)  # NaN too: nothing sampled
        self.marker_layer.layout()

    # ---- drawing ----------------------------------------------------------------------

    # ---- the what-if overlay ----------------------------------------------------------

    def show_what_if(self, result: WhatIf | None) -> None:
        """The CPU chart's overlay while a what-if preview is shown: a dashed line at the
        allocation the failure would leave on the nodes still up (None: it goes)."""
        line = self.what_if_line
        if result is None:
            if line is not None:
                self.cpu_plot.removeItem(line)
                self.what_if_line = None
            self.cpu_card.set_note("")
            return
        up = [n for n in result.nodes if not n.failing]
        allocated = sum(n.cpu_m_allocated for n in up) / 1000
        capacity = sum(n.cpu_m_capacity for n in up) / 1000
        if line is None:
            pen = pg.mkPen(STATUS_COLORS["unhealthy"], width=1, style=Qt.PenStyle.DashLine)
            line = self.what_if_line = pg.InfiniteLine(angle=0, movable=False, pen=pen)
            self.cpu_plot.addItem(line)
        line.setValue(allocated)
        self.cpu_card.set_note(
            f"what-if: {allocated:g} / {capacity:g} allocated",
            "The dashed line: the CPU allocated on the nodes left after the previewed failure, "
            "of their capacity (until the preview is dismissed)",
        )

    def redraw(self) -> None:
        """Push the buffers and the latest node snapshot to the plots."""
        self._dirty = False
        if self._ring.size:
            t = self._ring.series("t")
            for name, curve in self.curves.items():
                curve.setData(t, self._ring.series(name), connect="finite")
        for marker in self._pending_markers:
            self.marker_layer.add(marker)
        self._pending_markers.clear()
        full = self._ring.size == self._ring.capacity  # only then has time left the history
        oldest = self._ring.series("t")[0] if full else -np.inf
        self.marker_layer.drop_older_than(float(oldest))
        self._draw_time_axes()
        self._draw_node_bars()

    def _draw_node_bars(self) -> None:
        nodes = self.nodes_slots.choose(self._nodes)
        x = self.nodes_slots.x()
        self.capacity_bars.setOpts(x=x, height=_floats(n.cpu_capacity for n in nodes))
        self.allocation_bars.set(
            x, _floats(n.cpu_allocated for n in nodes), [n.status for n in nodes]
        )
        self.used_bars.setOpts(x=x, height=_floats(n.cpu_used or 0.0 for n in nodes))
        top = max((max(n.cpu_capacity, n.cpu_used or 0.0) for n in nodes), default=1.0)
        self.nodes_plot.setYRange(0, max(top, 0.1) * 1.05, padding=0)

        span = HEARTBEAT_SPAN * self._grace
        stale = self.heartbeat_slots.choose(self._nodes)
        ages = _floats(span if n.heartbeat_age is None else n.heartbeat_age for n in stale)
        self.heartbeat_bars.set(
            self.heartbeat_slots.x(), np.minimum(ages, span), [n.status for n in stale]
        )
        self.grace_line.setValue(self._grace)
        self.grace_line.setVisible(bool(stale))  # else it strikes through "no nodes yet"
        self.heartbeat_card.set_legend([(f"grace period {self._grace:g} s", "#d9534f", True)])
        self.heartbeat_plot.setYRange(0, span * 1.05, padding=0)

    # ---- read-only views for tests and other panels -----------------------------------

    def series(self, name: str) -> FloatArray:
        """One time series, oldest first ("t" is seconds since the epoch)."""
        return self._ring.series(name)

    def markers(self) -> list[Marker]:
        """The markers (fault injections, detections, recoveries), oldest first."""
        return [*self.marker_layer.markers, *self._pending_markers]

    def drawn_markers(self) -> int:
        """How many markers are on the time axes right now."""
        return len(self.marker_layer.drawn())

    def node_bars(self) -> list[NodeBar]:
        """Every node as last sampled, in the charts' natural order (workers first)."""
        return list(self._nodes)

    def grace_period(self) -> float:
        """The grace period line's height, in seconds."""
        return self._grace


def _top(ring: RingBuffer, names: list[str], shown: Any) -> float:
    """The highest value of these series among the shown samples (NaN if there is none)."""
    if not ring.size or not shown.any():
        return math.nan
    values = np.concatenate([ring.series(n)[shown] for n in names])
    return float(np.nanmax(values)) if not np.isnan(values).all() else math.nan


def _floats(values: Any) -> FloatArray:
    return np.fromiter(values, np.float64)


def _node_key(node: NodeGauge) -> tuple[int, int]:
    return (0 if node.node_type == "worker" else 1, node.id)
