"""Table: the details' read-only tables, as tall as their rows and refilled only on change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from kube9_desktop.ui.icons import status_color, status_icon


class Shown(NamedTuple):
    """A cell: its one line, the status whose colour it takes, and the whole story for its
    tooltip (the line when empty)."""

    text: str
    status: str = ""
    tip: str = ""


Cell = str | tuple[str, str] | Shown  # text, (text, status), or all three


def shown(value: Cell) -> Shown:
    if isinstance(value, Shown):
        return value
    if isinstance(value, tuple):
        return Shown(value[0], value[1])
    return Shown(value)


class Table(QTableWidget):
    """A read-only table of one-line rows, as tall as its rows, refilled only when its contents
    change (no flicker at 1 Hz).

    As list views do (Lens, Qt Creator): a cell too long for its column is elided, its tooltip
    holds all of it. The short columns get their contents' width and the ``stretch`` column the
    rest of the pane, but never under ``LEAST_CHARS`` characters: below that the table scrolls
    sideways instead. In a 330 px pane a scheduling verdict reads "insufficient cpu: req…"
    on one line, where a wrapping column had made six.
    """

    MAX_HEIGHT = 360
    LEAST_CHARS = 12

    def __init__(
        self, name: str, headers: Sequence[str], stretch: int = -1, parent: QWidget | None = None
    ) -> None:
        super().__init__(0, len(headers), parent)
        self.setObjectName(name)
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self._line_height())
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(False)
        self._stretch = stretch % len(headers)
        self._rows: list[tuple[Cell, ...]] = []
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit)
        self._fit()

    def _line_height(self) -> int:
        """One line of text, or the status dot if taller, with the style's cell padding."""
        return max(self.fontMetrics().height(), self.iconSize().height(), 16) + 6

    def set_rows(self, rows: Sequence[tuple[Cell, ...]]) -> bool:
        """Show ``rows``; False (and nothing redrawn) when they are what is shown already."""
        rows = list(rows)
        if rows == self._rows:
            return False
        self._rows = rows
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                cell = shown(value)
                item = QTableWidgetItem(cell.text)
                if cell.status:
                    item.setForeground(status_color(cell.status))
                    if c == 1:  # the state column carries the status dot
                        item.setIcon(status_icon(cell.status))
                item.setToolTip(cell.tip or cell.text)
                self.setItem(r, c, item)
        self._fit()
        return True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._refit.start()  # once the layout has settled (a pane drag sends many)

    def _fit(self) -> None:
        """Column widths for the pane's width, then the height of header, rows and any
        sideways scroll bar (capped at ``MAX_HEIGHT``, past which the rows scroll)."""
        header = self.horizontalHeader()
        frame = 2 * self.frameWidth()
        body = header.sizeHint().height() + self.rowCount() * self._line_height() + frame
        scrolls = body > self.MAX_HEIGHT
        room = self.width() - frame
        if scrolls:
            room -= self.verticalScrollBar().sizeHint().width()
        natural = [
            max(header.sectionSizeHint(c), self.sizeHintForColumn(c))
            for c in range(self.columnCount())
        ]
        widths = fit_columns(natural, self._stretch, room, self._least())
        for c, width in enumerate(widths):
            if self.columnWidth(c) != width:
                self.setColumnWidth(c, width)
        if sum(widths) > room:
            body += self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(min(body, self.MAX_HEIGHT))

    def _least(self) -> int:
        return self.fontMetrics().horizontalAdvance("x" * self.LEAST_CHARS)

    def texts(self, column: int) -> list[str]:
        """The texts of one column, top to bottom (for tests and copying)."""
        return [shown(row[column]).text for row in self._rows]


def fit_columns(natural: Sequence[int], stretch: int, room: int, least: int) -> list[int]:
    """Each column at its natural width but ``stretch``, which takes the room left over, and
    at least ``min(its natural width, least)``.

    >>> fit_columns([60, 50, 400], 2, 330, 80)  # 330 - 60 - 50 = 220 for the long one
    [60, 50, 220]
    >>> fit_columns([200, 150, 400], 2, 330, 80)  # no room left: 80, and the table scrolls
    [200, 150, 80]
    >>> fit_columns([60, 50, 40], 2, 330, 80)  # short texts: the last column fills the pane
    [60, 50, 220]
    """
    widths = list(natural)
    others = sum(w for c, w in enumerate(natural) if c != stretch)
    widths[stretch] = max(room - others, min(natural[stretch], least))
    return widths
