"""File > Export for Kubernetes…: the cluster in the window written for a real Kubernetes
(manifests, a kind config, a README with the two commands and what was left out), by the
engine's one exporter (``engine/k8s/export.py``) while the engine runs and holds the store.

A folder that holds anything already is written over only after a confirmation that says
which files change; what could not be carried over is named in the message, and in full in
the folder's README.txt.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from kube9_desktop.engine.errors import Conflict, Kube9Error
from kube9_desktop.engine.k8s.export import (
    KIND_CONFIG,
    MANIFESTS,
    README,
    Export,
    Snapshot,
    check_folder,
    export_cluster,
    write_export,
)
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import EngineBridge

NO_ENGINE = "no cluster is open"


def _build_and_write(snapshot: Snapshot, folder: Path, force: bool) -> Export:
    export = export_cluster(snapshot)
    write_export(export, folder, force=force)
    return export


class KubernetesExportActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person
    exported = Signal(object)  # the Export, once written

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.confirm: QMessageBox | None = None
        self.export = new_action(
            self, window, "ExportKubernetesAction", "Export for &Kubernetes…", None,
            "Write the cluster for a real Kubernetes: manifests for kubectl apply and a kind "
            "cluster with a node per node", self._on_export_triggered,
        )  # fmt: skip
        bridge.engine_attached.connect(self.refresh)
        bridge.engine_detached.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        enable(self.export, self.bridge.attached, NO_ENGINE)

    def ask_folder(self) -> Path | None:
        """The folder to write, from a folder dialog (tests replace this)."""
        folder = QFileDialog.getExistingDirectory(self.window, "Export for Kubernetes to a folder")
        return Path(folder) if folder else None

    def export_to(self, folder: Path, *, force: bool = False) -> None:
        """Write the export (``exported`` says when), or ask first when ``folder`` is not
        empty. The views are read here; building and writing the files runs on a worker
        thread (5,000 pods take about half a second)."""
        try:
            if not force:
                check_folder(folder)
        except Conflict:
            self._ask_to_write_over(folder)
            return
        except Kube9Error as exc:
            self._on_export_failed(exc)
            return
        snapshot = Snapshot.of(self.bridge)

        async def build_and_write(_engine: object) -> Export:
            return await asyncio.to_thread(_build_and_write, snapshot, folder, force)

        self.bridge.run(
            "Export for Kubernetes", build_and_write,
            lambda export: self._on_exported(export, folder), self._on_export_failed,
        )  # fmt: skip

    def _on_export_failed(self, exc: Kube9Error) -> None:
        self.message_posted.emit("error", f"Export failed: {exc.message}")

    def _on_exported(self, export: Export, folder: Path) -> None:
        left = len(export.left_out)
        note = (
            f"; {left} thing(s) could not be carried over, listed in {README}"
            f" (first: {export.left_out[0].what})"
            if left
            else ""
        )
        self.message_posted.emit(
            "info",
            f"Exported {len(export.manifests)} manifest(s) and a kind config to {folder}: "
            f"kind create cluster --config {KIND_CONFIG}, then kubectl apply -f {MANIFESTS}/"
            + note,
        )
        self.exported.emit(export)

    def _ask_to_write_over(self, folder: Path) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question, "Export for Kubernetes",
            f"{folder} is not empty. Write the export there?\n\n{README} and {KIND_CONFIG} "
            f"are replaced and an earlier export's files in {MANIFESTS}/ are removed; other "
            "files stay.",
            QMessageBox.StandardButton.Cancel, self.window,
        )  # fmt: skip
        box.setObjectName("ExportOverwriteBox")
        write = box.addButton("Write over", QMessageBox.ButtonRole.AcceptRole)
        write.setObjectName("ExportOverwriteButton")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _result: self._on_confirm_finished(folder, box, write))
        self.confirm = box
        box.open()

    def _on_confirm_finished(self, folder: Path, box: QMessageBox, write: object) -> None:
        self.confirm = None
        if box.clickedButton() is write:
            self.export_to(folder, force=True)

    def _on_export_triggered(self) -> None:
        folder = self.ask_folder()
        if folder is not None:
            self.export_to(folder)
