"""Objects as YAML: a read-only manifest view (copy, save), a pod's edit-and-replace, and the
cluster exported to a folder of manifests.

The manifests come from ``engine.manifests``; an edited pod is read back by the pod form's
own reader (``pod_manifest.read_manifest``) and checked by the pod editor before the engine
replaces the pod in one commit, so a refused spec leaves the pod as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.manifests import (
    Manifest,
    deployment_manifest,
    manifest_path,
    node_manifest,
    pod_manifest,
    replicaset_manifest,
    service_manifest,
    to_yaml,
)
from kube9_desktop.engine.outcomes import CreatedPod
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import error_label, show_error
from kube9_desktop.ui.dialogs.pod_editor import PodEditor
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError, read_manifest
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

# Set by the cluster, not by whoever edits the pod: not worth a "not used" line on replace.
SERVER_SET = frozenset(
    {"metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp",
     "metadata.ownerReferences", "spec.nodeName"}
)  # fmt: skip


def manifest_of(bridge: EngineBridge, item: TreeItem | None) -> Manifest | None:
    """The manifest of the object a row stands for (a container's row: its pod's)."""
    if item is None:
        return None
    if item.kind is ItemKind.NODE:
        node = bridge.node(item.id)
        return node_manifest(node) if node else None
    if item.kind in (ItemKind.POD, ItemKind.CONTAINER):
        pod = bridge.pod(item.id)
        return pod_manifest(pod) if pod else None
    if item.kind is ItemKind.DEPLOYMENT:
        d = bridge.deployment(item.id)
        return deployment_manifest(d) if d else None
    if item.kind is ItemKind.REPLICASET:
        rs = bridge.replicaset(item.id)
        return replicaset_manifest(rs) if rs else None
    if item.kind is ItemKind.SERVICE:
        svc = bridge.service(item.id)
        return service_manifest(svc) if svc else None
    return None


def all_manifests(bridge: EngineBridge) -> list[Manifest]:
    return [
        *(node_manifest(n) for n in bridge.nodes()),
        *(deployment_manifest(d) for d in bridge.deployments()),
        *(replicaset_manifest(r) for r in bridge.replicasets()),
        *(pod_manifest(p) for p in bridge.pods()),
        *(service_manifest(s) for s in bridge.services()),
    ]


def export_manifests(bridge: EngineBridge, folder: Path) -> list[Path]:
    """Write every object to ``folder/namespace/kind-name.yaml`` (nodes under ``_cluster``)."""
    written = []
    for manifest in all_manifests(bridge):
        path = folder / manifest_path(manifest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(manifest), encoding="utf-8")
        written.append(path)
    return written


class YamlView(QDialog):
    """One object's manifest, read-only; a pod's can be edited and applied (replace --force)."""

    replaced = Signal(object)  # CreatedPod

    def __init__(self, bridge: EngineBridge, item: TreeItem, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("YamlView")
        self.bridge = bridge
        self.item = item
        manifest = manifest_of(bridge, item) or {}
        meta = manifest.get("metadata", {})
        self.kind = str(manifest.get("kind", "Object"))
        self.name = str(meta.get("name", ""))
        self.setWindowTitle(f"{self.kind} {self.name} — YAML")
        self.resize(720, 640)
        self.text = QPlainTextEdit(to_yaml(manifest) if manifest else "")
        self.text.setObjectName("yaml_text")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = QLabel()
        self.note.setObjectName("yaml_view_note")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        self.error = error_label("yaml_view", self)
        self.copy = self._button("Copy", "copy_yaml", self._on_copy_clicked)
        self.save = self._button("Save…", "save_yaml", self._on_save_clicked)
        self.edit = self._button("Edit and replace…", "edit_yaml", self._on_edit_clicked)
        self.apply = self._button("Replace pod", "replace_pod", self._on_apply_clicked)
        self.close_button = self._button("Close", "close_yaml", self.close)
        is_pod = item.kind in (ItemKind.POD, ItemKind.CONTAINER)
        self.edit.setVisible(is_pod)
        self.edit.setToolTip(
            "Edit the spec and replace the pod (as kubectl replace --force): the pod is "
            "deleted and created again, in one step; a refused spec keeps the pod"
        )
        self.apply.setVisible(False)
        buttons = QHBoxLayout()
        for b in (self.copy, self.save, self.edit, self.apply):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _c=False: slot())
        return button

    def save_to(self, path: Path) -> None:
        path.write_text(self.text.toPlainText(), encoding="utf-8")

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def _on_save_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save manifest", f"{self.kind.lower()}-{self.name}.yaml", "YAML (*.yaml *.yml)"
        )
        if name:
            try:
                self.save_to(Path(name))
            except OSError as exc:
                show_error(self.error, f"Could not save {name}: {exc.strerror or exc}")

    def _on_edit_clicked(self) -> None:
        self.text.setReadOnly(False)
        self.edit.setVisible(False)
        self.apply.setVisible(True)
        self.text.setFocus()

    def pod_body(self) -> dict[str, Any] | None:
        """The edited manifest as a pod request, or None with every problem shown."""
        try:
            draft = read_manifest(self.text.toPlainText())
        except ManifestError as exc:
            show_error(self.error, "\n".join(f"{k}: {m}" for k, m in exc.problems))
            return None
        editor = PodEditor(self.bridge, self)  # the form's own checks, never shown
        editor.setVisible(False)
        pod = self.bridge.pod(self.item.id)
        if pod is not None:
            editor.replacing = (pod.namespace, pod.name)
        editor.fill(draft)
        problems = editor.validation_errors()
        editor.deleteLater()
        ignored = [k for k in draft.ignored if k not in SERVER_SET]
        lines = [f"Not used ({len(ignored)}): {', '.join(ignored)}"] if ignored else []
        self.note.setText("\n".join([*lines, *draft.notes]))
        self.note.setVisible(bool(lines or draft.notes))
        if problems:
            show_error(
                self.error,
                "\n".join(f"{draft.manifest_key(k)}: {m}" for k, m in problems.items()),
            )
            return None
        show_error(self.error, "")
        return editor.body()

    def _on_apply_clicked(self) -> None:
        body = self.pod_body()
        if body is None:
            return
        pod_id = self.item.id
        self.apply.setEnabled(False)
        self.bridge.run(
            "Replace pod",
            lambda engine: engine.replace_pod_from_json(pod_id, body),
            self._on_replaced,
            self._on_refused,
        )

    def _on_replaced(self, result: CreatedPod) -> None:
        self.apply.setEnabled(True)
        self.item = TreeItem(ItemKind.POD, result.view.id)
        self.text.setPlainText(to_yaml(pod_manifest(result.view)))
        self.text.setReadOnly(True)
        self.apply.setVisible(False)
        self.edit.setVisible(True)
        show_error(self.error, "")
        self.replaced.emit(result)

    def _on_refused(self, exc: Kube9Error) -> None:
        self.apply.setEnabled(True)
        show_error(self.error, f"Not replaced; the pod is kept as it was. {exc.message}")


class ManifestActions(QObject):
    """ "View YAML" for the selected object and "Export manifests…" for the whole cluster."""

    message_posted = Signal(str, str)

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.item: TreeItem | None = None
        self.view: YamlView | None = None
        self.view_yaml = new_action(
            self, window, "ViewYamlAction", "View as &YAML", "Ctrl+Shift+Y",
            "Show the selected object as a Kubernetes manifest", self._on_view_yaml_triggered,
        )  # fmt: skip
        self.export = new_action(
            self, window, "ExportManifestsAction", "&Export manifests…", None,
            "Write every object to a folder, one manifest per file", self._on_export_triggered,
        )  # fmt: skip
        self.set_selection(None)

    def add_to(self, menu: QMenu) -> None:
        menu.addSeparator()
        menu.addAction(self.view_yaml)

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        ok = item is not None and item.kind is not ItemKind.PENDING_GROUP
        enable(self.view_yaml, ok, "select a node, a pod, a Deployment, a ReplicaSet or a Service")

    def open_view(self, item: TreeItem) -> YamlView | None:
        if manifest_of(self.bridge, item) is None:
            return None
        self.view = YamlView(self.bridge, item, self.window)
        self.view.open()
        return self.view

    def _on_view_yaml_triggered(self) -> None:
        if self.item is not None:
            self.open_view(self.item)

    def export_to(self, folder: Path) -> list[Path]:
        try:
            written = export_manifests(self.bridge, folder)
        except OSError as exc:
            self.message_posted.emit("error", f"Export failed: {exc.strerror or exc}")
            return []
        self.message_posted.emit("info", f"Exported {len(written)} manifests to {folder}")
        return written

    def _on_export_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export manifests to a folder")
        if folder:
            self.export_to(Path(folder))
