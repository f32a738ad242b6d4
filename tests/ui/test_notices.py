"""The message bar and the start-up page as the user sees them: contrast in both themes,
rows that hold still under a banner, an error page that shows its whole text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.notices import MessageBar, StartupPage
from kube9_desktop.ui.theme import apply_theme, contrast_ratio, text_pairs
from tests.ui.helpers import (
    child,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    find_row,
    select,
    window_fixture,  # noqa: F401
)

AA = 4.5


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """Restores the application's style and palette after a test switches themes."""
    palette = QPalette(qapp.palette())
    yield qapp
    qapp.setPalette(palette)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_text_pair_of_the_theme_passes_wcag_aa(themed: QApplication, theme: str) -> None:
    pairs = text_pairs(themed, theme)
    assert len(pairs) >= 10
    low = {
        what: round(contrast_ratio(fg, bg), 2)
        for what, fg, bg in pairs
        if contrast_ratio(fg, bg) < AA
    }
    assert low == {}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("level", ["info", "error"])
def test_the_banner_text_is_drawn_in_the_banner_colours(
    qtbot: QtBot, themed: QApplication, theme: str, level: str
) -> None:
    """The label inside the bar, not just the frame, takes the banner's text colour (the dark
    theme once drew near-white text on pale blue)."""
    apply_theme(themed, theme)
    holder = QWidget()
    holder.resize(600, 200)
    qtbot.addWidget(holder)
    bar = MessageBar(holder)
    holder.show()
    qtbot.waitExposed(holder)
    bar.show_message(level, "Pod web-1 created")
    image = bar.grab().toImage()
    background = image.pixelColor(bar.width() // 2, 2 + bar.height() // 2)
    # The darkest (light theme) or lightest (dark theme) pixel in the text is the glyph colour.
    text = bar.text.grab().toImage()
    pixels = [
        text.pixelColor(x, y) for x in range(0, text.width(), 1) for y in range(text.height())
    ]
    glyph = (min if theme == "light" else max)(pixels, key=lambda c: c.lightness())
    assert contrast_ratio(glyph, background) >= AA


def test_a_banner_does_not_move_the_tree_rows(qtbot: QtBot, window: MainWindow) -> None:
    tree = window.cluster.tree
    index = find_row(tree.model(), "master-1")
    before = tree.viewport().mapTo(window, tree.visualRect(index).topLeft())
    window.messages.show_message("info", "Node worker-9 added\nsecond line of the message")
    qtbot.waitUntil(window.messages.isVisible)
    during = tree.viewport().mapTo(window, tree.visualRect(index).topLeft())
    window.messages.hide()
    after = tree.viewport().mapTo(window, tree.visualRect(index).topLeft())
    assert before == during == after
    # The bar floats inside the window, over the bottom of the pages, whole.
    window.messages.show_message("error", "Deleting failed: " + "a long reason " * 20)
    bar = window.messages.geometry()
    assert window.centralWidget().rect().contains(bar)
    assert bar.height() >= window.messages.text.heightForWidth(window.messages.text.width())


def test_the_start_error_page_shows_all_of_a_long_message(qtbot: QtBot, tmp_path: Path) -> None:
    log = str(tmp_path / "a" / "deep" / "folder" / "of" / "logs" / "kube9.log")
    page = StartupPage(log)
    qtbot.addWidget(page)
    page.resize(1024, 700)
    page.show()
    qtbot.waitExposed(page)
    message = "Docker is not reachable: " + "the daemon refused the connection, " * 30
    page.show_error(message)
    qtbot.waitUntil(page.error_area.isVisible)
    error = child(page, QLabel, "StartupError")
    assert error.width() <= page.error_area.viewport().width()
    # The label is as tall as its wrapped text needs (nothing is cut); the path is selectable.
    assert error.height() >= error.heightForWidth(error.width())
    path = child(page, QLabel, "StartupLogPath")
    assert path.text() == log
    assert path.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    page.error_area.ensureWidgetVisible(path)
    qtbot.waitUntil(lambda: path.visibleRegion().boundingRect().height() >= path.height() // 2)


def test_selecting_a_cell_never_scrolls_the_tree_sideways(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1024, 700)
    window.splitter.setSizes([260, 700])
    tree = window.cluster.tree
    bar = tree.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # the columns do not fit: it could scroll
    bar.setValue(0)
    model = tree.model()
    row = find_row(model, "master-1")
    last = model.index(row.row(), model.columnCount(row.parent()) - 1, row.parent())
    tree.setCurrentIndex(last)  # what a click or an arrow key on that cell does
    qtbot.waitUntil(lambda: window.details.title.text() == "master-1")
    assert bar.value() == 0


def test_the_details_of_another_object_start_at_the_top(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1024, 700)
    select(qtbot, window, "master-1")
    bar = window.details.scroll_area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # a node's page is taller than the pane
    bar.setValue(bar.maximum())
    select(qtbot, window, "web-1")
    assert bar.value() == 0
