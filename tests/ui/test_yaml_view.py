"""Objects as YAML: the view round-trips through the pod import, the unused-field list, a
pod's replace keeps the pod when refused, and the export writes one file per object."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QPushButton, QTabWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.yaml_view import YamlView, export_manifests
from tests.helpers import fast_settings
from tests.ui.helpers import child, make_deployment

POD = {
    "name": "api",
    "namespace": "default",
    "cpu_cores_req": 0.75,
    "labels": {"app": "api", "tier": "back"},
    "annotations": {"owner": "ops"},
    "containers": [
        {
            "name": "web", "image": "nginx:1.25", "cpu_req": 0.5, "memory_req": 256,
            "command": ["/bin/sh", "-c"], "args": ["sleep 3600"],
            "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}],
            "readiness_probe": {"http_get": {"port": "http", "path": "/ready"}, "period_s": 5},
        },
        {"name": "side", "image": "busybox", "cpu_req": 0.25, "memory_req": 64},
    ],
    "volumes": [{"name": "cache", "type": "emptyDir", "size": 2, "path": "/cache"}],
    "config": [{"name": "mode", "type": "env", "key": "MODE", "value": "production"}],
}  # fmt: skip


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data", grace_period=1.0)


@pytest.fixture
def worker(ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot) -> None:
    run_async(ui_engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}))
    qtbot.waitUntil(
        lambda: all(n.status == "healthy" for n in ui_engine.cluster.node_views()), timeout=5000
    )


def open_view(qtbot: QtBot, bridge: EngineBridge, item: TreeItem) -> YamlView:
    view = YamlView(bridge, item)
    qtbot.addWidget(view)
    view.open()
    qtbot.waitExposed(view)
    return view


def click(qtbot: QtBot, view: YamlView, name: str) -> None:
    qtbot.mouseClick(child(view, QPushButton, name), Qt.MouseButton.LeftButton)


def spec_key(pod: Any) -> Any:
    """A pod's spec with config item names left out (a manifest's env has none)."""
    s = pod.spec
    config = tuple((c.type, c.key, c.value) for c in s.config)
    return (s.name, s.namespace, s.request, s.containers, s.volumes, config,
            dict(s.labels), dict(s.annotations))  # fmt: skip


def test_pod_yaml_round_trips_through_the_import(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Any, worker: None
) -> None:
    created = run_async(ui_engine.create_pod_from_json(POD))
    original = bridge.pod(created.view.id)
    view = open_view(qtbot, bridge, TreeItem(ItemKind.POD, original.id))
    text = child(view, QPlainTextEdit, "yaml_text")
    assert text.isReadOnly()
    click(qtbot, view, "copy_yaml")
    shown = text.toPlainText()
    assert QApplication.clipboard().text() == shown
    assert "&id" not in shown  # the env shared by both containers is written out twice
    doc = yaml.safe_load(shown)
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "Pod")
    assert doc["metadata"]["uid"] == original.uid
    assert doc["metadata"]["resourceVersion"] == str(original.resource_version)
    assert doc["spec"]["nodeName"] == "w1"
    assert doc["status"]["phase"] == str(original.phase)

    # The manifest shown, pasted into the pod form, creates the same pod.
    run_async(ui_engine.delete_pod(original.id))
    qtbot.waitUntil(lambda: not bridge.pods(), timeout=5000)
    form = PodForm(bridge)
    qtbot.addWidget(form)
    form.open()
    child(form, QTabWidget, "tabs").setCurrentIndex(1)
    child(form, QPlainTextEdit, "yaml").setPlainText(shown)
    qtbot.mouseClick(child(form, QPushButton, "apply_yaml"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(child(form, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(bridge.pods()) == 1, timeout=5000)
    (again,) = bridge.pods()
    assert spec_key(again) == spec_key(original)


def test_view_saves_the_manifest(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, worker: None, tmp_path: Path
) -> None:
    (node,) = bridge.nodes()
    view = open_view(qtbot, bridge, TreeItem(ItemKind.NODE, node.id))
    assert not child(view, QPushButton, "edit_yaml").isVisible()  # only pods are replaced
    view.save_to(tmp_path / "n.yaml")
    doc = yaml.safe_load((tmp_path / "n.yaml").read_text())
    assert (doc["kind"], doc["metadata"]["name"]) == ("Node", "w1")
    assert "namespace" not in doc["metadata"]
    assert doc["status"]["capacity"]["cpu"] == "2"


UNUSED = """\
apiVersion: v1
kind: Pod
metadata:
  name: picky
  namespace: default
  labels: {app: picky}
