"""NodeForm: add a node, validated as the user types with the API's own rules."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.model import MIB_PER_CORE_DEFAULT
from kube9_desktop.engine.outcomes import CreatedNode
from kube9_desktop.engine.quantity import QuantityError, parse_cpu
from kube9_desktop.engine.specs import NodeCreate
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    EngineForm,
    body_errors,
    error_label,
    error_map,
    mark_bad,
    named,
    quantity_value,
    show_error,
)

# Request field -> the form field that edits it.
FIELD_OF = {
    "name": "name",
    "node_type": "node_type",
    "cpu_cores_avail": "cpu",
    "memory_mb": "memory",
}
FIELDS = ("name", "node_type", "cpu", "memory")


class NodeForm(EngineForm):
    """Dialog that adds one node; errors appear under the field they concern."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NodeForm")
        self.setWindowTitle("Add node")
        self.bridge = bridge
        self.created: CreatedNode | None = None
        self._touched: set[str] = set()
        self._busy = False

        self.name = named(QLineEdit(placeholderText="e.g. worker-4"), "name")
        self.node_type = named(QComboBox(), "node_type")
        self.node_type.addItem("worker — runs pods", "worker")
        self.node_type.addItem("master — control plane only", "master")
        self.cpu = named(QLineEdit(placeholderText="cores: 4, 0.5 or 500m"), "cpu")
        self.memory = named(QLineEdit(), "memory")
        self.errors = {f: error_label(f, self) for f in FIELDS}
        self.form_error = error_label("form", self)
        self.status = named(QLabel(), "status")

        form = QFormLayout()
        for label, widget, key in (
            ("&Name", self.name, "name"),
            ("&Type", self.node_type, "node_type"),
            ("&CPU cores", self.cpu, "cpu"),
            ("&Memory", self.memory, "memory"),
        ):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(self.errors[key])
            form.addRow(label, box)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.submit = self._ok_button()
        self.submit.setText("Add node")
        self.buttons.accepted.connect(self._on_submit_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.name.textEdited.connect(lambda _t: self._on_field_edited("name"))
        self.cpu.textEdited.connect(lambda _t: self._on_field_edited("cpu"))
        self.memory.textEdited.connect(lambda _t: self._on_field_edited("memory"))
        self.node_type.currentIndexChanged.connect(lambda _i: self._on_field_edited("node_type"))
        self._refresh()

    def _ok_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        button.setObjectName("submit")
        return button

    # ---- state ------------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """The request body the form describes (API field names and units)."""
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "node_type": self.node_type.currentData(),
            "cpu_cores_avail": quantity_value(self.cpu.text()),
        }
        memory = quantity_value(self.memory.text())
        if memory is not None:
            body["memory_mb"] = memory
        return body

    def validation_errors(self) -> dict[str, str]:
        """{form field: message} for everything wrong with the form right now."""
        body = self.body()
        out: dict[str, str] = {}
        for path, message in body_errors(NodeCreate, body).items():
            out.setdefault(FIELD_OF.get(path.split(".")[0].split("[")[0], "form"), message)
        if body["cpu_cores_avail"] is None:
            out["cpu"] = "is required (cores: 4, 0.5 or 500m)"
        name = body["name"]
        if "name" not in out and any(n.name == name for n in self.bridge.nodes()):
            out["name"] = f"a node named '{name}' already exists; choose another name"
        return out

    def _on_field_edited(self, field: str) -> None:
        self._touched.add(field)
        show_error(self.form_error, "")
        self._refresh()

    def _refresh(self) -> None:
        errors = self.validation_errors()
        self._show(errors, only_touched=True)
        self.submit.setEnabled(not errors and not self._busy)
        self.submit.setToolTip(next(iter(errors.values()), "") if errors else "")
        self._update_memory_hint()

    def _show(self, errors: dict[str, str], *, only_touched: bool) -> None:
        for field, label in self.errors.items():
            message = errors.get(field, "")
            if only_touched and field not in self._touched:
                message = ""
            show_error(label, message)
            widget = getattr(self, field)
            if isinstance(widget, QWidget):
                mark_bad(widget, bool(message), message)
        if "form" in errors:
            show_error(self.form_error, errors["form"])

    def _update_memory_hint(self) -> None:
        try:
            cpu_m = parse_cpu(quantity_value(self.cpu.text()))
        except (QuantityError, ValueError):
            cpu_m = 0
        per_core = f"{MIB_PER_CORE_DEFAULT} MiB per core"
        if cpu_m:
            default = -(-cpu_m * MIB_PER_CORE_DEFAULT // 1000)
            hint = f"default {default} MiB ({per_core}); or 8192, 2Gi"
        else:
            hint = f"default {per_core}; or 8192 (MB), 2Gi"
        self.memory.setPlaceholderText(hint)

    # ---- submit -----------------------------------------------------------------------

    def _on_submit_clicked(self) -> None:
        if self._busy:
            return
        self._touched.update(FIELDS)
        errors = self.validation_errors()
        if errors:
            self._show(errors, only_touched=False)
            self.submit.setEnabled(False)
            return
        body = self.body()
        self._send(
            "Add node",
            f"Adding node {body['name']}",
            lambda engine: engine.create_node_from_json(body),
            self._on_node_created,
            self._on_node_refused,
        )

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.status.setText(message)
        for field in FIELDS:
            getattr(self, field).setEnabled(not busy)
        self.submit.setEnabled(not busy and not self.validation_errors())

    def _on_node_created(self, created: CreatedNode) -> None:
        if not shiboken6.isValid(self):
            return
        self.created = created
        self._set_busy(False)
        self.accept()

    def _on_node_refused(self, exc: Kube9Error) -> None:
        if not shiboken6.isValid(self):
            return
        errors: dict[str, str] = {}
        for path, message in error_map(exc).items():
            errors.setdefault(FIELD_OF.get(path.split("[")[0], "form"), message)
        self._set_busy(False)
        self._touched.update(FIELDS)
        self._show(errors, only_touched=False)
        self.submit.setEnabled(False)
        focus = next((f for f in FIELDS if f in errors), None)
        if focus is not None:
            getattr(self, focus).setFocus(Qt.FocusReason.OtherFocusReason)
