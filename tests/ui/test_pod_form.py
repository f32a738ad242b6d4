"""PodForm: tables edited cell by cell, inline errors per cell, refusals inside the form, YAML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs.pod_form import PodForm
from tests.helpers import fast_settings
from tests.ui import helpers

SECRET = "s3cr3t-Value-42"
COLUMNS = {
    "containers": ("name", "image", "cpu", "memory", "command", "args"),
    "volumes": ("name", "type", "size", "path"),
    "config": ("name", "type", "key", "value"),
}


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    """Fast heartbeats, but a grace period that a busy shared machine's stalls cannot reach."""
    return fast_settings(tmp_path / "data", grace_period=1.0)


@pytest.fixture
def workers(ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot) -> list[str]:
    """Two healthy 2-core workers and a master (which never takes pods)."""
    for body in (
        {"name": "w1", "cpu_cores_avail": 2},
        {"name": "w2", "cpu_cores_avail": 2},
        {"name": "m1", "cpu_cores_avail": 4, "node_type": "master"},
    ):
        run_async(ui_engine.create_node_from_json(body))
    qtbot.waitUntil(
        lambda: all(n.status == "healthy" for n in ui_engine.cluster.node_views()), timeout=5000
    )
    return ["w1", "w2", "m1"]


def open_form(qtbot: QtBot, bridge: EngineBridge) -> PodForm:
    form = PodForm(bridge)
    qtbot.addWidget(form)
    form.open()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    return form


def child(form: QWidget, kind: type[Any], name: str) -> Any:
    widget = form.findChild(kind, name)
    assert widget is not None, name
    return widget


def table(form: PodForm, name: str) -> QTableWidget:
    widget: QTableWidget = child(form, QTableWidget, name)
    return widget


def click(qtbot: QtBot, form: PodForm, name: str) -> None:
    qtbot.mouseClick(child(form, QAbstractButton, name), Qt.MouseButton.LeftButton)


def edit_cell(qtbot: QtBot, form: PodForm, name: str, row: int, key: str, text: str) -> None:
    """Type into one cell the way a user does."""
    helpers.edit_cell(qtbot, table(form, name), row, COLUMNS[name].index(key), text)


def fill_row(qtbot: QtBot, form: PodForm, table_name: str, row: int, **values: str) -> None:
    for key, text in values.items():
        edit_cell(qtbot, form, table_name, row, key, text)


def visible_error(form: QWidget, name: str) -> str:
    label: QLabel = child(form, QLabel, f"{name}_error")
    return label.text() if label.isVisible() else ""


def marked_cells(t: QTableWidget) -> set[tuple[int, int]]:
    """Cells painted as bad."""
    return {
        (r, c)
        for r in range(t.rowCount())
        for c in range(t.columnCount())
        if (item := t.item(r, c)) is not None and item.background().style() != Qt.BrushStyle.NoBrush
    }


