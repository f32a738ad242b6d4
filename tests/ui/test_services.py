"""Services in the window against a real engine, driven as a user would: the Service form
(fields, ports table, YAML tab), the Services tab (Service -> endpoints, live as pods become
ready or go), the details, edit and delete, View YAML read back, and the export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
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
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.dialogs.service_form import ServiceForm
from kube9_desktop.ui.dialogs.service_manifest import read_service_manifest
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.service_cells import SColumn
from kube9_desktop.ui.models.service_tree import ServiceTreeModel
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.palette import CommandPalette
from kube9_desktop.ui.yaml_view import YamlView
from tests.ui.helpers import (
    cell,
    check_model,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    edit_cell,
    find_row,
    make_deployment,
    names_in,
    press,
    type_text,
    window_fixture,  # noqa: F401
)

pytestmark = [
    # The offscreen platform cannot raise or grab for popups (menus); not a problem of ours.
    pytest.mark.qt_log_ignore("This plugin does not support"),
]

MANIFEST = """
apiVersion: v1
kind: Service
metadata:
  name: shop
  labels: {team: sales}
spec:
  type: NodePort
  clusterIP: 10.0.0.1
  selector: {app: shop}
  externalTrafficPolicy: Local
  ports:
  - {name: http, port: 80, targetPort: 8080, nodePort: 30080}
  - {name: admin, port: 9000, targetPort: 9000, appProtocol: http}
