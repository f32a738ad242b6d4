"""One chart as a card: a header (title, legend, note) above a plot that the mouse cannot zoom.

The legend is a line of text in the header, never an item inside the plot, so it cannot
cover the lines it names. The plot shows no "A" button and no context menu, ignores the wheel
(the charts pane scrolls instead), reports double-clicks, and shows a tooltip that its owner
computes from the pointer's position in data coordinates. Axes never get an SI prefix: an
empty range once showed "(x0.001)".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent, QPalette, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

EMPTY_TEXT = "no data yet"
SOLID, DASHED = "━━", "┅┅"  # legend swatches
MIN_CARD_WIDTH = 260  # narrower than this, the grid puts fewer cards in a row
MIN_CARD_HEIGHT = 150  # lower than this, the pane scrolls instead of squeezing the plots
LEFT_AXIS_WIDTH = 44  # the same on every chart, so the time axes line up

Hover = Callable[[QPointF], str]  # data coordinates -> tooltip text ("" for none)


class ChartView(pg.PlotWidget):  # type: ignore[misc]
    """A PlotWidget with no mouse zoom, pan, menu or auto-range button."""

    double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.plot_item: pg.PlotItem = self.getPlotItem()
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).enableAutoSIPrefix(False)
        self.plot_item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.hover: Hover | None = None
        self.hover_text = ""  # what the tooltip shows now (tests read it)
        self.setMouseTracking(True)
        self.empty = pg.TextItem(EMPTY_TEXT, anchor=(0.5, 0.5))
        self.plot_item.addItem(self.empty, ignoreBounds=True)

    def wheelEvent(self, ev: QWheelEvent) -> None:
        ev.ignore()  # the scroll area around the charts takes it

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        ev.accept()
        self.double_clicked.emit()

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        super().mouseMoveEvent(ev)
        text = ""
        box = self.plot_item.getViewBox()
        scene_pos = self.mapToScene(ev.position().toPoint())
        if self.hover is not None and box.sceneBoundingRect().contains(scene_pos):
            text = self.hover(box.mapSceneToView(scene_pos))
        if text != self.hover_text:
            self.hover_text = text
            if QToolTip.isVisible():  # a new text shows at the next tooltip request
                QToolTip.hideText()

    def viewportEvent(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ToolTip and isinstance(ev, QHelpEvent):
            if self.hover_text:
                QToolTip.showText(ev.globalPos(), self.hover_text, self)
            else:
                QToolTip.hideText()
            return True
        return bool(super().viewportEvent(ev))

    def show_empty(self, empty: bool) -> None:
        """The quiet "no data yet" text, centred in the current view."""
        self.empty.setVisible(empty)
        if empty:
            (x0, x1), (y0, y1) = self.plot_item.getViewBox().viewRange()
            self.empty.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def apply_palette(self, palette: QPalette) -> None:
        text = palette.color(QPalette.ColorRole.Text)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
        self.empty.setColor(palette.color(QPalette.ColorRole.PlaceholderText))


def legend_html(entries: Sequence[tuple[str, str, bool]]) -> str:
    """(name, colour, dashed) entries as one line of rich text."""
    return " &nbsp; ".join(
        f"<span style='color:{color}'>{DASHED if dashed else SOLID}</span>&nbsp;{name}"
        for name, color, dashed in entries
    )


class ChartCard(QWidget):
    """Title (with the unit) and note on one line, the legend on the next, the plot below."""

    def __init__(
        self,
        name: str,
        title: str,
        parent: QWidget | None = None,
        *,
        wide: bool = False,
        axis_items: dict[str, pg.AxisItem] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"chart_{name}")
        self.wide = wide  # takes a whole row of the grid
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setObjectName("chart_title")
        self.note = QLabel()
        self.note.setObjectName("chart_note")
        self.note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.legend = QLabel()
        self.legend.setObjectName("chart_legend")
        small = self.legend.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        self.small_font = small
        for label in (self.legend, self.note):
            label.setFont(small)
            # Clipped rather than widening the card past its column.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.addWidget(self.title)
        header.addWidget(self.note, 1)
        self.legend.setContentsMargins(4, 0, 4, 0)
        self.view = ChartView(axisItems=axis_items or {})
        self.view.setObjectName(f"chart_{name}_view")
        self.plot = self.view.plot_item
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        self.setMinimumSize(MIN_CARD_WIDTH // 2, MIN_CARD_HEIGHT)

    def sizeHint(self) -> QSize:
        return QSize(MIN_CARD_WIDTH, MIN_CARD_HEIGHT)  # the grid shares out the rest evenly

    def set_legend(self, entries: Sequence[tuple[str, str, bool]]) -> None:
        self.legend.setText(legend_html(entries))

    def set_note(self, text: str, tooltip: str = "") -> None:
        self.note.setText(text)
        self.note.setToolTip(tooltip)

    def apply_palette(self, palette: QPalette) -> None:
        self.view.apply_palette(palette)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self.note.setStyleSheet(f"color: {QColor(muted).name()}")


class ChartsGrid(QWidget):
    """Cards in as many columns as fit (at most three); a wide card takes the rest of its row.

    With three columns: CPU | memory | pods, then heartbeat | nodes (wide, two columns).
    """

    def __init__(self, cards: Sequence[ChartCard], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = list(cards)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(6)
        self.columns = 0
        self.rows = 0
        self._flow(2)

    def _flow(self, columns: int) -> None:
        if columns == self.columns:
            return
        for card in self.cards:
            self.grid.removeWidget(card)
        for c in range(3):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        row = col = 0
        for card in self.cards:
            span = 1
            if card.wide:
                if col and columns - col < 2:
                    row, col = row + 1, 0
                span = columns - col
            self.grid.addWidget(card, row, col, 1, span)
            col += span
            if col >= columns:
                row, col = row + 1, 0
        self.columns = columns
        self.rows = row + (1 if col else 0)
        for r in range(len(self.cards)):
            self.grid.setRowStretch(r, 1 if r < self.rows else 0)
        spacing = self.grid.spacing()
        self.setMinimumHeight(self.rows * (MIN_CARD_HEIGHT + spacing) + 4)

    def fit(self, width: int, height: int) -> None:
        """Re-flow for this width; as tall as given, or as the rows need (then it scrolls)."""
        self._flow(max(1, min(3, width // MIN_CARD_WIDTH)))
        self.resize(width, max(height, self.minimumHeight()))


class ChartsScroll(QScrollArea):
    """Holds the grid: full width, the viewport's height or the rows' minimum if more."""

    def __init__(self, grid: ChartsGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = grid
        self.setObjectName("charts_scroll")
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidgetResizable(False)
        self.setWidget(grid)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.grid.fit(self.viewport().width(), self.viewport().height())
