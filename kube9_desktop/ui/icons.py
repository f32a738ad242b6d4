"""Status icons: a coloured dot per status, drawn once and cached (the tree asks often)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap

from kube9_desktop.ui.theme import STATUS_COLORS

NEUTRAL = "#8a8a8a"
SIZE = 12


def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, NEUTRAL))


@cache
def status_icon(status: str, hollow: bool = False) -> QIcon:
    """A filled dot in the status colour; ``hollow`` for groups and containers."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = status_color(status)
    painter.setPen(QPen(color.darker(130), 1.2))
    painter.setBrush(Qt.BrushStyle.NoBrush if hollow else QBrush(color))
    painter.drawEllipse(QRectF(1.5, 1.5, SIZE - 3, SIZE - 3))
    painter.end()
    return QIcon(pixmap)