"""


def make_service(run_async: Callable[..., Any], engine: Engine, name: str, **body: Any) -> int:
    """Create a Service through the engine (as the API would): app=<name>, port 80 -> 8080."""
    full = {"name": name, "selector": {"app": name}, "ports": [{"port": 80, "target_port": 8080}]}
    full.update(body)
    done = run_async(engine.create_service(parse_body(ServiceCreate, full).to_spec()))
    return int(done.view.id)


def services_model(window: MainWindow) -> Any:
    return window.services.proxy


def show_services(qtbot: QtBot, window: MainWindow) -> None:
    bar = window.trees.tabBar()
    click(qtbot, bar, bar.tabRect(window.trees.indexOf(window.services)).center())
    qtbot.waitUntil(lambda: window.trees.currentWidget() is window.services)


def select_service(qtbot: QtBot, window: MainWindow, name: str) -> None:
    show_services(qtbot, window)
    tree = window.services.tree
    qtbot.waitUntil(lambda: find_row(tree.model(), name).isValid(), timeout=5000)
    index = find_row(tree.model(), name)
    tree.scrollTo(index)
    click(qtbot, tree.viewport(), tree.visualRect(index).center())
    qtbot.waitUntil(lambda: window.details.title.text() == name)


def endpoints(window: MainWindow, name: str) -> list[tuple[str, str]]:
    """(pod, ready word) of each endpoint row under the Service ``name``."""
    model = services_model(window)
    index = find_row(model, name)
    if not index.isValid():
        return []
    rows = (model.index(r, 0, index) for r in range(model.rowCount(index)))
    return [(str(i.data()), str(i.siblingAtColumn(SColumn.READY).data())) for i in rows]


def open_form(qtbot: QtBot, window: MainWindow) -> ServiceForm:
    qtbot.waitUntil(lambda: window.findChild(ServiceForm) is not None)
    form = child(window, ServiceForm, "ServiceForm")
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    return form


def submit(qtbot: QtBot, form: ServiceForm) -> None:
    button = child(form, QPushButton, "submit")
    qtbot.waitUntil(button.isEnabled)
    with qtbot.waitSignal(form.accepted, timeout=5000):
        click(qtbot, button)


def message(window: MainWindow) -> str:
    return child(window, QLabel, "MessageText").text()


def test_new_service_through_the_form_shows_its_endpoints_turning_ready(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    click(qtbot, window.toolbar.widgetForAction(window.service_commands.new_service))
    form = open_form(qtbot, window)
    type_text(qtbot, form.name, "web")
    assert form.selector.text() == "app=web"  # the usual pairing with a Deployment "web"
    ports = child(form, QTableWidget, "ports")
    edit_cell(qtbot, ports, 0, 1, "80")
    edit_cell(qtbot, ports, 0, 2, "8080")
    submit(qtbot, form)
    assert "Service web created at 127.96." in message(window)

    show_services(qtbot, window)
    model = services_model(window)
    qtbot.waitUntil(lambda: "web" in names_in(model), timeout=5000)
    assert cell(model, "web", SColumn.READY) == "0/0"  # no pod carries app=web yet
    assert cell(model, "web", SColumn.PORTS) == "80→8080"
    assert cell(model, "web", SColumn.TYPE) == "ClusterIP"

    d_id = make_deployment(run_async, demo, "web", 3)
    qtbot.waitUntil(lambda: cell(model, "web", SColumn.READY) == "3/3", timeout=15_000)
    qtbot.waitUntil(lambda: [w for _p, w in endpoints(window, "web")] == ["ready"] * 3)
    pods = {p.name: p for p in demo.pods() if p.labels.get("app") == "web"}
    assert {p for p, _w in endpoints(window, "web")} == set(pods)
    first = find_row(model, next(iter(pods)))
    address = str(first.siblingAtColumn(SColumn.ADDRESS).data())
    assert address == f"{pods[first.data()].ip}:8080"

    # Scaled down: the endpoint rows go with the pods, row by row.
    run_async(demo.scale_deployment(d_id, 1))
    qtbot.waitUntil(lambda: len(endpoints(window, "web")) == 1, timeout=10_000)
    qtbot.waitUntil(lambda: cell(model, "web", SColumn.READY) == "1/1")


def test_the_details_of_a_service(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    make_deployment(run_async, demo, "api", 2)
    s_id = make_service(
        run_async, demo, "api", type="NodePort", session_affinity="ClientIP",
        ports=[{"name": "http", "port": 80, "target_port": 8080, "node_port": 30123}],
    )  # fmt: skip
    select_service(qtbot, window, "api")
    page = window.details.service_page
    assert window.details.pages.currentWidget() is page
    assert page.address.text().startswith("127.96.")
    assert page.node_ports.text() == "30123"
    assert page.affinity.text() == "ClientIP"
    assert page.selector.text() == "app=api"
    ports = child(page, Table, "ServicePorts")
    assert [ports.item(0, c).text() for c in range(4)] == ["http", "80/TCP", "8080", "30123"]
    table = child(page, Table, "ServiceEndpoints")
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: all(table.item(r, 1).text() == "ready" for r in range(2)))
    assert "2 of 2 ready" in page.state.text()
    events = child(window.details, Table, "ObjectEventsTable")
    qtbot.waitUntil(lambda: events.rowCount() >= 1)  # its "created" event
    assert "api" in events.item(0, 2).text()

    click(qtbot, window.details.yaml_button)
    qtbot.waitUntil(lambda: window.findChild(YamlView) is not None)
    view = child(window, YamlView, "YamlView")
    text = child(view, QPlainTextEdit, "yaml_text").toPlainText()
    manifest = yaml.safe_load(text)
    assert manifest["kind"] == "Service" and manifest["spec"]["type"] == "NodePort"
    view.close()

    # From the event log (an event about the Service): the Services tab shows it.
    window.trees.setCurrentWidget(window.cluster)
    window.events.item_requested.emit(TreeItem(ItemKind.SERVICE, s_id))
    qtbot.waitUntil(lambda: window.trees.currentWidget() is window.services)
    assert window.services.selected() == TreeItem(ItemKind.SERVICE, s_id)
    assert window.details.title.text() == "api"


def test_a_bad_port_is_named_at_its_cell_and_under_the_table(
    qtbot: QtBot, window: MainWindow
) -> None:
    press(qtbot, window, "Ctrl+Shift+S")
    form = open_form(qtbot, window)
    type_text(qtbot, form.name, "web")
    ports = child(form, QTableWidget, "ports")
    edit_cell(qtbot, ports, 0, 1, "70000")
    error = child(form, QLabel, "ports_error")
    qtbot.waitUntil(lambda: error.isVisible())
    assert error.text() == "Row 1, Port: input should be less than or equal to 65535"
    assert ports.item(0, 1).toolTip() == "input should be less than or equal to 65535"
    assert not child(form, QPushButton, "submit").isEnabled()

    ports.item(0, 1).setText("80")  # fixed: a node port on a ClusterIP Service is next
    ports.setColumnHidden(3, False)
    edit_cell(qtbot, ports, 0, 3, "30001")
    assert error.text().startswith("Row 1, Node port: only a NodePort Service has node ports")
    type_combo = child(form, QComboBox, "type")
    type_combo.setCurrentIndex(type_combo.findData("NodePort"))
    qtbot.waitUntil(lambda: not error.isVisible())
    assert not ports.isColumnHidden(3)

    click(qtbot, child(form, QPushButton, "add_port"))  # two ports: each needs a name
    edit_cell(qtbot, ports, 1, 1, "443")
    qtbot.waitUntil(lambda: "Row 1, Name: required when a Service has more" in error.text())
    form.reject()


def test_edit_then_delete_a_service(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    s_id = make_service(run_async, demo, "cache")
    select_service(qtbot, window, "cache")
    a = window.service_commands
    assert a.edit.isEnabled() and a.delete.isEnabled()
    assert not window.workload_commands.delete.isEnabled()  # one Delete at a time

    press(qtbot, window, "Ctrl+E")
    form = open_form(qtbot, window)
    assert not form.name.isEnabled()
    assert form.change.text() == "Nothing changed yet."
    type_combo = child(form, QComboBox, "type")
    type_combo.setCurrentIndex(type_combo.findData("NodePort"))
    qtbot.waitUntil(lambda: "type ClusterIP → NodePort" in form.change.text())
    submit(qtbot, form)
    qtbot.waitUntil(lambda: demo.service(s_id).spec.type == "NodePort", timeout=5000)
    assert demo.service(s_id).spec.ports[0].node_port == 30000  # the lowest free one
    model = services_model(window)
    qtbot.waitUntil(lambda: cell(model, "cache", SColumn.TYPE) == "NodePort")
    assert cell(model, "cache", SColumn.PORTS) == "80:30000→8080"
    qtbot.waitUntil(lambda: "type ClusterIP → NodePort" in message(window))

    window.activateWindow()
    select_service(qtbot, window, "cache")
    press(qtbot, window, "Delete")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
    box = child(window, QMessageBox, "ConfirmDelete")
    assert "Delete Service cache?" in box.text() and "30000" in box.informativeText()
    click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: "Service 'cache' deleted" in message(window), timeout=5000)
    assert demo.find_service(s_id) is None
    qtbot.waitUntil(lambda: "cache" not in names_in(model))
    qtbot.waitUntil(lambda: window.details.title.text() == "Details")  # the row left the tree


def test_a_service_from_a_yaml_manifest_lists_what_it_does_not_use(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    press(qtbot, window, "Ctrl+Shift+S")
    form = open_form(qtbot, window)
    tabs = child(form, QTabWidget, "tabs")
    tabs.setCurrentIndex(1)
    child(form, QPlainTextEdit, "manifest").setPlainText(MANIFEST)
    click(qtbot, child(form, QPushButton, "apply_manifest"))
    assert child(form, QLabel, "manifest_error").text() == ""
    assert tabs.currentIndex() == 0
    note = child(form, QLabel, "unused_fields").text()
    assert "spec.externalTrafficPolicy" in note and "spec.ports[1].appProtocol" in note
    assert "clusterIP" not in note  # the cluster's to allocate: no need to say
    assert (form.name.text(), form.selector.text(), form.labels.text()) == (
        "shop",
        "app=shop",
        "team=sales",
    )
    submit(qtbot, form)
    qtbot.waitUntil(lambda: "shop" in names_in(services_model(window)), timeout=5000)
    (svc,) = demo.services()
    assert svc.spec.type == "NodePort" and svc.spec.labels == {"team": "sales"}
    assert [(p.name, p.port, p.target_port, p.node_port) for p in svc.spec.ports] == [
        ("http", 80, 8080, 30080),
        ("admin", 9000, 9000, 30000),
    ]


def test_view_yaml_reads_back_into_the_form_and_the_export_holds_it(
    qtbot: QtBot,
    window: MainWindow,
    demo: Engine,
    run_async: Callable[..., Any],
    tmp_path: Path,
) -> None:
    s_id = make_service(
        run_async, demo, "db", ports=[{"name": "pg", "port": 5432, "target_port": "postgres"}],
        session_affinity="ClientIP", labels={"tier": "data"},
    )  # fmt: skip
    before = demo.service(s_id).spec
    select_service(qtbot, window, "db")
    press(qtbot, window, "Ctrl+Shift+Y")
    qtbot.waitUntil(lambda: window.findChild(YamlView) is not None)
    view = child(window, YamlView, "YamlView")
    text = child(view, QPlainTextEdit, "yaml_text").toPlainText()
    view.close()
    draft = read_service_manifest(text)
    assert draft.ignored == []  # what the cluster set (uid, clusterIP, status) is not listed

    written = window.manifests.export_to(tmp_path)
    path = tmp_path / "default" / "service-db.yaml"
    assert path in written
    assert yaml.safe_load(path.read_text())["spec"]["ports"][0]["targetPort"] == "postgres"

    run_async(demo.delete_service(s_id))
    press(qtbot, window, "Ctrl+Shift+S")
    form = open_form(qtbot, window)
    child(form, QTabWidget, "tabs").setCurrentIndex(1)
    child(form, QPlainTextEdit, "manifest").setPlainText(text)
    click(qtbot, child(form, QPushButton, "apply_manifest"))
    submit(qtbot, form)
    qtbot.waitUntil(lambda: len(demo.services()) == 1, timeout=5000)
    (again,) = demo.services()
    assert again.spec == before


def test_the_services_model_passes_qts_model_tester_while_endpoints_move(
    qtbot: QtBot,
    qtmodeltester: Any,
    demo_bridge: Any,
    demo: Engine,
    run_async: Callable[..., Any],
) -> None:
    model = ServiceTreeModel(demo_bridge)
    check_model(qtmodeltester, model)
    s_id = make_service(run_async, demo, "web")
    d_id = make_deployment(run_async, demo, "web", 2)
    qtbot.waitUntil(lambda: len(model.endpoint_pod_ids(s_id)) == 2, timeout=10_000)
    run_async(demo.scale_deployment(d_id, 0))
    qtbot.waitUntil(lambda: model.endpoint_pod_ids(s_id) == [], timeout=10_000)
    run_async(demo.delete_service(s_id))
    qtbot.waitUntil(lambda: model.service_ids() == [], timeout=5000)
    assert model.rowCount(QModelIndex()) == 0
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"


def test_the_palette_and_the_context_menu_reach_the_service_commands(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    press(qtbot, window, "Ctrl+K")
    qtbot.waitUntil(lambda: window.findChild(CommandPalette) is not None)
    palette = child(window, CommandPalette, "CommandPalette")
    listed = child(palette, QListWidget, "PaletteList")
    type_text(qtbot, child(palette, QLineEdit, "PaletteFilter"), "new serv")
    qtbot.waitUntil(lambda: listed.count() >= 1)
    assert listed.currentItem().text().startswith("New Service")
    qtbot.keyClick(child(palette, QLineEdit, "PaletteFilter"), Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    form = open_form(qtbot, window)
    form.reject()

    make_service(run_async, demo, "cache")
    select_service(qtbot, window, "cache")
    tree = window.services.tree
    index = find_row(tree.model(), "cache")
    tree.customContextMenuRequested.emit(tree.visualRect(index).center())
    menu = child(window, QMenu, "ServicesContextMenu")
    qtbot.waitUntil(menu.isVisible)
    edit = window.service_commands.edit
    assert edit in menu.actions() and edit.isEnabled()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(edit).center())  # type: ignore[no-untyped-call]
    form = open_form(qtbot, window)
    assert form.windowTitle() == "Edit Service cache"
    form.reject()


def test_a_crashed_node_takes_its_endpoints_away_and_the_new_pods_come_back_ready(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    s_id = make_service(run_async, demo, "web")
    make_deployment(run_async, demo, "web", 3)
    model = services_model(window)
    show_services(qtbot, window)
    qtbot.waitUntil(lambda: cell(model, "web", SColumn.READY) == "3/3", timeout=15_000)
    victim = demo.service(s_id).endpoints[0]
    lost = {e.pod_name for e in demo.service(s_id).endpoints if e.node_id == victim.node_id}
    run_async(demo.inject_fault(victim.node_id, "crash"))

    def gone_or_not_ready() -> bool:
        rows = dict(endpoints(window, "web"))
        return all(rows.get(name, "not ready") == "not ready" for name in lost)

    qtbot.waitUntil(gone_or_not_ready, timeout=15_000)  # detected: no traffic for them
    # The Deployment replaces them elsewhere; their endpoints arrive and turn ready.
    qtbot.waitUntil(lambda: cell(model, "web", SColumn.READY) == "3/3", timeout=30_000)
    assert not lost & {name for name, _w in endpoints(window, "web")}
