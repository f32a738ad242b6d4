"""The workload commands as QActions (menu, toolbar, the workloads tree's context menu): new,
edit, scale up (+) and down (−), pause and resume, roll back, delete; each enabled only when
the selection allows it, with the engine's refusal as the reason when it does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox, QStyle, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.workload_ops import WorkloadOutcome
from kube9_desktop.engine.workloads import DeploymentView, ReplicaSetView
from kube9_desktop.ui.actions import ClusterActions, confirm_delete, enable, new_action
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.dialogs.deployment_form import DeploymentForm
from kube9_desktop.ui.dialogs.rollback_dialog import RollbackDialog
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem

SP = QStyle.StandardPixmap
PICK_DEPLOYMENT = "Select a Deployment first"
PICK_SCALABLE = "Select a Deployment (or a ReplicaSet without one) first"


class WorkloadActions(QObject):
    message_posted = Signal(str, str)  # level ("info" | "error"), text for a person

    def __init__(self, bridge: EngineBridge, cluster: ClusterActions, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.item: TreeItem | None = None
        self.confirm: QMessageBox | None = None

        def action(
            name: str,
            text: str,
            shortcut: str | QKeySequence.StandardKey | None,
            tip: str,
            slot: Callable[[], Any],
            icon: QStyle.StandardPixmap | None = None,
        ) -> QAction:
            return new_action(self, window, name, text, shortcut, tip, slot, icon)

        self.new_deployment = action(
            "NewDeploymentAction",
            "New &Deployment…",
            "Ctrl+Shift+D",
            "Create a Deployment: replicas of a pod template, rolled out by a strategy",
            self._on_new_deployment_triggered,
            SP.SP_FileDialogNewFolder,
        )
        self.edit = action(
            "EditDeploymentAction",
            "&Edit Deployment…",
            "Ctrl+E",
            "Change the selected Deployment (a changed template starts a rollout)",
            self._on_edit_triggered,
            SP.SP_FileDialogContentsView,
        )
        self.scale_up = action(
            "ScaleUpAction",
            "Scale &Up",
            "+",
            "One more replica (+)",
            lambda: self._scale(+1),
            SP.SP_ArrowUp,
        )
        self.scale_up.setShortcuts([QKeySequence("+"), QKeySequence("=")])
        self.scale_down = action(
            "ScaleDownAction",
            "Scale Do&wn",
            "-",
            "One replica fewer (−)",
            lambda: self._scale(-1),
            SP.SP_ArrowDown,
        )
        self.pause = action(
            "PauseAction",
            "Pa&use Rollout",
            "Ctrl+Shift+U",
            "Pause or resume the selected Deployment's rollouts",
            self._on_pause_triggered,
            SP.SP_MediaPause,
        )
        self.rollback = action(
            "RollbackAction",
            "Roll &Back…",
            "Ctrl+Shift+B",
            "Go back to a kept revision of the selected Deployment",
            self._on_rollback_triggered,
            SP.SP_ArrowBack,
        )
        self.delete = action(
            "DeleteWorkloadAction",
            "&Delete Deployment…",
            QKeySequence.StandardKey.Delete,  # the node tree's Delete is disabled meanwhile
            "Delete the selected Deployment (or ReplicaSet) and, unless kept, its pods",
            self._on_delete_triggered,
            SP.SP_TrashIcon,
        )
        self.all = (self.new_deployment, self.edit, self.scale_up, self.scale_down,
                    self.pause, self.rollback, self.delete)  # fmt: skip

        self.menu = QMenu("&Workloads", window)
        self.menu.setObjectName("WorkloadsMenu")
        self.menu.addAction(self.new_deployment)
        self.menu.addSeparator()
        self.menu.addActions([self.edit, self.scale_up, self.scale_down, self.pause])
        self.menu.addActions([self.rollback, self.delete])
        self.context_menu = QMenu(window)
        self.context_menu.setObjectName("WorkloadsContextMenu")
        self.context_menu.addActions([self.edit, self.scale_up, self.scale_down, self.pause])
        self.context_menu.addActions([self.rollback, self.delete])
        self.context_menu.addSeparator()
        self.context_menu.addActions([cluster.kill_pod, cluster.delete])  # a pod row's
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.new_deployment)

        bridge.engine_attached.connect(self.update_enabled)
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        self.update_enabled()

    # ---- state -------------------------------------------------------------------------

    def set_selection(self, item: TreeItem | None) -> None:
        self.item = item
        self.update_enabled()

    def selected_deployment(self) -> DeploymentView | None:
        if self.item is None or self.item.kind is not ItemKind.DEPLOYMENT:
            return None
        return self.bridge.deployment(self.item.id)

    def selected_bare_replicaset(self) -> ReplicaSetView | None:
        if self.item is None or self.item.kind is not ItemKind.REPLICASET:
            return None
        rs = self.bridge.replicaset(self.item.id)
        return rs if rs is not None and rs.owner is None else None

    def update_enabled(self) -> None:
        d, rs = self.selected_deployment(), self.selected_bare_replicaset()
        enable(self.new_deployment, self.bridge.attached, "The engine is not running yet")
        enable(self.edit, d is not None, PICK_DEPLOYMENT)
        replicas = d.spec.replicas if d is not None else rs.replicas if rs is not None else None
        enable(self.scale_up, replicas is not None, PICK_SCALABLE)
        if replicas == 0:
            enable(self.scale_down, False, "It is at 0 replicas already")
        else:
            enable(self.scale_down, replicas is not None, PICK_SCALABLE)
        paused = d is not None and d.spec.paused
        self.pause.setText("Res&ume Rollout" if paused else "Pa&use Rollout")
        self.pause.setData(
            "Resume the Deployment's rollouts" if paused else "Pause the Deployment's rollouts"
        )
        enable(self.pause, d is not None, PICK_DEPLOYMENT)
        refusal = PICK_DEPLOYMENT if d is None else self.bridge.rollback_refusal(d.id)
        enable(self.rollback, refusal is None, refusal or "")
        enable(self.delete, d is not None or rs is not None, PICK_SCALABLE)

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        item = self.item
        if item is None:
            return
        if (item.kind is ItemKind.DEPLOYMENT and item.id in changes.ids(Kind.DEPLOYMENT)) or (
            item.kind is ItemKind.REPLICASET and item.id in changes.ids(Kind.REPLICASET)
        ):
            self.update_enabled()

    # ---- dialogs -----------------------------------------------------------------------

    def _open(self, dialog: QDialog, on_accepted: Callable[[], None]) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(on_accepted)
        dialog.open()

    def _on_new_deployment_triggered(self) -> None:
        form = DeploymentForm(self.bridge, self.window)

        def created() -> None:
            result = form.created
            if isinstance(result, WorkloadOutcome):
                view = result.view
                self.message_posted.emit(
                    "info", f"Deployment {view.name} created with {view.spec.replicas} replica(s)"
                )

        self._open(form, created)

    def _on_edit_triggered(self) -> None:
        d = self.selected_deployment()
        if d is None:
            return
        form = DeploymentForm(self.bridge, self.window, editing=d)

        def saved() -> None:
            result = form.created
            if isinstance(result, WorkloadOutcome):
                text = result.message
                self.message_posted.emit(
                    "info", text if "Deployment" in text else f"{d.name}: {text}"
                )

        self._open(form, saved)

    def _on_rollback_triggered(self) -> None:
        d = self.selected_deployment()
        if d is None:
            return
        dialog = RollbackDialog(self.bridge, d, self.window)

        def chosen() -> None:
            revision = dialog.revision()
            if revision is not None:
                self.rollback_to(d.id, revision)

        self._open(dialog, chosen)

    # ---- operations --------------------------------------------------------------------

    def _report(self, outcome: WorkloadOutcome) -> None:
        self.message_posted.emit("info", outcome.message or f"{outcome.view.name}: done")

    def _scale(self, step: int) -> None:
        """Scale by ``step`` from the count when the operation runs (presses add up)."""
        d, rs = self.selected_deployment(), self.selected_bare_replicaset()
        if d is not None:
            d_id = d.id
            self.bridge.run(
                f"Scale {d.name}",
                lambda e: e.scale_deployment(d_id, max(0, e.deployment(d_id).spec.replicas + step)),
                self._report,
            )
        elif rs is not None:
            rs_id = rs.id
            self.bridge.run(
                f"Scale {rs.name}",
                lambda e: e.scale_replicaset(rs_id, max(0, e.replicaset(rs_id).replicas + step)),
                lambda o: self.message_posted.emit(
                    "info", f"ReplicaSet {o.view.name} scaled to {o.view.replicas}"
                ),
            )

    def _on_pause_triggered(self) -> None:
        d = self.selected_deployment()
        if d is None:
            return
        self.bridge.run(
            f"{'Resume' if d.spec.paused else 'Pause'} {d.name}",
            lambda e: e.pause_deployment(d.id, not d.spec.paused),
            self._report,
        )

    def rollback_to(self, deployment_id: int, revision: int) -> None:
        """Roll a Deployment back to a kept revision (the history's Roll back buttons)."""
        d = self.bridge.deployment(deployment_id)
        name = d.name if d is not None else f"Deployment {deployment_id}"
        self.bridge.run(
            f"Roll back {name}",
            lambda e: e.rollback_deployment(deployment_id, revision),
            self._report,
        )

    def _on_delete_triggered(self) -> None:
        d, rs = self.selected_deployment(), self.selected_bare_replicaset()
        if d is None and rs is None:
            return
        if d is not None:
            what, obj_id = f"Deployment {d.name}", d.id
            pods = sum(1 for _ in self._pod_ids(d))
            detail = f"Its {len(d.replicaset_ids)} ReplicaSet(s) go with it."
        else:
            assert rs is not None
            what, obj_id, pods = f"ReplicaSet {rs.name}", rs.id, len(rs.pod_ids)
            detail = ""
        text = f"Delete {what}? Its {pods} pod{'s' if pods != 1 else ''} are stopped too."
        if self.confirm is not None:
            self.confirm.close()
        self.confirm = confirm_delete(
            self.window,
            text,
            detail,
            lambda keep: self._delete(d is not None, obj_id, what, keep),
            keep_option="Keep its pods running (orphan them: they stay as pods of their own)",
        )
        self.confirm.finished.connect(lambda _r: setattr(self, "confirm", None))

    def _pod_ids(self, d: DeploymentView) -> list[int]:
        rss = [self.bridge.replicaset(r) for r in d.replicaset_ids]
        return [p for rs in rss if rs is not None for p in rs.pod_ids]

    def _delete(self, deployment: bool, obj_id: int, what: str, keep_pods: bool) -> None:
        cascade = not keep_pods

        async def delete(e: Engine) -> WorkloadOutcome:
            if deployment:
                return await e.delete_deployment(obj_id, cascade=cascade)
            return await e.delete_replicaset(obj_id, cascade=cascade)

        def done(outcome: WorkloadOutcome) -> None:
            tail = f"; {outcome.pods_deleted} pod(s) deleted" if cascade else "; its pods were kept"
            self.message_posted.emit("info", f"{what} deleted{tail}")

        self.bridge.run(f"Delete {what}", delete, done)
