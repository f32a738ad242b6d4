"""Usage bars: what a node or pod uses beside what it requested and what the node has.

One ``Bar`` (pure figures and the text to show) is painted by one function, ``paint_bar``, for
the tree's cells (``UsageBarDelegate``) and the details panel (``UsageBar``): the track is the
whole width (a node's allocatable; a pod's request, or what it uses when that is more), the fill
is what is used, a vertical marker is what is requested. Worked example: a node of 4 cores whose
pods request 1.5 and use 0.4 fills a tenth of the track with its marker at 37.5 %.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from kube9_desktop.engine.model import NodeView, PodView, format_cpu, format_mem
from kube9_desktop.engine.usage import UsageJson
from kube9_desktop.ui.theme import USAGE_COLORS

WARN, HIGH = 0.7, 0.9  # shares of the capacity from which a node's fill turns amber, red


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar's figures in one unit (cores, MiB or pods) and the text drawn over it."""

    used: float | None  # None: not reported yet
    requested: float | None  # None: no request marker (pod counts)
    full: float  # what the whole width stands for; 0: text only
    text: str
    level: str = "ok"  # "ok", "warn" (a pod over its request, a node past WARN) or "high"
    tip: str = ""


def cores(value: float) -> str:
    """Cores used, two significant digits: 0.4231 -> "0.42", 1.234 -> "1.2", 12.3 -> "12"."""
    return "0" if value < 0.005 else f"{value:.2g}" if value < 10 else f"{value:.0f}"


def mem_used(mb: float) -> str:
    """Memory in a bar's text, compact: 312.4 -> "312Mi", 1536 -> "1.5Gi", 2176 -> "2.1Gi"
    (tooltips keep the exact request, as the API gives it)."""
    return f"{mb / 1024:.1f}Gi".replace(".0Gi", "Gi") if mb >= 1024 else f"{mb:.0f}Mi"


def _level(used: float | None, full: float) -> str:
    share = (used or 0.0) / full if full > 0 else 0.0
    return "high" if share >= HIGH else "warn" if share >= WARN else "ok"


def node_cpu(node: NodeView, usage: UsageJson | None) -> Bar:
    used = usage["cpu_cores"] if usage else None
    req, full = node.allocated.cpu_m / 1000, node.capacity.cpu_m / 1000
    shown = "–" if used is None else cores(used)
    return Bar(
        used, req, full, f"{shown}/{format_cpu(node.allocated.cpu_m)} of "
        f"{format_cpu(node.capacity.cpu_m)}", _level(used, full),
        f"CPU: {shown} cores used, {req:g} requested by its pods, {full:g} allocatable",
    )  # fmt: skip


def node_memory(node: NodeView, usage: UsageJson | None) -> Bar:
    used = usage["memory_mb"] if usage else None
    req, full = node.allocated.mem_mi, node.capacity.mem_mi
    shown = "–" if used is None else mem_used(used)
    return Bar(
        used, req, full, f"{shown}/{mem_used(req)} of {mem_used(full)}", _level(used, full),
        f"Memory: {shown} used, {format_mem(req)} requested by its pods, {format_mem(full)} "
        "allocatable",
    )  # fmt: skip


def node_pods(node: NodeView) -> Bar:
    count, limit = len(node.pod_ids), node.pod_limit
    return Bar(
        count, None, limit, f"{count}/{limit}", _level(count, limit),
        f"{count} pods of at most {limit} (kube9.io/max-pods, else 110 as a kubelet)",
    )  # fmt: skip


def _pod_bar(used: float | None, req: float, shown: str, asked: str, what: str) -> Bar:
    over = used is not None and used > req
    return Bar(
        used, req if req > 0 else None, max(req, used or 0.0) if req > 0 else 0.0,
        f"{shown}/{asked}" if req > 0 else shown, "warn" if over and req > 0 else "ok",
        f"{what}: {shown} used, {asked if req > 0 else 'nothing'} requested"
        + (" (more than requested)" if over and req > 0 else ""),
    )  # fmt: skip


def pod_cpu(pod: PodView, usage: UsageJson | None) -> Bar:
    used = usage["cpu_cores"] if usage else None
    shown = "–" if used is None else cores(used)
    return _pod_bar(used, pod.request.cpu_m / 1000, shown, format_cpu(pod.request.cpu_m), "CPU")


def pod_memory(pod: PodView, usage: UsageJson | None) -> Bar:
    used = usage["memory_mb"] if usage else None
    shown = "–" if used is None else mem_used(used)
    return _pod_bar(used, pod.request.mem_mi, shown, mem_used(pod.request.mem_mi), "Memory")


_QCOLORS: dict[str, dict[str, QColor]] = {}  # USAGE_COLORS as QColors, made once per theme


def _colors(palette: QPalette) -> dict[str, QColor]:
    theme = "dark" if palette.color(QPalette.ColorRole.Base).lightness() < 128 else "light"
    colors = _QCOLORS.get(theme)
    if colors is None:
        colors = _QCOLORS[theme] = {k: QColor(v) for k, v in USAGE_COLORS[theme].items()}
    return colors


