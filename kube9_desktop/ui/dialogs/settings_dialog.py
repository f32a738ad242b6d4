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
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.settings import RUNTIMES, SCHEDULERS, THEMES, Settings, check_engine_settings
from kube9_desktop.ui.dialogs._fields import (
    BAD_FIELD_STYLE,
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
    "docker_engines": "Docker engines",
    "advertise_url": "advertise URL",
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

        self.docker_engines = named(QPlainTextEdit(), "docker_engines")
        self.docker_engines.setPlaceholderText(
            "one per line, NAME=URL:  lab=ssh://student@lab1   far=tcp://10.0.0.5:2376,tls=~/certs"
        )
        self.docker_engines.setToolTip(
            "More Docker engines nodes may run on (this machine's is always 'local'): "
            "unix:///path, tcp://host:2376 with tls=DIR (ca.pem, cert.pem, key.pem), "
            "ssh://user@host (the system ssh client), context:NAME (a docker context)"
        )
        self.docker_engines.setTabChangesFocus(True)
        self.docker_engines.setPlainText("\n".join(current.docker_engines))
        self.docker_engines.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.advertise_url = named(QLineEdit(current.advertise_url or ""), "advertise_url")
        self.advertise_url.setPlaceholderText("default: this machine's address on each route")
        self.advertise_url.setToolTip(
            "Where agents on remote engines reach the API: http(s)://host[:port] (https: "
            "verified with the cluster's CA)"
        )
        self.engines_error = error_label("docker_engines", self)

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
        form.addRow("Docker &engines", self.docker_engines)
        form.addRow("&Advertise URL", self.advertise_url)
        form.addRow("", self.engines_error)

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
        self.docker_engines.textChanged.connect(self._refresh)
        self.advertise_url.textChanged.connect(self._refresh)
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
            "docker_engines": tuple(
                line.strip()
                for line in self.docker_engines.toPlainText().splitlines()
                if line.strip()
            ),
            "advertise_url": self.advertise_url.text().strip() or None,
        }

    def changes(self) -> dict[str, Any]:
        """The values that differ from the running settings."""
        return {k: v for k, v in self.values().items() if getattr(self.current, k) != v}

    def engines_problem(self) -> str:
        """What is wrong with the engines or the advertise URL, as the engine would say it."""
        values = self.values()
        try:
            check_engine_settings(values["docker_engines"], values["advertise_url"])
        except ValueError as exc:
            return str(exc)
        return ""

    def validation_error(self) -> str:
        """Why the grace period cannot be saved ("" when it can)."""
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
        problem = self.engines_problem()
        show_error(self.engines_error, problem)
        where = self.advertise_url if problem.startswith("advertise_url") else self.docker_engines
        for widget in (self.docker_engines, self.advertise_url):  # (their tooltips stay)
            widget.setStyleSheet(BAD_FIELD_STYLE if problem and widget is where else "")
        self.submit.setEnabled(not error and not problem)
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
        problem = self.engines_problem()
        if problem:
            show_error(self.engines_error, problem)
            return
        changed = self.changes()
        self.prefs.save(changed)
        self.settings_saved.emit(changed)
        self.accept()
