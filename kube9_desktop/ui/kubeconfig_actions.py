"""File > Copy kubeconfig / Save kubeconfig…: point kubectl (or k9s, Lens, a script on the
official client) at this cluster's Kubernetes API. Never merged into ~/.kube/config: the file
is the user's own, and a save there is refused with the reason."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import EngineBridge

NOT_SERVED = "the Kubernetes API is not being served (the engine is starting or stopped)"


def default_path() -> Path:
    return Path.home() / ".kube" / "kube9"


class KubeconfigActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.copy = new_action(
            self, window, "CopyKubeconfigAction", "Copy &kubeconfig", None,
            "Copy a kubeconfig for this cluster (context kube9) to the clipboard",
            self._on_copy_triggered,
        )  # fmt: skip
        self.save = new_action(
            self, window, "SaveKubeconfigAction", "Save kube&config…", None,
            "Save a kubeconfig for this cluster to a file of its own (not ~/.kube/config)",
            self._on_save_triggered,
        )  # fmt: skip
        bridge.engine_attached.connect(self.refresh)
        bridge.engine_detached.connect(self.refresh)
        self.refresh()

    def add_to(self, menu: QMenu) -> None:
        menu.addActions([self.copy, self.save])

    def refresh(self) -> None:
        served = bool(self.bridge.attached and self.bridge.k8s_url)
        for action in (self.copy, self.save):
            enable(action, served, NOT_SERVED)

    def _on_copy_triggered(self) -> None:
        try:
            text = self.bridge.kubeconfig()
        except Kube9Error as exc:
            self.message_posted.emit("error", f"No kubeconfig: {exc.message}")
            return
        clipboard = QGuiApplication.clipboard()
        if clipboard is None:
            self.message_posted.emit("error", "No clipboard to copy the kubeconfig to")
            return
        clipboard.setText(text)
        self.message_posted.emit(
            "info",
            f"kubeconfig for {self.bridge.k8s_url} copied: paste it into a file, then "
            "KUBECONFIG=that-file kubectl get nodes",
        )

    def ask_path(self) -> Path | None:
        """The file to save to, from a save dialog (tests replace this)."""
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Save kubeconfig", str(default_path()), "kubeconfig (*)"
        )
        return Path(name) if name else None

    def _on_save_triggered(self) -> None:
        path = self.ask_path()
        if path is None:
            return
        try:
            self.bridge.save_kubeconfig(path)
        except Kube9Error as exc:
            self.message_posted.emit("error", f"kubeconfig not saved: {exc.message}")
            return
        except OSError as exc:
            self.message_posted.emit("error", f"kubeconfig not saved to {path}: {exc.strerror}")
            return
        self.message_posted.emit(
            "info", f"kubeconfig saved to {path}: KUBECONFIG={path} kubectl get nodes"
        )
