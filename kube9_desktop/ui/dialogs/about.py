"""AboutDialog: the version, the runtime in use and why, and where things live on disk."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop import __version__
from kube9_desktop.logs import log_path
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import named

BLURB = (
    "A small Kubernetes-style cluster on your desktop: schedule pods, break nodes and "
    "watch the cluster detect and repair the failure."
)


class AboutDialog(QDialog):
    """Dialog describing this installation; every value is selectable for copying."""

    def __init__(
        self, bridge: EngineBridge, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("AboutDialog")
        self.setWindowTitle("About Kube-9 Desktop")
        summary = bridge.summary()
        if summary is None:
            runtime = f"{settings.runtime} (the engine is still starting)"
        else:
            reason = f" — {summary.runtime_reason}" if summary.runtime_reason else ""
            runtime = f"{summary.runtime}{reason}"
        title = named(QLabel(f"<h2>Kube-9 Desktop {__version__}</h2>"), "title")
        blurb = named(QLabel(BLURB), "blurb")
        blurb.setWordWrap(True)

        form = QFormLayout()
        rows = (
            ("Version", "version", __version__),
            ("Runtime", "runtime", runtime),
            ("Scheduler", "scheduler", summary.scheduler if summary else settings.scheduler),
            ("Data directory", "data_dir", str(settings.data_dir)),
            ("API", "api_url", bridge.api_url or "not serving yet"),
            ("Log file", "log_path", str(log_path(settings.data_dir))),
        )
        for caption, name, text in rows:
            value = named(QLabel(text), name)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(caption, value)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addLayout(form)
        layout.addWidget(buttons)
