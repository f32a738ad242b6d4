"""Editable row tables of the pod form: containers, volumes and config items.

Text cells are plain items; choice cells are combo boxes; a secret's value is a password
field (masked while its row's type is ``secret``) and is never stored in an item, so no view,
tooltip or copy shows it in clear. A read-only column shows what a row carries without being
edited here (a container's ports and probes, from a manifest or an existing Deployment); the
row keeps that as ``extra`` and removing the row removes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from kube9_desktop.engine.model import CONFIG_TYPES, VOLUME_TYPES
from kube9_desktop.ui.dialogs._fields import mark_bad, named

BAD_CELL = QColor(217, 83, 79, 70)
TOUCHED = Qt.ItemDataRole.UserRole + 1
EXTRA = Qt.ItemDataRole.UserRole + 2


@dataclass(frozen=True)
class Column:
    """One column: its key in the row dict, its header, and how it is edited."""

    key: str
    title: str
    choices: tuple[str, ...] = ()
    masked_when_secret: bool = False
    hint: str = ""
    readonly: bool = False


CONTAINER_COLUMNS = (
    Column("name", "Name", hint="DNS label, e.g. web"),
    Column("image", "Image", hint="e.g. nginx:latest"),
    Column("cpu", "CPU", hint="cores: 0.5, 1 or 500m"),
    Column("memory", "Memory", hint="MB or a quantity: 256, 256Mi, 1Gi"),
    Column("command", "Command", hint="split like a shell: /bin/sh -c"),
    Column("args", "Args", hint="split like a shell: 'echo hi'"),
    Column(
        "probes",
        "Ports, probes",
        hint="from a YAML manifest (ports, readinessProbe, livenessProbe); not edited here",
        readonly=True,
    ),
)
VOLUME_COLUMNS = (
    Column("name", "Name", hint="DNS label, e.g. data"),
    Column("type", "Type", choices=VOLUME_TYPES),
    Column("size", "Size (GB)", hint="whole GB, informational"),
    Column("path", "Path", hint="absolute mount path, e.g. /data"),
)
CONFIG_COLUMNS = (
    Column("name", "Name", hint="DNS label, e.g. api-key"),
    Column("type", "Type", choices=CONFIG_TYPES),
    Column("key", "Key", hint="environment variable, e.g. API_KEY"),
    Column("value", "Value", masked_when_secret=True, hint="a secret's value stays masked"),
)


class RowTable(QTableWidget):
    """A table of rows edited in place; ``row_edited(row)`` fires on every user edit."""

    row_edited = Signal(int)

    def __init__(
        self,
        name: str,
        columns: tuple[Column, ...],
        parent: QWidget | None = None,
        *,
        visible_rows: int = 3,
    ) -> None:
        super().__init__(0, len(columns), parent)
        self.setObjectName(name)
        self.visible_rows = visible_rows
        self.columns = columns
        self.keys = tuple(c.key for c in columns)
        # Columns edited by a widget of their own (an open item editor is no such widget).
        self.widget_columns = frozenset(
            i for i, c in enumerate(columns) if c.choices or c.masked_when_secret
        )
        self.setHorizontalHeaderLabels([c.title for c in columns])
        for i, column in enumerate(columns):
            header = self.horizontalHeaderItem(i)
            if header is not None and column.hint:
                header.setToolTip(column.hint)
        # Fixed geometry while the user types: columns share the width, rows keep one height,
        # and the table's own height never gives way to an error line shown below it.
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setVisible(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self._filling = False
        self.itemChanged.connect(self._on_item_changed)

    def sizeHint(self) -> QSize:
        """Room for the header and ``visible_rows`` rows; more rows scroll."""
        hint = super().sizeHint()
        rows = self.verticalHeader().defaultSectionSize() * self.visible_rows
        height = self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth()
        return QSize(hint.width(), height)

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())

    # ---- rows -------------------------------------------------------------------------

    def add_row(
        self,
        values: Mapping[str, str] | None = None,
        *,
        touched: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Append a row (optionally filled, with what it carries unedited); returns its index."""
        values = values or {}
        row = self.rowCount()
        self._filling = True
        try:
            self.insertRow(row)
            for col, column in enumerate(self.columns):
                text = values.get(column.key, "")
                if column.choices:
                    self.setCellWidget(row, col, self._combo(column, text))
                elif column.masked_when_secret:
                    self.setCellWidget(row, col, self._secret_field(text))
                else:
                    item = QTableWidgetItem(text)
                    if column.readonly:
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                        item.setToolTip(text or column.hint)
                    self.setItem(row, col, item)
            self._first(row).setData(TOUCHED, touched)
            self._first(row).setData(EXTRA, dict(extra or {}))
            self._sync_mask(row)
        finally:
            self._filling = False
        return row

    def remove_current_row(self) -> None:
        """Remove the selected row (the last one when none is selected)."""
        row = self.currentRow() if self.currentRow() >= 0 else self.rowCount() - 1
        if row >= 0:
            self.removeRow(row)
            self.row_edited.emit(-1)

    def clear_rows(self) -> None:
        self.setRowCount(0)

    def values(self, row: int) -> dict[str, str]:
        """The row as text by column key."""
        out: dict[str, str] = {}
        for col, key in enumerate(self.keys):
            widget = self.cellWidget(row, col) if col in self.widget_columns else None
            if isinstance(widget, QComboBox):
                out[key] = widget.currentText()
            elif isinstance(widget, QLineEdit):
                out[key] = widget.text()
            else:
                item = self.item(row, col)
                out[key] = item.text() if item is not None else ""
        return out

    def extra(self, row: int) -> dict[str, Any]:
        """What the row carries without editing it (a container's ports and probes)."""
        value = self._first(row).data(EXTRA)
        return dict(value) if isinstance(value, dict) else {}

    def filled_rows(self) -> list[int]:
        """Rows with any text typed in (choice and read-only columns do not count): the rows
        to send."""
        free = [c.key for c in self.columns if not c.choices and not c.readonly]
        return [r for r in range(self.rowCount()) if any(self.values(r)[k].strip() for k in free)]

    def is_touched(self, row: int) -> bool:
        return bool(self._first(row).data(TOUCHED))

    def any_touched(self) -> bool:
        return any(self.is_touched(r) for r in range(self.rowCount()))

    def touch_all(self) -> None:
        for row in range(self.rowCount()):
            self._first(row).setData(TOUCHED, True)

    def title_of(self, key: str) -> str:
        """The header of the column ``key`` (the key itself when there is none)."""
        return next((c.title for c in self.columns if c.key == key), key)

    def cell(self, row: int, key: str) -> QTableWidgetItem | QWidget | None:
        """The item or editor widget of one cell."""
        col = self.keys.index(key)
        return self.cellWidget(row, col) if col in self.widget_columns else self.item(row, col)

    def wipe_secrets(self) -> None:
        """Forget every secret value typed into this table."""
        col = next((i for i, c in enumerate(self.columns) if c.masked_when_secret), None)
        if col is None:
            return
        for row in range(self.rowCount()):
            widget = self.cellWidget(row, col)
            if isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal:
                widget.clear()

    # ---- errors -----------------------------------------------------------------------

    def show_errors(self, errors: Mapping[tuple[int, str], str]) -> None:
        """Mark bad cells red with their message as tooltip; clear the others."""
        for row in range(self.rowCount()):
            for col, key in enumerate(self.keys):
                message = errors.get((row, key), "")
                if col in self.widget_columns:
                    widget = self.cellWidget(row, col)
                    if widget is not None:
                        mark_bad(widget, bool(message), message)
                    continue
                item = self.item(row, col)
                if item is None:
                    continue
                self._filling = True
                try:
                    item.setBackground(QBrush(BAD_CELL) if message else QBrush())
                    column = self.columns[col]
                    shown = item.text() if column.readonly and item.text() else column.hint
                    item.setToolTip(message or shown)
                finally:
                    self._filling = False

    # ---- internals --------------------------------------------------------------------

    def _first(self, row: int) -> QTableWidgetItem:
        item = self.item(row, 0)
        if item is None:
            item = QTableWidgetItem("")
            self.setItem(row, 0, item)
        return item

    def _combo(self, column: Column, value: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"{self.objectName()}_{column.key}")
        combo.addItems(list(column.choices))
        if value in column.choices:
            combo.setCurrentText(value)
        combo.currentIndexChanged.connect(lambda _i, w=combo: self._on_widget_edited(w))
        return combo

    def _secret_field(self, value: str) -> QLineEdit:
        edit = QLineEdit(value)
        edit.setObjectName(f"{self.objectName()}_value")
        edit.setFrame(False)
        edit.textEdited.connect(lambda _t, w=edit: self._on_widget_edited(w))
        return edit

    def _row_of(self, widget: QWidget) -> int:
        for row in range(self.rowCount()):
            for col in self.widget_columns:
                if self.cellWidget(row, col) is widget:
                    return row
        return -1

    def _sync_mask(self, row: int) -> None:
        """Mask the value while the row's type is secret."""
        if "type" not in self.keys:
            return
        secret = self.values(row).get("type") == "secret"
        for col, column in enumerate(self.columns):
            widget = self.cellWidget(row, col)
            if column.masked_when_secret and isinstance(widget, QLineEdit):
                if not secret and widget.echoMode() == QLineEdit.EchoMode.Password:
                    widget.clear()  # a secret is never revealed by changing the row's type
                mode = QLineEdit.EchoMode.Password if secret else QLineEdit.EchoMode.Normal
                widget.setEchoMode(mode)
                widget.setPlaceholderText("secret value (masked)" if secret else "value")

    def _on_widget_edited(self, widget: QWidget) -> None:
        row = self._row_of(widget)
        if row < 0 or self._filling:
            return
        self._sync_mask(row)
        self._first(row).setData(TOUCHED, True)
        self.row_edited.emit(row)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        row = item.row()
        self._filling = True
        try:
            self._first(row).setData(TOUCHED, True)
        finally:
            self._filling = False
        self.row_edited.emit(row)


def row_buttons(
    table: RowTable, noun: str, key: str, on_add: Callable[[RowTable], None]
) -> QHBoxLayout:
    """ "Add <noun>" and "Remove <noun>" under a row table (object names ``add_<key>`` and
    ``remove_<key>``): adding asks ``on_add``, removing takes the current row."""
    add = named(QPushButton(f"Add {noun}"), f"add_{key}")
    remove = named(QPushButton(f"Remove {noun}"), f"remove_{key}")
    add.clicked.connect(lambda _c=False: on_add(table))
    remove.clicked.connect(lambda _c=False: table.remove_current_row())
    buttons = QHBoxLayout()
    buttons.addWidget(add)
    buttons.addWidget(remove)
    buttons.addStretch(1)
    return buttons
