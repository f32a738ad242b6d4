"""EngineForm: the one skeleton of every dialog that sends one operation to the engine.

It owns the frame (the fields area, the form-level error, the list of a refusal's reasons,
the status line, OK/Cancel), the cycle (validate as the user types, show a field's problem
once it was touched, everything once the user tries to submit), and the operation (busy
while it runs, the engine's refusal shown inline, a pod that fits nowhere listed node by
node, never stuck if the engine goes away). A form puts its fields into ``content`` and
declares what it sends and where problems go:

    class NodeForm(EngineForm):
        def body(self): ...                        # the request body
        def validation_errors(self): ...           # {field path: message}, by the engine's rules
        def display(self, errors, *, everything):  # put messages under the fields
        def operation(self, body): ...             # Operation("Add node", "Adding node w1", op)
        def refusal_errors(self, exc): ...         # the engine's refusal at the form's fields

and, if success means more than closing with ``created`` set, ``on_created``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, Unschedulable
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    Checked,
    error_label,
    fit_to_contents,
    named,
    scrolling_body,
    show_error,
)

NOT_RUNNING = "The cluster engine is not running yet; try again in a moment."
INTERRUPTED = "{what} did not finish (the engine stopped or failed; details are in the log)."
UNSCHEDULABLE = "{message}. Lower the CPU or memory requests, or add or free a node."


@dataclass(frozen=True)
class Operation:
    """What a form sends: ``what`` for the log ("Add node"), ``doing`` for the status line
    ("Adding node w1"), ``run`` the engine call itself."""

    what: str
    doing: str
    run: Callable[[Engine], Awaitable[Any]]


def summary(shown: dict[str, str]) -> str:
    """The form-level line: a problem that names no field, else how many fields are red."""
    if FORM in shown:
        return shown[FORM]
    if not shown:
        return ""
    return f"{len(shown)} problem{'s' if len(shown) > 1 else ''}: see the fields marked in red."


class EngineForm(QDialog):
    """A dialog that sends one operation to the engine and stays usable whatever happens."""

    # Say "N problems: see the fields marked in red" (forms whose fields hide in tabs).
    SUMMARIZE = False

    def __init__(
        self,
        bridge: EngineBridge,
        parent: QWidget | None = None,
        *,
        name: str,
        title: str,
        submit_text: str,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.bridge = bridge
        self.created: Any = None  # the operation's result once it succeeded
        self._busy = False
        self._checked = Checked()

        self.fields_area = QWidget(self)
        self.content = QVBoxLayout(self.fields_area)
        self.content.setContentsMargins(0, 0, 0, 0)
        self.form_error = error_label("form", self)
        self.refusal = named(QListWidget(self), "refusal")
        self.refusal.setVisible(False)
        self.refusal.setMaximumHeight(120)
        self.status = named(QLabel(self), "status")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        submit = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert submit is not None
        self.submit: QPushButton = submit
        self.submit.setObjectName("submit")
        self.submit.setText(submit_text)
        self.buttons.accepted.connect(self._on_submit_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        # Fields and messages scroll once the dialog is as tall as the screen; the buttons stay.
        self.body_scroll = scrolling_body(layout, self.fields_area, self.form_error, self.refusal)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self._focused_once = False

    def showEvent(self, event: QShowEvent) -> None:
        """The first time it opens, the keyboard is in the first field (not on a button)."""
        super().showEvent(event)
        if not self._focused_once:
            self._focused_once = True
            for widget in self.fields_area.findChildren(QWidget):
                if (
                    isinstance(widget, QLineEdit | QComboBox | QPlainTextEdit)
                    and widget.isVisibleTo(self)
                    and widget.isEnabled()
                ):
                    widget.setFocus(Qt.FocusReason.OtherFocusReason)
                    break

    # ---- what a form declares ---------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """The request body the form describes (API field names and units)."""
        raise NotImplementedError

    def validation_errors(self) -> dict[str, str]:
        """{field path: message} for everything wrong with the form right now."""
        raise NotImplementedError

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        """Show ``errors`` at their fields (touched ones only unless ``everything``, which
        also counts every field as touched); returns what is now on screen."""
        raise NotImplementedError

    def operation(self, body: dict[str, Any]) -> Operation:
        raise NotImplementedError

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        """The engine's refusal as {field path: message}."""
        raise NotImplementedError

    def focus_field(self, path: str) -> None:
        """Put the cursor on the field ``path`` names (after a refusal)."""

    def on_created(self, result: Any) -> None:
        """Success, before the dialog closes."""
        self.created = result

    # ---- the cycle --------------------------------------------------------------------

    def check(self, *, everything: bool = False) -> Checked:
        """Validate and show the result at the fields."""
        errors = self.validation_errors()
        return Checked(errors, self._display(errors, everything=everything))

    def _display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        shown = self.display(errors, everything=everything)
        if FORM in errors:
            shown[FORM] = errors[FORM]
        return shown

    def _form_line(self, shown: dict[str, str]) -> str:
        return summary(shown if self.SUMMARIZE else {k: v for k, v in shown.items() if k == FORM})

    def refresh(self) -> None:
        """Validate after an edit: the fields, the form-level line and OK follow."""
        self.present(self.check())

    def present(self, checked: Checked) -> None:
        self._checked = checked
        first = next(iter(checked.errors.items()), None)
        self.submit.setEnabled(not checked.errors and not self._busy)
        self.submit.setToolTip(f"{first[0]}: {first[1]}" if first else "")
        show_error(self.form_error, self._form_line(checked.shown))
        fit_to_contents(self)

    def on_edited(self) -> None:
        """A user edit: whatever the engine last refused no longer describes the form."""
        self.refusal.setVisible(False)
        self.refresh()

    # ---- submit -----------------------------------------------------------------------

    def _on_submit_clicked(self) -> None:
        if self._busy:
            return
        checked = self.check(everything=True)
        if checked.errors:
            self.present(checked)
            return
        op = self.operation(self.body())
        if not self.bridge.attached:
            show_error(self.form_error, NOT_RUNNING)
            return
        self._set_busy(True, f"{op.doing}…")
        task = self.bridge.run(op.what, op.run, self._on_done, self._on_refused)
        task.add_done_callback(lambda _t: self._on_operation_finished(op.doing))

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.status.setText(message)
        self.fields_area.setEnabled(not busy)
        self.submit.setEnabled(not busy and not self._checked.errors)

    def _on_done(self, result: Any) -> None:
        if not shiboken6.isValid(self):
            return
        self.on_created(result)
        self._set_busy(False)
        self.accept()

    def _on_refused(self, exc: Kube9Error) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.refusal.clear()
        if isinstance(exc, Unschedulable):
            for node, reasons in sorted(exc.reasons.items()):
                self.refusal.addItem(f"{node}: {'; '.join(reasons) or 'does not fit'}")
            self.refusal.setVisible(True)
            show_error(self.form_error, UNSCHEDULABLE.format(message=exc.message))
            self.submit.setEnabled(True)
            fit_to_contents(self)
            self._scroll_to_form_error()
            return
        errors = self.refusal_errors(exc)
        show_error(self.form_error, self._form_line(self._display(errors, everything=True)))
        # A problem at a field is fixed there first; one that names no field may pass.
        self.submit.setEnabled(set(errors) <= {FORM})
        fit_to_contents(self)
        first = next((p for p in errors if p != FORM), None)
        if first is not None:
            self.focus_field(first)
        else:
            self._scroll_to_form_error()

    def _scroll_to_form_error(self) -> None:
        """Bring the refusal into view (the fields may fill the scrolling body), once the
        body's layout has made room for it."""

        def scroll() -> None:
            if shiboken6.isValid(self) and self.form_error.isVisible():
                self.body_scroll.ensureWidgetVisible(self.form_error, 0, 0)

        QTimer.singleShot(0, scroll)

    def _on_operation_finished(self, doing: str) -> None:
        """Neither done nor refused (a bug or the engine stopping): let the user retry."""
        if shiboken6.isValid(self) and self._busy:
            self._set_busy(False)
            show_error(self.form_error, INTERRUPTED.format(what=doing))
