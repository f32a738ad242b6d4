"""A shell on a node or in a pod: "Open a Shell" starts the user's terminal emulator on it,
"Copy Shell Command" puts the command on the clipboard.

Docker nodes and their pods: ``docker exec -it`` into the node's container (in the pod's
directory, with its environment, for a pod). Process nodes: a shell in the node's or the pod's
directory on this machine (``env -i -C``: the pod's environment and nothing of the app's).
Virtual nodes run no processes. Building the command and finding a terminal are plain
functions (no Qt) so tests can hold them to tables.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
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

SHELL = "sh"  # every node image and every machine has it
# Terminal emulators in the order tried after $TERMINAL, each with how it takes a command.
TERMINALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),  # Debian's alternative: -e then the argv
    ("gnome-terminal", ("--",)),
    ("konsole", ("-e",)),
    ("xfce4-terminal", ("-x",)),
    ("alacritty", ("-e",)),
    ("kitty", ()),
    ("xterm", ("-e",)),
)
RUN_FORMS = dict(TERMINALS)
TRIED = ", ".join(["$TERMINAL", *(name for name, _ in TERMINALS)])
Which = Callable[[str, str | None], str | None]


def which_on(program: str, path: str | None) -> str | None:
    """``shutil.which`` on a given ``PATH`` (None: the process's own)."""
    return shutil.which(program, path=path)


def shell_argv(place: ShellPlace) -> list[str]:
    """The argv that opens an interactive shell at ``place``.

    >>> shell_argv(ShellPlace("node w1", "/var/lib/kube9", "kube9-node-w1"))
    ['docker', 'exec', '-it', '-w', '/var/lib/kube9', 'kube9-node-w1', 'sh']
    """
    env = [] if place.env is None else ["env", "-i", *(f"{k}={v}" for k, v in place.env)]
    if place.container is not None:
        return ["docker", "exec", "-it", "-w", place.directory, place.container, *env, SHELL]
    if not env:
        return ["env", "-C", place.directory, SHELL]
    return [env[0], env[1], "-C", place.directory, *env[2:], SHELL]


def shell_command(place: ShellPlace) -> str:
    """The argv as one line to paste into a terminal."""
    return shlex.join(shell_argv(place))


def terminal_argv(
    command: list[str], environ: Mapping[str, str], which: Which = which_on
) -> list[str] | None:
    """The argv that runs ``command`` in the first terminal emulator found on ``PATH``:
    ``$TERMINAL`` (which may carry its own options) first, then ``TERMINALS``; None if none."""
    path = environ.get("PATH")
    candidates = [environ["TERMINAL"]] if environ.get("TERMINAL", "").strip() else []
    candidates += [name for name, _ in TERMINALS]
    for candidate in candidates:
        try:
            program, *options = shlex.split(candidate)
        except ValueError:
            continue  # an unbalanced quote in $TERMINAL: try the next one
        found = which(program, path)
        if found is not None:
            form = RUN_FORMS.get(Path(program).name, ("-e",))
            return [found, *options, *form, *command]
    return None


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a terminal starts with: the user's (a frozen app's library path, which
    would load our bundled libraries into the terminal, is put back as it was)."""
    env = dict(environ)
    if getattr(sys, "frozen", False):
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
        else:
            env.pop("LD_LIBRARY_PATH", None)
    return env


def launch(argv: list[str], env: Mapping[str, str]) -> None:
    """Start ``argv`` in a session of its own, detached from ours; a thread reaps it when it
    ends (a terminal can stay open for hours), so the window never waits on it."""
    process = subprocess.Popen(
        argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
    )  # fmt: skip
    threading.Thread(target=process.wait, name="terminal-reaper", daemon=True).start()


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
