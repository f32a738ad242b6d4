"""File > Copy kubeconfig / Save kubeconfig…: what they give kubectl, the real one, and what
they refuse (the user's own ~/.kube/config); a change clicked in the window reaching a
running ``kubectl get -w``."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QToolButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.main_window import MainWindow
from tests.k8s.conftest import kubectl_path
from tests.ui.helpers import (
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    names_in,
    select,
    tree_model,
    window_fixture,  # noqa: F401
)

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def file_menu_action(window: MainWindow, name: str) -> object:
    menu = child(window, QMenu, "FileMenu")
    (action,) = [a for a in menu.actions() if a.objectName() == name]
    assert action.isEnabled(), action.toolTip()
    return action


def kubectl_nodes(qtbot: QtBot, kubeconfig: Path, home: Path) -> list[str]:
    """``kubectl get nodes -o name`` with ``kubeconfig``, while the window's loop serves it."""
    out, err = home / "out", home / "err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            [kubectl_path(), "get", "nodes", "-o", "name"], stdout=o, stderr=e,
            env={"KUBECONFIG": str(kubeconfig), "HOME": str(home), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    assert proc.returncode == 0, err.read_text()
    return sorted(line.removeprefix("node/") for line in out.read_text().split())


def test_copy_kubeconfig_gives_kubectl_the_cluster_in_the_window(
    qtbot: QtBot, window: MainWindow, demo: Engine, tmp_path: Path
) -> None:
    file_menu_action(window, "CopyKubeconfigAction").trigger()  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    config = yaml.safe_load(clipboard.text())
    assert config["current-context"] == "kube9"
    assert config["clusters"][0]["cluster"]["server"] == demo.k8s_url
    assert config["users"][0]["user"]["token"] == demo.admin_token
    assert "copied" in child(window, QLabel, "MessageText").text()
    api_tip = child(window, QLabel, "ApiLabel").toolTip()
    assert f"The Kubernetes API (kubectl): {demo.k8s_url}" in api_tip
    path = tmp_path / "copied"
    path.write_text(clipboard.text())
    names = sorted(n.name for n in demo.nodes())
    assert kubectl_nodes(qtbot, path, tmp_path) == names


def test_save_kubeconfig_writes_a_private_file_and_never_the_users_own(
    qtbot: QtBot,
    window: MainWindow,
    demo: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    target = tmp_path / ".kube" / "kube9"
    actions = window.kubeconfig
    monkeypatch.setattr(actions, "ask_path", lambda: target)
    file_menu_action(window, "SaveKubeconfigAction").trigger()  # type: ignore[attr-defined]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    message = child(window, QLabel, "MessageText").text()
    assert f"saved to {target}" in message and f"KUBECONFIG={target}" in message
    assert kubectl_nodes(qtbot, target, tmp_path) == sorted(n.name for n in demo.nodes())

    own = tmp_path / ".kube" / "config"
    own.write_text("# the user's own\n")
    monkeypatch.setattr(actions, "ask_path", lambda: own)
    file_menu_action(window, "SaveKubeconfigAction").trigger()  # type: ignore[attr-defined]
    assert own.read_text() == "# the user's own\n"
    assert "never changes your own kubeconfig" in child(window, QLabel, "MessageText").text()
    monkeypatch.setattr(actions, "ask_path", lambda: None)  # the dialog cancelled: nothing
    file_menu_action(window, "SaveKubeconfigAction").trigger()  # type: ignore[attr-defined]
    assert own.read_text() == "# the user's own\n"


def test_the_actions_wait_for_a_served_api(qtbot: QtBot, window: MainWindow) -> None:
    window.bridge.detach()
    for name in ("CopyKubeconfigAction", "SaveKubeconfigAction"):
        menu = child(window, QMenu, "FileMenu")
        (action,) = [a for a in menu.actions() if a.objectName() == name]
        assert not action.isEnabled() and "not being served" in action.toolTip()


def test_a_pod_deleted_in_the_window_shows_in_kubectl_get_w(
    qtbot: QtBot, window: MainWindow, demo: Engine, tmp_path: Path
) -> None:
    """The window and kubectl see one cluster: ``kubectl get pods -w`` (the real one, with the
    copied kubeconfig) prints the deletion the user clicks."""
    file_menu_action(window, "CopyKubeconfigAction").trigger()  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    config_path = tmp_path / "kubeconfig"
    config_path.write_text(clipboard.text())
    out = tmp_path / "watch.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [kubectl_path(), "get", "pods", "-w"], stdout=sink, stderr=subprocess.STDOUT,
            env={"KUBECONFIG": str(config_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        try:
            qtbot.waitUntil(lambda: "cache-1 " in out.read_text(), timeout=60_000)
            before = out.read_text().count("cache-1 ")
            select(qtbot, window, "cache-1")
            button = window.toolbar.widgetForAction(window.commands.delete)
            assert isinstance(button, QToolButton)
            click(qtbot, button)
            qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
            box = window.findChild(QMessageBox, "ConfirmDelete")
            assert isinstance(box, QMessageBox)
            click(qtbot, box.button(QMessageBox.StandardButton.Ok))
            qtbot.waitUntil(lambda: "cache-1" not in names_in(tree_model(window)))
            qtbot.waitUntil(lambda: out.read_text().count("cache-1 ") > before, timeout=30_000)
        finally:
            proc.terminate()
            proc.wait()


def test_a_pod_deleted_by_kubectl_leaves_the_window(
    qtbot: QtBot, window: MainWindow, demo: Engine, tmp_path: Path
) -> None:
    """And the other way: ``kubectl delete pod`` (the real kubectl) and the tree drops it."""
    file_menu_action(window, "CopyKubeconfigAction").trigger()  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    config_path = tmp_path / "kubeconfig"
    config_path.write_text(clipboard.text())
    assert "web-2" in names_in(tree_model(window))
    out = tmp_path / "delete.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [kubectl_path(), "delete", "pod", "web-2"], stdout=sink, stderr=subprocess.STDOUT,
            env={"KUBECONFIG": str(config_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    assert proc.returncode == 0, out.read_text()
    assert out.read_text().strip() == 'pod "web-2" deleted'
    qtbot.waitUntil(lambda: "web-2" not in names_in(tree_model(window)))


def test_a_deployment_applied_by_kubectl_appears_in_the_window(
    qtbot: QtBot, window: MainWindow, demo: Engine, tmp_path: Path
) -> None:
    """``kubectl apply -f`` of a tutorial's Deployment: its pods join the tree."""
    file_menu_action(window, "CopyKubeconfigAction").trigger()  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    config_path = tmp_path / "kubeconfig"
    config_path.write_text(clipboard.text())
    manifest = tmp_path / "hello.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hello}\nspec:\n"
        "  replicas: 2\n  selector: {matchLabels: {app: hello}}\n  template:\n"
        "    metadata: {labels: {app: hello}}\n"
        "    spec: {containers: [{name: hello, image: 'nginx:1.25'}]}\n"
    )
    out = tmp_path / "apply.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [kubectl_path(), "apply", "-f", str(manifest)], stdout=sink,
            stderr=subprocess.STDOUT,
            env={"KUBECONFIG": str(config_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    assert proc.returncode == 0, out.read_text()
    assert out.read_text().strip() == "deployment.apps/hello created"
    qtbot.waitUntil(
        lambda: sum(n.startswith("hello-") for n in names_in(tree_model(window))) == 2,
        timeout=30_000,
    )
