"""SettingsDialog: saves to QSettings, validates inline, says when each change applies."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.settings import Settings
from kube9_desktop.ui.dialogs.settings_dialog import SettingsDialog
from kube9_desktop.ui.preferences import Preferences

W = TypeVar("W", bound=QWidget)


def open_dialog(qtbot: QtBot, prefs: Preferences, current: Settings) -> SettingsDialog:
    dialog = SettingsDialog(prefs, current)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


def child(dialog: SettingsDialog, kind: type[W], name: str) -> W:
    widget = dialog.findChild(kind, name)
    assert isinstance(widget, kind), name
    return widget


def retype(qtbot: QtBot, spin: QDoubleSpinBox | QSpinBox, text: str) -> None:
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def test_saves_to_qsettings_and_reports_changes(
    qtbot: QtBot, prefs: Preferences, qsettings: QSettings
) -> None:
    dialog = open_dialog(qtbot, prefs, Settings())
    interval = child(dialog, QDoubleSpinBox, "heartbeat_interval")
    grace = child(dialog, QDoubleSpinBox, "grace_period")
    port = child(dialog, QSpinBox, "port")
    scheduler = child(dialog, QComboBox, "scheduler")
    theme = child(dialog, QComboBox, "theme")
    retype(qtbot, interval, "0.5")
    retype(qtbot, grace, "2")
    retype(qtbot, port, "0")
    scheduler.setCurrentText("worst-fit")
    theme.setCurrentText("dark")
    note = child(dialog, QLabel, "note")
    assert "at once: scheduler, theme" in note.text()
    assert "next starts: heartbeat interval, grace period, API port" in note.text()
    submit = child(dialog, QPushButton, "submit")
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000) as saved:
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert saved.args[0] == {
        "heartbeat_interval": 0.5,
        "grace_period": 2.0,
        "scheduler": "worst-fit",
        "port": 0,
        "theme": "dark",
    }
    assert dialog.result() == QDialog.DialogCode.Accepted
    stored = Preferences(QSettings()).load()
    assert stored["heartbeat_interval"] == 0.5 and stored["grace_period"] == 2.0
    assert stored["scheduler"] == "worst-fit" and stored["port"] == 0
    assert stored["theme"] == "dark" and "runtime" not in stored  # unchanged: not pinned


def test_grace_must_exceed_the_interval(
    qtbot: QtBot, prefs: Preferences, qsettings: QSettings
) -> None:
    dialog = open_dialog(qtbot, prefs, Settings(heartbeat_interval=1.0))
    grace = child(dialog, QDoubleSpinBox, "grace_period")
    error = child(dialog, QLabel, "grace_period_error")
    submit = child(dialog, QPushButton, "submit")
    retype(qtbot, grace, "0.5")
    assert error.isVisible() and "longer than the heartbeat interval (1 s)" in error.text()
    assert not submit.isEnabled()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and prefs.load() == {}
    retype(qtbot, grace, "0")  # 0 = the default of three intervals: valid again
    assert not error.isVisible() and submit.isEnabled()
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000) as saved:
        qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert saved.args[0] == {}
    assert "grace_period" not in prefs.load()


def test_detection_from_runtime_events_is_a_stored_choice(
    qtbot: QtBot, prefs: Preferences, qsettings: QSettings
) -> None:
    dialog = open_dialog(qtbot, prefs, Settings())
    box = child(dialog, QCheckBox, "detect_from_runtime")
    assert not box.isChecked() and "hang or a partition" in box.toolTip()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert "next starts: detection from runtime events" in child(dialog, QLabel, "note").text()
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000) as saved:
        qtbot.mouseClick(child(dialog, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    assert saved.args[0] == {"detect_from_runtime": True}
    # Read back from the INI file as the next start does ("true", not a truthy "false").
    again = Preferences(QSettings())
    assert again.load() == {"detect_from_runtime": True}
    assert again.apply_to(Settings()).detect_from_runtime is True
    qsettings.setValue("engine/detect_from_runtime", "false")
    assert Preferences(QSettings()).load() == {"detect_from_runtime": False}
    qsettings.setValue("engine/detect_from_runtime", "maybe")  # corrupt: ignored
    assert Preferences(QSettings()).load() == {}


def test_the_kubernetes_defaults_apply_at_once_and_are_stored(
    qtbot: QtBot, prefs: Preferences
) -> None:
    dialog = open_dialog(qtbot, prefs, Settings())
    box = child(dialog, QCheckBox, "kubernetes_default_tolerations")
    assert not box.isChecked() and "300 s" in box.toolTip()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert "at once: Kubernetes default tolerations" in child(dialog, QLabel, "note").text()
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000) as saved:
        qtbot.mouseClick(child(dialog, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    assert saved.args[0] == {"kubernetes_default_tolerations": True}
    assert Preferences(QSettings()).apply_to(Settings()).kubernetes_default_tolerations is True


def test_docker_engines_and_advertise_url_are_checked_inline_and_saved(
    qtbot: QtBot, prefs: Preferences, qsettings: QSettings
) -> None:
    """The engines a cluster may use (issue 18) are preferences like the rest: a bad line or
    URL is named under the fields and blocks OK; good ones are stored and read back."""
    dialog = open_dialog(qtbot, prefs, Settings())
    engines = child(dialog, QPlainTextEdit, "docker_engines")
    advertise = child(dialog, QLineEdit, "advertise_url")
    error = child(dialog, QLabel, "docker_engines_error")
    submit = child(dialog, QPushButton, "submit")
    qtbot.keyClicks(engines, "far=ftp://lab1")
    assert not submit.isEnabled() and error.isVisible()
    assert error.text().startswith("docker_engines:") and "far" in error.text()
    engines.selectAll()
    qtbot.keyClicks(engines, "far=ssh://student@lab1")
    qtbot.keyClick(engines, Qt.Key.Key_Return)
    qtbot.keyClicks(engines, "local=unix:///x.sock")
    assert not submit.isEnabled() and "local" in error.text()  # the local engine's own name
    engines.setPlainText("far=ssh://student@lab1\nlab=unix:///run/lab.sock\n")
    qtbot.keyClicks(advertise, "10.0.0.1")
    assert not submit.isEnabled() and error.text().startswith("advertise_url:")
    advertise.clear()
    qtbot.keyClicks(advertise, "https://10.0.0.1:8443")
    assert submit.isEnabled() and not error.isVisible()
    assert "Docker engines" in child(dialog, QLabel, "note").text()  # applies at next start
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    loaded = prefs.load()
    assert loaded["docker_engines"] == ("far=ssh://student@lab1", "lab=unix:///run/lab.sock")
    assert loaded["advertise_url"] == "https://10.0.0.1:8443"
    settings = prefs.apply_to(Settings())
    assert settings.docker_engines == loaded["docker_engines"]
    assert settings.advertise_url == "https://10.0.0.1:8443"
