"""The workload commands against a real engine, driven as a user would: the Deployment form
and its YAML tab, + and − on a selected Deployment, an edited image rolled out, pause and
resume, roll back from the history, delete with and without its pods, a stalled rollout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QListWidget,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
)
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.dialogs.deployment_form import DeploymentForm
from kube9_desktop.ui.dialogs.rollback_dialog import RollbackDialog
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.workload_cells import WColumn
from tests.ui.helpers import (
    cell,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    double_click,
    edit_cell,
    find_row,
    make_deployment,
    names_in,
    press,
    rollout_complete,
    select_workload,
    tree_model,
    type_text,
    window_fixture,  # noqa: F401
    workloads_model,
)

pytestmark = [
    # The offscreen platform cannot raise or grab for popups (menus); not a problem of ours.
    pytest.mark.qt_log_ignore("This plugin does not support"),
]

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {team: sales}
spec:
  replicas: 3
  selector:
    matchLabels: {app: shop}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  minReadySeconds: 0
  template:
    metadata:
      labels: {app: shop}
    spec:
      restartPolicy: Always
      containers:
      - name: web
        image: nginx:1.25
        resources:
          requests: {cpu: 100m, memory: 64Mi}
        ports:
        - {containerPort: 8080, name: http}
        livenessProbe:
          tcpSocket: {port: http}
          periodSeconds: 5
"""


def status(window: MainWindow, name: str) -> str:
    return str(cell(workloads_model(window), name, WColumn.STATUS))


def counts(window: MainWindow, name: str) -> tuple[str, str, str, str]:
    model = workloads_model(window)
    return tuple(  # type: ignore[return-value]
        str(cell(model, name, c))
        for c in (WColumn.DESIRED, WColumn.READY, WColumn.UP_TO_DATE, WColumn.AVAILABLE)
    )


def children(window: MainWindow, name: str) -> list[str]:
    model = workloads_model(window)
    index = find_row(model, name)
    return [str(model.index(r, 0, index).data()) for r in range(model.rowCount(index))]


def message(window: MainWindow) -> str:
    return child(window, QLabel, "MessageText").text()


def open_form(qtbot: QtBot, window: MainWindow) -> DeploymentForm:
    qtbot.waitUntil(lambda: window.findChild(DeploymentForm) is not None)
    form = child(window, DeploymentForm, "DeploymentForm")
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    return form


def submit(qtbot: QtBot, form: DeploymentForm) -> None:
    button = child(form, QPushButton, "submit")
    qtbot.waitUntil(button.isEnabled)
    with qtbot.waitSignal(form.accepted, timeout=5000):  # then it closes and is deleted
        click(qtbot, button)


def test_new_deployment_through_the_form(qtbot: QtBot, window: MainWindow, demo: Engine) -> None:
    click(qtbot, window.toolbar.widgetForAction(window.workload_commands.new_deployment))
    form = open_form(qtbot, window)
    type_text(qtbot, form.name, "shop")
    assert form.editor.labels.text() == "app=shop"  # the pods' labels follow the name
    type_text(qtbot, form.replicas, "2")
    type_text(qtbot, form.max_surge, "0")
    type_text(qtbot, form.max_unavailable, "0")  # both zero: the engine's rule, at the field
    assert (
        child(form, QLabel, "max_unavailable_error")
        .text()
        .startswith("max_surge and max_unavailable may not both be zero")
    )
    form.max_unavailable.clear()
    type_text(qtbot, form.max_unavailable, "1")
    tabs: QTabWidget = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    containers = child(form.editor, QTableWidget, "containers")
    edit_cell(qtbot, containers, 0, 0, "web")
    edit_cell(qtbot, containers, 0, 1, "nginx:1.25")
    edit_cell(qtbot, containers, 0, 2, "100m")
    submit(qtbot, form)

    model = workloads_model(window)
    qtbot.waitUntil(lambda: "shop" in names_in(model), timeout=5000)
    qtbot.waitUntil(lambda: counts(window, "shop") == ("2", "2/2", "2", "2"), timeout=10_000)
    assert status(window, "shop") == "complete"
    (rs,) = children(window, "shop")
    assert len(children(window, rs)) == 2  # its pods, under their ReplicaSet
    assert "Deployment shop created with 2 replica(s)" in message(window)
    d = demo.deployments()[0]
    assert (d.spec.strategy.max_surge, d.spec.strategy.max_unavailable) == (0, 1)


