"""RollbackDialog: pick a kept revision of a Deployment to roll back to.

Each revision says what it ran (images) and when it was made; the ones the engine would refuse
(the current template) are listed but cannot be picked, with the engine's reason.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.workloads import DeploymentView
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.workload_status import images

REVISION_ROLE = Qt.ItemDataRole.UserRole + 1


class RollbackDialog(QDialog):
    def __init__(
        self, bridge: EngineBridge, deployment: DeploymentView, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RollbackDialog")
        self.setWindowTitle(f"Roll back {deployment.name}")
        self.deployment = deployment
        self.revisions = QListWidget(self)
        self.revisions.setObjectName("revisions")
        first: QListWidgetItem | None = None
        for r in sorted(bridge.deployment_history(deployment.id), key=lambda r: -r.revision):
            refusal = bridge.rollback_refusal(deployment.id, r.revision)
            text = (
                f"Revision {r.revision} · {images(r.template.containers)} · "
                f"{r.replicaset} · {fmt.clock(r.created_at)}" + (" (current)" if r.current else "")
            )
            item = QListWidgetItem(text, self.revisions)
            item.setData(REVISION_ROLE, r.revision)
            if refusal is not None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(refusal)
            elif first is None:
                first = item
        if first is not None:
            self.revisions.setCurrentItem(first)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setObjectName("submit")
        ok.setText("Roll back")
        ok.setEnabled(first is not None)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.revisions.currentItemChanged.connect(
            lambda item, _old: ok.setEnabled(
                item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled != 0
            )
        )
        layout = QVBoxLayout(self)
        note = QLabel(
            "The chosen revision's template becomes the Deployment's again: its ReplicaSet "
            "scales up (as the next revision) and the current one scales down, by the "
            "Deployment's strategy."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(self.revisions, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 300)

    def revision(self) -> int | None:
        """The revision picked (None when none can be)."""
        item = self.revisions.currentItem()
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        value = item.data(REVISION_ROLE)
        return int(value) if isinstance(value, int) else None
