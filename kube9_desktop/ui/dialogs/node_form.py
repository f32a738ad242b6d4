"""NodeForm: add a node, validated as the user types with the API's own rules."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.model import MIB_PER_CORE_DEFAULT
from kube9_desktop.engine.quantity import QuantityError, parse_cpu
from kube9_desktop.engine.specs import NodeCreate
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    FieldRows,
    body_errors,
    error_map,
    keyed_error,
    parse_pairs,
    quantity_value,
)
from kube9_desktop.ui.dialogs.engine_form import EngineForm, Operation

# Request field -> the form field that edits it.
FIELD_OF = {
    "name": "name",
    "node_type": "node_type",
    "cpu_cores_avail": "cpu",
    "memory_mb": "memory",
    "labels": "labels",
    "engine": "engine",
}


def form_errors(raw: dict[str, str]) -> dict[str, str]:
    """Request paths ("cpu_cores_avail", "labels['x']") as the form's fields."""
    out: dict[str, str] = {}
    for path, message in raw.items():
        path, message = keyed_error(path, message)
        out.setdefault(FIELD_OF.get(path.split(".")[0].split("[")[0], FORM), message)
    return out


class NodeForm(EngineForm):
    """Dialog that adds one node; errors appear under the field they concern."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(bridge, parent, name="NodeForm", title="Add node", submit_text="Add node")
        self.rows = FieldRows(parent=self)
        self.name = self.rows.add("name", "&Name", QLineEdit(placeholderText="e.g. worker-4"))
        node_type = QComboBox()
        node_type.addItem("worker — runs pods", "worker")
        node_type.addItem("master — control plane only", "master")
        self.node_type = self.rows.add("node_type", "&Type", node_type)
        self.cpu = self.rows.add(
            "cpu", "&CPU cores", QLineEdit(placeholderText="cores: 4, 0.5 or 500m")
        )
        self.memory = self.rows.add("memory", "&Memory", QLineEdit())
        self.labels = self.rows.add(
            "labels", "&Labels", QLineEdit(placeholderText="optional: zone=a, disk=ssd")
        )
        engine = QComboBox()
        engine.addItem("any — the one with the fewest nodes", None)
        for info in bridge.engines():
            shown = f"{info.name} — {info.state}, {info.nodes} node(s)"
            engine.addItem(shown, info.name)
        self.engine = self.rows.add("engine", "&Engine", engine)
        self.engine.setToolTip(
            "The Docker engine the node runs on (--docker-engine adds engines); 'any' spreads "
            "nodes over the engines that answer"
        )
        self.content.addWidget(self.rows)
        self.content.addStretch(1)
        self.rows.edited.connect(lambda _key: self.on_edited())
        self.cpu.textChanged.connect(lambda _t: self._update_memory_hint())
        self._update_memory_hint()
        self.refresh()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "node_type": self.node_type.currentData(),
            "cpu_cores_avail": quantity_value(self.cpu.text()),
        }
        memory = quantity_value(self.memory.text())
        if memory is not None:
            body["memory_mb"] = memory
        labels, _problem = parse_pairs(self.labels.text())
        if labels:
            body["labels"] = labels
        engine = self.engine.currentData()
        if engine is not None:
            body["engine"] = engine
        return body

    def validation_errors(self) -> dict[str, str]:
        body = self.body()
        out: dict[str, str] = {}
        _labels, problem = parse_pairs(self.labels.text())
        if problem:
            out["labels"] = problem
        for field, message in form_errors(body_errors(NodeCreate, body)).items():
            out.setdefault(field, message)
        if body["cpu_cores_avail"] is None:
            out["cpu"] = "is required (cores: 4, 0.5 or 500m)"
        name = body["name"]
        if "name" not in out and self.bridge.node_name_taken(name):
            out["name"] = f"a node named '{name}' already exists; choose another name"
        return out

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        if everything:
            self.rows.touch_all()
        return self.rows.show_errors(errors, everything=everything)

    def operation(self, body: dict[str, Any]) -> Operation:
        return Operation(
            "Add node",
            f"Adding node {body['name']}",
            lambda engine: engine.create_node_from_json(body),
        )

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        return form_errors(error_map(exc))

    def focus_field(self, path: str) -> None:
        self.rows.focus(path)

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
