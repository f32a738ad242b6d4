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


def short_names(names: list[str]) -> dict[str, str]:
    """Pods of one ReplicaSet share their name up to the last '-': the legend shows the rest
    ("web-7d9f-x2k4p" -> "…x2k4p") when every name shares it."""
    if len(names) < 2:
        return {}
    prefixes = {n.rsplit("-", 1)[0] for n in names if "-" in n}
    if len(prefixes) != 1 or not all("-" in n for n in names):
        return {}
    return {n: "…" + n.rsplit("-", 1)[1] for n in names}


class TrafficChart(ChartCard):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("traffic", "Requests/s", parent, wide=True)
        self.plot.setLabel("bottom", "s since start")
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._markers: list[pg.InfiniteLine] = []
        self.lines: dict[str, list[float]] = {}  # what is drawn (tests read it)
        self.marker_times: list[float] = []
        self.setMinimumHeight(190)
        self.setMaximumHeight(260)  # the details page may be taller: the events stay in view
        self.legend.setWordWrap(True)  # a line per endpoint: several rows of names
        self.view.hover = self._hover
        self._run: dict[str, Any] | None = None
        self._marker_kinds: list[str] = []
        self._marker_texts: list[tuple[float, str]] = []
        self._colors: dict[str, str] = {}  # an endpoint keeps its colour for the whole run
        self._run_started: float | None = None
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
        edges = [float(i) for i in range(len(series) + 1)]  # one flat step per second
        for name in [n for n in self._curves if n not in lines]:
            self.plot.removeItem(self._curves.pop(name))
        legend = []
        short = short_names([n for n in lines if n not in ("errors", "others")])
        if run["started_at"] != self._run_started:  # a new run: colours are handed out anew
            self._run_started = run["started_at"]
            self._colors.clear()
        for name, ys in lines.items():
            color = ERROR_COLOR if name == "errors" else self._color(name)
            style = Qt.PenStyle.DashLine if name == "errors" else Qt.PenStyle.SolidLine
            pen = pg.mkPen(color, width=2 if name == "errors" else 1.5, style=style)
            curve = self._curves.get(name)
            if curve is None:
                curve = self._curves[name] = self.plot.plot(pen=pen)
            else:
                curve.setPen(pen)
            curve.setData(edges, ys, stepMode="center")
            legend.append((short.get(name, name), color, name == "errors"))
        self.lines = lines
        self._draw_markers(run, events)
        # The markers are named in the legend and the tooltip, not on the plot: labels of a
        # crash, its detection and its recovery a second apart would pile into one smear.
        kinds = {EventKind(k): None for k in self._marker_kinds}
        words = {EventKind.FAULT_INJECTED: "fault", EventKind.NODE_DETECTED: "detected",
                 EventKind.NODE_RECOVERED: "recovered"}  # fmt: skip
        legend += [(words[k], MARKER_COLORS[k], True) for k in kinds if k in words]
        self.set_legend(legend)
        self.view.show_empty(not series)

    def _color(self, name: str) -> str:
        color = self._colors.get(name)
        if color is None:
            color = self._colors[name] = COLORS[len(self._colors) % len(COLORS)]
        return color

    def _draw_markers(self, run: dict[str, Any], events: list[Event]) -> None:
        for line in self._markers:
            self.plot.removeItem(line)
        self._markers.clear()
        self.marker_times = []
        self._marker_kinds = []
        self._marker_texts = []
        start = float(run["started_at"])
        for event in events:
            marker = marker_for(event)
            if marker is None or marker.t < start:
                continue
            t = marker.t - start
            line = pg.InfiniteLine(
                pos=t, angle=90,
                pen=pg.mkPen(MARKER_COLORS.get(EventKind(marker.kind), "#8a8a8a"),
                             style=Qt.PenStyle.DotLine, width=1.5),
            )  # fmt: skip
            self.plot.addItem(line, ignoreBounds=True)
            self._markers.append(line)
            self.marker_times.append(t)
            self._marker_kinds.append(marker.kind)
            self._marker_texts.append((t, f"{t:.1f} s: {marker.label}"))

    def _hover(self, at: QPointF) -> str:
        run = self._run
        if run is None:
            return ""
        if at.x() < 0:
            return ""
        second = int(at.x())  # the step drawn over [second, second + 1)
        if second >= len(run["series"]):
            return ""
        s = run["series"][second]
        parts = [f"{n}: {c}" for n, c in sorted(s["by_endpoint"].items())]
        errors = {k: v for k, v in s["errors"].items() if v}
        if errors:
            parts.append("errors: " + ", ".join(f"{k} {v}" for k, v in errors.items()))
        near = [text for t, text in self._marker_texts if abs(t - at.x()) <= 0.6]
        return f"second {second}\n" + "\n".join([*(parts or ["no requests"]), *near])
