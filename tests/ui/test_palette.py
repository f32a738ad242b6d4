"""Keyboard: the command palette (Ctrl+K, Ctrl+Shift+P), the shortcuts sheet (F1, ?), and
/ and Esc for the tree filter, driven with real key presses."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QListWidget, QTableWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.palette import CommandPalette, fuzzy_score, window_actions
from kube9_desktop.ui.shortcuts import ShortcutsSheet
from tests.ui.helpers import (
    child,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    press,
    type_text,
    window_fixture,  # noqa: F401
)


def test_fuzzy_matching_keeps_letters_in_order() -> None:
    assert fuzzy_score("adnd", "Add node") is not None
    assert fuzzy_score("nda", "Add node") is None
    assert fuzzy_score("node", "Add node") < fuzzy_score("ade", "Add node")  # type: ignore[operator]


def _palette(qtbot: QtBot, window: MainWindow, key: str) -> CommandPalette:
    press(qtbot, window, key)
    qtbot.waitUntil(lambda: window.findChild(CommandPalette) is not None)
    palette = window.findChild(CommandPalette)
    assert palette is not None
    qtbot.waitExposed(palette)
    return palette


def test_the_palette_lists_every_action_and_enter_runs_it(qtbot: QtBot, window: MainWindow) -> None:
    palette = _palette(qtbot, window, "Ctrl+K")
    listed = child(palette, QListWidget, "PaletteList")
    names = [listed.item(i).text() for i in range(listed.count())]
    assert len(names) == len(window_actions(window)) >= 15
    assert any(n.startswith("Add Node") or n.startswith("Add node") for n in names)
    assert any(n.endswith("·  Ctrl+N") for n in names)  # shortcuts beside the names
    filt = child(palette, QLineEdit, "PaletteFilter")
    qtbot.waitUntil(filt.hasFocus)
    type_text(qtbot, filt, "kbsh")  # "Keyboard shortcuts", fuzzily
    qtbot.waitUntil(lambda: listed.count() >= 1)
    assert listed.currentItem().text().startswith("Keyboard shortcuts")
    qtbot.keyClick(filt, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: window.findChild(ShortcutsSheet) is not None)
    sheet = window.findChild(ShortcutsSheet)
    assert sheet is not None
    sheet.reject()


def test_ctrl_shift_p_opens_the_palette_too(qtbot: QtBot, window: MainWindow) -> None:
    palette = _palette(qtbot, window, "Ctrl+Shift+P")
    palette.reject()


def test_f1_shows_the_shortcuts_generated_from_the_actions(
    qtbot: QtBot, window: MainWindow
) -> None:
    press(qtbot, window, "F1")
    qtbot.waitUntil(lambda: window.findChild(ShortcutsSheet) is not None)
    sheet = window.findChild(ShortcutsSheet)
    assert sheet is not None
    table = child(sheet, QTableWidget, "ShortcutsTable")
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    with_keys = [a for a in window_actions(window) if not a.shortcut().isEmpty()]
    assert len(rows) >= len(with_keys)
    assert "Ctrl+K" in rows["Command palette"] and "Ctrl+Shift+P" in rows["Command palette"]
    assert rows["Focus the tree filter"] == "/"
    sheet.reject()


def test_slash_focuses_the_filter_and_esc_clears_it(qtbot: QtBot, window: MainWindow) -> None:
    window.cluster.tree.setFocus()
    qtbot.waitUntil(window.cluster.tree.hasFocus)
    press(qtbot, window, "/")
    filt = window.cluster.filter
    qtbot.waitUntil(filt.hasFocus)
    type_text(qtbot, filt, "web/")  # a / typed in the filter is text, not the shortcut
    assert filt.text() == "web/"
    qtbot.keyClick(filt, Qt.Key.Key_Escape)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: filt.text() == "")
    assert QApplication.activeWindow() is window
