"""A secret shown nowhere in the window: not the tree, the details, the events or a tooltip."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.main_window import MainWindow
from tests.ui.helpers import demo_bridge_fixture, demo_fixture, select, window_fixture

__all__ = ["demo_bridge_fixture", "demo_fixture", "window_fixture"]  # fixtures used below

SECRET = "demo-secret"  # the demo's worker-job pod carries it as a secret config item


def model_texts(model: QAbstractItemModel, parent: QModelIndex | None = None) -> Iterator[str]:
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        for col in range(model.columnCount(parent)):
            index = model.index(row, col, parent)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.data(index, role)
                if value is not None:
                    yield str(value)
        first = model.index(row, 0, parent)
        if model.rowCount(first) > 0:
            yield from model_texts(model, first)


def every_text(root: QWidget) -> Iterator[str]:
    """Everything the window could show a person, including tooltips and list models."""
    for widget in [root, *root.findChildren(QWidget)]:
        yield widget.toolTip()
        yield widget.windowTitle()
        if isinstance(widget, QLabel | QAbstractButton):
            yield widget.text()
        if isinstance(widget, QLineEdit):
            yield widget.text()
            yield widget.displayText()
        if isinstance(widget, QPlainTextEdit | QTextEdit):
            yield widget.toPlainText()
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            yield from model_texts(widget.model())


def test_the_window_never_shows_a_secret(qtbot: QtBot, window: MainWindow) -> None:
    select(qtbot, window, "worker-job")
    window.cluster.tree.expandAll()
    texts = list(every_text(window))
    assert any("******" in t for t in texts), "the secret's masked value should be visible"
    leaks = [t for t in texts if SECRET in t]
    assert leaks == [], leaks
