"""The details panel's Usage section: bars (used / requested / allocatable) and a sparkline of
the last five minutes per resource, for a node or a pod."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from kube9_desktop.engine.usage import SLOTS, STEP_S, UsageHistoryJson
from kube9_desktop.ui.theme import USAGE_COLORS
from kube9_desktop.ui.usage_bars import Bar, UsageBar, cores, mem_used

WINDOW_S = SLOTS * STEP_S  # what the history holds: 5 minutes


class Sparkline(QWidget):
    """A polyline of (seconds before now, value) points over the last five minutes, scaled to
    its peak or the request (a dashed line), whichever is higher; "peak …" in a corner."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.points: list[tuple[float, float]] = []
        self.request = 0.0
        self.label = ""

    def set_points(self, points: Sequence[tuple[float, float]], request: float, label: str) -> None:
        points = list(points)
        if (points, request, label) != (self.points, self.request, self.label):
            self.points, self.request, self.label = points, request, label
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(160, 2 * self.fontMetrics().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(60, 2 * self.fontMetrics().height())

    def paintEvent(self, _event: QPaintEvent) -> None:
        palette = self.palette()
        dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
        colors = USAGE_COLORS["dark" if dark else "light"]
        painter = QPainter(self)
        rect = self.rect().adjusted(0, 1, -1, -1)
        painter.setPen(QPen(QColor(colors["frame"]), 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        top = max([v for _, v in self.points] + [self.request, 1e-9])
        height, width = rect.height() - 2, rect.width()

        def y(value: float) -> float:
            return rect.bottom() - 1 - height * value / top

        if self.request > 0 and self.points:
            pen = QPen(QColor(colors["marker"]), 1, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(
                QPointF(rect.left(), y(self.request)), QPointF(rect.right(), y(self.request))
            )
        if self.points:
            line = QPolygonF(
                [
                    QPointF(rect.left() + width * (1 - ago / WINDOW_S), y(v))
                    for ago, v in self.points
                ]
            )
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Link), 1))
            painter.drawPolyline(line)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            rect.adjusted(2, 0, -2, 0),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            self.label,
        )
        painter.end()


def _series(history: UsageHistoryJson | None, key: str) -> list[tuple[float, float]]:
    """(seconds before now, value) from the history's samples and its current figure."""
    if history is None:
        return []
    now = history["now"]
    points = [
        (now - s["t"], float(s[key]))  # type: ignore[literal-required]
        for s in history["samples"]
        if now - s["t"] <= WINDOW_S
    ]
    current = history["current"]
    if current is not None:
        points.append((0.0, float(current[key])))  # type: ignore[literal-required]
    return points


class UsageSection(QGroupBox):
    """CPU and memory bars with their sparklines, and (for a node) its pods against its limit."""

    def __init__(self, name: str, with_pods: bool, parent: QWidget | None = None) -> None:
        super().__init__("Usage", parent)
        self.setObjectName(name)
        self.cpu = UsageBar("UsageCpuBar")
        self.memory = UsageBar("UsageMemoryBar")
        self.cpu_line = Sparkline("UsageCpuLine")
        self.memory_line = Sparkline("UsageMemoryLine")
        self.pods = UsageBar("UsagePodsBar")
        self.note = QLabel()
        self.note.setObjectName("UsageNote")
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("CPU", _stacked(self.cpu, self.cpu_line))
        form.addRow("Memory", _stacked(self.memory, self.memory_line))
        if with_pods:
            form.addRow("Pods", self.pods)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)

    def show_usage(
        self, cpu: Bar, memory: Bar, history: UsageHistoryJson | None, pods: Bar | None = None
    ) -> None:
        self.cpu.set_bar(cpu)
        self.memory.set_bar(memory)
        if pods is not None:
            self.pods.set_bar(pods)
        cpu_points, memory_points = _series(history, "cpu_cores"), _series(history, "memory_mb")
        self.cpu_line.set_points(cpu_points, cpu.requested or 0.0, _peak(cpu_points, _cores_word))
        self.memory_line.set_points(
            memory_points, memory.requested or 0.0, _peak(memory_points, mem_used)
        )
        self.note.setText(
            "Last 5 minutes; the bar's marker and the dashed line are the request. Memory is "
            "resident (RSS)."
            if cpu.used is not None
            else "No usage reported yet: it comes with the node's next heartbeats."
            if not cpu_points
            else "No current usage: the node is not reporting (as kubectl top's <unknown>); "
            "the lines are the last 5 minutes it reported."
        )


def _cores_word(value: float) -> str:
    shown = cores(value)
    return f"{shown} core" if shown == "1" else f"{shown} cores"


def _peak(points: Sequence[tuple[float, float]], shown: Callable[[float], str]) -> str:
    return f"peak {shown(max(v for _, v in points))}" if points else ""


def _stacked(bar: UsageBar, line: Sparkline) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(bar)
    layout.addWidget(line)
    return box
