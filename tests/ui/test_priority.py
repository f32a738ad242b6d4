"""The pod form's Priority class choice (an unknown class named inline, the created pod's
priority) and a preemption's victims and per-node outcomes in the pod's details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QToolButton,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.priority import PriorityClassSpec
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from tests.ui import helpers
from tests.ui.helpers import child
from tests.ui.test_pod_form import fill_row, open_form, visible_error


def nodes_ready(qtbot: QtBot, engine: Engine, run_async: Callable[..., Any],
                *bodies: dict[str, Any]) -> None:  # fmt: skip
    for body in bodies:
        run_async(engine.create_node_from_json(body))
    qtbot.waitUntil(
        lambda: all(n.status == "healthy" for n in engine.cluster.node_views()), timeout=10_000
    )


def test_the_form_sends_the_chosen_class_and_names_an_unknown_one(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    nodes_ready(qtbot, ui_engine, run_async, {"name": "w1", "cpu_cores_avail": 2})
    run_async(ui_engine.create_priority_class(PriorityClassSpec("high", 1000)))
    form = open_form(qtbot, bridge)
    combo = child(form, QComboBox, "priority_class_name")
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "", "high", "system-cluster-critical", "system-node-critical",
    ]  # fmt: skip
    qtbot.keyClicks(child(form, QLineEdit, "name"), "vip")
    fill_row(qtbot, form, "containers", 0, name="web", image="nginx", cpu="1")
    line = combo.lineEdit()
    assert line is not None
    qtbot.keyClicks(line, "gold")
    assert visible_error(form, "priority_class_name") == (
        "there is no PriorityClass 'gold'; pick one from the list"
    )
    submit = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    line.selectAll()
    qtbot.keyClicks(line, "high")
    qtbot.waitUntil(lambda: submit.isEnabled())
    assert visible_error(form, "priority_class_name") == ""
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = bridge.pods()
    assert (pod.spec.priority_class_name, pod.spec.priority) == ("high", 1000)


def test_the_details_show_priority_and_a_preemptions_victims(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    nodes_ready(qtbot, ui_engine, run_async, {"name": "w1", "cpu_cores_avail": 2},
                {"name": "w2", "cpu_cores_avail": 2})  # fmt: skip
    for name, value in (("low", 10), ("mid", 50), ("high", 1000)):
        run_async(ui_engine.create_priority_class(PriorityClassSpec(name, value)))

    def pod(name: str, cls: str) -> dict[str, Any]:
        return {"name": name, "cpu_cores_req": 2, "priority_class_name": cls,
                "containers": [{"name": "c", "image": "nginx"}]}  # fmt: skip

    run_async(ui_engine.create_pod_from_json(pod("mid-1", "mid")))
    run_async(ui_engine.create_pod_from_json(pod("low-1", "low")))
    vip = run_async(ui_engine.create_pod_from_json(pod("vip", "high"))).view
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_item(TreeItem(ItemKind.POD, vip.id))
    priority = child(panel, QLabel, "PodPriority")
    qtbot.waitUntil(lambda: priority.text() == "1,000 (high)")
    summary = child(panel, QLabel, "PreemptionSummary")
    assert summary.isVisible()
    assert "Preempted default/low-1 on <b>" in summary.text()
    table = child(panel, Table, "PreemptionNodes")
    shown = dict(zip(table.texts(0), zip(table.texts(1), table.texts(2), strict=True),
                     strict=True))  # fmt: skip
    low_node = next(n for n, (what, _) in shown.items() if what == "chosen")
    assert shown[low_node] == ("chosen", "default/low-1 (10)")
    other = next(n for n in shown if n != low_node)
    assert shown[other] == ("would need", "default/mid-1 (50)")
    assert vip.node_name == low_node


def test_a_manifests_priority_class_name_fills_the_choice(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    run_async(ui_engine.create_priority_class(PriorityClassSpec("high", 1000)))
    form = open_form(qtbot, bridge)
    yaml_edit = child(form, QPlainTextEdit, "yaml")
    yaml_edit.setPlainText(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: vip}\nspec:\n"
        "  priorityClassName: high\n  containers:\n  - {name: c, image: nginx}\n"
    )
    qtbot.mouseClick(child(form, QPushButton, "apply_yaml"), Qt.MouseButton.LeftButton)
    combo = child(form, QComboBox, "priority_class_name")
    qtbot.waitUntil(lambda: combo.currentText() == "high")
    assert form.editor.body()["priority_class_name"] == "high"
    assert "priorityClassName" not in child(form, QLabel, "unused_fields").text()


def test_placement_rows_make_the_pods_affinity_and_spread(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    nodes_ready(qtbot, ui_engine, run_async,
                {"name": "w1", "cpu_cores_avail": 2, "labels": {"zone": "a"}},
                {"name": "w2", "cpu_cores_avail": 2, "labels": {"zone": "b"}})  # fmt: skip
    form = open_form(qtbot, bridge)
    qtbot.keyClicks(child(form, QLineEdit, "name"), "web-1")
    fill_row(qtbot, form, "containers", 0, name="web", image="nginx", cpu="0.5")
    toggle = child(form, QToolButton, "placement_toggle")
    assert not toggle.isChecked() and not child(form, QTableWidget, "interpod").isVisible()
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    terms = child(form, QTableWidget, "interpod")
    assert terms.isVisible()
    spread = child(form, QTableWidget, "spread")
    qtbot.mouseClick(child(form, QPushButton, "add_interpod"), Qt.MouseButton.LeftButton)
    terms.cellWidget(0, 0).setCurrentText("anti-affinity")
    helpers.edit_cell(qtbot, terms, 0, 3, "app=web")
    qtbot.mouseClick(child(form, QPushButton, "add_interpod"), Qt.MouseButton.LeftButton)
    terms.cellWidget(1, 1).setCurrentText("preferred")
    helpers.edit_cell(qtbot, terms, 1, 2, "500")
    helpers.edit_cell(qtbot, terms, 1, 3, "app=cache")
    helpers.edit_cell(qtbot, terms, 1, 4, "zone")
    qtbot.mouseClick(child(form, QPushButton, "add_spread"), Qt.MouseButton.LeftButton)
    helpers.edit_cell(qtbot, spread, 0, 0, "0")
    helpers.edit_cell(qtbot, spread, 0, 3, "app=web")
    errors = visible_error(form, "interpod")
    assert "Row 2, Weight: input should be less than or equal to 100" in errors, errors
    spread_errors = visible_error(form, "spread")
    assert "Row 1, Max skew: input should be greater than or equal to 1" in spread_errors
    assert "Row 1, Topology key:" in spread_errors, spread_errors
    submit = child(form, QPushButton, "submit")
    assert not submit.isEnabled()
    helpers.edit_cell(qtbot, terms, 1, 2, "40")
    helpers.edit_cell(qtbot, spread, 0, 0, "1")
    helpers.edit_cell(qtbot, spread, 0, 1, "zone")
    qtbot.waitUntil(lambda: submit.isEnabled())
    assert visible_error(form, "interpod") == visible_error(form, "spread") == ""
    qtbot.mouseClick(submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.result() == QDialog.DialogCode.Accepted, timeout=5000)
    (pod,) = bridge.pods()
    rules = pod.spec.interpod
    assert rules is not None and rules.anti_affinity is not None and rules.affinity is not None
    (anti,) = rules.anti_affinity.required
    assert anti.topology_key == "kubernetes.io/hostname"
    assert anti.selector is not None and dict(anti.selector.match_labels) == {"app": "web"}
    ((weight, near),) = rules.affinity.preferred
    assert (weight, near.topology_key) == (40, "zone")
    (c,) = rules.spread
    assert (c.max_skew, c.topology_key, str(c.when_unsatisfiable)) == (1, "zone", "DoNotSchedule")
