"""The app's icon and .desktop entry: found from the source tree, valid, and drawable."""

from __future__ import annotations

import configparser
import xml.etree.ElementTree as ET

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from kube9_desktop.resources import DESKTOP_FILE, icon_path, resource_path


def test_icon_is_found_and_is_a_square_svg() -> None:
    path = icon_path()
    assert path is not None and path.name == "kube9-desktop.svg"
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"


def test_icon_renders_at_small_sizes(qapp: QApplication) -> None:
    path = icon_path()
    assert path is not None
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    opaque = sum(image.pixelColor(x, y).alpha() > 200 for x in range(16) for y in range(16))
    assert opaque > 100, "the icon should fill most of a 16 px square"


def test_desktop_entry_launches_the_command_with_the_icon() -> None:
    path = resource_path(DESKTOP_FILE)
    assert path is not None
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(path, encoding="utf-8")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application"
    assert d["Name"] == "Kube-9 Desktop"
    assert d["Exec"] == "kube9-desktop"
    assert d["Icon"] == "kube9-desktop"
    assert d["Terminal"] == "false"
    assert d["Categories"] == "Development;Education;"