def test_new_deployment_from_a_yaml_manifest(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    press(qtbot, window, "Ctrl+Shift+D")
    form = open_form(qtbot, window)
    tabs: QTabWidget = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(2)
    child(form, QPlainTextEdit, "manifest").setPlainText(MANIFEST)
    click(qtbot, child(form, QPushButton, "apply_manifest"))
    assert child(form, QLabel, "manifest_error").text() == ""
    assert tabs.currentIndex() == 0  # filled without a problem: back to the fields
    assert (form.name.text(), form.replicas.text(), form.labels.text()) == (
        "shop",
        "3",
        "team=sales",
    )
    note = child(form, QLabel, "manifest_note").text()
    assert "spec.template.spec.restartPolicy" in note
    probes = child(form.editor, QTableWidget, "containers").item(0, 6).text()
    assert probes == "ports 8080/http · liveness tcp :http"
    submit(qtbot, form)
    qtbot.waitUntil(lambda: "shop" in names_in(workloads_model(window)), timeout=5000)
    (d,) = demo.deployments()
    container = d.spec.template.containers[0]
    assert [p.container_port for p in container.ports] == [8080]
    assert container.liveness is not None and container.liveness.period_s == 5
    assert d.spec.labels == {"team": "sales"} and d.spec.replicas == 3


def test_scale_up_and_down_with_plus_minus_and_the_context_menu(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    d_id = make_deployment(run_async, demo, "api", 2)
    select_workload(qtbot, window, "api")
    a = window.workload_commands
    assert a.scale_up.isEnabled() and a.scale_down.isEnabled()
    assert not window.commands.delete.isEnabled()  # the node tree's Delete steps aside
    press(qtbot, window, "+")
    press(qtbot, window, "+")
    qtbot.waitUntil(lambda: counts(window, "api")[0] == "4", timeout=5000)
    qtbot.waitUntil(lambda: counts(window, "api") == ("4", "4/4", "4", "4"), timeout=10_000)
    press(qtbot, window, "-")
    qtbot.waitUntil(lambda: demo.deployment(d_id).spec.replicas == 3, timeout=5000)
    assert "scaled 4 → 3" in message(window)

    tree = window.workloads.tree
    index = find_row(tree.model(), "api")
    tree.customContextMenuRequested.emit(tree.visualRect(index).center())
    menu = child(window, QMenu, "WorkloadsContextMenu")
    qtbot.waitUntil(menu.isVisible)
    down = a.scale_down
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(down).center())
    qtbot.waitUntil(lambda: demo.deployment(d_id).spec.replicas == 2, timeout=5000)
    qtbot.waitUntil(lambda: counts(window, "api")[0] == "2", timeout=5000)
    assert QApplication.activePopupWidget() is None


def test_edit_the_image_rolls_out_a_new_replicaset(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    d_id = make_deployment(run_async, demo, "web", 3, image="nginx:1.25")
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    select_workload(qtbot, window, "web")
    (old,) = children(window, "web")

    press(qtbot, window, "Ctrl+E")  # unchanged, Save changes nothing: no rollout
    form = open_form(qtbot, window)
    assert form.change.text() == "Nothing changed yet."
    submit(qtbot, form)
    qtbot.waitUntil(lambda: "nothing changed" in message(window))
    assert len(demo.deployment(d_id).replicaset_ids) == 1

    press(qtbot, window, "Ctrl+E")
    form = open_form(qtbot, window)
    assert not form.name.isEnabled()  # a Deployment keeps its name and selector
    child(form, QTabWidget, "tabs").setCurrentIndex(1)
    edit_cell(qtbot, child(form.editor, QTableWidget, "containers"), 0, 1, "nginx:1.26")
    child(form, QTabWidget, "tabs").setCurrentIndex(0)
    assert "starts a rollout (app: image nginx:1.25 → nginx:1.26)" in form.change.text()
    submit(qtbot, form)

    qtbot.waitUntil(lambda: len(children(window, "web")) == 2, timeout=5000)  # a new row
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=15_000)
    qtbot.waitUntil(lambda: counts(window, old)[0] == "0", timeout=5000)  # the old one at 0
    new = next(n for n in children(window, "web") if n != old)
    qtbot.waitUntil(lambda: counts(window, new) == ("3", "3/3", "3", "3"), timeout=5000)
    qtbot.waitUntil(lambda: status(window, "web") == "complete", timeout=5000)
    assert "current" in str(cell(workloads_model(window), new, WColumn.INFO))
    qtbot.waitUntil(lambda: children(window, old) == [], timeout=5000)  # its pods are gone
    assert "image nginx:1.25 → nginx:1.26" in message(window)


def test_pause_holds_a_rollout_and_resume_lets_it_go(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentPatch

    d_id = make_deployment(run_async, demo, "cache", 2, image="redis:7.0")
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    select_workload(qtbot, window, "cache")
    a = window.workload_commands
    press(qtbot, window, "Ctrl+Shift+U")
    qtbot.waitUntil(lambda: status(window, "cache") == "paused", timeout=5000)
    qtbot.waitUntil(lambda: a.pause.text() == "Res&ume Rollout")  # after the change set
    assert "paused" in window.details.subtitle.text()
    patch = {"template": {"labels": {"app": "cache"}, "containers": [
        {"name": "app", "image": "redis:7.2", "cpu_req": "100m", "memory_req": "64Mi"}]}}  # fmt: skip
    run_async(demo.update_deployment(d_id, parse_body(DeploymentPatch, patch)))
    assert len(demo.deployment(d_id).replicaset_ids) == 1  # held: no new ReplicaSet

    press(qtbot, window, "Ctrl+Shift+U")
    qtbot.waitUntil(lambda: len(children(window, "cache")) == 2, timeout=5000)
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=15_000)
    qtbot.waitUntil(lambda: a.pause.text() == "Pa&use Rollout")
    assert "resumed" in message(window)


def test_roll_back_from_the_history_and_the_dialog(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentPatch

    d_id = make_deployment(run_async, demo, "web", 2, image="nginx:1.25")
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    patch = {"template": {"labels": {"app": "web"}, "containers": [
        {"name": "app", "image": "nginx:1.26", "cpu_req": "100m", "memory_req": "64Mi"}]}}  # fmt: skip
    run_async(demo.update_deployment(d_id, parse_body(DeploymentPatch, patch)))
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    select_workload(qtbot, window, "web")
    page = window.details.deployment_page
    history: Table = page.history
    qtbot.waitUntil(lambda: history.texts(0) == ["2", "1"])
    assert history.texts(4) == ["current", ""]
    assert set(page.rollback_buttons) == {1}  # no button on the current revision

    click(qtbot, page.rollback_buttons[1])
    qtbot.waitUntil(lambda: demo.deployment(d_id).revision == 3, timeout=5000)
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    d = demo.deployment(d_id)
    assert d.spec.template.containers[0].image == "nginx:1.25"
    assert len(d.replicaset_ids) == 2  # the old ReplicaSet is the new one again
    qtbot.waitUntil(lambda: history.texts(0) == ["3", "2"])  # revision 1 became 3
    assert "rolled back to revision 1" in message(window)

    press(qtbot, window, "Ctrl+Shift+B")
    qtbot.waitUntil(lambda: window.findChild(RollbackDialog) is not None)
    dialog = child(window, RollbackDialog, "RollbackDialog")
    qtbot.waitExposed(dialog)
    revisions = child(dialog, QListWidget, "revisions")
    assert revisions.currentItem().text().startswith("Revision 2 · nginx:1.26")
    assert not revisions.item(0).flags() & Qt.ItemFlag.ItemIsEnabled  # the current one
    click(qtbot, child(dialog, QPushButton, "submit"))
    qtbot.waitUntil(lambda: demo.deployment(d_id).revision == 4, timeout=5000)
    assert demo.deployment(d_id).spec.template.containers[0].image == "nginx:1.26"


@pytest.mark.parametrize("keep_pods", [False, True])
def test_delete_a_deployment_with_or_without_its_pods(
    qtbot: QtBot,
    window: MainWindow,
    demo: Engine,
    run_async: Callable[..., Any],
    keep_pods: bool,
) -> None:
    d_id = make_deployment(run_async, demo, "old-app", 2)
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    pods = [p.name for p in demo.pods() if p.owner is not None]
    select_workload(qtbot, window, "old-app")
    press(qtbot, window, "Delete")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
    box = child(window, QMessageBox, "ConfirmDelete")
    qtbot.waitExposed(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert "Its 2 pods are stopped too" in box.text()
    if keep_pods:
        click(qtbot, child(box, QCheckBox, "KeepPods"))
    click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: "old-app" not in names_in(workloads_model(window)), timeout=5000)
    assert demo.deployments() == [] and demo.replicasets() == []
    nodes_tree = tree_model(window)
    if keep_pods:
        assert set(pods) <= names_in(nodes_tree)  # they run on as pods of their own
        assert all(p.owner is None for p in demo.pods() if p.name in pods)
        assert "its pods were kept" in message(window)
    else:
        qtbot.waitUntil(lambda: not set(pods) & names_in(nodes_tree), timeout=5000)
        assert "2 pod(s) deleted" in message(window)


def test_a_stalled_rollout_is_shown_stalled_with_why(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    # 6 CPU per pod: more than any worker has; the deadline is 1 s.
    make_deployment(run_async, demo, "huge", 2, cpu="6", progress_deadline_seconds=1)
    select_workload(qtbot, window, "huge")
    qtbot.waitUntil(lambda: status(window, "huge") == "stalled", timeout=10_000)
    index = find_row(workloads_model(window), "huge").siblingAtColumn(WColumn.STATUS)
    assert index.data(Qt.ItemDataRole.ForegroundRole).name() == "#d9534f"
    page = window.details.deployment_page
    qtbot.waitUntil(lambda: "ProgressDeadlineExceeded" in page.rollout.text(), timeout=5000)
    stall = page.stall.text()
    assert stall.startswith("No progress within the deadline.")
    assert "2 pods: no node fits (worker-1: insufficient cpu: requested 6" in stall
    assert "ProgressDeadlineExceeded" in page.conditions.texts(2)
    rs = children(window, "huge")[0]
    assert [str(cell(workloads_model(window), p, WColumn.STATUS)) for p in children(window, rs)] == [
        "pending", "pending"
    ]  # fmt: skip


def test_selection_survives_tab_switches_and_events_select_the_deployment(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    make_deployment(run_async, demo, "blue", 1)
    select_workload(qtbot, window, "blue")
    window.trees.setCurrentWidget(window.cluster)
    qtbot.waitUntil(lambda: window.details.title.text() != "blue")
    window.trees.setCurrentWidget(window.workloads)
    qtbot.waitUntil(lambda: window.details.title.text() == "blue")
    window.workloads.clear_selection()
    window.trees.setCurrentWidget(window.cluster)
    from kube9_desktop.ui.models.events import EVENT_ROLE

    table = window.events.table
    model = table.model()
    row = next(
        r for r in range(model.rowCount(QModelIndex()))
        if model.index(r, 0).data(EVENT_ROLE).kind == "deployment_created"
    )  # fmt: skip
    index = model.index(row, 1)
    table.scrollTo(index)
    double_click(qtbot, table.viewport(), table.visualRect(index).center())
    qtbot.waitUntil(lambda: window.trees.currentWidget() is window.workloads)
    qtbot.waitUntil(lambda: window.details.title.text() == "blue")
