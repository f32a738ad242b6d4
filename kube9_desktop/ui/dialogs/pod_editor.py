"""PodEditor: a pod's fields, tables and YAML tab as one widget any dialog can embed.

It validates itself with the engine's request model as the user types, marks the exact field
or cell that is wrong, and tells its host through signals: ``edited`` after a user edit and
``validated(Checked)`` after every check, so the host only decides what OK does. ``PodForm``
is the dialog skeleton (``EngineForm``) around one editor.

A Deployment form embeds it as its pod template with ``PodEditor(bridge, template=True)``:
the name and namespace rows are hidden (a Deployment names its pods and they live in its
namespace), ``body()`` then carries no "name" or "namespace" and is exactly the template's
spec plus labels, which the Deployment form puts under ``spec.template`` and matches against
its selector; ``validation_errors()`` checks the rest by the same pod rules (with a stand-in
name), and a manifest's metadata.name/namespace are listed as not used.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
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

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE
from kube9_desktop.engine.model import format_cpu
from kube9_desktop.engine.quantity import QuantityError, parse_cpu
from kube9_desktop.engine.specs import PodCreate
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    Checked,
    FieldRows,
    body_errors,
    error_label,
    error_map,
    format_pairs,
    keyed_error,
    named,
    parse_pairs,
    quantity_value,
    show_error,
)
from kube9_desktop.ui.dialogs.placement_rows import PlacementRows
from kube9_desktop.ui.dialogs.pod_manifest import (
    ManifestError,
    PodDraft,
    describe_extras,
    read_manifest,
)
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
    row_buttons,
)

EXAMPLE = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:latest
    resources:
      requests: {cpu: 500m, memory: 256Mi}
    env:
    - {name: MODE, value: production}
"""
STAND_IN_NAME = "template"  # validates a template, which has no name of its own


def merge_placement(body: dict[str, Any], rows: dict[str, Any]) -> None:
    """Add the placement rows' terms and constraints to those a manifest gave (kept as is)."""
    for key, value in rows.items():
        if key == "topology_spread_constraints":
            body[key] = [*body.get(key, []), *value]
            continue
        old = body.get(key) or {}
        body[key] = {mode: [*(old.get(mode) or []), *value[mode]]
                     for mode in ("required", "preferred")}  # fmt: skip


