"""PodForm: create a pod from a form or a Kubernetes Pod manifest.

The form validates with the API's own request model as the user types, marks the exact
cell that is wrong, and shows the engine's refusals (no node fits: every node's reasons)
inside the dialog, which stays open so the user can adjust and try again.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.errors import Kube9Error, Unschedulable
from kube9_desktop.engine.model import format_cpu
from kube9_desktop.engine.outcomes import CreatedPod
from kube9_desktop.engine.quantity import QuantityError, parse_cpu
from kube9_desktop.engine.specs import PodCreate
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
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError, PodDraft, read_manifest
from kube9_desktop.ui.dialogs.pod_paths import (
    FIELD_OF,
    PATH,
    TABLES,
    duplicate_errors,
    table_title,
    to_form_path,
)
from kube9_desktop.ui.dialogs.pod_tables import (
    CONFIG_COLUMNS,
    CONTAINER_COLUMNS,
    VOLUME_COLUMNS,
    RowTable,
)

EXAMPLE = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: nginx:latest
    resources:
      requests: {cpu: 500m, memory: 256Mi}
    env:
    - {name: MODE, value: production}
"""


class PodForm(EngineForm):
    """Dialog that creates one pod; every problem is shown next to what causes it."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PodForm")
        self.setWindowTitle("Add pod")
        self.resize(820, 640)
        self.bridge = bridge
        self.created: CreatedPod | None = None
        self._touched: set[str] = set()
        self._busy = False

        self.tabs = named(QTabWidget(), "tabs")
        self.tabs.addTab(self._build_form_tab(), "Form")
        self.tabs.addTab(self._build_yaml_tab(), "YAML")

        self.form_error = error_label("form", self)
        self.refusal = named(QListWidget(), "refusal")
        self.refusal.setVisible(False)
        self.refusal.setMaximumHeight(120)
        self.status = named(QLabel(), "status")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        submit = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert submit is not None
        self.submit = submit
        self.submit.setObjectName("submit")
        self.submit.setText("Create pod")
        self.buttons.accepted.connect(self._on_submit_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.form_error)
        layout.addWidget(self.refusal)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.containers.add_row()
        self._refresh()

    # ---- building ---------------------------------------------------------------------

    def _build_form_tab(self) -> QWidget:
        page = QWidget()
        self.name = named(QLineEdit(placeholderText="e.g. web-app"), "name")
        self.cpu = named(QLineEdit(), "cpu")
        self.name_error = error_label("name", page)
        self.cpu_error = error_label("cpu", page)
        self.name.textEdited.connect(lambda _t: self._on_field_edited("name"))
        self.cpu.textEdited.connect(lambda _t: self._on_field_edited("cpu"))
        form = QFormLayout()
        for caption, widget, error in (
            ("&Name", self.name, self.name_error),
            ("Pod &CPU", self.cpu, self.cpu_error),
        ):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(error)
            form.addRow(caption, box)

        self.containers = RowTable("containers", CONTAINER_COLUMNS)
        self.volumes = RowTable("volumes", VOLUME_COLUMNS)
        self.config = RowTable("config", CONFIG_COLUMNS)
        self.table_errors = {t: error_label(t, page) for t in TABLES}
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        for name, title, noun, key in (
            ("containers", "Containers", "container", "container"),
            ("volumes", "Volumes", "volume", "volume"),
            ("config", "Config (env and secrets)", "config item", "config"),
        ):
            table: RowTable = getattr(self, name)
            table.row_edited.connect(lambda _row, n=name: self._on_field_edited(n))
            add = named(QPushButton(f"Add {noun}"), f"add_{key}")
            remove = named(QPushButton(f"Remove {noun}"), f"remove_{key}")
            add.clicked.connect(lambda _c=False, t=table: self._on_add_row_clicked(t))
            remove.clicked.connect(lambda _c=False, t=table: t.remove_current_row())
            buttons = QHBoxLayout()
            buttons.addWidget(add)
            buttons.addWidget(remove)
            buttons.addStretch(1)
            box = QVBoxLayout()
            box.addWidget(table)
            box.addLayout(buttons)
            box.addWidget(self.table_errors[name])
            group = QGroupBox(title)
            group.setLayout(box)
            layout.addWidget(group, 2 if name == "containers" else 1)
        return page

    def _build_yaml_tab(self) -> QWidget:
        page = QWidget()
        self.yaml = named(QPlainTextEdit(), "yaml")
        self.yaml.setPlaceholderText(EXAMPLE)
        self.apply_yaml = named(QPushButton("Fill the form from this manifest"), "apply_yaml")
        self.apply_yaml.clicked.connect(self._on_apply_yaml_clicked)
        self.yaml_error = error_label("yaml", page)
        self.yaml_note = named(QLabel(), "yaml_note")
        self.yaml_note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Paste a Kubernetes Pod manifest (the first Pod is used):"))
        layout.addWidget(self.yaml, 1)
        layout.addWidget(self.yaml_error)
        layout.addWidget(self.yaml_note)
        layout.addWidget(self.apply_yaml)
        return page

    def table(self, name: str) -> RowTable:
        """The containers, volumes or config table."""
        table = getattr(self, name)
        assert isinstance(table, RowTable)
        return table

    # ---- the body and its errors -------------------------------------------------------

    def _rows(self) -> dict[str, list[int]]:
        return {name: self.table(name).filled_rows() for name in TABLES}

    def body(self) -> dict[str, Any]:
        """The request body the form describes (API field names; blank rows left out)."""
        body: dict[str, Any] = {"name": self.name.text().strip()}
        cpu = quantity_value(self.cpu.text())
        if cpu is not None:
            body["cpu_cores_req"] = cpu
        rows = self._rows()
        body["containers"] = [self._container(r) for r in rows["containers"]]
        if rows["volumes"]:
            body["volumes"] = [self._volume(r) for r in rows["volumes"]]
        if rows["config"]:
            body["config"] = [self.config.values(r) for r in rows["config"]]
        return body

    def _container(self, row: int) -> dict[str, Any]:
        values = self.containers.values(row)
        out: dict[str, Any] = {}
        for key in ("name", "image", "command", "args"):
            if values[key].strip():
                out[key] = values[key].strip()
        for key in ("cpu", "memory"):
            amount = quantity_value(values[key])
            if amount is not None:
                out[FIELD_OF[key]] = amount
        return out

    def _volume(self, row: int) -> dict[str, Any]:
        values = self.volumes.values(row)
        out: dict[str, Any] = {"type": values["type"]}
        for key in ("name", "size", "path"):
            if values[key].strip():
                out[key] = values[key].strip()
        return out

    def validation_errors(self) -> dict[str, str]:
        """{form path: message}; form paths use table rows ("containers[2].cpu")."""
        body = self.body()
        rows = self._rows()
        raw = body_errors(PodCreate, body)
        raw.update({k: v for k, v in duplicate_errors(body).items() if k not in raw})
        out: dict[str, str] = {}
        for path, message in raw.items():
            out.setdefault(to_form_path(path, rows), message)
        name = body["name"]
        if "name" not in out and any(p.name == name for p in self.bridge.pods()):
            out["name"] = f"a pod named '{name}' already exists; choose another name"
        return out

    def _shown(self, path: str) -> bool:
        m = PATH.match(path)
        if m is None:
            return path.split(".")[0] in self._touched or path == "(form)"
        table = self.table(m.group(1))
        if m.group(2) is None:
            return m.group(1) in self._touched and table.any_touched()
        row = int(m.group(2))
        return row < table.rowCount() and table.is_touched(row)

    def _show(self, errors: dict[str, str], *, everything: bool = False) -> None:
        shown = {p: m for p, m in errors.items() if everything or self._shown(p)}
        for field, label in (("name", self.name_error), ("cpu", self.cpu_error)):
            message = shown.get(field, "")
            show_error(label, message)
            mark_bad(getattr(self, field), bool(message), message)
        for name in TABLES:
            cells: dict[tuple[int, str], str] = {}
            lines: list[str] = []
            table = self.table(name)
            for path, message in shown.items():
                m = PATH.match(path)
                if m is None or m.group(1) != name:
                    continue
                if m.group(2) is None:
                    lines.append(f"{table_title(name)}: {message}")
                    continue
                row, key = int(m.group(2)), m.group(3) or "name"
                cells[(row, key if key in table.keys else "name")] = message
                lines.append(f"Row {row + 1}, {table.title_of(key)}: {message}")
            table.show_errors(cells)
            show_error(self.table_errors[name], "\n".join(lines))
        general = shown.get("(form)", "")
        if not general and shown:
            count = len(shown)
            general = f"{count} problem{'s' if count > 1 else ''}: see the fields marked in red."
        show_error(self.form_error, general)

    def _refresh(self) -> None:
        errors = self.validation_errors()
        self._show(errors)
        self.submit.setEnabled(not errors and not self._busy)
        first = next(iter(errors.items()), None)
        self.submit.setToolTip(f"{first[0]}: {first[1]}" if first else "")
        self._update_cpu_hint()

    def _update_cpu_hint(self) -> None:
        total = 0
        for row in self.containers.filled_rows():
            try:
                total += parse_cpu(quantity_value(self.containers.values(row)["cpu"]))
            except (QuantityError, ValueError):
                continue
        hint = f"default: the containers' sum ({format_cpu(total)})" if total else "e.g. 1 or 500m"
        self.cpu.setPlaceholderText(hint)

    # ---- slots ------------------------------------------------------------------------

    def _on_field_edited(self, field: str) -> None:
        self._touched.add(field)
        self.refusal.setVisible(False)
        self._refresh()

    def _on_add_row_clicked(self, table: RowTable) -> None:
        row = table.add_row()
        table.setCurrentCell(row, 0)
        table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._refresh()

    def _on_apply_yaml_clicked(self) -> None:
        try:
            draft = read_manifest(self.yaml.toPlainText())
        except ManifestError as exc:
            show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in exc.problems))
            self.yaml_note.setText("")
            return
        self.fill(draft)
        errors = self.validation_errors()
        problems = [(draft.manifest_key(p), m) for p, m in errors.items() if not p.startswith("(")]
        show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in problems))
        ignored = ", ".join(draft.ignored)
        self.yaml_note.setText(f"Not modelled, ignored: {ignored}" if ignored else "")
        if not problems:
            self.tabs.setCurrentIndex(0)

    def fill(self, draft: PodDraft) -> None:
        """Replace the form's contents with ``draft`` (every field counts as touched)."""
        self.name.setText(draft.name)
        self.cpu.setText(draft.cpu)
        for name in TABLES:
            table = self.table(name)
            table.clear_rows()
            for values in getattr(draft, name):
                table.add_row(values, touched=True)
        self._touched.update(("name", "cpu", *TABLES))
        self.refusal.setVisible(False)
        self._refresh()

    # ---- submit -----------------------------------------------------------------------

    def _on_submit_clicked(self) -> None:
        if self._busy:
            return
        self._touched.update(("name", "cpu", *TABLES))
        for name in TABLES:
            self.table(name).touch_all()
        errors = self.validation_errors()
        if errors:
            self._show(errors, everything=True)
            self.submit.setEnabled(False)
            return
        body = self.body()
        self._send(
            "Create pod",
            f"Creating pod {body['name']}",
            lambda engine: engine.create_pod_from_json(body),
            self._on_pod_created,
            self._on_pod_refused,
        )

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.status.setText(message)
        self.tabs.setEnabled(not busy)
        self.submit.setEnabled(not busy and not self.validation_errors())

    def _on_pod_created(self, created: CreatedPod) -> None:
        if not shiboken6.isValid(self):
            return
        self.created = created
        self.config.wipe_secrets()
        self._set_busy(False)
        self.accept()

    def _on_pod_refused(self, exc: Kube9Error) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.refusal.clear()
        if isinstance(exc, Unschedulable):
            for node, reasons in sorted(exc.reasons.items()):
                self.refusal.addItem(f"{node}: {'; '.join(reasons) or 'does not fit'}")
            self.refusal.setVisible(True)
            show_error(
                self.form_error,
                f"{exc.message}. Lower the CPU or memory requests, or add or free a node.",
            )
            self.submit.setEnabled(True)
            return
        errors = {to_form_path(p, self._rows()): m for p, m in error_map(exc).items()}
        self._show(errors, everything=True)
        if "(form)" not in errors:
            self.submit.setEnabled(False)