def all_visible_text(root: QWidget) -> list[str]:
    """Every string any widget under ``root`` could show or hand out."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        out.append(w.toolTip())
        if isinstance(w, QLineEdit):
            out += [w.text(), w.displayText(), w.placeholderText()]
        elif isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            out.append(w.toPlainText())
        elif isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        elif isinstance(w, QListWidget):
            out += [w.item(i).text() for i in range(w.count())]
        elif isinstance(w, QTableWidget):
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    item = w.item(r, c)
                    if item is not None:
                        out += [item.text(), item.toolTip()]
    return out


def test_multi_container_pod_with_volume_env_and_secret(
    bridge: EngineBridge, workers: list[str], qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    submit: QPushButton = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    qtbot.keyClicks(child(form, QLineEdit, "name"), "web-app")
    fill_row(qtbot, form, "containers", 0, name="web", image="nginx:latest", cpu="1")
    edit_cell(qtbot, form, "containers", 0, "memory", "256")
    edit_cell(qtbot, form, "containers", 0, "command", "/bin/sh -c")
    edit_cell(qtbot, form, "containers", 0, "args", "'nginx -g \"daemon off;\"'")
    click(qtbot, form, "add_container")
    fill_row(qtbot, form, "containers", 1, name="cache", image="redis:7", cpu="500m")
    edit_cell(qtbot, form, "containers", 1, "memory", "128Mi")
    assert "1.5" in child(form, QLineEdit, "cpu").placeholderText()
    click(qtbot, form, "add_volume")
    fill_row(qtbot, form, "volumes", 0, name="data", type="emptyDir", size="1", path="/data")
    click(qtbot, form, "add_config")
    fill_row(qtbot, form, "config", 0, name="env-config", type="env", key="ENV_TYPE")
    edit_cell(qtbot, form, "config", 0, "value", "production")
    click(qtbot, form, "add_config")
    fill_row(qtbot, form, "config", 1, name="api-key", type="secret", key="API_KEY")
    edit_cell(qtbot, form, "config", 1, "value", SECRET)
    secret_field = table(form, "config").cellWidget(1, 3)
    assert isinstance(secret_field, QLineEdit)
    assert secret_field.echoMode() == QLineEdit.EchoMode.Password
    assert SECRET not in secret_field.displayText()
    assert all(SECRET not in text for text in all_visible_text(form) if text != SECRET)

    assert submit.isEnabled(), form.validation_errors()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = bridge.pods()
    assert pod.name == "web-app" and pod.node_name in ("w1", "w2")
    assert [c.name for c in pod.spec.containers] == ["web", "cache"]
    assert pod.request.cpu_m == 1500 and pod.request.mem_mi == 384
    assert pod.spec.containers[0].args == ('nginx -g "daemon off;"',)
    assert [(v.name, v.type, v.size, v.path) for v in pod.spec.volumes] == [
        ("data", "emptyDir", 1, "/data")
    ]
    assert [(c.name, c.type, c.key) for c in pod.spec.config] == [
        ("env-config", "env", "ENV_TYPE"),
        ("api-key", "secret", "API_KEY"),
    ]
    assert pod.spec.config[1].value == SECRET
    assert not any(SECRET in text for text in all_visible_text(form))


def test_bad_cells_get_specific_errors_and_nothing_is_sent(
    bridge: EngineBridge, workers: list[str], ui_engine: Engine, qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(child(form, QLineEdit, "name"), "p1")
    fill_row(qtbot, form, "containers", 0, name="web", image="nginx", cpu="abc")
    click(qtbot, form, "add_container")
    fill_row(qtbot, form, "containers", 1, name="web", image="redis", args="'unbalanced")
    errors = visible_error(form, "containers")
    assert "Row 1, CPU: 'abc' is not a quantity" in errors
    assert "Row 2, Name: 'web' is used twice in this pod" in errors
    assert "Row 2, Args: cannot be split into arguments: No closing quotation" in errors
    t = table(form, "containers")
    assert marked_cells(t) == {(0, 2), (1, 0), (1, 5)}
    assert "is used twice" in t.item(1, 0).toolTip()
    click(qtbot, form, "add_volume")
    fill_row(qtbot, form, "volumes", 0, name="data", size="big", path="data")
    volume_errors = visible_error(form, "volumes")
    assert "Row 1, Size (GB): input should be a valid integer" in volume_errors
    assert "Row 1, Path: must be an absolute path" in volume_errors
    click(qtbot, form, "add_config")
    fill_row(qtbot, form, "config", 0, name="cfg", key="1-BAD")
    assert "Row 1, Key: must be an environment variable name" in visible_error(form, "config")
    assert "6 problems" in visible_error(form, "form")
    submit: QPushButton = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert form.isVisible() and not ui_engine.cluster.state.pods
    # Fixing the cells clears their marks.
    t.item(0, 2).setText("")
    edit_cell(qtbot, form, "containers", 0, "cpu", "0.5")
    t.item(1, 0).setText("")
    edit_cell(qtbot, form, "containers", 1, "name", "cache")
    t.item(1, 5).setText("")
    edit_cell(qtbot, form, "containers", 1, "args", "'balanced now'")
    assert visible_error(form, "containers") == ""
    assert marked_cells(t) == set()
    for name in ("volumes", "config"):
        table(form, name).selectRow(0)
        click(qtbot, form, f"remove_{'volume' if name == 'volumes' else 'config'}")
        assert table(form, name).rowCount() == 0 and visible_error(form, name) == ""
    assert submit.isEnabled() and visible_error(form, "form") == ""


def test_no_node_fits_shows_every_node_in_the_form(
    bridge: EngineBridge, workers: list[str], ui_engine: Engine, qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(child(form, QLineEdit, "name"), "huge")
    fill_row(qtbot, form, "containers", 0, name="big", image="busybox", cpu="3")
    submit: QPushButton = child(form, QPushButton, "submit")
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    refusal: QListWidget = child(form, QListWidget, "refusal")
    qtbot.waitUntil(lambda: refusal.isVisible() and refusal.count() == 3, timeout=5000)
    lines = {refusal.item(i).text().split(":")[0]: refusal.item(i).text() for i in range(3)}
    assert set(lines) == set(workers)
    assert "cpu" in lines["w1"] and "cpu" in lines["w2"] and "control-plane" in lines["m1"]
    assert "No available worker node can fit pod 'huge'" in visible_error(form, "form")
    assert form.isVisible() and form.result() == QDialog.DialogCode.Rejected
    assert not ui_engine.cluster.state.pods
    # The user adjusts and tries again from the same form.
    t = table(form, "containers")
    t.item(0, 2).setText("")
    edit_cell(qtbot, form, "containers", 0, "cpu", "2")
    assert not refusal.isVisible()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert [p.name for p in bridge.pods()] == ["huge"]


def test_secret_value_is_forgotten_when_its_row_stops_being_secret(
    bridge: EngineBridge, qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    click(qtbot, form, "add_config")
    fill_row(qtbot, form, "config", 0, name="token", type="secret", key="TOKEN")
    edit_cell(qtbot, form, "config", 0, "value", SECRET)
    value = table(form, "config").cellWidget(0, 3)
    assert isinstance(value, QLineEdit) and value.echoMode() == QLineEdit.EchoMode.Password
    edit_cell(qtbot, form, "config", 0, "type", "env")
    assert value.echoMode() == QLineEdit.EchoMode.Normal and value.text() == ""
    assert not any(SECRET in text for text in all_visible_text(form))


def test_nothing_is_sent_before_the_engine_runs(ui_settings: Any, qtbot: QtBot) -> None:
    form = open_form(qtbot, EngineBridge())
    qtbot.keyClicks(child(form, QLineEdit, "name"), "early")
    fill_row(qtbot, form, "containers", 0, name="c", image="busybox", cpu="1")
    qtbot.mouseClick(child(form, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    assert "not running yet" in visible_error(form, "form")
    assert form.isVisible() and child(form, QPushButton, "submit").isEnabled()


MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: yaml-pod
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx:1.25
    command: ["/bin/sh", "-c"]
    args: ["echo hello && sleep 3600"]
    resources:
      requests:
        cpu: "500m"
        memory: "256Mi"
    env:
    - name: MODE
      value: production
    volumeMounts:
    - {name: cache, mountPath: /cache}
  volumes:
  - name: cache
    emptyDir: {sizeLimit: 1Gi}
  restartPolicy: Always
---
apiVersion: v1
kind: Pod
metadata: {name: second-is-ignored}
"""


