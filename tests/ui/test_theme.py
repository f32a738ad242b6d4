"""Controls you can find in both themes: an unchecked check box or radio button has an edge
that stands out 3:1 (WCAG 1.4.11) from its fill and from the window around it, as drawn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QRadioButton, QStyle, QStyleOptionButton
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.theme import apply_theme, contrast_ratio

NON_TEXT = 3.0
SE = QStyle.SubElement


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    palette = QPalette(qapp.palette())
    yield qapp
    apply_theme(qapp, "light")
    qapp.setPalette(palette)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(
    ("kind", "element"),
    [(QCheckBox, SE.SE_CheckBoxIndicator), (QRadioButton, SE.SE_RadioButtonIndicator)],
)
def test_an_unchecked_indicator_has_a_visible_edge(
    qtbot: QtBot, themed: QApplication, theme: str, kind: type, element: QStyle.SubElement
) -> None:
    apply_theme(themed, theme)
    box = kind("Follow")
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    option = QStyleOptionButton()
    box.initStyleOption(option)
    rect = box.style().subElementRect(element, option, box)
    image = box.grab().toImage()
    fill = image.pixelColor(rect.center())
    window = themed.palette().color(QPalette.ColorRole.Window)
    edge: list[QColor] = [
        image.pixelColor(x, y)
        for x in range(rect.left(), rect.right() + 1)
        for y in range(rect.top(), rect.bottom() + 1)
    ]
    best = max(edge, key=lambda c: min(contrast_ratio(c, fill), contrast_ratio(c, window)))
    assert contrast_ratio(best, fill) >= NON_TEXT, (theme, best.name(), fill.name())
    assert contrast_ratio(best, window) >= NON_TEXT, (theme, best.name(), window.name())
