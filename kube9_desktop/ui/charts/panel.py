"""ChartsPanel: cluster allocation, pods by phase, per-node bars and heartbeat ages, live.

Samples are taken from the bridge's snapshots on a timer (2 Hz) into ring buffers; the plots
are redrawn from the buffers on a second timer, never per event. Each series is one
PlotDataItem created once; the per-node charts use one BarGraphItem per status colour, never
one per node, however many nodes there are. Fault injections, detections and recoveries
become vertical markers on the time axes.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import NodeView, PodPhase
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.charts.bars import StatusBars
from kube9_desktop.ui.charts.ring import FloatArray, RingBuffer
from kube9_desktop.ui.theme import STATUS_COLORS

PHASES = tuple(str(p) for p in PodPhase)
TIME_SERIES = (
    "cpu_allocated",
    "cpu_capacity",
    "mem_allocated",
    "mem_capacity",
    *(f"pods_{p}" for p in PHASES),
)
HISTORY_S = 600.0
REDRAW_MS = 250
MAX_MARKERS = 60
NAMED_TICKS_MAX = 40  # beyond this many nodes the bar axes show indexes, not names
HEARTBEAT_SPAN = 2.0  # the heartbeat chart shows ages up to this many grace periods
MARKER_COLORS = {
    EventKind.FAULT_INJECTED: "#d9534f",
    EventKind.NODE_DETECTED: "#d99a1e",
    EventKind.NODE_RECOVERED: "#2e9d4f",
}
CAPACITY_COLOR = (140, 140, 140, 70)


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line on the time axes: when, what kind, and its label."""

    t: float
    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class NodeBar:
    """One node as the bar charts draw it (CPU in cores, heartbeat age in seconds)."""

    name: str
    status: str
    cpu_allocated: float
    cpu_capacity: float
    heartbeat_age: float | None


def marker_for(event: Event) -> Marker | None:
    """The marker an event deserves, if any."""
    if event.kind not in MARKER_COLORS:
        return None
    at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    node = event.node_name or "?"
    if event.kind is EventKind.FAULT_INJECTED:
        label = f"{(event.data or {}).get('mode', 'fault')} {node}"
    elif event.kind is EventKind.NODE_DETECTED:
        label = f"detected {node}"
    else:
        label = f"recovered {node}"
    return Marker(at.timestamp(), str(event.kind), label)