class PodEditor(QWidget):
    """A pod's name, namespace, labels, CPU, containers, volumes and config, and a YAML tab."""

    edited = Signal()  # a user edit (or a manifest applied)
    validated = Signal(object)  # Checked, after every check

    def __init__(
        self, bridge: EngineBridge, parent: QWidget | None = None, *, template: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("PodEditor")
        self.bridge = bridge
        self.template = template
        self.annotations: dict[str, str] = {}  # from a manifest; no field edits them
        self.grace_s: float | None = None  # likewise (None: the engine's default, 30 s)
        self.scheduling: dict[str, Any] = {}  # likewise: affinity, spread, tolerations...
        self.replacing: tuple[str, str] | None = None  # (namespace, name) a replace may reuse
        self._touched_tables: set[str] = set()
        self.tabs = named(QTabWidget(), "tabs")
        self.tabs.addTab(self._build_form_tab(), "Form")
        self.tabs.addTab(self._build_yaml_tab(), "YAML")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.containers.add_row()
        self._recheck()

    # ---- building ---------------------------------------------------------------------

    def _build_form_tab(self) -> QWidget:
        page = QWidget()
        self.rows = FieldRows(columns=2, parent=page)
        self.name = self.rows.add("name", "&Name", QLineEdit(placeholderText="e.g. web-app"))
        self.namespace = self.rows.add("namespace", "Names&pace", self._namespace_combo())
        self.cpu = self.rows.add("cpu", "Pod &CPU", QLineEdit())
        self.labels = self.rows.add(
            "labels", "&Labels", QLineEdit(placeholderText="optional: app=web, tier=front")
        )
        self.priority_class = self.rows.add(
            "priority_class_name", "P&riority class", self._priority_combo()
        )
        self.annotations_field = self.rows.add("annotations", "Annotations", QLabel())
        self.annotations_field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.annotations_field.setTextFormat(Qt.TextFormat.PlainText)
        self.annotations_field.setContentsMargins(2, 4, 0, 0)  # level with its caption
        self.rows.set_field_visible("annotations", False)
        if self.template:
            self.rows.set_field_visible("name", False)
            self.rows.set_field_visible("namespace", False)
        self.rows.edited.connect(lambda _key: self._on_user_edited())

        self.containers = RowTable("containers", CONTAINER_COLUMNS, visible_rows=4)
        self.volumes = RowTable("volumes", VOLUME_COLUMNS)
        self.config = RowTable("config", CONFIG_COLUMNS)
        self.table_errors = {t: error_label(t, page) for t in TABLES}
        # What the last applied manifest held that the form does not use, shown where the user
        # submits (the YAML tab is left when the form is filled).
        self.manifest_note = named(QLabel(), "unused_fields")
        self.manifest_note.setWordWrap(True)
        self.manifest_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.manifest_note.setVisible(False)
        layout = QVBoxLayout(page)
        layout.addWidget(self.manifest_note)
        layout.addWidget(self.rows)
        side_by_side = QHBoxLayout()  # volumes | config: the containers get the height
        for name, title, noun, key in (
            ("containers", "Containers", "container", "container"),
            ("volumes", "Volumes", "volume", "volume"),
            ("config", "Config (env and secrets)", "config item", "config"),
        ):
            table = self.table(name)
            table.row_edited.connect(lambda _row, n=name: self._on_table_edited(n))
            buttons = row_buttons(table, noun, key, self._on_add_row_clicked)
            box = QVBoxLayout()
            box.addWidget(table)
            box.addLayout(buttons)
            box.addWidget(self.table_errors[name])
            group = QGroupBox(title)
            group.setLayout(box)
            if name == "containers":
                layout.addWidget(group)
            else:
                side_by_side.addWidget(group, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(side_by_side)
        self.placement = PlacementRows(page)
        self.placement.edited.connect(self._on_user_edited)
        layout.addWidget(self.placement)
        layout.addStretch(1)  # a taller dialog or an error line moves no table's rows
        return page

    def _namespace_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        names = [ns.name for ns in self.bridge.namespaces()] or [DEFAULT_NAMESPACE]
        combo.addItems(names)
        combo.setCurrentText(DEFAULT_NAMESPACE)
        combo.setToolTip("An existing namespace; the list shows the cluster's")
        return combo

    def _priority_combo(self) -> QComboBox:
        """Blank: the default class (if one is marked), else priority 0."""
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItem("")
        for c in self.bridge.priority_classes():
            combo.addItem(c.name)
            combo.setItemData(combo.count() - 1, f"value {c.value:,}", Qt.ItemDataRole.ToolTipRole)
        edit = combo.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("default")
        combo.setToolTip("Its PriorityClass: higher priority is placed first and may preempt")
        return combo

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

    def namespace_name(self) -> str:
        return self.namespace.currentText().strip()

    def body(self) -> dict[str, Any]:
        """The request body the editor describes (API field names; blank rows left out)."""
        body: dict[str, Any] = {}
        if not self.template:
            body["name"] = self.name.text().strip()
            body["namespace"] = self.namespace_name()
        cpu = quantity_value(self.cpu.text())
        if cpu is not None:
            body["cpu_cores_req"] = cpu
        labels, _problem = parse_pairs(self.labels.text())
        if labels:
            body["labels"] = labels
        if self.annotations:
            body["annotations"] = dict(self.annotations)
        if self.grace_s is not None:
            body["termination_grace_period_s"] = self.grace_s
        body.update(self.scheduling)
        merge_placement(body, self.placement.fields()[0])
        priority_class = self.priority_class.currentText().strip()
        if priority_class:
            body["priority_class_name"] = priority_class
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
        out.update(self.containers.extra(row))  # ports and probes, carried as they came
        return out

    def _volume(self, row: int) -> dict[str, Any]:
        values = self.volumes.values(row)
        out: dict[str, Any] = {"type": values["type"]}
        for key in ("name", "size", "path"):
            if values[key].strip():
                out[key] = values[key].strip()
        return out

    def form_errors(self, raw: dict[str, str]) -> dict[str, str]:
        """Request paths as form paths: table rows, column keys, a label's problem at labels."""
        rows = self._rows()
        out: dict[str, str] = {}
        for path, message in raw.items():
            claimed = self.placement.claim(path)
            if claimed is not None:
                out.setdefault(claimed, message)
                continue
            path, message = keyed_error(path, message)
            where = to_form_path(path, rows)
            if where == "(form)" and not path.startswith("(") and not message.startswith(path):
                message = f"{path}: {message}"  # no field shows it (a manifest's affinity...)
            out.setdefault(where, message)
        return out

    def validation_errors(self) -> dict[str, str]:
        """{form path: message}; form paths use table rows ("containers[2].cpu")."""
        body = self.body()
        probe = {**body, "name": STAND_IN_NAME} if self.template else body
        raw = body_errors(PodCreate, probe)
        raw.update({k: v for k, v in duplicate_errors(body).items() if k not in raw})
        out: dict[str, str] = dict(self.placement.fields()[1])
        _labels, problem = parse_pairs(self.labels.text())
        if problem:
            out["labels"] = problem
        for path, message in self.form_errors(raw).items():
            out.setdefault(path, message)
        wanted = body.get("priority_class_name")
        if wanted and "priority_class_name" not in out and self.bridge.attached:
            known = {c.name for c in self.bridge.priority_classes()}
            if wanted not in known:
                out["priority_class_name"] = (
                    f"there is no PriorityClass '{wanted}'; pick one from the list"
                )
        if self.template:
            return out
        name, namespace = body["name"], body["namespace"]
        if "namespace" not in out and self.bridge.attached and not self.bridge.namespace(namespace):
            out["namespace"] = f"there is no namespace '{namespace}'; pick one from the list"
        taken = "name" not in out and "namespace" not in out
        if (
            taken
            and (namespace, name) != self.replacing
            and self.bridge.pod_name_taken(name, namespace)
        ):
            where = f" in namespace '{namespace}'" if namespace != DEFAULT_NAMESPACE else ""
            out["name"] = f"a pod named '{name}' already exists{where}; choose another name"
        return out

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        """The engine's refusal of this editor's body, at the editor's fields."""
        return self.form_errors(error_map(exc))

    # ---- showing errors ---------------------------------------------------------------

    def touch_all(self) -> None:
        self.rows.touch_all()
        self.placement.touch_all()
        self._touched_tables.update(TABLES)
        for name in TABLES:
            self.table(name).touch_all()

    def _table_shown(self, path: str) -> bool:
        m = PATH.match(path)
        assert m is not None
        table = self.table(m.group(1))
        if m.group(2) is None:
            return m.group(1) in self._touched_tables and table.any_touched()
        row = int(m.group(2))
        return row < table.rowCount() and table.is_touched(row)

    def display(self, errors: dict[str, str], *, everything: bool = False) -> dict[str, str]:
        """Show ``errors`` at their fields and cells (the touched ones only, unless
        ``everything``: then every field counts as touched); returns what is on screen.
        Problems that name no field ("(form)") are the host's to show."""
        if everything:
            self.touch_all()
        shown = self.rows.show_errors(errors, everything=everything)
        for name in TABLES:
            cells: dict[tuple[int, str], str] = {}
            lines: list[str] = []
            table = self.table(name)
            for path, message in errors.items():
                m = PATH.match(path)
                if m is None or m.group(1) != name or not (everything or self._table_shown(path)):
                    continue
                shown[path] = message
                if m.group(2) is None:
                    lines.append(f"{table_title(name)}: {message}")
                    continue
                row, key = int(m.group(2)), m.group(3) or "name"
                cells[(row, key if key in table.keys else "name")] = message
                lines.append(f"Row {row + 1}, {table.title_of(key)}: {message}")
            table.show_errors(cells)
            show_error(self.table_errors[name], "\n".join(lines))
        shown.update(self.placement.display(errors, everything=everything))
        return shown

    def check(self, *, everything: bool = False) -> Checked:
        """Validate and show the result."""
        errors = self.validation_errors()
        shown = self.display(errors, everything=everything)
        if FORM in errors:
            shown[FORM] = errors[FORM]
        self._update_cpu_hint()
        return Checked(errors, shown)

    def focus(self, path: str) -> None:
        """Put the cursor on the field or cell ``path`` names."""
        m = PATH.match(path)
        self.tabs.setCurrentIndex(0)
        if m is None:
            self.rows.focus(path)
            return
        table = self.table(m.group(1))
        row = int(m.group(2) or 0)
        key = m.group(3) or "name"
        if row < table.rowCount():
            table.setCurrentCell(row, table.keys.index(key) if key in table.keys else 0)
        table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _update_cpu_hint(self) -> None:
        total = 0
        for row in self.containers.filled_rows():
            try:
                total += parse_cpu(quantity_value(self.containers.values(row)["cpu"]))
            except (QuantityError, ValueError):
                continue
        hint = f"default: the containers' sum ({format_cpu(total)})" if total else "e.g. 1 or 500m"
        self.cpu.setPlaceholderText(hint)

    # ---- filling ----------------------------------------------------------------------

    def fill(self, draft: PodDraft) -> None:
        """Replace the editor's contents with ``draft`` (every field counts as touched).

        A draft without a namespace keeps the one chosen, as kubectl keeps its context's.
        """
        if not self.template:
            self.name.setText(draft.name)
            if draft.namespace:
                self.namespace.setCurrentText(draft.namespace)
        self.cpu.setText(draft.cpu)
        self.labels.setText(format_pairs(draft.labels))
        self.annotations = dict(draft.annotations)
        self.grace_s = draft.grace_s
        self.scheduling = dict(draft.scheduling)
        self.placement.fill(self.scheduling)  # (what the rows show leaves self.scheduling)
        self.priority_class.setCurrentText(str(self.scheduling.pop("priority_class_name", "")))
        shown = format_pairs(self.annotations)
        self.annotations_field.setText(shown if len(shown) <= 120 else shown[:119] + "…")
        self.annotations_field.setToolTip("From the YAML manifest; sent with the pod as they are")
        self.rows.set_field_visible("annotations", bool(self.annotations))
        for name in TABLES:
            table = self.table(name)
            table.clear_rows()
            extras = draft.container_extras if name == "containers" else []
            for i, values in enumerate(getattr(draft, name)):
                extra = extras[i] if i < len(extras) else {}
                if name == "containers":
                    values = {**values, "probes": describe_extras(extra)}
                table.add_row(values, touched=True, extra=extra)
        self.rows.touch_all()
        self._touched_tables.update(TABLES)
        self.edited.emit()
        self._recheck()

    def wipe_secrets(self) -> None:
        """Forget every secret value typed in (once the pod is created)."""
        self.config.wipe_secrets()

    # ---- slots ------------------------------------------------------------------------

    def _recheck(self) -> None:
        self.validated.emit(self.check())

    def _on_user_edited(self) -> None:
        self.edited.emit()
        self._recheck()

    def _on_table_edited(self, name: str) -> None:
        self._touched_tables.add(name)
        self._on_user_edited()

    def _on_add_row_clicked(self, table: RowTable) -> None:
        row = table.add_row()
        table.setCurrentCell(row, 0)
        table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._recheck()

    def show_manifest_note(self, ignored: list[str], notes: list[str]) -> None:
        """List, above the form, every manifest field not used and what the user must do."""
        lines = (
            [f"From the manifest, not used ({len(ignored)}): {', '.join(ignored)}"]
            if ignored
            else []
        )
        lines += notes
        self.manifest_note.setText("\n".join(lines))
        self.manifest_note.setVisible(bool(lines))

    def _on_apply_yaml_clicked(self) -> None:
        try:
            draft = read_manifest(self.yaml.toPlainText())
        except ManifestError as exc:
            show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in exc.problems))
            self.yaml_note.setText("")
            return
        self.fill(draft)
        # A manifest never holds a secret's value: that is typed in the form (the note says so).
        secrets = {f"config[{r}].value" for r in self.config.filled_rows()
                   if self.config.values(r)["type"] == "secret"}  # fmt: skip
        errors = self.validation_errors()
        problems = [
            (draft.manifest_key(p), m)
            for p, m in errors.items()
            if not p.startswith("(") and p not in secrets
        ]
        show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in problems))
        ignored = list(draft.ignored)
        if self.template:
            ignored += [f"metadata.{k}" for k in ("name", "namespace") if getattr(draft, k)]
        note = f"Not modelled, ignored: {', '.join(ignored)}" if ignored else ""
        self.yaml_note.setText("\n".join([note, *draft.notes]).strip())
        self.show_manifest_note(ignored, draft.notes)
        if not problems:
            self.tabs.setCurrentIndex(0)
