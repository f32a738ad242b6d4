"""Shared plumbing of the forms: inline error labels, labelled field rows, quantity and
"key=value" fields, and validation by the engine's own request models.

The forms validate with those models (``parse_body``), so a value the form accepts is exactly
a value the API accepts, and every message names the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.errors import Kube9Error, UserError
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.ui.theme import error_color

FORM = "(form)"  # the path of a problem that names no field
ERROR_STYLE = "color: #d9534f;"
BAD_FIELD_STYLE = "border: 1px solid #d9534f;"
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_KEYED = re.compile(r"^(labels|annotations)\[(.*)\]$")
W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """``widget`` with its objectName set (tests and style sheets find it by that name)."""
    widget.setObjectName(name)
    return widget


def error_label(name: str, parent: QWidget | None = None) -> QLabel:
    """A red, word-wrapped label ``<name>_error`` under a field, hidden while empty."""
    label = QLabel(parent)
    label.setObjectName(f"{name}_error")
    label.setStyleSheet(f"color: {error_color()};")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_error(label: QLabel, message: str) -> None:
    """Show ``message`` in ``label`` (an empty message hides it)."""
    label.setText(message)
    label.setVisible(bool(message))


class BodyScroll(QScrollArea):
    """A dialog's body (its fields and messages) that scrolls once the dialog is as tall as the
    screen lets it be, with OK/Cancel below it: on a 700 px screen a forty-line error pushed
    the buttons off the screen, and the end of the message with them."""

    def __init__(self, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("body")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the first field gets it (Tab scrolls)
        self.setWidget(body)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The body's layout changed (fields added, an error shown): so did this hint, which
        the dialog's layout caches until told."""
        if watched is self.widget() and event.type() is QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        """The body's own size: the dialog opens as large as its fields want, not at the
        scroll area's default of 36 by 24 lines. Summed from the body's widgets' own hints:
        the column's layout still holds the hints from before the form added its fields when
        the dialog takes its first size."""
        body = self.widget()
        column = body.layout() if body is not None else None
        if column is None:
            return super().sizeHint()
        items = (column.itemAt(i) for i in range(column.count()))
        widgets = [w for w in (item.widget() for item in items if item is not None) if w]
        hints = [w.sizeHint() for w in widgets if not w.isHidden()]
        frame = 2 * self.frameWidth()
        width = max((h.width() for h in hints), default=0)
        height = sum(h.height() for h in hints) + column.spacing() * max(0, len(hints) - 1)
        return QSize(width + frame, height + frame)


def scrolling_body(layout: QVBoxLayout, *widgets: QWidget) -> BodyScroll:
    """``widgets`` one above the other in a ``BodyScroll``, added to ``layout`` with stretch."""
    body = QWidget()
    column = QVBoxLayout(body)
    column.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        column.addWidget(widget, 1 if i == 0 else 0)
    scroll = BodyScroll(body)
    layout.addWidget(scroll, 1)
    return scroll


def fit_to_contents(dialog: QWidget) -> None:
    """Grow a shown dialog (never shrink it) so wrapped messages are read whole, within the
    screen: a top-level window does not follow its labels' height-for-width by itself (nor
    does a tab page tell its dialog), so a five-line error was squeezed into one line's room.
    """
    screen = dialog.screen()
    if dialog.layout() is None or screen is None or not dialog.isVisible():
        return
    room = screen.availableGeometry()
    frame = dialog.frameGeometry().height() - dialog.height()
    for body in dialog.findChildren(BodyScroll):
        body.updateGeometry()  # its hint follows the message just shown, not the last one
    hint = dialog.sizeHint()
    width = max(dialog.width(), min(hint.width(), room.width()))
    if width != dialog.width():
        dialog.resize(width, dialog.height())
    layout = dialog.layout()
    assert layout is not None
    layout.activate()
    short = sum(
        max(0, label.heightForWidth(label.width()) - label.height())
        for label in dialog.findChildren(QLabel)
        if label.wordWrap() and label.isVisible() and label.text()
    )
    height = min(max(dialog.height() + short, hint.height()), room.height() - frame)
    height = max(height, dialog.height())
    if height > dialog.height():
        dialog.resize(width, height)
        if dialog.frameGeometry().bottom() > room.bottom():  # keep it on the screen
            dialog.move(dialog.x(), max(room.top(), room.bottom() - height - frame))


def mark_bad(widget: QWidget, bad: bool, message: str = "") -> None:
    """Outline ``widget`` in red with ``message`` as its tooltip while it is bad."""
    widget.setStyleSheet(BAD_FIELD_STYLE if bad else "")
    widget.setToolTip(message if bad else "")


