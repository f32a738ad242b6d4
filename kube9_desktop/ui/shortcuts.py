"""Keyboard: the shortcuts cheat sheet (F1 or ?), generated from the window's actions, and
the tree filter keys (/ focuses it, Esc clears it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.ui.palette import action_label, window_actions

# Keys handled by widgets rather than actions, listed on the sheet too.
EXTRA_KEYS = [("Focus the tree filter", "/"), ("Clear the tree filter", "Esc")]


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    rows = []
    for action in window_actions(window):
        keys = ", ".join(
            k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
        )
        if keys:
            rows.append((action_label(action), keys))
    return rows + EXTRA_KEYS


class ShortcutsSheet(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("ShortcutsSheet")
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("ShortcutsTable")
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (what, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(480, 520)


def clear_on_escape(line_edit: QLineEdit) -> None:
    """Esc in a filter box clears it (the tree's and the pod list's filters alike)."""
    escape = QShortcut(QKeySequence("Esc"), line_edit)
    escape.setContext(Qt.ShortcutContext.WidgetShortcut)
    escape.activated.connect(line_edit.clear)


def install_shortcuts(
    window: QMainWindow, help_menu: QMenu, current_filter: Callable[[], QLineEdit]
) -> QAction:
    """ "Keyboard shortcuts" (F1, ?) in the Help menu; / focuses the filter of the tab shown
    (``current_filter``), Esc clears it."""
    action = QAction("&Keyboard shortcuts", window)
    action.setObjectName("ShortcutsAction")
    action.setShortcuts([QKeySequence("F1"), QKeySequence("?")])

    def open_sheet() -> None:
        sheet = ShortcutsSheet(window)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()

    action.triggered.connect(open_sheet)
    help_menu.addAction(action)
    slash = QShortcut(QKeySequence("/"), window)
    slash.setObjectName("FocusFilterSlash")

    def focus_filter() -> None:
        tree_filter = current_filter()
        tree_filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        tree_filter.selectAll()

    slash.activated.connect(focus_filter)
    return action
