"""Shared plumbing of the forms: inline error labels, quantity fields and engine validation.

The forms validate with the engine's own request models (``parse_body``), so a value the form
accepts is exactly a value the API accepts, and every message names the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import shiboken6
from pydantic import BaseModel
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, UserError
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.ui.bridge import EngineBridge

NOT_RUNNING = "The cluster engine is not running yet; try again in a moment."
INTERRUPTED = "{what} did not finish (the engine stopped or failed; details are in the log)."
ERROR_STYLE = "color: #d9534f;"
BAD_FIELD_STYLE = "border: 1px solid #d9534f;"
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
W = TypeVar("W", bound=QWidget)
T = TypeVar("T")


def named(widget: W, name: str) -> W:
    """``widget`` with its objectName set (tests and style sheets find it by that name)."""
    widget.setObjectName(name)
    return widget


def error_label(name: str, parent: QWidget | None = None) -> QLabel:
    """A red, word-wrapped label ``<name>_error`` under a field, hidden while empty."""
    label = QLabel(parent)
    label.setObjectName(f"{name}_error")
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_error(label: QLabel, message: str) -> None:
    """Show ``message`` in ``label`` (an empty message hides it)."""
    label.setText(message)
    label.setVisible(bool(message))


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
    return {"(form)": message}


class EngineForm(QDialog):
    """A dialog that sends one operation to the engine and stays usable whatever happens:
    busy while it runs, the outcome shown inline, and never stuck if the engine goes away."""

    bridge: EngineBridge
    form_error: QLabel
    _busy: bool = False

    def _set_busy(self, busy: bool, message: str = "") -> None:
        raise NotImplementedError

    def _send(
        self,
        what: str,
        doing: str,
        op: Callable[[Engine], Awaitable[T]],
        on_done: Callable[[T], None],
        on_error: Callable[[Kube9Error], None],
    ) -> None:
        """Run ``op`` through the bridge; ``doing`` names it for people ("Adding node w1")."""
        if not self.bridge.attached:
            show_error(self.form_error, NOT_RUNNING)
            return
        self._set_busy(True, f"{doing}…")
        task = self.bridge.run(what, op, on_done, on_error)
        task.add_done_callback(lambda _t: self._on_operation_finished(doing))

    def _on_operation_finished(self, doing: str) -> None:
        """Neither done nor refused (a bug or the engine stopping): let the user retry."""
        if shiboken6.isValid(self) and self._busy:
            self._set_busy(False)
            show_error(self.form_error, INTERRUPTED.format(what=doing))
