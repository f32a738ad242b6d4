"""Fault injections, detections and recoveries as thin vertical lines on the time charts.

Lines carry no text of their own. Labels go in a band at the top of the first chart (the
charts leave head-room above the data for it), laid out so that none overlaps another: a
marker whose label would touch the previous one joins it ("crash w1 +2"). Hovering near a
line shows every marker there in full.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont

from kube9_desktop.engine.events import Event, EventKind

MAX_MARKERS = 60
LABEL_GAP_PX = 6.0  # clear space between two labels
LABEL_PAD_PX = 3.0  # from its line to the label's left edge
HOVER_PX = 4.0  # how close the pointer must be to a line for its tooltip
MARKER_COLORS = {
    EventKind.FAULT_INJECTED: "#d9534f",
    EventKind.NODE_DETECTED: "#d99a1e",
    EventKind.NODE_RECOVERED: "#2e9d4f",
}


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line on the time axes: when, what kind, and its label."""

    t: float
    kind: str
    label: str


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


@dataclass(frozen=True, slots=True)
class LabelSlot:
    """One label drawn: its left edge (pixels from the plot's left), text and markers."""

    left: float
    width: float
    text: str
    members: tuple[int, ...]  # indexes into the markers given

    @property
    def right(self) -> float:
        return self.left + self.width


def layout_labels(
    xs: Sequence[float], texts: Sequence[str], measure: Callable[[str], float], room: float
) -> list[LabelSlot]:
    """Labels for lines at pixel ``xs`` (ascending) in a band ``room`` pixels wide.

    Each label starts just right of its line (or ends at the right edge if it would run past
    it); one that starts before the previous label's end plus the gap joins it, and the joined
    label ("a +1") may touch the one before, which it then joins too. Lines at 10, 40 and 200 px
    with 60 px labels: 10 and 40 merge into "a +1" (13 to about 90), 200 gets its own.
    """
    slots: list[LabelSlot] = []
    for i, x in enumerate(xs):
        if not 0 <= x <= room:
            continue
        slots.append(_slot((i,), x + LABEL_PAD_PX, texts, measure, room))
        while len(slots) > 1 and slots[-1].left < slots[-2].right + LABEL_GAP_PX:
            last, prev = slots.pop(), slots.pop()
            members = (*prev.members, *last.members)
            slots.append(_slot(members, prev.left, texts, measure, room))
    return [s for s in slots if s.left >= 0]


def _slot(
    members: tuple[int, ...],
    left: float,
    texts: Sequence[str],
    measure: Callable[[str], float],
    room: float,
) -> LabelSlot:
    text = texts[members[0]] if len(members) == 1 else f"{texts[members[0]]} +{len(members) - 1}"
    width = measure(text)
    return LabelSlot(min(left, room - width), width, text, members)


class MarkerLayer:
    """The marker lines on every time plot and the labels on the first one."""

    def __init__(self, plots: Sequence[pg.PlotItem]) -> None:
        self.plots = list(plots)
        self.markers: deque[Marker] = deque(maxlen=MAX_MARKERS)
        self._lines: deque[tuple[Marker, list[pg.InfiniteLine]]] = deque()
        self._labels: list[pg.TextItem] = []  # a pool, reused every layout
        self.slots: list[LabelSlot] = []
        self.font = QFont()
        self.font.setPointSizeF(max(6.0, self.font.pointSizeF() * 0.8))
        self._ruler = pg.TextItem()  # never shown: measures labels as they will be drawn
        self._ruler.setFont(self.font)
        self._widths: dict[str, float] = {}

    def add(self, marker: Marker) -> None:
        self.markers.append(marker)
        color = MARKER_COLORS.get(EventKind(marker.kind), "#8a8a8a")
        lines = []
        for plot in self.plots:
            line = pg.InfiniteLine(
                pos=marker.t, angle=90, pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine)
            )
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self._lines.append((marker, lines))

    def drop_older_than(self, oldest: float) -> None:
        while self._lines and (len(self._lines) > MAX_MARKERS or self._lines[0][0].t < oldest):
            _, stale = self._lines.popleft()
            for plot, line in zip(self.plots, stale, strict=True):
                plot.removeItem(line)

    def drawn(self) -> list[Marker]:
        return [m for m, _ in self._lines]

    def _measure(self, text: str) -> float:
        width = self._widths.get(text)
        if width is None:
            if len(self._widths) > 1000:  # names come and go over a long session
                self._widths.clear()
            self._ruler.setText(text)
            width = self._widths[text] = float(self._ruler.textItem.boundingRect().width())
        return width

    def layout(self) -> None:
        """Place the first plot's labels for its current range and size."""
        box = self.plots[0].getViewBox()
        (x0, x1), (_, y1) = box.viewRange()
        room = box.width()
        drawn = sorted(self.drawn(), key=lambda m: m.t)
        scale = room / (x1 - x0) if x1 > x0 else 0.0
        xs = [(m.t - x0) * scale for m in drawn]
        self.slots = layout_labels(xs, [m.label for m in drawn], self._measure, room)
        while len(self._labels) < len(self.slots):
            item = pg.TextItem(anchor=(0, 0))
            item.setFont(self.font)
            self.plots[0].addItem(item, ignoreBounds=True)
            self._labels.append(item)
        for k, item in enumerate(self._labels):
            if k >= len(self.slots):
                item.hide()
                continue
            slot = self.slots[k]
            first = drawn[slot.members[0]]
            item.setText(slot.text, MARKER_COLORS.get(EventKind(first.kind), "#8a8a8a"))
            item.setToolTip("\n".join(_describe(drawn[i]) for i in slot.members))
            item.setPos(x0 + slot.left / scale if scale else x0, y1)
            item.show()

    def label_rects(self) -> list[QRectF]:
        """The drawn labels' rectangles in scene coordinates (for tests)."""
        return [i.sceneBoundingRect() for i in self._labels if i.isVisible()]

    def hover(self, at: QPointF) -> str:
        """Every marker within a few pixels of the pointer, in full."""
        box = self.plots[0].getViewBox()
        (x0, x1), _ = box.viewRange()
        if x1 <= x0 or box.width() <= 0:
            return ""
        reach = HOVER_PX * (x1 - x0) / box.width()
        near = [m for m in self.drawn() if abs(m.t - at.x()) <= reach]
        return "\n".join(_describe(m) for m in near)


def _describe(marker: Marker) -> str:
    at = datetime.fromtimestamp(marker.t).strftime("%H:%M:%S")
    return f"{at}  {marker.label}"