spec:
  nodeSelector: {disk: ssd}
  hostNetwork: true
  containers:
  - name: web
    image: nginx
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m}
    ports:
    - containerPort: 80
      hostPort: 8080
    env:
    - name: TOKEN
      valueFrom:
        secretKeyRef: {name: api-token, key: token}
"""


def test_unused_fields_are_listed_in_the_form(
    qtbot: QtBot, bridge: EngineBridge, worker: None
) -> None:
    form = PodForm(bridge)
    qtbot.addWidget(form)
    form.open()
    qtbot.waitExposed(form)
    tabs = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    child(form, QPlainTextEdit, "yaml").setPlainText(UNUSED)
    qtbot.mouseClick(child(form, QPushButton, "apply_yaml"), Qt.MouseButton.LeftButton)
    assert tabs.currentIndex() == 0  # the form, where the user submits
    note: QLabel = child(form, QLabel, "unused_fields")
    assert note.isVisible()
    for key in (
        "spec.hostNetwork",
        "spec.containers[0].resources.limits",
        "spec.containers[0].ports[0].hostPort",
    ):
        assert key in note.text()
    assert "secret" in note.text() and "TOKEN" in note.text()  # what to do, not a refusal
    body = form.body()
    assert body["labels"] == {"app": "picky"} and body["namespace"] == "default"
    assert body["config"] == [{"name": "api-token", "type": "secret", "key": "TOKEN", "value": ""}]
    assert body["node_selector"] == {"disk": "ssd"}  # read now, not listed as unused
    assert "spec.nodeSelector" not in note.text()


def test_replace_keeps_the_pod_when_refused_and_replaces_it_when_valid(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Any, worker: None
) -> None:
    created = run_async(ui_engine.create_pod_from_json(POD))
    view = open_view(qtbot, bridge, TreeItem(ItemKind.POD, created.view.id))
    click(qtbot, view, "edit_yaml")
    text = child(view, QPlainTextEdit, "yaml_text")
    assert not text.isReadOnly()
    # 64 cores fit on no node: the engine refuses, and the old pod stays.
    text.setPlainText(text.toPlainText().replace("cpu: 500m", "cpu: '64'"))
    click(qtbot, view, "replace_pod")
    error: QLabel = child(view, QLabel, "yaml_view_error")
    qtbot.waitUntil(lambda: error.isVisible(), timeout=5000)
    assert "kept" in error.text()
    (pod,) = bridge.pods()
    assert pod.id == created.view.id and pod.uid == created.view.uid
    # A valid edit replaces it: same name, a new object with the new image.
    text.setPlainText(
        text.toPlainText().replace("cpu: '64'", "cpu: 500m").replace("nginx:1.25", "nginx:1.27")
    )
    with qtbot.waitSignal(view.replaced, timeout=5000):
        click(qtbot, view, "replace_pod")
    (pod,) = bridge.pods()
    assert pod.name == "api" and pod.uid != created.view.uid
    assert pod.spec.containers[0].image == "nginx:1.27"
    assert text.isReadOnly()


def test_export_writes_one_file_per_object(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Any, worker: None,
    tmp_path: Path,
) -> None:  # fmt: skip
    run_async(ui_engine.create_pod_from_json(POD))
    make_deployment(run_async, ui_engine, "shop", replicas=1)
    qtbot.waitUntil(lambda: len(bridge.pods()) == 2, timeout=5000)
    written = export_manifests(bridge, tmp_path / "out")
    rel = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    (rs,) = bridge.replicasets()
    shop_pod = next(p for p in bridge.pods() if p.name != "api")
    assert rel == {
        "_cluster/node-w1.yaml",
        "default/pod-api.yaml",
        "default/deployment-shop.yaml",
        f"default/replicaset-{rs.name}.yaml",
        f"default/pod-{shop_pod.name}.yaml",
    }
    doc = yaml.safe_load((tmp_path / "out" / f"default/pod-{shop_pod.name}.yaml").read_text())
    assert doc["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert doc["metadata"]["ownerReferences"][0]["uid"] == rs.uid


def test_details_and_context_menu_open_the_view(
    qtbot: QtBot, bridge: EngineBridge, prefs: Any, ui_settings: Settings, worker: None
) -> None:
    from kube9_desktop.ui.main_window import MainWindow

    window = MainWindow(bridge, prefs, ui_settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    (node,) = bridge.nodes()
    window.details.show_item(TreeItem(ItemKind.NODE, node.id))
    button = child(window.details, QPushButton, "DetailsYamlButton")
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    view = window.manifests.view
    assert view is not None and view.isVisible()
    assert yaml.safe_load(child(view, QPlainTextEdit, "yaml_text").toPlainText())["kind"] == "Node"
    view.close()
    assert window.manifests.view_yaml in window.commands.context_menu.actions()
