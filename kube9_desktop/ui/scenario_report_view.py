"""A scenario report in the window: the totals side by side per strategy, the unschedulable
reasons and incidents, and the plots of the HTML page (html_report's SVGs, drawn in the
window's theme). It shows a combined report dict; the panel reads and runs them."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.scenario import html_report as hr
from kube9_desktop.ui.theme import current_theme

PLOT_MIN_WIDTH = 420  # below it, one plot a row
GAP = 8


class SvgPlot(QWidget):
    """One plot: an SVG drawn at the widget's width, keeping its aspect."""

    def __init__(self, plot: hr.Plot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self.setObjectName(f"ScenarioPlot-{plot.key}")
        self.setToolTip(f"{plot.title} ({plot.unit}) over time, per strategy")
        self.renderer = QSvgRenderer(self)
        self.render_theme(current_theme())

    def render_theme(self, theme: str) -> None:
        self.renderer.load(QByteArray(self.plot.svg(theme).encode("utf-8")))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.renderer.render(painter, QRectF(self.rect()))


class PlotGrid(QWidget):
    """The plots in rows of one or more, as many as the width takes at PLOT_MIN_WIDTH each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScenarioPlots")
        self.plots: list[SvgPlot] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_plots(self, plots: list[hr.Plot]) -> None:
        for old in self.plots:
            old.deleteLater()
        self.plots = [SvgPlot(p, self) for p in plots]
        for plot in self.plots:
            plot.show()
        self._lay_out(self.width())

    def columns(self, width: int) -> int:
        return max(1, min(3, (width + GAP) // (PLOT_MIN_WIDTH + GAP)))

    def _lay_out(self, width: int) -> None:
        cols = self.columns(width)
        plot_w = max(1, (width - GAP * (cols - 1)) // cols)
        plot_h = plot_w * hr.HEIGHT // hr.WIDTH
        for i, plot in enumerate(self.plots):
            row, col = divmod(i, cols)
            plot.setGeometry(col * (plot_w + GAP), row * (plot_h + GAP), plot_w, plot_h)
        rows = -(-len(self.plots) // cols)
        self.setFixedHeight(max(0, rows * (plot_h + GAP) - GAP))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._lay_out(event.size().width())

    def sizeHint(self) -> QSize:
        return QSize(hr.WIDTH, self.height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            for plot in self.plots:
                plot.render_theme(current_theme())


def swatch(color: str) -> QIcon:
    pixmap = QPixmap(10, 10)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class FittedTable(QTableWidget):
    """A read-only table as tall as its rows (the report scrolls as a whole)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setWordWrap(False)

    def fill(self, headers: list[str], rows: list[list[str]], colors: list[str | None]) -> None:
        self.clear()
        self.setColumnCount(len(headers))
        self.setRowCount(len(rows))
        for col, (title, color) in enumerate(zip(headers, colors, strict=True)):
            item = QTableWidgetItem(title)
            if color:
                item.setIcon(swatch(color))
            self.setHorizontalHeaderItem(col, item)
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                align = Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight
                item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        self.verticalHeader().hide()
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        height = self.horizontalHeader().height() + 2 * self.frameWidth()
        height += sum(self.rowHeight(r) for r in range(self.rowCount()))
        if (
            self.horizontalScrollBar().isVisible()
            or self.horizontalHeader().length() > self.width()
        ):
            height += self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(height)

    def cell(self, row_label: str) -> list[str]:
        """The texts after ``row_label`` in its row (for tests and copy)."""
        for r in range(self.rowCount()):
            first = self.item(r, 0)
            if first is not None and first.text() == row_label:
                items = (self.item(r, c) for c in range(1, self.columnCount()))
                return [item.text() if item is not None else "" for item in items]
        raise KeyError(row_label)


class ScenarioReportView(QWidget):
    """The report: a heading, the totals table, the reasons, the incidents, the plots."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScenarioReport")
        self.report: dict[str, Any] | None = None
        self.heading = QLabel()
        self.heading.setObjectName("ScenarioReportHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals = FittedTable("ScenarioTotals")
        self.reasons_label = QLabel("<b>Unschedulable reasons</b> (pending decisions, by count)")
        self.reasons = FittedTable("ScenarioReasons")
        self.incidents_label = QLabel("<b>Incidents</b>")
        self.incidents = FittedTable("ScenarioIncidents")
        self.plots = PlotGrid()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(QLabel("<b>Over time</b>"))
        layout.addWidget(self.plots)
        layout.addWidget(QLabel("<b>Totals</b>"))
        layout.addWidget(self.totals)
        layout.addWidget(self.reasons_label)
        layout.addWidget(self.reasons)
        layout.addWidget(self.incidents_label)
        layout.addWidget(self.incidents)
        layout.addStretch(1)

    def show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        head = report["scenario"]
        names = hr.strategies(report)
        colors: list[str | None] = [None, *(hr.strategy_color(n, names) for n in names)]
        self.heading.setText(
            f"<b>{_esc(head['name'])}</b> · seed {head['seed']} · "
            f"{_esc(hr.duration_label(head['duration_s']))} · {_esc(head.get('mode', ''))}"
            f"<br>{_esc(head.get('description', ''))}"
        )
        self.totals.fill(
            ["", *names], [[label, *cells] for label, cells in hr.totals_rows(report)], colors
        )
        reasons = hr.reason_rows(report, "unschedulable_reasons")
        refused = [(f"refused: {r}", c) for r, c in hr.reason_rows(report, "refused_reasons")]
        rows = [[r, *map(str, c)] for r, c in reasons + refused]
        self.reasons.fill(["reason", *names], rows or [["none", *("0" for _ in names)]], colors)
        incident_rows = [
            [n, *hr.incident_cells(i)] for n in names for i in report["strategies"][n]["incidents"]
        ]
        titles = [t for _k, t in hr.INCIDENT_COLUMNS]
        self.incidents.fill(
            ["strategy", *titles],
            incident_rows or [["none", *("" for _ in titles)]],
            [None] * (len(titles) + 1),
        )
        self.plots.set_plots(hr.plots(report))


def _esc(text: object) -> str:
    return escape(str(text))
