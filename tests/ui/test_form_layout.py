"""Forms hold still and show their messages whole: a long error grows the dialog (within the
screen) instead of being clipped, and typing into a pod table moves none of its rows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialog, QLabel, QTableWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.errors import UserError
from kube9_desktop.settings import Settings
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.preferences import Preferences
from tests.ui.fake_bridge import FakeBridge
from tests.ui.helpers import edit_cell

FIVE_LINES = "\n".join(
    f"line {i}: this refusal is long enough to wrap in a narrow dialog, and all of it matters"
    for i in range(5)
)


def shown(qtbot: QtBot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def fake() -> FakeBridge:
    bridge = FakeBridge()
    bridge.attach_fake()
    bridge.add_node("w1")
    return bridge


def read_whole(qtbot: QtBot, dialog: QDialog, label: QLabel) -> None:
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.isVisible() and label.text() == FIVE_LINES
    hint = dialog.sizeHint()
    assert dialog.width() >= hint.width() and dialog.height() >= hint.height()


def test_a_five_line_refusal_grows_the_node_form(qtbot: QtBot) -> None:
    form = shown(qtbot, NodeForm(fake()))
    assert isinstance(form, NodeForm)
    form._on_refused(UserError(FIVE_LINES, field="name"))  # as the bridge hands it over
    label = form.findChild(QLabel, "name_error")
    assert label is not None
    read_whole(qtbot, form, label)


def test_a_five_line_error_grows_the_settings_dialog(
    qtbot: QtBot, prefs: Preferences, tmp_path: Path
) -> None:
    dialog = shown(qtbot, SettingsDialog(prefs, Settings(data_dir=tmp_path)))
    assert isinstance(dialog, SettingsDialog)
    dialog.validation_error = lambda: FIVE_LINES  # type: ignore[method-assign]
    dialog.grace_period.setValue(5.0)  # any edit revalidates
    label = dialog.findChild(QLabel, "grace_period_error")
    assert label is not None
    read_whole(qtbot, dialog, label)


def geometry(table: QTableWidget) -> tuple[object, ...]:
    return (
        table.height(),
        [table.rowHeight(r) for r in range(table.rowCount())],
        [table.columnWidth(c) for c in range(table.columnCount())],
        table.verticalScrollBar().value(),
    )


def test_typing_into_a_pod_table_moves_none_of_its_rows(qtbot: QtBot) -> None:
    form = shown(qtbot, PodForm(fake()))
    form.resize(900, 700)
    qtbot.waitUntil(lambda: form.width() == 900)
    for name in ("containers", "volumes", "config"):
        table = form.findChild(QTableWidget, name)
        assert table is not None
        while table.rowCount() < 6:  # more rows than it shows: it scrolls
            table.add_row()
        table.scrollToBottom()
        before = geometry(table)
        # A bad name in the last row: its error line appears under the table.
        edit_cell(qtbot, table, 5, 0, "Bad Name!")
        error = form.findChild(QLabel, f"{name}_error")
        assert error is not None
        qtbot.waitUntil(lambda e=error: "Row 6" in e.text() and e.isVisible())
        assert geometry(table) == before, name
        edit_cell(qtbot, table, 5, 0, "good")  # and the line goes again
        qtbot.waitUntil(lambda e=error: "Row 6, Name" not in e.text())
        assert geometry(table) == before, name
