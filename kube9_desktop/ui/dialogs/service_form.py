"""ServiceForm: create a Service, or edit one (PATCH of what differs).

The form skeleton (``EngineForm``) around two tabs: the Service's fields with its ports as a
table (name, port, target port — a number or a container port's name —, node port), and a
YAML tab that reads a core/v1 Service manifest. Validation is the engine's request model
(``ServiceCreate`` and its ``to_spec``, through ``body_errors``) on the whole body as the
user types; a port's problem is shown at its cell and, spelled out, under the table
("Row 1, Port: must be between 1 and 65535"). Edit mode keeps the name and namespace and
sends a ``ServicePatch`` of what differs.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE
from kube9_desktop.engine.service_ops import ServiceOutcome, describe_change
from kube9_desktop.engine.service_specs import ServiceCreate, ServicePatch
from kube9_desktop.engine.services import (
    AFFINITY_CLIENT_IP,
    AFFINITY_NONE,
    CLUSTER_IP,
    NODE_PORT,
    ServiceView,
)
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    FieldRows,
    body_errors,
    error_label,
    error_map,
    format_pairs,
    keyed_error,
    named,
    parse_pairs,
    show_error,
)
from kube9_desktop.ui.dialogs.engine_form import EngineForm, Operation
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError
from kube9_desktop.ui.dialogs.pod_tables import Column, RowTable
from kube9_desktop.ui.dialogs.service_manifest import (
    EXAMPLE,
    ServiceDraft,
    read_service_manifest,
    service_draft,
)

PORT_COLUMNS = (
    Column("name", "Name", hint="needed when there are several ports, e.g. http"),
    Column("port", "Port", hint="the Service's port, 1-65535, e.g. 80"),
    Column("target_port", "Target port", hint="the pods' port: a number, or a port's name"),
    Column("node_port", "Node port", hint="NodePort only, 30000-32767; blank: allocated"),
)
PORT_PATH = re.compile(r"^ports(?:\[(\d+)\](?:\.(\w+))?)?$")
_WHOLE = re.compile(r"^[0-9]+$")
FIELD_KEYS = ("name", "namespace", "type", "session_affinity", "selector", "labels")


def number_or_text(text: str) -> int | str | None:
    """A cell as the API reads it: "8080" -> 8080, "http" -> "http", "" -> None."""
    text = text.strip()
    if not text:
        return None
    return int(text) if _WHOLE.match(text) else text


class ServiceForm(EngineForm):
    """Dialog that creates a Service, or edits one (``editing``)."""

    def __init__(
        self,
        bridge: EngineBridge,
        parent: QWidget | None = None,
        *,
        editing: ServiceView | None = None,
    ) -> None:
        title = f"Edit Service {editing.name}" if editing else "New Service"
        submit = "Save" if editing else "Create service"
        super().__init__(bridge, parent, name="ServiceForm", title=title, submit_text=submit)
        self.editing = editing
        self.annotations: dict[str, str] = {}  # from a manifest or the Service: kept as is
        self.resize(720, 520)
        self.tabs = named(QTabWidget(self.fields_area), "tabs")
        self.tabs.addTab(self._build_fields_tab(), "Service")
        self.tabs.addTab(self._build_yaml_tab(), "YAML")
        self.content.addWidget(self.tabs)
        if editing is not None:
            self.fill(service_draft(editing))
            for key in ("name", "namespace"):
                self.rows.fields[key].setEnabled(False)
        else:
            self.ports.add_row()
            self._sync_type()
        self.refresh()

    # ---- building ---------------------------------------------------------------------

    def _build_fields_tab(self) -> QWidget:
        page = QWidget()
        self.rows = FieldRows(columns=2, parent=page)
        add = self.rows.add
        self.name = add("name", "&Name", QLineEdit(placeholderText="e.g. web"))
        self.namespace = add("namespace", "Names&pace", QComboBox())
        self.namespace.setEditable(True)
        self.namespace.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.namespace.addItems([ns.name for ns in self.bridge.namespaces()] or [DEFAULT_NAMESPACE])
        self.namespace.setCurrentText(DEFAULT_NAMESPACE)
        self.type = add("type", "&Type", QComboBox())
        self.type.addItem(CLUSTER_IP, CLUSTER_IP)
        self.type.addItem(NODE_PORT, NODE_PORT)
        self.type.setToolTip(
            "ClusterIP: reached at the cluster IP inside the cluster; NodePort: also on "
            "127.0.0.1:<node port>"
        )
        self.affinity = add("session_affinity", "Session &affinity", QComboBox())
        self.affinity.addItem(AFFINITY_NONE, AFFINITY_NONE)
        self.affinity.addItem(AFFINITY_CLIENT_IP, AFFINITY_CLIENT_IP)
        self.affinity.setToolTip(
            "None: each connection to any ready pod; ClientIP: a client's connections to one pod"
        )
        self.selector = add("selector", "S&elector", QLineEdit(placeholderText="e.g. app=web"))
        self.labels = add("labels", "&Labels", QLineEdit(placeholderText="optional: tier=front"))
        self.rows.edited.connect(self._on_rows_edited)

        self.ports = RowTable("ports", PORT_COLUMNS, visible_rows=3)
        self.ports.row_edited.connect(lambda _row: self._on_ports_edited())
        self.ports_error = error_label("ports", page)
        add_port = named(QPushButton("Add port"), "add_port")
        remove_port = named(QPushButton("Remove port"), "remove_port")
        add_port.clicked.connect(lambda _c=False: self._on_add_port_clicked())
        remove_port.clicked.connect(lambda _c=False: self.ports.remove_current_row())
        buttons = QHBoxLayout()
        buttons.addWidget(add_port)
        buttons.addWidget(remove_port)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(self.ports)
        box.addLayout(buttons)
        box.addWidget(self.ports_error)
        group = QGroupBox("Ports")
        group.setLayout(box)

        self.manifest_note = named(QLabel(page), "unused_fields")
        self.manifest_note.setWordWrap(True)
        self.manifest_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.manifest_note.setVisible(False)
        self.change = named(QLabel(page), "change")
        self.change.setWordWrap(True)
        hint = QLabel(
            "The Service sends each connection to one of the ready pods its selector picks "
            "(its endpoints). A target port names a container port or gives a number; the "
            "cluster IP is allocated.",
            page,
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)  # drawn as secondary text
        layout = QVBoxLayout(page)
        layout.addWidget(self.manifest_note)
        layout.addWidget(self.rows)
        layout.addWidget(group)
        layout.addWidget(hint)
        layout.addWidget(self.change)
        layout.addStretch(1)
        return page

    def _build_yaml_tab(self) -> QWidget:
        page = QWidget()
        self.yaml = named(QPlainTextEdit(), "manifest")
        self.yaml.setPlaceholderText(EXAMPLE)
        self.apply_yaml = named(QPushButton("Fill the form from this manifest"), "apply_manifest")
        self.apply_yaml.clicked.connect(self._on_apply_yaml_clicked)
        self.yaml_error = error_label("manifest", page)
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Paste a Kubernetes Service manifest (v1):"))
        layout.addWidget(self.yaml, 1)
        layout.addWidget(self.yaml_error)
        layout.addWidget(self.apply_yaml)
        return page

    # ---- the body -----------------------------------------------------------------------

    def _ports_body(self) -> list[dict[str, Any]]:
        out = []
        for row in self.ports.filled_rows():
            values = self.ports.values(row)
            port: dict[str, Any] = {}
            name = values["name"].strip()
            if name:
                port["name"] = name
            for key in ("port", "target_port", "node_port"):
                value = number_or_text(values[key])
                if value is not None:
                    port[key] = value
            out.append(port)
        return out

    def body(self) -> dict[str, Any]:
        """The ServiceCreate body the form describes (blank fields take the defaults)."""
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "namespace": self.namespace.currentText().strip(),
            "type": self.type.currentData(),
            "session_affinity": self.affinity.currentData(),
            "ports": self._ports_body(),
        }
        selector, _problem = parse_pairs(self.selector.text())
        body["selector"] = selector
        labels, _problem = parse_pairs(self.labels.text())
        if labels:
            body["labels"] = labels
        if self.annotations:
            body["annotations"] = dict(self.annotations)
        return body

    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Edit mode: the ServicePatch body of what differs from the Service now."""
        s = self.editing
        assert s is not None
        new = parse_body(ServiceCreate, {**body, "name": s.name}).to_spec()
        out: dict[str, Any] = {}
        if dict(new.selector) != dict(s.spec.selector):
            out["selector"] = dict(new.selector)
        if new.type != s.spec.type:
            out["type"] = new.type
        if new.session_affinity != s.spec.session_affinity:
            out["session_affinity"] = new.session_affinity
        if new.ports != s.spec.ports:
            out["ports"] = body["ports"]
        if dict(new.labels) != dict(s.spec.labels):
            out["labels"] = dict(new.labels)
        return out

    # ---- validation -----------------------------------------------------------------------

    def validation_errors(self) -> dict[str, str]:
        """{field path: message}; a port's as "ports[<row>].<key>"."""
        body = self.body()
        out: dict[str, str] = {}
        for key, field in (("labels", self.labels), ("selector", self.selector)):
            _pairs, problem = parse_pairs(field.text())
            if problem:
                out[key] = problem
        probe = {**body, "name": self.editing.name} if self.editing else body
        for path, message in body_errors(ServiceCreate, probe).items():
            path, message = keyed_error(path, message)
            if path.startswith("selector["):
                path, message = "selector", f"{path[9:-1]}: {message}"
            out.setdefault(self._row_path(path), message)
        if self.editing is None:
            name, namespace = body["name"], body["namespace"]
            if (
                "namespace" not in out
                and self.bridge.attached
                and not self.bridge.namespace(namespace)
            ):
                out["namespace"] = f"there is no namespace '{namespace}'; pick one from the list"
            free = "name" not in out and "namespace" not in out
            if free and self.bridge.service_name_taken(name, namespace):
                out["name"] = f"a Service named '{name}' already exists; choose another name"
        else:
            self._show_change(out, body)
        return out

    def _row_path(self, path: str) -> str:
        """A body's port index is the n-th filled row: "ports[1].port" -> the table's row."""
        m = PORT_PATH.match(path)
        if m is None or m.group(1) is None:
            return path
        filled = self.ports.filled_rows()
        index = int(m.group(1))
        row = filled[index] if index < len(filled) else index
        return f"ports[{row}]" + (f".{m.group(2)}" if m.group(2) else "")

    def _show_change(self, errors: dict[str, str], body: dict[str, Any]) -> None:
        s = self.editing
        assert s is not None
        if errors:
            self.change.setText("")
            return
        patch = self.patch(body)
        if not patch:
            self.change.setText("Nothing changed yet.")
            return
        new = parse_body(ServicePatch, patch).apply(s.spec, s.cluster_ip)
        self.change.setText(f"Saving changes: {describe_change(s.spec, new)}.")

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        if everything:
            self.rows.touch_all()
            self.ports.touch_all()
        shown = self.rows.show_errors(
            {k: v for k, v in errors.items() if k in FIELD_KEYS}, everything=everything
        )
        cells: dict[tuple[int, str], str] = {}
        lines: list[str] = []
        for path, message in errors.items():
            m = PORT_PATH.match(path)
            if m is None:
                continue
            row = int(m.group(1)) if m.group(1) is not None else None
            if not everything and not self._port_shown(row):
                continue
            shown[path] = message
            if row is None:
                lines.append(f"Ports: {message}")
                continue
            key = m.group(2) or "name"
            cells[(row, key if key in self.ports.keys else "name")] = message
            lines.append(f"Row {row + 1}, {self.ports.title_of(key)}: {message}")
        self.ports.show_errors(cells)
        show_error(self.ports_error, "\n".join(lines))
        count = len(shown)
        self.tabs.setTabText(0, f"Service ({count} to fix)" if count else "Service")
        return shown

    def _port_shown(self, row: int | None) -> bool:
        """A port's problem shows once its row was edited (the table's: any row was)."""
        if row is None:
            return self.ports.any_touched()
        return row < self.ports.rowCount() and self.ports.is_touched(row)

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        return {self._row_path(k): v for k, v in error_map(exc).items()}

    def focus_field(self, path: str) -> None:
        self.tabs.setCurrentIndex(0)
        m = PORT_PATH.match(path)
        if m is not None and m.group(1) is not None:
            key = m.group(2) if m.group(2) in self.ports.keys else "name"
            self.ports.setCurrentCell(int(m.group(1)), self.ports.keys.index(key))
            self.ports.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.rows.focus(path)

    # ---- the operation ----------------------------------------------------------------------

    def operation(self, body: dict[str, Any]) -> Operation:
        s = self.editing
        if s is None:

            async def create(engine: Engine) -> ServiceOutcome:
                return await engine.create_service(parse_body(ServiceCreate, body).to_spec())

            return Operation("Create service", f"Creating Service {body['name']}", create)
        patch = self.patch(body)

        async def update(engine: Engine) -> ServiceOutcome:
            return await engine.update_service(s.id, parse_body(ServicePatch, patch))

        return Operation("Edit service", f"Saving Service {s.name}", update)

    # ---- filling ----------------------------------------------------------------------------

    def fill(self, draft: ServiceDraft) -> None:
        """Replace the form's contents with ``draft`` (every field counts as touched)."""
        if self.editing is None:
            self.name.setText(draft.name)
            if draft.namespace:
                self.namespace.setCurrentText(draft.namespace)
        else:  # a Service keeps its name and namespace, whatever a manifest says
            self.name.setText(self.editing.name)
            self.namespace.setCurrentText(self.editing.namespace)
        self.selector.setText(format_pairs(draft.selector))
        self.labels.setText(format_pairs(draft.labels))
        self.type.setCurrentIndex(max(0, self.type.findData(draft.type or CLUSTER_IP)))
        affinity = draft.session_affinity or AFFINITY_NONE
        self.affinity.setCurrentIndex(max(0, self.affinity.findData(affinity)))
        self.annotations = dict(draft.annotations)
        self.ports.clear_rows()
        for port in draft.ports:
            self.ports.add_row(port, touched=True)
        if not draft.ports:
            self.ports.add_row(touched=True)
        self.rows.touch_all()
        self._sync_type()

    def _sync_type(self) -> None:
        """Node ports belong to NodePort Services: the column is shown only for them."""
        col = self.ports.keys.index("node_port")
        self.ports.setColumnHidden(col, self.type.currentData() != NODE_PORT)

    def _on_rows_edited(self, key: str) -> None:
        if key == "type":
            self._sync_type()
        if key == "name" and self.editing is None and "selector" not in self.rows.touched:
            # The usual pairing: a Deployment "web" labels its pods app=web.
            name = self.name.text().strip()
            self.selector.setText(f"app={name}" if name else "")
        self.on_edited()

    def _on_ports_edited(self) -> None:
        self.on_edited()

    def _on_add_port_clicked(self) -> None:
        row = self.ports.add_row()
        self.ports.setCurrentCell(row, 0)
        self.ports.setFocus(Qt.FocusReason.OtherFocusReason)
        self.refresh()

    def _on_apply_yaml_clicked(self) -> None:
        try:
            draft = read_service_manifest(self.yaml.toPlainText())
        except ManifestError as exc:
            show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in exc.problems))
            return
        self.fill(draft)
        errors = self.validation_errors()
        problems = [(draft.manifest_key(p), m) for p, m in errors.items() if p != FORM]
        show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in problems))
        note = (
            f"From the manifest, not used ({len(draft.ignored)}): {', '.join(draft.ignored)}"
            if draft.ignored
            else ""
        )
        self.manifest_note.setText(note)
        self.manifest_note.setVisible(bool(note))
        self.on_edited()
        if not problems:
            self.tabs.setCurrentIndex(0)
