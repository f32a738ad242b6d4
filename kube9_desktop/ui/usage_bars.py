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
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
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


def _colors(palette: QPalette) -> dict[str, str]:
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return USAGE_COLORS["dark" if dark else "light"]


def paint_bar(painter: QPainter, rect: QRect, bar: Bar, palette: QPalette, selected: bool) -> None:
    """The track, fill and request marker of ``bar`` in ``rect`` (no text). On a selected row
    only a strip along the bottom is filled, so the text keeps the selection's contrast."""
    if bar.full <= 0 or rect.width() < 4:
        return
    colors = _colors(palette)
    painter.save()
    if not selected:
        painter.fillRect(rect, QColor(colors["track"]))
    used = min(max(bar.used or 0.0, 0.0), bar.full)
    width = round(rect.width() * used / bar.full)
    if width > 0:
        fill = QRect(rect.left(), rect.top(), width, rect.height())
        if selected:
            fill.setTop(rect.bottom() - 2)
        painter.fillRect(fill, QColor(colors[bar.level]))
    painter.setPen(QPen(QColor(colors["frame"]), 1))
    if not selected:
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
    if bar.requested is not None and bar.requested > 0:
        # Ticks on the top and bottom edges, not a line through the text (it read as a glyph).
        x = rect.left() + min(rect.width() - 2, round(rect.width() * bar.requested / bar.full))
        tick = max(3, rect.height() // 4)
        marker = QColor(colors["marker"])
        painter.fillRect(QRect(x, rect.top(), 2, tick), marker)
        painter.fillRect(QRect(x, rect.bottom() - tick + 1, 2, tick), marker)
    painter.restore()


class UsageBarDelegate(QStyledItemDelegate):
    """Paints a cell whose ``role`` holds a ``Bar`` as that bar with its text; other cells
    (containers, the Pending group) as usual."""

    def __init__(self, role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = role

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        bar = index.data(self._role)
        if not isinstance(bar, Bar):
            super().paint(painter, option, index)
            return
        # The selection and hover background only: initStyleOption would ask the model for
        # every role of the cell (each building the bar again) for text this paints itself.
        opt = QStyleOptionViewItem(option)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        rect = opt.rect.adjusted(2, 2, -3, -2)
        paint_bar(painter, rect, bar, opt.palette, selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        inner = rect.adjusted(4, 0, -4, 0)
        text = opt.fontMetrics.elidedText(bar.text, Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)


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
