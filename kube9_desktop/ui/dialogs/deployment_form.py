"""DeploymentForm: create a Deployment, or edit one (a changed template starts a rollout).

The form skeleton (``EngineForm``) around three tabs: the Deployment's own fields, its pod
template (a ``PodEditor(template=True)``) and a YAML tab that reads an apps/v1 Deployment
manifest. Validation is the engine's request model (``DeploymentCreate`` through
``parse_body``) on the whole body as the user types; each problem is shown at its field, and
a tab holding one says so in its title. Edit mode starts from the Deployment as it is and
sends a ``DeploymentPatch`` of what differs, saying beforehand what saving will do.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, UserError
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_ops import WorkloadOutcome, describe_template_change
from kube9_desktop.engine.workload_specs import (
    DeploymentCreate,
    DeploymentPatch,
    StrategyIn,
    TemplateIn,
)
from kube9_desktop.engine.workloads import RECREATE, ROLLING_UPDATE, DeploymentView
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import (
    FORM,
    FieldRows,
    body_errors,
    error_label,
    error_map,
    format_pairs,
    named,
    parse_pairs,
    show_error,
)
from kube9_desktop.ui.dialogs.deployment_fields import EXAMPLE, TEMPLATE, field_of, whole
from kube9_desktop.ui.dialogs.deployment_manifest import (
    DeploymentDraft,
    deployment_draft,
    read_deployment_manifest,
)
from kube9_desktop.ui.dialogs.engine_form import EngineForm, Operation
from kube9_desktop.ui.dialogs.pod_editor import PodEditor
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError


class DeploymentForm(EngineForm):
    """Dialog that creates a Deployment, or edits one (``editing``)."""

    SUMMARIZE = True  # the fields sit in tabs

    def __init__(
        self,
        bridge: EngineBridge,
        parent: QWidget | None = None,
        *,
        editing: DeploymentView | None = None,
    ) -> None:
        title = f"Edit Deployment {editing.name}" if editing else "New Deployment"
        submit = "Save" if editing else "Create deployment"
        super().__init__(bridge, parent, name="DeploymentForm", title=title, submit_text=submit)
        self.editing = editing
        self.annotations: dict[str, str] = {}  # from a manifest or the Deployment: kept as is
        self.paused = False
        self.resize(880, 600)
        self.tabs = named(QTabWidget(self.fields_area), "tabs")
        self.tabs.addTab(self._build_fields_tab(), "Deployment")
        self.editor = PodEditor(bridge, template=True)
        self.editor.tabs.tabBar().hide()  # its own YAML tab reads Pods; ours reads Deployments
        self.tabs.addTab(self.editor, "Pod template")
        self.tabs.addTab(self._build_yaml_tab(), "YAML")
        self.content.addWidget(self.tabs)
        self.editor.edited.connect(lambda: self.refusal.setVisible(False))
        self.editor.validated.connect(lambda _checked: self.refresh())
        if editing is not None:
            self.fill(deployment_draft(editing))
            for key in ("name", "namespace", "selector"):
                self.rows.fields[key].setEnabled(False)
            self.rows.fields["selector"].setToolTip("A Deployment's selector cannot change")
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
        self.replicas = add("replicas", "&Replicas", QLineEdit(placeholderText="1"))
        self.labels = add("labels", "&Labels", QLineEdit(placeholderText="optional: tier=front"))
        self.strategy = add("strategy", "&Strategy", QComboBox())
        self.strategy.addItem("RollingUpdate — replace pods a few at a time", ROLLING_UPDATE)
        self.strategy.addItem("Recreate — stop every old pod first", RECREATE)
        self.selector = add(
            "selector", "S&elector", QLineEdit(placeholderText="default: the template's labels")
        )
        self.max_surge = add("max_surge", "Max s&urge", QLineEdit(placeholderText="25%"))
        self.max_unavailable = add(
            "max_unavailable", "Max una&vailable", QLineEdit(placeholderText="25%")
        )
        self.min_ready = add("min_ready_seconds", "Min rea&dy (s)", QLineEdit(placeholderText="0"))
        self.deadline = add(
            "progress_deadline_seconds", "Progress deadline (s)", QLineEdit(placeholderText="600")
        )
        self.history_limit = add(
            "revision_history_limit", "Revisions kept", QLineEdit(placeholderText="10")
        )
        self.rows.edited.connect(self._on_rows_edited)
        self.change = named(QLabel(page), "change")
        self.change.setWordWrap(True)
        hint = QLabel(
            "Pods are named after the Deployment and carry the template's labels, which the "
            "selector must match. Max surge and max unavailable take a number of pods or a "
            "percentage of the replicas.",
            page,
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)  # drawn as secondary text
        layout = QVBoxLayout(page)
        layout.addWidget(self.rows)
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
        self.yaml_note = named(QLabel(), "manifest_note")
        self.yaml_note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Paste a Kubernetes Deployment manifest (apps/v1):"))
        layout.addWidget(self.yaml, 1)
        layout.addWidget(self.yaml_error)
        layout.addWidget(self.yaml_note)
        layout.addWidget(self.apply_yaml)
        return page

    # ---- the body -----------------------------------------------------------------------

    def _strategy_body(self) -> dict[str, Any]:
        kind = self.strategy.currentData()
        if kind == RECREATE:
            out: dict[str, Any] = {"type": RECREATE}
            for key, field in (
                ("max_surge", self.max_surge),
                ("max_unavailable", self.max_unavailable),
            ):
                if field.text().strip():  # the request model says these go with RollingUpdate
                    out[key] = whole(field.text())
            return out
        out = {"type": ROLLING_UPDATE}
        for key, field in (
            ("max_surge", self.max_surge),
            ("max_unavailable", self.max_unavailable),
        ):
            value = whole(field.text())
            if value is not None:
                out[key] = value
        return out

    def body(self) -> dict[str, Any]:
        """The DeploymentCreate body the form describes (blank fields take the defaults)."""
        body: dict[str, Any] = {
            "name": self.name.text().strip(),
            "namespace": self.namespace.currentText().strip(),
            "template": self.editor.body(),
            "strategy": self._strategy_body(),
        }
        for key, field in (
            ("replicas", self.replicas),
            ("min_ready_seconds", self.min_ready),
            ("progress_deadline_seconds", self.deadline),
            ("revision_history_limit", self.history_limit),
        ):
            value = whole(field.text())
            if value is not None:
                body[key] = value
        labels, _problem = parse_pairs(self.labels.text())
        if labels:
            body["labels"] = labels
        selector, _problem = parse_pairs(self.selector.text())
        if selector:
            body["selector"] = selector
        if self.annotations:
            body["annotations"] = dict(self.annotations)
        if self.paused and self.editing is None:
            body["paused"] = True
        return body

    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Edit mode: the DeploymentPatch body of what differs from the Deployment now."""
        d = self.editing
        assert d is not None
        spec = d.spec
        out: dict[str, Any] = {}
        parsed = parse_body(DeploymentCreate, {**body, "name": d.name}).to_spec()
        for key in ("replicas", "min_ready_seconds", "progress_deadline_seconds",
                    "revision_history_limit"):  # fmt: skip
            if getattr(parsed, key) != getattr(spec, key):
                out[key] = getattr(parsed, key)
        if parsed.template != spec.template:
            out["template"] = body["template"]
        if parsed.strategy != spec.strategy:
            out["strategy"] = body["strategy"]
        if dict(parsed.labels) != dict(spec.labels):
            out["labels"] = dict(parsed.labels)
        return out

    def describe_patch(self, patch: dict[str, Any]) -> str:
        """What saving will do, in one line."""
        d = self.editing
        assert d is not None
        parts = []
        if "template" in patch:
            new = parse_body(TemplateIn, patch["template"]).to_template()
            parts.append(
                f"starts a rollout ({describe_template_change(d.spec.template, new)})"
                + (" — held while the Deployment is paused" if d.spec.paused else "")
            )
        if "replicas" in patch:
            parts.append(f"scales {d.spec.replicas} → {patch['replicas']}")
        if "strategy" in patch:
            parts.append(f"sets the strategy to {parse_body(StrategyIn, patch['strategy']).type}")
        rest = sorted(set(patch) - {"template", "replicas", "strategy"})
        if rest:
            parts.append("changes " + ", ".join(k.replace("_", " ") for k in rest))
        return ("Saving " + "; ".join(parts) + ".") if parts else "Nothing changed yet."

    # ---- validation -----------------------------------------------------------------------

    def validation_errors(self) -> dict[str, str]:
        """{field: message}; the pod template's problems as "template:<editor path>"."""
        body = self.body()
        out: dict[str, str] = {}
        for key, field in (("labels", self.labels), ("selector", self.selector)):
            _pairs, problem = parse_pairs(field.text())
            if problem:
                out[key] = problem
        for path, message in self.editor.validation_errors().items():
            out.setdefault(path if path == FORM else TEMPLATE + path, message)
        for path, message in self._strategy_errors(body["strategy"]).items():
            out.setdefault(path, message)  # shown even while the template is incomplete
        probe = {**body, "name": self.editing.name} if self.editing else body
        for path, message in self._form_errors(body_errors(DeploymentCreate, probe)).items():
            out.setdefault(path, message)
        if self.editing is None:
            name, namespace = body["name"], body["namespace"]
            if (
                "namespace" not in out
                and self.bridge.attached
                and not self.bridge.namespace(namespace)
            ):
                out["namespace"] = f"there is no namespace '{namespace}'; pick one from the list"
            free = "name" not in out and "namespace" not in out
            if free and self.bridge.deployment_name_taken(name, namespace):
                out["name"] = f"a Deployment named '{name}' already exists; choose another name"
        else:
            self._show_change(out, body)
        return out

    def _strategy_errors(self, strategy: dict[str, Any]) -> dict[str, str]:
        try:
            parse_body(StrategyIn, strategy).to_strategy()
        except UserError as exc:
            raw = error_map(exc)
            return self._form_errors(
                {k if k.startswith("strategy") else f"strategy.{k}": v for k, v in raw.items()}
            )
        return {}

    def _form_errors(self, raw: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        template: dict[str, str] = {}
        for path, message in raw.items():
            where, message = field_of(path, message)
            if where == "selector" and self.editing is not None:
                where = TEMPLATE + "labels"  # the selector is fixed: the labels must follow it
            if where.startswith(TEMPLATE):
                template[where.removeprefix(TEMPLATE)] = message
            else:
                out.setdefault(where, message)
        for path, message in self.editor.form_errors(template).items():
            out.setdefault(path if path == FORM else TEMPLATE + path, message)
        return out

    def _show_change(self, errors: dict[str, str], body: dict[str, Any]) -> None:
        if errors:
            self.change.setText("")
            return
        try:
            self.change.setText(self.describe_patch(self.patch(body)))
        except UserError as exc:
            self.change.setText(exc.message)

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        if everything:
            self.rows.touch_all()
        own = {k: v for k, v in errors.items() if not k.startswith(TEMPLATE)}
        template = {
            k.removeprefix(TEMPLATE): v for k, v in errors.items() if k.startswith(TEMPLATE)
        }
        shown = self.rows.show_errors(own, everything=everything)
        shown_template = self.editor.display(template, everything=everything)
        for index, title, count in (
            (0, "Deployment", len(shown)),
            (1, "Pod template", len(shown_template)),
        ):
            self.tabs.setTabText(index, f"{title} ({count} to fix)" if count else title)
        shown.update({TEMPLATE + k: v for k, v in shown_template.items()})
        return shown

    def refusal_errors(self, exc: Kube9Error) -> dict[str, str]:
        return self._form_errors(error_map(exc))

    def focus_field(self, path: str) -> None:
        if path.startswith(TEMPLATE):
            self.tabs.setCurrentIndex(1)
            self.editor.focus(path.removeprefix(TEMPLATE))
        else:
            self.tabs.setCurrentIndex(0)
            self.rows.focus(path)

    # ---- the operation ----------------------------------------------------------------------

    def operation(self, body: dict[str, Any]) -> Operation:
        d = self.editing
        if d is None:

            async def create(engine: Engine) -> WorkloadOutcome:
                return await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())

            return Operation("Create deployment", f"Creating Deployment {body['name']}", create)
        patch = self.patch(body)

        async def update(engine: Engine) -> WorkloadOutcome:
            return await engine.update_deployment(d.id, parse_body(DeploymentPatch, patch))

        return Operation("Edit deployment", f"Saving Deployment {d.name}", update)

    def on_created(self, result: WorkloadOutcome) -> None:
        super().on_created(result)
        self.editor.wipe_secrets()

    # ---- filling ----------------------------------------------------------------------------

    def fill(self, draft: DeploymentDraft) -> None:
        """Replace the form's contents with ``draft`` (every field counts as touched)."""
        if self.editing is None:
            self.name.setText(draft.name)
            if draft.namespace:
                self.namespace.setCurrentText(draft.namespace)
            self.selector.setText(format_pairs(draft.selector))
        else:
            self.name.setText(self.editing.name)
            self.namespace.setCurrentText(self.editing.namespace)
            self.selector.setText(format_pairs(self.editing.spec.selector.match_labels))
        self.labels.setText(format_pairs(draft.labels))
        self.replicas.setText(draft.replicas)
        index = self.strategy.findData(draft.strategy or ROLLING_UPDATE)
        self.strategy.setCurrentIndex(max(0, index))
        self.max_surge.setText(draft.max_surge)
        self.max_unavailable.setText(draft.max_unavailable)
        self.min_ready.setText(draft.min_ready_seconds)
        self.deadline.setText(draft.progress_deadline_seconds)
        self.history_limit.setText(draft.revision_history_limit)
        self.annotations = dict(draft.annotations)
        self.paused = draft.paused
        self.rows.touch_all()
        self.editor.fill(draft.template)  # its validated signal refreshes the form
        self._sync_strategy()

    def _sync_strategy(self) -> None:
        rolling = self.strategy.currentData() == ROLLING_UPDATE
        for field in (self.max_surge, self.max_unavailable):
            field.setEnabled(rolling)

    def _on_rows_edited(self, key: str) -> None:
        if key == "strategy":
            self._sync_strategy()
        if key == "name" and self.editing is None and "labels" not in self.editor.rows.touched:
            # As kubectl create deployment does: the pods carry app=<name> unless told otherwise.
            name = self.name.text().strip()
            self.editor.labels.setText(f"app={name}" if name else "")
        self.on_edited()

    def _on_apply_yaml_clicked(self) -> None:
        try:
            draft = read_deployment_manifest(self.yaml.toPlainText())
        except ManifestError as exc:
            show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in exc.problems))
            self.yaml_note.setText("")
            return
        self.fill(draft)
        errors = self.validation_errors()
        problems = [
            (draft.manifest_key(p.replace(TEMPLATE, "template.", 1)), m)
            for p, m in errors.items()
            if p != FORM
        ]
        show_error(self.yaml_error, "\n".join(f"{k}: {m}" for k, m in problems))
        note = f"Not modelled, ignored: {', '.join(draft.ignored)}" if draft.ignored else ""
        self.yaml_note.setText(note)
        if not problems:
            self.tabs.setCurrentIndex(0)