def paint_bar(painter: QPainter, rect: QRect, bar: Bar, palette: QPalette, selected: bool) -> None:
    """The track, fill and request marker of ``bar`` in ``rect`` (no text). On a selected row
    only a strip along the bottom is filled, so the text keeps the selection's contrast."""
    if bar.full <= 0 or rect.width() < 4:
        return
    colors = _colors(palette)
    left, top, w, h = rect.left(), rect.top(), rect.width(), rect.height()
    if not selected:
        # The frame's colour, then the track inside it: two fills instead of a pen's outline
        # (this runs for every usage cell of every painted row).
        painter.fillRect(rect, colors["frame"])
        painter.fillRect(left + 1, top + 1, w - 2, h - 2, colors["track"])
    used = min(max(bar.used or 0.0, 0.0), bar.full)
    width = round(w * used / bar.full)
    if width > 0:
        if selected:
            painter.fillRect(left, rect.bottom() - 2, width, 3, colors[bar.level])
        else:
            painter.fillRect(left + 1, top + 1, max(0, min(width, w - 2)), h - 2, colors[bar.level])
    if bar.requested is not None and bar.requested > 0:
        # Ticks on the top and bottom edges, not a line through the text (it read as a glyph).
        x = left + min(w - 2, round(w * bar.requested / bar.full))
        tick = max(3, h // 4)
        marker = colors["marker"]
        painter.fillRect(x, top, 2, tick, marker)
        painter.fillRect(x, rect.bottom() - tick + 1, 2, tick, marker)


BLANK = Bar(None, None, 0.0, "")  # a usage column's empty cell (a pod's Pods, a container's)
_ELIDED_KEPT = 4096  # texts the delegate keeps elided (per width), before starting over


class UsageBarDelegate(QStyledItemDelegate):
    """Paints a cell whose ``role`` holds a ``Bar`` as that bar with its text (``BLANK``: the
    background only); other cells (containers' requests, the Pending group) as usual.

    It runs for every usage cell of every painted row, so it reads one role, never the
    option's others, and keeps the elided texts it made (the same few figures repeat)."""

    def __init__(self, role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = role
        self._elided: dict[tuple[str, int], str] = {}
        self._font: QFont | None = None

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        bar = index.data(self._role)
        state = option.state
        if not isinstance(bar, Bar) or (bar is BLANK and state & _HAS_FOCUS):
            super().paint(painter, option, index)
            return
        # The selection and hover background only: initStyleOption would ask the model for
        # every role of the cell (each building the bar again) for text this paints itself.
        # A plain row has none: the view painted its (alternating) background already.
        selected = bool(state & _SELECTED)
        if selected or state & _HOVER:
            widget = option.widget
            style = widget.style() if widget is not None else QApplication.style()
            style.drawPrimitive(_PANEL, option, painter, widget)
        if bar is BLANK:
            return
        palette = option.palette
        rect = option.rect.adjusted(2, 2, -3, -2)
        paint_bar(painter, rect, bar, palette, selected)
        painter.setPen(palette.color(_HIGHLIGHTED_TEXT if selected else _TEXT))
        inner = rect.adjusted(4, 0, -4, 0)
        painter.drawText(inner, _RIGHT, self._elide(bar.text, inner.width(), option))

    def _elide(self, text: str, width: int, option: QStyleOptionViewItem) -> str:
        font = option.font
        if font != self._font or len(self._elided) > _ELIDED_KEPT:
            self._elided.clear()
            self._font = QFont(font)
        key = (text, width)
        elided = self._elided.get(key)
        if elided is None:
            elided = option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            self._elided[key] = elided
        return elided


_HAS_FOCUS = QStyle.StateFlag.State_HasFocus
_HOVER = QStyle.StateFlag.State_MouseOver
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_SELECTED = QStyle.StateFlag.State_Selected
_TEXT, _HIGHLIGHTED_TEXT = QPalette.ColorRole.Text, QPalette.ColorRole.HighlightedText
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class UsageBar(QWidget):
    """A bar with its text, for the details panel (the tooltip spells the figures out)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.bar = Bar(None, None, 0.0, "")

    def set_bar(self, bar: Bar) -> None:
        if bar != self.bar:
            self.bar = bar
            self.setToolTip(bar.tip)
            self.update()

    def text(self) -> str:
        return self.bar.text

    def sizeHint(self) -> QSize:
        return QSize(160, self.fontMetrics().height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.fontMetrics().height() + 8)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect().adjusted(0, 1, 0, -1)
        palette = self.palette()
        paint_bar(painter, rect, self.bar, palette, False)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        inner = rect.adjusted(6, 0, -6, 0)
        text = self.fontMetrics().elidedText(
            self.bar.text, Qt.TextElideMode.ElideRight, inner.width()
        )
        painter.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()
