"""Table: the details' read-only tables, as tall as their rows and refilled only on change."""

from __future__ import annotations

from collections.abc import Sequence

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

Cell = str | tuple[str, str]  # text, or (text, status whose colour it takes)


class Table(QTableWidget):
    """A read-only table, as tall as its rows and as wide as the panel (the ``stretch`` column
    wraps), refilled only when its contents change (no flicker at 1 Hz)."""

    MAX_HEIGHT = 360

    def __init__(
        self, name: str, headers: Sequence[str], stretch: int = -1, parent: QWidget | None = None
    ) -> None:
        super().__init__(0, len(headers), parent)
        self.setObjectName(name)
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch % len(headers), QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(self._on_section_resized)
        self._rows: list[tuple[Cell, ...]] = []
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit_height)
        self._fit_height()

    def set_rows(self, rows: Sequence[tuple[Cell, ...]]) -> bool:
        """Show ``rows``; False (and nothing redrawn) when they are what is shown already."""
        rows = list(rows)
        if rows == self._rows:
            return False
        self._rows = rows
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text, status = value if isinstance(value, tuple) else (value, "")
                item = QTableWidgetItem(text)
                if status:
                    item.setForeground(status_color(status))
                    if c == 1:  # the state column carries the status dot
                        item.setIcon(status_icon(status))
                item.setToolTip(text)
                self.setItem(r, c, item)
        self._fit_height()
        return True

    def _on_section_resized(self, _section: int, _old: int, _new: int) -> None:
        self._fit_height()  # wrapped cells change height with their column

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._refit.start()  # once the header has stretched its column (no signal for it)

    def _fit_height(self) -> None:
        self.resizeRowsToContents()
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()))
        height = self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth()
        self.setFixedHeight(min(height, self.MAX_HEIGHT))

    def texts(self, column: int) -> list[str]:
        """The texts of one column, top to bottom (for tests and copying)."""
        return [
            str(row[column][0] if isinstance(row[column], tuple) else row[column])
            for row in self._rows
        ]