def test_yaml_tab_fills_the_form_and_creates_the_pod(
    bridge: EngineBridge, workers: list[str], qtbot: QtBot
) -> None:
    form = open_form(qtbot, bridge)
    tabs: QTabWidget = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    editor: QPlainTextEdit = child(form, QPlainTextEdit, "yaml")
    editor.setFocus()
    qtbot.keyClicks(editor, "")
    editor.setPlainText(MANIFEST)
    click(qtbot, form, "apply_yaml")
    assert visible_error(form, "yaml") == ""
    assert tabs.currentIndex() == 0
    assert child(form, QLineEdit, "name").text() == "yaml-pod"
    t = table(form, "containers")
    assert [t.item(0, c).text() for c in range(6)] == [
        "web", "nginx:1.25", "500m", "256Mi", "/bin/sh -c", "'echo hello && sleep 3600'"
    ]  # fmt: skip
    assert child(form, QLineEdit, "labels").text() == "app=web"
    assert "spec.restartPolicy" in child(form, QLabel, "yaml_note").text()
    qtbot.mouseClick(child(form, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = bridge.pods()
    assert pod.name == "yaml-pod" and pod.namespace == "default"
    assert pod.labels == {"app": "web"}
    assert pod.request.cpu_m == 500 and pod.request.mem_mi == 256
    assert pod.spec.containers[0].command == ("/bin/sh", "-c")
    assert pod.spec.containers[0].args == ("echo hello && sleep 3600",)
    assert [(c.type, c.key, c.value) for c in pod.spec.config] == [("env", "MODE", "production")]
    assert [(v.name, v.size, v.path) for v in pod.spec.volumes] == [("cache", 1, "/cache")]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("kind: Deployment\n", "kind: is Deployment; only kind: Pod"),
        ("apiVersion: v1\nkind: Pod\nspec: {containers: []}\n", "metadata: is required"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: {web: 1}\n",
            "spec.containers: must be a list",
        ),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", "is not valid YAML"),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n"
            "  - {name: web, image: nginx, resources: {requests: {cpu: lots}}}\n",
            "spec.containers[0].resources.requests.cpu: 'lots' is not a quantity",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec:\n  containers:\n"
            "  - {name: web, image: nginx, resources: {requests: {cpu: 1}}}\n",
            "metadata.name: must be a DNS label",
        ),
    ],
)
def test_broken_manifest_names_the_wrong_key(
    bridge: EngineBridge, qtbot: QtBot, manifest: str, expected: str
) -> None:
    form = open_form(qtbot, bridge)
    tabs: QTabWidget = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    child(form, QPlainTextEdit, "yaml").setPlainText(manifest)
    click(qtbot, form, "apply_yaml")
    assert expected in visible_error(form, "yaml")
    assert tabs.currentIndex() == 1
    assert not child(form, QPushButton, "submit").isEnabled()


