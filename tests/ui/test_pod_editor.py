"""PodEditor on its own in a plain QDialog: what a Deployment form will embed as its pod
template. It fills, validates and shows its problems itself; the host only reads body()."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.ui.dialogs._fields import Checked
from kube9_desktop.ui.dialogs.pod_editor import PodEditor
from kube9_desktop.ui.dialogs.pod_form import PodForm
from kube9_desktop.ui.dialogs.pod_manifest import PodDraft
from tests.ui.fake_bridge import FakeBridge
from tests.ui.helpers import click, edit_cell

DRAFT = PodDraft(
    name="web",
    namespace="team-a",
    labels={"app": "web"},
    containers=[{"name": "nginx", "image": "nginx:latest", "cpu": "500m", "memory": "128"}],
)


@pytest.fixture
def fake() -> FakeBridge:
    """A cluster with namespace team-a, where a pod named "taken" already lives."""
    bridge = FakeBridge()
    bridge.attach_fake()
    worker = bridge.add_node("w1")
    bridge.add_pod("taken", worker, namespace="team-a")
    return bridge


def host(qtbot: QtBot, editor: PodEditor) -> QDialog:
    """A plain dialog holding nothing but the editor, shown and active."""
    dialog = QDialog()
    qtbot.addWidget(dialog)
    QVBoxLayout(dialog).addWidget(editor)
    dialog.resize(820, 560)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def shown(editor: PodEditor, name: str) -> str:
    label = editor.findChild(QLabel, f"{name}_error")
    assert label is not None, name
    return label.text() if label.isVisible() else ""


def line(editor: PodEditor, name: str) -> QLineEdit:
    widget = editor.findChild(QLineEdit, name)
    assert widget is not None, name
    return widget


def test_the_editor_works_in_a_plain_dialog(fake: FakeBridge, qtbot: QtBot) -> None:
    editor = PodEditor(fake)
    _dialog = host(qtbot, editor)  # held: the dialog owns the editor
    assert shown(editor, "name") == ""  # nothing is red before the user touched it
    with qtbot.waitSignal(editor.validated) as checked:
        editor.fill(DRAFT)
    assert checked.args == [Checked()]
    assert editor.body() == {
        "name": "web",
        "namespace": "team-a",
        "labels": {"app": "web"},
        "containers": [
            {"name": "nginx", "image": "nginx:latest", "cpu_req": "500m", "memory_req": 128}
        ],
    }
    # Edits: the editor marks its own fields and tells its host.
    name = line(editor, "name")
    name.selectAll()
    seen: list[Checked] = []
    editor.validated.connect(seen.append)
    qtbot.keyClicks(name, "taken")
    assert len(seen) == len("taken")  # one check per keystroke
    problem = "a pod named 'taken' already exists in namespace 'team-a'"
    assert problem in shown(editor, "name") and problem in seen[-1].shown["name"]
    labels = line(editor, "labels")
    qtbot.keyClicks(labels, ", Tier=x y")
    assert "'Tier': value must be empty or alphanumerics" in shown(editor, "labels")
    table = editor.findChild(QTableWidget, "containers")
    assert table is not None
    edit_cell(qtbot, table, 0, 2, "lots")
    assert "Row 1, CPU: 'lots' is not a quantity" in shown(editor, "containers")
    assert set(editor.validation_errors()) == {"name", "labels", "containers[0].cpu"}
    # Fixing them leaves a body the engine would take.
    name.selectAll()
    qtbot.keyClicks(name, "api")
    labels.selectAll()
    qtbot.keyClicks(labels, "app=api")
    table.item(0, 2).setText("")
    edit_cell(qtbot, table, 0, 2, "1")
    assert editor.validation_errors() == {}
    assert all(shown(editor, n) == "" for n in ("name", "labels", "containers"))
    body = editor.body()
    assert (body["name"], body["labels"], body["containers"][0]["cpu_req"]) == (
        "api",
        {"app": "api"},
        1,
    )


def test_errors_are_shown_in_full_when_the_host_asks(fake: FakeBridge, qtbot: QtBot) -> None:
    editor = PodEditor(fake)
    _dialog = host(qtbot, editor)
    checked = editor.check()
    assert checked.errors and not checked.shown  # wrong, but untouched: nothing red yet
    checked = editor.check(everything=True)
    assert "name" in checked.shown and shown(editor, "name") == "must not be empty"
    assert "Containers: list should have at least 1 item" in shown(editor, "containers")


def test_template_mode_has_no_name_or_namespace(fake: FakeBridge, qtbot: QtBot) -> None:
    editor = PodEditor(fake, template=True)
    _dialog = host(qtbot, editor)
    assert not line(editor, "name").isVisible()
    namespace = editor.findChild(QComboBox, "namespace")
    assert namespace is not None and not namespace.isVisible()
    editor.fill(DRAFT)
    assert editor.validation_errors() == {}
    body = editor.body()
    assert "name" not in body and "namespace" not in body
    assert body["labels"] == {"app": "web"} and body["containers"][0]["name"] == "nginx"
    # A manifest's name and namespace are said to be left out.
    editor.tabs.setCurrentIndex(1)
    yaml = editor.findChild(QPlainTextEdit, "yaml")
    assert yaml is not None
    yaml.setPlainText(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: one, namespace: team-a, labels: {a: b}}\n"
        "spec:\n  containers:\n  - {name: c, image: busybox, resources: {requests: {cpu: 1}}}\n"
    )
    apply = editor.findChild(QPushButton, "apply_yaml")
    assert apply is not None
    click(qtbot, apply)
    note = editor.findChild(QLabel, "yaml_note")
    assert note is not None
    assert "metadata.name" in note.text() and "metadata.namespace" in note.text()
    assert editor.body()["labels"] == {"a": "b"} and editor.validation_errors() == {}


def test_the_form_is_this_editor_inside_the_skeleton(fake: FakeBridge, qtbot: QtBot) -> None:
    form = PodForm(fake)
    qtbot.addWidget(form)
    assert form.findChild(PodEditor) is form.editor
    form.fill(DRAFT)
    assert form.body() == form.editor.body()


def test_a_manifests_placement_rules_go_into_the_body(fake: FakeBridge, qtbot: QtBot) -> None:
    """Applied YAML with affinity and spread: the body carries them as request fields, and a
    bad one is refused by the engine's own validation, named by its manifest key."""
    editor = PodEditor(fake)
    _dialog = host(qtbot, editor)
    editor.tabs.setCurrentIndex(1)
    yaml = editor.findChild(QPlainTextEdit, "yaml")
    assert yaml is not None
    yaml.setPlainText(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, labels: {app: web}}\n"
        "spec:\n  containers:\n  - {name: c, image: busybox, resources: {requests: {cpu: 1}}}\n"
        "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      - labelSelector: {matchLabels: {app: web}}\n"
        "        topologyKey: kubernetes.io/hostname\n"
        "  topologySpreadConstraints:\n"
        "  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}\n"
    )
    apply = editor.findChild(QPushButton, "apply_yaml")
    assert apply is not None
    click(qtbot, apply)
    body = editor.body()
    assert body["pod_anti_affinity"] == {"required": [{
        "label_selector": {"match_labels": {"app": "web"}},
        "topology_key": "kubernetes.io/hostname",
    }], "preferred": []}  # fmt: skip
    assert body["topology_spread_constraints"] == [
        {"max_skew": 1, "topology_key": "zone", "when_unsatisfiable": "ScheduleAnyway"}
    ]
    assert editor.validation_errors() == {}
    yaml.setPlainText(yaml.toPlainText().replace("maxSkew: 1", "maxSkew: 0"))
    click(qtbot, apply)
    errors = editor.validation_errors()
    assert errors == {
        "(form)": "topology_spread_constraints[0].max_skew: input should be greater than or "
        "equal to 1"
    }
