"""A shell on a node or in a pod: "Open a Shell" starts the user's terminal emulator on it,
"Copy Shell Command" puts the command on the clipboard (the commands: ``shell_command.py``).
Virtual nodes run no processes, so both are disabled there, saying so."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.node_shell import ShellPlace
from kube9_desktop.ui.actions import enable, new_action
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.shell_command import (
    TRIED,
    child_environment,
    launch,
    shell_argv,
    shell_command,
    terminal_argv,
)


class ShellActions(QObject):
    """ "Open a Shell" and "Copy Shell Command" for the selected node or pod."""

    message_posted = Signal(str, str)  # level, text (the banner)
    status_posted = Signal(str)  # a short note for the status bar

    def __init__(self, bridge: EngineBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.item: TreeItem | None = None
        self.notice: QMessageBox | None = None
        self.open_shell = new_action(
            self, window, "OpenShellAction", "Open a &Shell", None,
            "Open a terminal with a shell on the selected node or in the selected pod",
            self._on_open_shell_triggered,
        )  # fmt: skip
        self.copy_command = new_action(
            self, window, "CopyShellCommandAction", "Copy Shell &Command", None,
            "Copy the command that opens a shell there", self._on_copy_command_triggered,
        )  # fmt: skip
        bridge.engine_attached.connect(lambda: self.set_selection(self.item))
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        self.set_selection(None)

    def add_to(self, menu: QMenu) -> None:
        menu.addActions([self.open_shell, self.copy_command])

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        if self.item is not None and self.item.id in changes.ids(Kind.POD):
            self.set_selection(self.item)  # a pod bound to a node has somewhere to go

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        why_not = self.refusal()
        for action in (self.open_shell, self.copy_command):
            enable(action, why_not is None, why_not or "")

    def refusal(self) -> str | None:
        item = self.item
        if item is None or item.kind not in (ItemKind.NODE, ItemKind.POD, ItemKind.CONTAINER):
            return "select a node or a pod first"
        return self.bridge.shell_refusal(None if item.kind is ItemKind.NODE else item.id)

    def place(self) -> ShellPlace | None:
        """Where the selection's shell goes; None (with the reason in the banner) if nowhere."""
        item = self.item
        if item is None or self.refusal() is not None:
            return None
        try:
            if item.kind is ItemKind.NODE:
                return self.bridge.node_shell(item.id)
            return self.bridge.pod_shell(item.id)
        except Kube9Error as exc:
            self.message_posted.emit("error", exc.message)
            return None

    def copy(self, place: ShellPlace) -> str:
        command = shell_command(place)
        QGuiApplication.clipboard().setText(command)
        return command

    def _left_out(self, place: ShellPlace) -> str:
        if not place.secrets_left_out:
            return ""
        return (
            f" Secret values ({', '.join(place.secrets_left_out)}) are left out of it: "
            "a command line is visible to anyone on this machine."
        )

    def _on_copy_command_triggered(self) -> None:
        place = self.place()
        if place is None:
            return
        self.copy(place)
        self.status_posted.emit(
            f"Copied the shell command for {place.what} to the clipboard.{self._left_out(place)}"
        )

    def open_terminal(self, place: ShellPlace, environ: Mapping[str, str]) -> bool:
        """Start a terminal on ``place``'s shell, detached; say so, or that none was found."""
        argv = terminal_argv(shell_argv(place), environ)
        if argv is None:
            self._no_terminal(place)
            return False
        try:
            launch(argv, child_environment(environ))
        except OSError as exc:
            self.message_posted.emit(
                "error", f"Could not start {Path(argv[0]).name}: {exc.strerror or exc}"
            )
            return False
        self.status_posted.emit(
            f"Opened a shell on {place.what} in {Path(argv[0]).name}.{self._left_out(place)}"
        )
        return True

    def _no_terminal(self, place: ShellPlace) -> None:
        command = self.copy(place)
        if self.notice is not None:
            self.notice.close()
        box = QMessageBox(
            QMessageBox.Icon.Information, "No terminal emulator found",
            f"No terminal emulator was found (tried {TRIED}). The shell command for "
            f"{place.what} is on the clipboard: paste it into a terminal.",
            parent=self.window,
        )  # fmt: skip
        box.setObjectName("NoTerminalDialog")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the command
        box.setInformativeText("\n\n".join(filter(None, [command, self._left_out(place).strip()])))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.finished.connect(lambda _r: setattr(self, "notice", None))
        self.notice = box
        box.open()
        self.status_posted.emit(f"Copied the shell command for {place.what} to the clipboard.")

    def _on_open_shell_triggered(self) -> None:
        place = self.place()
        if place is not None:
            self.open_terminal(place, os.environ)
