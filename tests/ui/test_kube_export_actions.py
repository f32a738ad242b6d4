"""File > Export for Kubernetes…: the cluster in the window written by the engine's exporter
while the engine runs (and holds the store the CLI would read); a folder that is not empty
only after a confirmation; the action waits for a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.k8s.export import export_cluster
from kube9_desktop.engine.model import NodeType
from kube9_desktop.ui.main_window import MainWindow
from tests.ui.helpers import (
    child,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    window_fixture,  # noqa: F401
)

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def export_action(window: MainWindow) -> object:
    menu = child(window, QMenu, "FileMenu")
    (action,) = [a for a in menu.actions() if a.objectName() == "ExportKubernetesAction"]
    return action


def files_under(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_export_writes_the_cluster_in_the_window(
    qtbot: QtBot, window: MainWindow, demo: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lab"
    monkeypatch.setattr(window.kube_export, "ask_folder", lambda: folder)
    with qtbot.waitSignal(window.kube_export.exported) as written:
        export_action(window).trigger()  # type: ignore[attr-defined]
    assert files_under(folder) == export_cluster(demo).files == written.args[0].files
    config = yaml.safe_load((folder / "kind-config.yaml").read_text())
    workers = [n for n in demo.nodes() if n.node_type is not NodeType.MASTER]
    assert [n["role"] for n in config["nodes"]] == ["control-plane"] + ["worker"] * len(workers)
    message = child(window, QLabel, "MessageText").text()
    assert message.startswith(f"Exported {len(written.args[0].manifests)} manifest(s) and a kind")
    assert "kubectl apply -f manifests/" in message


def test_a_folder_not_empty_is_written_only_when_confirmed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    monkeypatch.setattr(window.kube_export, "ask_folder", lambda: folder)
    export_action(window).trigger()  # type: ignore[attr-defined]
    box = window.findChild(QMessageBox, "ExportOverwriteBox")
    assert box is not None
    qtbot.waitExposed(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert "is not empty" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert files_under(folder) == {"notes.md": "mine"}

    export_action(window).trigger()  # type: ignore[attr-defined]
    box = window.kube_export.confirm
    assert box is not None
    qtbot.waitExposed(box)
    with qtbot.waitSignal(window.kube_export.exported):
        qtbot.mouseClick(child(box, QPushButton, "ExportOverwriteButton"),
                         Qt.MouseButton.LeftButton)  # fmt: skip
    files = files_under(folder)
    assert files["notes.md"] == "mine" and "kind-config.yaml" in files and "README.txt" in files


def test_an_unwritable_folder_is_an_error_message(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(window.kube_export, "ask_folder", lambda: Path("/sys/kube9-export"))
    export_action(window).trigger()  # type: ignore[attr-defined]
    expected = (
        "Export failed: Cannot write the export to /sys/kube9-export (Operation not "
        "permitted): choose a folder you can write to."
    )
    qtbot.waitUntil(lambda: child(window, QLabel, "MessageText").text() == expected)


def test_the_action_waits_for_a_cluster(window: MainWindow) -> None:
    window.bridge.detach()
    action = export_action(window)
    assert not action.isEnabled() and "no cluster is open" in action.toolTip()  # type: ignore[attr-defined]
