"""A Service's traffic in its details: requests per second per endpoint and errors over the
run, with the failures' markers, so a crash reads as a dip in one colour and a short red spike.

Fed by the engine's run (``GET /services/{id}/traffic`` shape) once a second while it shows;
x is seconds since the run started.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QWidget

from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.ui.charts.card import ChartCard
from kube9_desktop.ui.charts.markers import MARKER_COLORS, marker_for

ERROR_COLOR = "#d9534f"
# Endpoint lines: distinct hues that read on both themes' backgrounds.
COLORS = ("#3a87d6", "#2e9d4f", "#c77c02", "#8e5bd6", "#0f9aa3", "#c2418a", "#6f8f1a")
MAX_LINES = len(COLORS)  # beyond these, the rest are summed into "others"


def summary(run: dict[str, Any]) -> str:
    t = run["totals"]
    errors = {k: v for k, v in t["errors"].items() if v}
    why = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in errors.items())
    lat = t["latency_ms"]
    latency = (
        f" · p50 {lat['p50']:.2f} ms · p99 {lat['p99']:.2f} ms" if lat["p50"] is not None else ""
    )
    return (
        f"{run['state']} · {run['elapsed_s']:.0f} of {run['duration_s']:g} s at "
        f"{run['rate']:g}/s to {run['target']} · {t['ok']:,} ok · "
        f"{sum(errors.values()):,} error(s)" + (f" ({why})" if why else "") + latency
    )


class TrafficChart(ChartCard):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("traffic", "Requests/s", parent, wide=True)
        self.plot.setLabel("bottom", "s since start")
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._markers: list[pg.InfiniteLine] = []
        self.lines: dict[str, list[float]] = {}  # what is drawn (tests read it)
        self.marker_times: list[float] = []
        self.setMinimumHeight(170)
        self.view.hover = self._hover
        self._run: dict[str, Any] | None = None
        self.apply_palette(self.palette())

    def show_run(self, run: dict[str, Any], events: list[Event]) -> None:
        self._run = run
        series = run["series"]
        totals = run["totals"]["by_endpoint"]
        names = sorted(totals, key=lambda n: -totals[n])
        shown, rest = names[:MAX_LINES], names[MAX_LINES:]
        lines: dict[str, list[float]] = {
            n: [float(s["by_endpoint"].get(n, 0)) for s in series] for n in shown
        }
        if rest:
            lines["others"] = [float(sum(s["by_endpoint"].get(n, 0) for n in rest)) for s in series]
        lines["errors"] = [float(sum(s["errors"].values())) for s in series]
        xs = [float(i) for i in range(len(series))]
        for name in [n for n in self._curves if n not in lines]:
            self.plot.removeItem(self._curves.pop(name))
        legend = []
        for i, (name, ys) in enumerate(lines.items()):
            color = ERROR_COLOR if name == "errors" else COLORS[i % len(COLORS)]
            curve = self._curves.get(name)
            if curve is None:
                style = Qt.PenStyle.DashLine if name == "errors" else Qt.PenStyle.SolidLine
                curve = self._curves[name] = self.plot.plot(
                    pen=pg.mkPen(color, width=2 if name == "errors" else 1, style=style)
                )
            curve.setData(xs, ys)
            legend.append((name, color, name == "errors"))
        self.lines = lines
        self.set_legend(legend)
        self._draw_markers(run, events)
        self.view.show_empty(not series)

    def _draw_markers(self, run: dict[str, Any], events: list[Event]) -> None:
        for line in self._markers:
            self.plot.removeItem(line)
        self._markers.clear()
        self.marker_times = []
        start = float(run["started_at"])
        for event in events:
            marker = marker_for(event)
            if marker is None or marker.t < start:
                continue
            t = marker.t - start
            line = pg.InfiniteLine(
                pos=t, angle=90,
                pen=pg.mkPen(MARKER_COLORS.get(EventKind(marker.kind), "#8a8a8a"),
                             style=Qt.PenStyle.DotLine),
                label=marker.label, labelOpts={"position": 0.92, "color": "#8a8a8a"},
            )  # fmt: skip
            self.plot.addItem(line, ignoreBounds=True)
            self._markers.append(line)
            self.marker_times.append(t)

    def _hover(self, at: QPointF) -> str:
        run = self._run
        if run is None:
            return ""
        second = round(at.x())
        if not 0 <= second < len(run["series"]):
            return ""
        s = run["series"][second]
        parts = [f"{n}: {c}" for n, c in sorted(s["by_endpoint"].items())]
        errors = {k: v for k, v in s["errors"].items() if v}
        if errors:
            parts.append("errors: " + ", ".join(f"{k} {v}" for k, v in errors.items()))
        return f"second {second}\n" + "\n".join(parts or ["no requests"])