def namespace_combo(form: QWidget) -> QComboBox:
    combo: QComboBox = child(form, QComboBox, "namespace")
    return combo


def choose_namespace(qtbot: QtBot, form: QWidget, name: str) -> None:
    """Pick ``name`` from the namespace list with the arrow keys, as a user would."""
    combo = namespace_combo(form)
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.findText(name)):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == name


def test_a_pod_in_another_namespace_with_labels(
    bridge: EngineBridge,
    workers: list[str],
    ui_engine: Engine,
    qtbot: QtBot,
    run_async: Callable[..., Any],
) -> None:
    run_async(ui_engine.create_namespace("team-a"))
    web = {"name": "web", "containers": [{"name": "c", "image": "busybox", "cpu_req": 0.1}]}
    run_async(ui_engine.create_pod_from_json(web))  # "web" is taken in default only
    form = open_form(qtbot, bridge)
    combo = namespace_combo(form)
    assert combo.currentText() == "default"
    assert {"default", "kube-system", "team-a"} <= {combo.itemText(i) for i in range(combo.count())}
    qtbot.keyClicks(child(form, QLineEdit, "name"), "web")
    assert "a pod named 'web' already exists; choose another" in visible_error(form, "name")
    choose_namespace(qtbot, form, "team-a")
    assert visible_error(form, "name") == ""
    qtbot.keyClicks(child(form, QLineEdit, "labels"), "app=web, tier=front")
    fill_row(qtbot, form, "containers", 0, name="nginx", image="nginx:latest", cpu="0.5")
    submit: QPushButton = child(form, QPushButton, "submit")
    assert submit.isEnabled(), form.validation_errors()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = [p for p in bridge.pods() if p.namespace == "team-a"]
    assert pod.name == "web" and pod.labels == {"app": "web", "tier": "front"}
    assert pod.node_name in ("w1", "w2")


def test_a_namespace_typed_in_must_exist(
    bridge: EngineBridge, qtbot: QtBot, run_async: Callable[..., Any], ui_engine: Engine
) -> None:
    form = open_form(qtbot, bridge)
    line = namespace_combo(form).lineEdit()
    assert line is not None
    line.selectAll()
    qtbot.keyClicks(line, "nowhere")
    assert "there is no namespace 'nowhere'" in visible_error(form, "namespace")
    line.selectAll()
    qtbot.keyClicks(line, "Team_A")
    assert "must be a DNS label" in visible_error(form, "namespace")
    run_async(ui_engine.create_namespace("later"))
    line.selectAll()
    qtbot.keyClicks(line, "later")
    assert visible_error(form, "namespace") == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("app", "'app' has no '=': write key=value pairs separated by commas"),
        ("app=web, app=db", "'app' is given twice"),
        ("-bad=x", "'-bad': key name must be alphanumerics"),
        ("app=two words", "'app': value must be empty or alphanumerics"),
        ("Example.COM/tier=x", "'Example.COM/tier': key prefix must be a DNS subdomain"),
    ],
)
def test_label_problems_show_under_the_field(
    bridge: EngineBridge, ui_engine: Engine, qtbot: QtBot, typed: str, expected: str
) -> None:
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(child(form, QLineEdit, "name"), "p1")
    fill_row(qtbot, form, "containers", 0, name="c", image="busybox", cpu="1")
    labels: QLineEdit = child(form, QLineEdit, "labels")
    qtbot.keyClicks(labels, typed)
    assert expected in visible_error(form, "labels")
    assert expected in labels.toolTip()
    submit: QPushButton = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    assert form.isVisible() and not ui_engine.cluster.state.pods
    labels.selectAll()
    qtbot.keyClicks(labels, "app=web,")  # a trailing comma is fine
    assert visible_error(form, "labels") == "" and submit.isEnabled()


