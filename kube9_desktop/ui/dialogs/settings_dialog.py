"""SettingsDialog: edit the engine settings kept as preferences, and say when each applies."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.settings import RUNTIMES, SCHEDULERS, THEMES, Settings
from kube9_desktop.ui.dialogs._fields import (
    error_label,
    fit_to_contents,
    mark_bad,
    named,
    scrolling_body,
    show_error,
)
from kube9_desktop.ui.preferences import Preferences

# Changes to these take effect at once; the rest when the app next starts.
APPLIES_NOW = ("scheduler", "theme", "kubernetes_default_tolerations")
LABELS = {
    "heartbeat_interval": "heartbeat interval",
    "grace_period": "grace period",
    "detect_from_runtime": "detection from runtime events",
    "kubernetes_default_tolerations": "Kubernetes default tolerations",
    "scheduler": "scheduler",
    "runtime": "runtime",
    "port": "API port",
    "theme": "theme",
}


class SettingsDialog(QDialog):
    """Dialog editing the stored preferences; emits ``settings_saved`` with what changed.

    Only changed values are stored, so a command-line override of this run (``--port``)
    never becomes a preference just because the dialog was confirmed.
    """

    settings_saved = Signal(dict)

    def __init__(
        self, prefs: Preferences, current: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("Settings")
        self.prefs = prefs
        self.current = current

        self.heartbeat_interval = named(QDoubleSpinBox(), "heartbeat_interval")
        self.heartbeat_interval.setRange(0.05, 60.0)
        self.heartbeat_interval.setDecimals(2)
        self.heartbeat_interval.setSingleStep(0.1)
        self.heartbeat_interval.setSuffix(" s")
        self.heartbeat_interval.setValue(current.heartbeat_interval)

        self.grace_period = named(QDoubleSpinBox(), "grace_period")
        self.grace_period.setRange(0.0, 600.0)
        self.grace_period.setDecimals(2)
        self.grace_period.setSingleStep(0.5)
        self.grace_period.setSuffix(" s")
        self.grace_period.setSpecialValueText("default (3 heartbeat intervals)")
        self.grace_period.setValue(current.grace_period or 0.0)

        self.detect_from_runtime = named(
            QCheckBox("&Detect node deaths from runtime events"), "detect_from_runtime"
        )
        self.detect_from_runtime.setToolTip(
            "Docker's die/oom events and the agent process's exit mark a node NotReady at "
            "once; a hang or a partition still waits for the grace period (nothing died)."
        )
        self.detect_from_runtime.setChecked(current.detect_from_runtime)

        self.kubernetes_defaults = named(
            QCheckBox("&Kubernetes defaults: pods stay on an unhealthy node 300 s"),
            "kubernetes_default_tolerations",
        )
        self.kubernetes_defaults.setToolTip(
            "Every pod tolerates the node.kubernetes.io/not-ready and unreachable NoExecute "
            "taints for 300 s, as Kubernetes' admission gives it. Off (Kube-9's default), pods "
            "without their own tolerations leave an unhealthy node at once."
        )
        self.kubernetes_defaults.setChecked(current.kubernetes_default_tolerations)

        self.scheduler = self._combo("scheduler", SCHEDULERS, current.scheduler)
        self.runtime = self._combo("runtime", RUNTIMES, current.runtime)
        self.theme = self._combo("theme", THEMES, current.theme)

        self.port = named(QSpinBox(), "port")
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")
        self.port.setValue(current.port)

        self.grace_period_error = error_label("grace_period", self)
        self.note = named(QLabel(), "note")
        self.note.setWordWrap(True)

        form = QFormLayout()
        form.addRow("&Heartbeat interval", self.heartbeat_interval)
        form.addRow("&Grace period", self.grace_period)
        form.addRow("", self.grace_period_error)
        form.addRow("", self.detect_from_runtime)
        form.addRow("", self.kubernetes_defaults)
        form.addRow("&Scheduler", self.scheduler)
        form.addRow("&Runtime", self.runtime)
        form.addRow("API &port", self.port)
        form.addRow("&Theme", self.theme)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.submit = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert isinstance(self.submit, QPushButton)
        self.submit.setObjectName("submit")
        self.buttons.accepted.connect(self._on_submit_clicked)
        self.buttons.rejected.connect(self.reject)

        fields = QWidget()
        fields.setLayout(form)
        layout = QVBoxLayout(self)
        # The fields and the note scroll once the dialog is as tall as the screen.
        self.body_scroll = scrolling_body(layout, fields, self.note)
        layout.addWidget(self.buttons)

        for spin in (self.heartbeat_interval, self.grace_period):
            spin.valueChanged.connect(self._refresh)
        self.port.valueChanged.connect(self._refresh)
        self.detect_from_runtime.toggled.connect(self._refresh)
        self.kubernetes_defaults.toggled.connect(self._refresh)
        for combo in (self.scheduler, self.runtime, self.theme):
            combo.currentIndexChanged.connect(self._refresh)
        self._refresh()

    def _combo(self, name: str, choices: tuple[str, ...], value: str) -> QComboBox:
        combo = named(QComboBox(), name)
        combo.addItems(list(choices))
        combo.setCurrentText(value)
        return combo

    def values(self) -> dict[str, Any]:
        """Every editable setting as the dialog shows it (grace period None = default)."""
        grace = round(self.grace_period.value(), 2)
        return {
            "heartbeat_interval": round(self.heartbeat_interval.value(), 2),
            "grace_period": grace or None,
            "detect_from_runtime": self.detect_from_runtime.isChecked(),
            "kubernetes_default_tolerations": self.kubernetes_defaults.isChecked(),
            "scheduler": self.scheduler.currentText(),
            "runtime": self.runtime.currentText(),
            "port": self.port.value(),
            "theme": self.theme.currentText(),
        }

    def changes(self) -> dict[str, Any]:
        """The values that differ from the running settings."""
        return {k: v for k, v in self.values().items() if getattr(self.current, k) != v}

    def validation_error(self) -> str:
        """Why the values cannot be saved ("" when they can)."""
        values = self.values()
        grace, interval = values["grace_period"], values["heartbeat_interval"]
        if grace is not None and grace <= interval:
            return (
                f"must be longer than the heartbeat interval ({interval:g} s), "
                "or 0 for the default of 3 intervals"
            )
        return ""

    def _refresh(self) -> None:
        error = self.validation_error()
        show_error(self.grace_period_error, error)
        mark_bad(self.grace_period, bool(error), error)
        self.submit.setEnabled(not error)
        self.note.setText(self._note_text())
        fit_to_contents(self)

    def _note_text(self) -> str:
        changed = self.changes()
        now = [LABELS[k] for k in changed if k in APPLIES_NOW]
        later = [LABELS[k] for k in changed if k not in APPLIES_NOW]
        parts = []
        if now:
            parts.append(f"Applies at once: {', '.join(now)}.")
        if later:
            parts.append(f"Applies when Kube-9 Desktop next starts: {', '.join(later)}.")
        if not parts:
            parts.append(
                "Scheduler, theme and Kubernetes defaults apply at once; the others when the "
                "app next starts."
            )
        return " ".join(parts)

    def _on_submit_clicked(self) -> None:
        error = self.validation_error()
        if error:
            show_error(self.grace_period_error, error)
            return
        changed = self.changes()
        self.prefs.save(changed)
        self.settings_saved.emit(changed)
        self.accept()
