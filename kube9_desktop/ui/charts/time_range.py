"""The time charts' window: 1 min / 5 min / 15 min / all, as a segmented row of buttons.

The charts follow the newest sample over the chosen window; the mouse neither zooms nor pans
them (the wheel scrolls the charts pane instead), and a double-click on a chart goes back to
the chosen window and to following live if anything else moved the range.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QWidget

# key -> (button text, seconds shown; None = everything the charts keep)
TIME_RANGES: dict[str, tuple[str, float | None]] = {
    "1m": ("1 min", 60.0),
    "5m": ("5 min", 300.0),
    "15m": ("15 min", 900.0),
    "all": ("All", None),
}
DEFAULT_RANGE = "5m"


def range_key(value: object) -> str:
    """A stored preference as a range key (anything unknown gives the default)."""
    return value if isinstance(value, str) and value in TIME_RANGES else DEFAULT_RANGE


class TimeRangeBar(QWidget):
    """Exclusive, checkable tool buttons, one per range; ``range_chosen`` carries the key."""

    range_chosen = Signal(str)

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TimeRangeBar")
        # The chosen range must show in both themes (Fusion's dark checked state barely does).
        self.setStyleSheet(
            "QToolButton { padding: 1px 8px; }"
            " QToolButton:checked { background: palette(highlight);"
            " color: palette(highlighted-text); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        label = QLabel("Show the last")
        label.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(label)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        for key, (text, _) in TIME_RANGES.items():
            button = QToolButton()
            button.setObjectName(f"range_{key}")
            button.setText(text)
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.setToolTip(f"Time charts: {text.lower()} (double-click a chart to follow live)")
            self.group.addButton(button)
            self.buttons[key] = button
            layout.addWidget(button)
            button.toggled.connect(partial(self._on_button_toggled, key))
        self.buttons[range_key(current)].setChecked(True)

    def _on_button_toggled(self, key: str, on: bool) -> None:
        if on:
            self.range_chosen.emit(key)

    def current(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())