def quantity_value(text: str) -> int | float | str | None:
    """Form text as the API reads it: a plain number stays a number (cores, MB), else a string.

    "4" -> 4 (cores or MB), "0.5" -> 0.5, "500m" -> "500m", "" -> None (not given).
    """
    text = text.strip()
    if not text:
        return None
    if _PLAIN_NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def body_errors(model: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    """Every problem the engine would report for ``body``, as {field path: message}.

    Runs the request model and then its ``to_spec`` (duplicate names, CPU sums), exactly as
    the engine does before it changes anything.
    """
    try:
        parsed = parse_body(model, body)
        to_spec = getattr(parsed, "to_spec", None)
        if to_spec is not None:
            to_spec()
    except UserError as exc:
        return error_map(exc)
    return {}


def error_map(exc: Kube9Error) -> dict[str, str]:
    """{field path: message} of an engine error ("(form)" when it names no field)."""
    listed = exc.extra.get("errors")
    if isinstance(listed, list) and listed:
        out: dict[str, str] = {}
        for item in listed:
            out.setdefault(str(item.get("field", "(form)")), str(item.get("message", "")))
        return out
    field = exc.extra.get("field")
    message = exc.message
    if isinstance(field, str) and field:
        prefix = f"{field}: "
        return {field: message[len(prefix) :] if message.startswith(prefix) else message}
    return {FORM: message}


def keyed_error(path: str, message: str) -> tuple[str, str]:
    """A problem with one label or annotation, moved onto its field with the key in front.

    ("labels['-bad']", "key name must …") -> ("labels", "'-bad': key name must …").
    """
    m = _KEYED.match(path)
    if m is None:
        return path, message
    return m.group(1), f"{m.group(2)}: {message}"


def parse_pairs(text: str) -> tuple[dict[str, str], str]:
    """Labels typed as "app=web, tier=front": {"app": "web", "tier": "front"}, and what is
    wrong with the text ("" when nothing).

    Only the shape is checked here (each item is key=value, no key twice); the keys and values
    themselves are the engine's to judge (``parse_body``). Blank items are skipped, so a
    trailing comma is fine; "k=" is the empty value.
    """
    pairs: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            return pairs, f"'{item}' has no '=': write key=value pairs separated by commas"
        if key in pairs:
            return pairs, f"'{key}' is given twice"
        pairs[key] = value
    return pairs, ""


def format_pairs(pairs: Mapping[str, str]) -> str:
    """The text ``parse_pairs`` reads back: {"app": "web"} -> "app=web"."""
    return ", ".join(f"{k}={v}" for k, v in pairs.items())


@dataclass(frozen=True)
class Checked:
    """One validation: everything wrong now ({field path: message}) and what is on screen
    (the touched fields' share, or everything once the user tried to submit)."""

    errors: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)


class FieldRows(QWidget):
    """Captioned fields, each with its red error label underneath and a touched flag.

    A field's message shows once the user has edited it (or tried to submit), never while
    the form is still untouched. ``edited(key)`` fires on every user edit of a field.
    """

    edited = Signal(str)

    def __init__(self, columns: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.touched: set[str] = set()
        self._parts: dict[str, tuple[QLabel, QWidget]] = {}
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        for col in range(columns):
            self.grid.setColumnStretch(col * 2 + 1, 1)

    def add(self, key: str, caption: str, widget: W) -> W:
        """Add ``widget`` (named ``key``) under ``caption``; returns the widget."""
        widget.setObjectName(key)
        error = error_label(key, self)
        label = QLabel(caption, self)
        label.setBuddy(widget)
        box = QWidget(self)
        stack = QVBoxLayout(box)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(2)
        stack.addWidget(widget)
        stack.addWidget(error)
        index = len(self.fields)
        row, col = divmod(index, self.columns)
        # Both at the top of their cell: a neighbour's error below must not shift them.
        self.grid.addWidget(label, row, col * 2, Qt.AlignmentFlag.AlignTop)
        self.grid.addWidget(box, row, col * 2 + 1, Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(12 if col else 0, 4, 0, 0)  # level with the field's text
        self.fields[key] = widget
        self.errors[key] = error
        self._parts[key] = (label, box)
        self._connect(key, widget)
        return widget

    def set_field_visible(self, key: str, visible: bool) -> None:
        for part in self._parts[key]:
            part.setVisible(visible)

    def touch_all(self) -> None:
        self.touched.update(self.fields)

    def show_errors(self, errors: Mapping[str, str], *, everything: bool) -> dict[str, str]:
        """Show each field's message (touched fields only unless ``everything``); returns
        the messages now on screen."""
        shown: dict[str, str] = {}
        for key, widget in self.fields.items():
            message = errors.get(key, "") if everything or key in self.touched else ""
            show_error(self.errors[key], message)
            mark_bad(widget, bool(message), message)
            if message:
                shown[key] = message
        return shown

    def focus(self, key: str) -> bool:
        widget = self.fields.get(key)
        if widget is None or not widget.isVisible():
            return False
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _connect(self, key: str, widget: QWidget) -> None:
        def edited() -> None:
            self.touched.add(key)
            self.edited.emit(key)

        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(lambda _t: edited())
        elif isinstance(widget, QComboBox) and widget.isEditable():
            line = widget.lineEdit()
            assert line is not None
            line.textEdited.connect(lambda _t: edited())
            widget.activated.connect(lambda _i: edited())
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _i: edited())