NAMESPACED = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: team-a
  labels: {app: api, tier: back}
  annotations: {owner: "ops team, room 4"}
spec:
  containers:
  - {name: api, image: "python:3.12", resources: {requests: {cpu: 250m}}}
"""


def test_yaml_metadata_picks_the_namespace_and_labels(
    bridge: EngineBridge,
    workers: list[str],
    ui_engine: Engine,
    qtbot: QtBot,
    run_async: Callable[..., Any],
) -> None:
    run_async(ui_engine.create_namespace("team-a"))
    form = open_form(qtbot, bridge)
    child(form, QTabWidget, "tabs").setCurrentIndex(1)
    child(form, QPlainTextEdit, "yaml").setPlainText(NAMESPACED)
    click(qtbot, form, "apply_yaml")
    assert visible_error(form, "yaml") == ""
    assert child(form, QLabel, "yaml_note").text() == ""  # all of it is used
    assert namespace_combo(form).currentText() == "team-a"
    assert child(form, QLineEdit, "labels").text() == "app=api, tier=back"
    annotations: QLabel = child(form, QLabel, "annotations")
    assert annotations.isVisible() and annotations.text() == "owner=ops team, room 4"
    qtbot.mouseClick(child(form, QPushButton, "submit"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = bridge.pods()
    assert (pod.namespace, pod.name) == ("team-a", "api")
    assert pod.labels == {"app": "api", "tier": "back"}
    assert pod.annotations == {"owner": "ops team, room 4"}


def test_yaml_label_problems_name_the_manifest_key(bridge: EngineBridge, qtbot: QtBot) -> None:
    form = open_form(qtbot, bridge)
    tabs: QTabWidget = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    child(form, QPlainTextEdit, "yaml").setPlainText(
        NAMESPACED.replace("tier: back", "-tier: back").replace("team-a", "default")
    )
    click(qtbot, form, "apply_yaml")
    assert "metadata.labels: '-tier': key name must be" in visible_error(form, "yaml")
    assert tabs.currentIndex() == 1
    assert not child(form, QPushButton, "submit").isEnabled()


def test_the_form_opens_with_the_keyboard_in_its_first_field(
    qtbot: QtBot, bridge: EngineBridge
) -> None:
    form = open_form(qtbot, bridge)
    name = child(form, QLineEdit, "name")
    qtbot.waitUntil(name.hasFocus)
    qtbot.keyClicks(QApplication.focusWidget(), "web")  # type: ignore[no-untyped-call]
    assert name.text() == "web"


def test_a_secret_typed_into_the_key_column_is_refused_not_sent(
    bridge: EngineBridge, qtbot: QtBot, workers: list[str]
) -> None:
    """The Key is the variable's name: a secret typed there (with spaces, or with the value
    left empty) is refused at its cell, the message never repeats it, and the value column of
    a secret row is masked."""
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(child(form, QLineEdit, "name"), "api")
    fill_row(qtbot, form, "containers", 0, name="app", image="nginx:latest", cpu="500m")
    click(qtbot, form, "add_config")
    config = table(form, "config")
    fill_row(qtbot, form, "config", 0, name="token", type="secret", key="my pass 42!")
    value = config.cellWidget(0, 3)
    assert isinstance(value, QLineEdit) and value.echoMode() == QLineEdit.EchoMode.Password
    submit = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    assert (0, 2) in marked_cells(config)
    shown = visible_error(form, "config")
    assert "Row 1, Key: must be an environment variable name" in shown
    assert "Row 1, Value: a secret needs a value" in shown
    # A key that looks like a name still leaves the secret without a value: refused too.
    edit_cell(qtbot, form, "config", 0, "key", "hunter2")
    assert visible_error(form, "config") == (
        "Row 1, Value: a secret needs a value (the key is the variable's name)"
    )
    assert not submit.isEnabled()
    assert not any("my pass 42!" in text for text in all_visible_text(form) if text != "hunter2")
    edit_cell(qtbot, form, "config", 0, "key", "API_TOKEN")
    edit_cell(qtbot, form, "config", 0, "value", SECRET)
    assert value.displayText() != SECRET
    qtbot.waitUntil(submit.isEnabled)
    with qtbot.waitSignal(form.finished, timeout=10000):
        click(qtbot, form, "submit")
    (pod,) = bridge.pods()
    (item,) = pod.spec.config
    assert (item.key, item.value, item.is_secret) == ("API_TOKEN", SECRET, True)