class ChartsPanel(QWidget):
    """The charts page: four live charts over one shared time axis and the node bars."""

    def __init__(
        self,
        bridge: EngineBridge,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        history_s: float = HISTORY_S,
        redraw_ms: int = REDRAW_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ChartsPanel")
        self.bridge = bridge
        self.settings = settings
        self._ring = RingBuffer(("t", *TIME_SERIES), max(2, int(history_s * 1000 / bridge.TICK_MS)))
        self._nodes: list[NodeBar] = []
        self._drawn_nodes: list[NodeBar] = []
        self._grace = settings.effective_grace_period
        self._markers: deque[Marker] = deque(maxlen=MAX_MARKERS)
        self._pending_markers: list[Marker] = []
        self._marker_lines: deque[tuple[Marker, list[tuple[pg.PlotItem, Any]]]] = deque()
        self._dirty = False

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("charts_view")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._build_plots()
        self._apply_palette()

        bridge.ticked.connect(self._on_bridge_ticked)  # one sample per bridge tick
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(redraw_ms)
        self._redraw_timer.timeout.connect(self._on_redraw_timer_timeout)
        self._redraw_timer.start()
        bridge.event_published.connect(self._on_bridge_event_published)

    # ---- building ---------------------------------------------------------------------

    def _time_plot(self, row: int, col: int, title: str, unit: str) -> pg.PlotItem:
        plot = self.view.addPlot(
            row=row, col=col, title=title, axisItems={"bottom": pg.DateAxisItem()}
        )
        plot.setLabel("left", unit)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setMouseEnabled(x=True, y=False)
        # A compact, see-through legend in rows: it must not hide the lines it names.
        plot.addLegend(
            offset=(6, 2), colCount=2, labelTextSize="7pt", brush=pg.mkBrush(128, 128, 128, 40)
        )
        plot.getViewBox().setDefaultPadding(0.12)
        return plot

    def _curve(
        self, plot: pg.PlotItem, name: str | None, color: str, **pen: Any
    ) -> pg.PlotDataItem:
        item = plot.plot(pen=pg.mkPen(color, width=1, **pen), name=name, antialias=False)
        assert isinstance(item, pg.PlotDataItem)
        return item

    def _build_plots(self) -> None:
        self.cpu_plot = self._time_plot(0, 0, "Cluster CPU (workers)", "cores")
        self.mem_plot = self._time_plot(0, 1, "Cluster memory (workers)", "GiB")
        self.pods_plot = self._time_plot(1, 0, "Pods by phase", "pods")
        for plot in (self.mem_plot, self.pods_plot):
            plot.setXLink(self.cpu_plot)
        self.curves: dict[str, pg.PlotDataItem] = {
            "cpu_capacity": self._curve(
                self.cpu_plot, "capacity", "#8a8a8a", style=Qt.PenStyle.DashLine
            ),
            "cpu_allocated": self._curve(self.cpu_plot, "allocated", "#4a7fd6"),
            "mem_capacity": self._curve(
                self.mem_plot, "capacity", "#8a8a8a", style=Qt.PenStyle.DashLine
            ),
            "mem_allocated": self._curve(self.mem_plot, "allocated", "#8e5bd0"),
        }
        for phase in PHASES:
            color = STATUS_COLORS.get(phase, "#8a8a8a")
            # Rare phases are drawn but left out of the legend, so it stays one row.
            legend = phase if phase in ("pending", "scheduled", "running", "failed") else None
            self.curves[f"pods_{phase}"] = self._curve(self.pods_plot, legend, color)

        self.heartbeat_plot = self.view.addPlot(row=1, col=1, title="Seconds since heartbeat")
        self.heartbeat_plot.setLabel("left", "s")
        self.heartbeat_plot.setMouseEnabled(x=False, y=False)
        self.heartbeat_bars = StatusBars(self.heartbeat_plot)
        self.grace_line = pg.InfiniteLine(
            pos=self._grace,
            angle=0,
            pen=pg.mkPen("#d9534f", width=1, style=Qt.PenStyle.DashLine),
            label="grace period",
            labelOpts={"position": 0.05, "color": "#d9534f", "anchors": [(0, 1), (0, 1)]},
        )
        self.heartbeat_plot.addItem(self.grace_line)

        self.nodes_plot = self.view.addPlot(row=2, col=0, colspan=2, title="CPU per node")
        self.nodes_plot.setLabel("left", "cores")
        self.nodes_plot.setMouseEnabled(x=True, y=False)
        self.capacity_bars = pg.BarGraphItem(
            x=[], height=[], width=0.8, pen=None, brush=pg.mkBrush(CAPACITY_COLOR)
        )
        self.nodes_plot.addItem(self.capacity_bars)
        self.allocation_bars = StatusBars(self.nodes_plot)

    def _apply_palette(self) -> None:
        """Follow the application theme: background from Base, axes and titles from Text."""
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.view.setBackground(background)
        for plot in (
            self.cpu_plot,
            self.mem_plot,
            self.pods_plot,
            self.heartbeat_plot,
            self.nodes_plot,
        ):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(text)
                axis.setTextPen(text)
            plot.titleLabel.setAttr("color", text.name())
            plot.titleLabel.setText(plot.titleLabel.text)

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
        values = {
            "t": time.time(),
            "cpu_allocated": summary.allocated.cpu_m / 1000,
            "cpu_capacity": summary.capacity.cpu_m / 1000,
            "mem_allocated": summary.allocated.mem_mi / 1024,
            "mem_capacity": summary.capacity.mem_mi / 1024,
        }
        for phase in PHASES:
            values[f"pods_{phase}"] = float(summary.pods_by_phase.get(phase, 0))
        self._ring.append(values)
        grace = summary.extra.get("grace_period_s") if summary.extra else None
        self._grace = float(grace) if grace else self.settings.effective_grace_period
        self._nodes = [self._node_bar(n) for n in sorted(self.bridge.nodes(), key=_node_key)]
        self._dirty = True

    @staticmethod
    def _node_bar(node: NodeView) -> NodeBar:
        return NodeBar(
            node.name,
            str(node.status),
            node.allocated.cpu_m / 1000,
            node.capacity.cpu_m / 1000,
            node.seconds_since_heartbeat,
        )

    def _on_bridge_ticked(self) -> None:
        self.sample()

    def _on_redraw_timer_timeout(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw()

    def _on_bridge_event_published(self, event: Event) -> None:
        marker = marker_for(event)
        if marker is not None:
            self._markers.append(marker)
            self._pending_markers.append(marker)
            del self._pending_markers[:-MAX_MARKERS]
            self._dirty = True

    # ---- drawing ----------------------------------------------------------------------

    def redraw(self) -> None:
        """Push the buffers and the latest node snapshot to the plots."""
        self._dirty = False
        if self._ring.size:
            t = self._ring.series("t")
            for name, curve in self.curves.items():
                curve.setData(t, self._ring.series(name))
        self._draw_node_bars()
        self._draw_markers()

    def _draw_node_bars(self) -> None:
        nodes = self._nodes
        x: FloatArray = np.arange(len(nodes), dtype=np.float64)
        statuses = [n.status for n in nodes]
        capacity = np.fromiter((n.cpu_capacity for n in nodes), np.float64, len(nodes))
        allocated = np.fromiter((n.cpu_allocated for n in nodes), np.float64, len(nodes))
        self.capacity_bars.setOpts(x=x, height=capacity)
        self.allocation_bars.set(x, allocated, statuses)

        span = HEARTBEAT_SPAN * self._grace
        ages = np.fromiter(
            (span if n.heartbeat_age is None else n.heartbeat_age for n in nodes),
            np.float64,
            len(nodes),
        )
        self.heartbeat_bars.set(x, np.minimum(ages, span), statuses)
        self.grace_line.setValue(self._grace)
        self.grace_line.label.setFormat(f"grace period {self._grace:g} s")
        self.heartbeat_plot.setYRange(0, span * 1.05, padding=0)

        if [n.name for n in nodes] != [n.name for n in self._drawn_nodes]:
            ticks = [(float(i), n.name) for i, n in enumerate(nodes)]
            named = ticks if len(ticks) <= NAMED_TICKS_MAX else None
            for plot in (self.nodes_plot, self.heartbeat_plot):
                plot.getAxis("bottom").setTicks([named] if named else None)
                plot.setXRange(-0.6, max(len(nodes), 1) - 0.4, padding=0)
        self._drawn_nodes = nodes

    def _draw_markers(self) -> None:
        for marker in self._pending_markers:
            color = MARKER_COLORS.get(EventKind(marker.kind), "#8a8a8a")
            lines = []
            for i, plot in enumerate((self.cpu_plot, self.mem_plot, self.pods_plot)):
                line = pg.InfiniteLine(
                    pos=marker.t,
                    angle=90,
                    pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine),
                    label=marker.label if i == 0 else None,
                    labelOpts={
                        "position": 0.6,
                        "color": color,
                        "rotateAxis": (1, 0),
                        "anchors": [(0.5, 0), (0.5, 0)],
                    },
                )
                plot.addItem(line, ignoreBounds=True)
                lines.append((plot, line))
            self._marker_lines.append((marker, lines))
        self._pending_markers.clear()
        oldest = self._ring.series("t")[0] if self._ring.size else -np.inf
        while self._marker_lines and (
            len(self._marker_lines) > MAX_MARKERS or self._marker_lines[0][0].t < oldest
        ):
            _, stale = self._marker_lines.popleft()
            for plot, line in stale:
                plot.removeItem(line)

    # ---- read-only views for tests and other panels -----------------------------------

    def series(self, name: str) -> FloatArray:
        """One time series, oldest first ("t" is seconds since the epoch)."""
        return self._ring.series(name)

    def markers(self) -> list[Marker]:
        """The markers (fault injections, detections, recoveries), oldest first."""
        return list(self._markers)

    def drawn_markers(self) -> int:
        """How many markers are on the time axes right now."""
        return len(self._marker_lines)

    def node_bars(self) -> list[NodeBar]:
        """The nodes as the bar charts show them (after the last redraw)."""
        return list(self._drawn_nodes)

    def grace_period(self) -> float:
        """The grace period line's height, in seconds."""
        return self._grace


def _node_key(node: NodeView) -> tuple[int, int]:
    return (0 if node.node_type == "worker" else 1, node.id)
