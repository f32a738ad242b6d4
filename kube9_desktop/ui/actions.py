"""Every command of the window as a QAction (toolbar, menus, the tree's context menu), with a
shortcut, enabled only when the selection and its state allow it, run through the bridge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QMenu,
    QMessageBox,
    QStyle,
    QWidget,
)

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.model import NodeView, PodView
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.dialogs.about import AboutDialog
from kube9_desktop.ui.dialogs.node_form import NodeForm
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.theme import apply_theme

PARTITION_S = 30.0
APPLIES_NOW = ("scheduler", "theme", "kubernetes_default_tolerations")
SP = QStyle.StandardPixmap
# The change-set kind each selectable row of the node tree stands for.
KIND_OF = {ItemKind.NODE: Kind.NODE, ItemKind.POD: Kind.POD, ItemKind.CONTAINER: Kind.POD}


def new_action(
    owner: QObject,
    window: QWidget,
    name: str,
    text: str,
    shortcut: str | QKeySequence.StandardKey | None,
    tip: str,
    slot: Callable[[], Any],
    icon: QStyle.StandardPixmap | None = None,
) -> QAction:
    """A named action with its shortcut and tip (kept in ``data`` for ``enable``)."""
    action = QAction(text, owner)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setData(tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.triggered.connect(lambda _checked=False: slot())
    return action


def enable(action: QAction, enabled: bool, why_not: str) -> None:
    """Enable ``action``, or disable it with the reason in its tooltip."""
    action.setEnabled(enabled)
    action.setToolTip(str(action.data()) if enabled else f"{action.data()} — {why_not}")


class ClusterActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person
    quit_requested = Signal()
    settings_applied = Signal(object)  # the new Settings

    def __init__(
        self, bridge: EngineBridge, prefs: Preferences, settings: Settings, window: QWidget
    ) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.prefs = prefs
        self.settings = settings
        self.window = window
        self.item: TreeItem | None = None
        self.confirm: QMessageBox | None = None

        self.add_node = self._action(
            "AddNodeAction",
            "Add &Node…",
            "Ctrl+N",
            "Add a worker or master node",
            self._on_add_node_triggered,
            SP.SP_ComputerIcon,
        )
        self.create_pod = self._action(
            "CreatePodAction",
            "Create &Pod…",
            "Ctrl+Shift+N",
            "Create a pod",
            self._on_create_pod_triggered,
            SP.SP_FileIcon,
        )
        self.simulate_failure = self._action(
            "SimulateFailureAction",
            "Simulate &Failure",
            "Ctrl+Shift+F",
            "Crash the selected node (more in the menu)",
            lambda: self._inject("crash"),
            SP.SP_MessageBoxWarning,
        )
        self.crash = self._action(
            "CrashAction",
            "&Crash — kill the node",
            None,
            "Kill the node's process",
            lambda: self._inject("crash"),
        )
        self.hang = self._action(
            "HangAction",
            "&Hang — freeze it",
            "Ctrl+Shift+H",
            "Pause the node: alive but silent",
            lambda: self._inject("hang"),
        )
        self.partition = self._action(
            "PartitionAction",
            f"&Partition for {PARTITION_S:g} s",
            "Ctrl+Shift+I",  # isolate (Ctrl+Shift+P opens the command palette)
            "Drop the node's heartbeats while its pods keep running (split brain)",
            lambda: self._inject("partition"),
        )
        self.component = self._action(
            "ComponentAction",
            "&Kubelet down",
            "Ctrl+Shift+K",
            "The node reports its kubelet failed (NotReady)",
            lambda: self._inject("component"),
        )
        self.kill_pod = self._action(
            "KillPodAction",
            "&Kill Pod Process",
            "Ctrl+Shift+X",  # Ctrl+K opens the command palette
            "Kill the selected pod's process (it restarts with back-off)",
            self._on_kill_pod_triggered,
            SP.SP_MediaStop,
        )
        self.recover = self._action(
            "RecoverAction",
            "&Recover",
            "Ctrl+R",
            "Heal faults and restart the selected node",
            self._on_recover_triggered,
            SP.SP_BrowserReload,
        )
        self.delete = self._action(
            "DeleteAction",
            "&Delete…",
            QKeySequence.StandardKey.Delete,
            "Delete the selected node or pod",
            self._on_delete_triggered,
            SP.SP_TrashIcon,
        )
        self.open_settings = self._action(
            "SettingsAction",
            "&Settings…",
            "Ctrl+,",
            "Engine settings and theme",
            self._on_settings_triggered,
            SP.SP_FileDialogDetailedView,
        )
        self.about = self._action(
            "AboutAction",
            "&About Kube-9 Desktop",
            None,  # F1 opens the keyboard shortcuts
            "Version, runtime and paths",
            self._on_about_triggered,
            SP.SP_MessageBoxInformation,
        )
        self.quit = self._action(
            "QuitAction", "&Quit", "Ctrl+Q", "Stop the nodes and quit", self.quit_requested.emit
        )
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.failure_menu = QMenu("Simulate &Failure", window)
        self.failure_menu.setObjectName("FailureMenu")
        self.failure_menu.addActions([self.crash, self.hang, self.partition, self.component])
        self.simulate_failure.setMenu(self.failure_menu)
        self.context_menu = QMenu(window)
        self.context_menu.setObjectName("ClusterContextMenu")
        self.context_menu.addMenu(self.failure_menu)
        self.context_menu.addActions([self.kill_pod, self.recover, self.delete])
        self.context_menu.addSeparator()
        self.context_menu.addActions([self.add_node, self.create_pod])

        bridge.engine_attached.connect(self.update_enabled)
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        self.update_enabled()

    def _action(
        self,
        name: str,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        tip: str,
        slot: Callable[[], Any],
        icon: QStyle.StandardPixmap | None = None,
    ) -> QAction:
        return new_action(self, self.window, name, text, shortcut, tip, slot, icon)

    # ---- state -----------------------------------------------------------------------

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        self.update_enabled()

    def selected_node(self) -> NodeView | None:
        if self.item is None or self.item.kind is not ItemKind.NODE:
            return None
        return self.bridge.node(self.item.id)

    def selected_pod(self) -> PodView | None:
        if self.item is None or self.item.kind not in (ItemKind.POD, ItemKind.CONTAINER):
            return None
        return self.bridge.pod(self.item.id)

    def update_enabled(self) -> None:
        """Enable what the engine would accept for the selection, saying why not otherwise.

        The rules are the engine's own (``fault_refusal``, ``recover_refusal``,
        ``kill_refusal``), so the window never refuses what the API accepts, or the reverse.
        """
        attached = self.bridge.attached
        node, pod = self.selected_node(), self.selected_pod()
        self.add_node.setEnabled(attached)
        self.create_pod.setEnabled(attached)
        if node is None:
            why_not: str | None = "Select a node in the tree first"
            per_mode = {m: why_not for m in ("crash", "hang", "partition", "component")}
        else:
            per_mode = {
                m: self.bridge.fault_refusal(node.id, m)
                for m in ("crash", "hang", "partition", "component")
            }
            why_not = per_mode["crash"]
        for action, mode in (
            (self.simulate_failure, "crash"),
            (self.crash, "crash"),
            (self.hang, "hang"),
            (self.partition, "partition"),
            (self.component, "component"),
        ):
            refusal = per_mode[mode]
            self._enable(action, refusal is None, refusal or "")
        self.failure_menu.setEnabled(any(r is None for r in per_mode.values()))
        kill_why = "Select a running pod first" if pod is None else self.bridge.kill_refusal(pod.id)
        self._enable(self.kill_pod, kill_why is None, kill_why or "")
        recover_why = (
            "Select an unhealthy, failed or faulty node first"
            if node is None
            else self.bridge.recover_refusal(node.id)
        )
        self._enable(self.recover, recover_why is None, recover_why or "")
        self._enable(
            self.delete, node is not None or pod is not None, "Select a node or a pod first"
        )

    def _enable(self, action: QAction, enabled: bool, why_not: str) -> None:
        enable(action, enabled, why_not)

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        if self.item is None or self.item.kind not in KIND_OF:
            return
        if self.item.id in changes.ids(KIND_OF[self.item.kind]):
            self.update_enabled()

    # ---- dialogs ---------------------------------------------------------------------

    def _open(self, dialog: QDialog, on_accepted: Callable[[], None] | None = None) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if on_accepted is not None:
            dialog.accepted.connect(on_accepted)
        dialog.open()

    def _on_add_node_triggered(self) -> None:
        form = NodeForm(self.bridge, self.window)

        def added() -> None:
            created = getattr(form, "created", None)
            if created is not None:
                self.message_posted.emit("info", f"Node {created.view.name} added")

        self._open(form, added)

    def _on_create_pod_triggered(self) -> None:
        form = PodForm(self.bridge, self.window)

        def created() -> None:
            result = getattr(form, "created", None)
            view = getattr(result, "view", None)
            if view is not None:
                where = f"on {view.node_name}" if view.node_name else "pending"
                self.message_posted.emit("info", f"Pod {view.name} created, {where}")

        self._open(form, created)

    def _on_settings_triggered(self) -> None:
        dialog = SettingsDialog(self.prefs, self.settings, self.window)
        dialog.settings_saved.connect(self.apply_settings)
        self._open(dialog)

    def _on_about_triggered(self) -> None:
        self._open(AboutDialog(self.bridge, self.settings, self.window))

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Scheduler, theme and the Kubernetes defaults apply at once; the rest when the app
        next starts."""
        if not changes:
            return
        if "scheduler" in changes and self.bridge.attached:
            self.bridge.set_scheduler(changes["scheduler"])
        if "kubernetes_default_tolerations" in changes and self.bridge.attached:
            self.bridge.set_kubernetes_defaults(changes["kubernetes_default_tolerations"])
        app = QApplication.instance()
        if "theme" in changes and isinstance(app, QApplication):
            apply_theme(app, changes["theme"])
        self.settings = self.settings.with_(**changes)
        now = [f"{k} {changes[k]}" for k in changes if k in APPLIES_NOW]
        later = [k.replace("_", " ") for k in changes if k not in APPLIES_NOW]
        text = "Settings saved."
        if now:
            text += f" Applied now: {', '.join(now)}."
        if later:
            text += f" Applies when Kube-9 Desktop next starts: {', '.join(later)}."
        self.message_posted.emit("info", text)
        self.settings_applied.emit(self.settings)

    # ---- operations ------------------------------------------------------------------

    def _inject(self, mode: str) -> None:
        node = self.selected_node()
        if node is None:
            return
        component = "kubelet" if mode == "component" else None
        duration = PARTITION_S if mode == "partition" else None
        self.bridge.run(
            f"Simulate {mode} on {node.name}",
            lambda e: e.inject_fault(node.id, mode, component=component, duration_s=duration),
            lambda injected: self.message_posted.emit("info", injected.message),
        )

    def _on_kill_pod_triggered(self) -> None:
        pod = self.selected_pod()
        if pod is None:
            return
        container = None
        if self.item is not None and self.item.kind is ItemKind.CONTAINER:
            container = pod.spec.containers[self.item.container].name
        self.bridge.run(
            f"Kill pod {pod.name}",
            lambda e: e.kill_pod(pod.id, container),
            lambda message: self.message_posted.emit("info", message),
        )

    def _on_recover_triggered(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        self.bridge.run(
            f"Recover {node.name}",
            lambda e: e.recover_node(node.id),
            lambda message: self.message_posted.emit("info", message),
        )

    def _on_delete_triggered(self) -> None:
        node, pod = self.selected_node(), self.selected_pod()
        if node is not None:
            n = len(node.pod_ids)
            text = (
                f"Delete node {node.name}? Its {n} pod{'s' if n != 1 else ''} will be "
                "moved to other nodes."
                if n
                else f"Delete node {node.name}? It has no pods."
            )
            detail = "Pods that fit nowhere wait as pending until capacity appears." if n else ""
            node_id, name = node.id, node.name
            self._confirm(text, detail, lambda: self._delete_node(node_id, name))
        elif pod is not None:
            text = (
                f"Delete pod {pod.name}? Its containers on {pod.node_name} will be stopped."
                if pod.node_name
                else f"Delete pod {pod.name}? It is waiting for a node."
            )
            pod_id, name = pod.id, pod.name
            self._confirm(text, "", lambda: self._delete_pod(pod_id, name))

    def _confirm(self, text: str, detail: str, on_yes: Callable[[], None]) -> None:
        if self.confirm is not None:
            self.confirm.close()
        self.confirm = confirm_delete(self.window, text, detail, lambda _keep: on_yes())
        self.confirm.finished.connect(lambda _r: setattr(self, "confirm", None))

    def _delete_node(self, node_id: int, name: str) -> None:
        def done(result: Any) -> None:
            moved, pending = len(result.rebound), len(result.pending)
            self.message_posted.emit(
                "info",
                f"Node {name} deleted"
                + (f"; {moved} pod(s) moved" if moved else "")
                + (f", {pending} pending" if pending else ""),
            )

        self.bridge.run(f"Delete node {name}", lambda e: e.delete_node(node_id, force=True), done)

    def _delete_pod(self, pod_id: int, name: str) -> None:
        self.bridge.run(
            f"Delete pod {name}",
            lambda e: e.delete_pod(pod_id),
            lambda _name: self.message_posted.emit("info", f"Pod {name} deleted"),
        )


def confirm_delete(
    window: QWidget,
    text: str,
    detail: str,
    on_yes: Callable[[bool], None],
    keep_option: str = "",
) -> QMessageBox:
    """A non-blocking confirmation whose default is Cancel; ``on_yes(checked)`` runs on
    Delete, ``checked`` being the state of the ``keep_option`` check box (when given)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Delete", text, parent=window)
    box.setObjectName("ConfirmDelete")
    box.setInformativeText(detail)
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Ok).setText("Delete")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    if keep_option:
        check = QCheckBox(keep_option, box)
        check.setObjectName("KeepPods")
        box.setCheckBox(check)

    def finished(_result: int) -> None:
        confirmed = box.clickedButton() is box.button(QMessageBox.StandardButton.Ok)
        keep = box.checkBox() is not None and box.checkBox().isChecked()
        box.deleteLater()
        if confirmed:
            on_yes(keep)

    box.finished.connect(finished)
    box.open()
    return box
