"""The events dock follows new events until the user scrolls back (a visible Follow toggle),
and repeats of one object's event count in one row ("×N"), drift included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.event_dock import EventDock
from kube9_desktop.ui.models.events import COUNT_ROLE
from tests.ui.helpers import child


@pytest.fixture
def w1(ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot) -> Any:
    done = run_async(ui_engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}))
    qtbot.waitUntil(lambda: ui_engine.cluster.node_views()[0].status == "healthy", timeout=5000)
    return ui_engine.cluster.node(done.view.id)


def open_dock(qtbot: QtBot, bridge: EngineBridge) -> EventDock:
    dock = EventDock(bridge)
    qtbot.addWidget(dock)
    dock.resize(900, 260)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


def drift(engine: Engine, node: Any, ids: str) -> None:
    engine.cluster.record_event(
        EventKind.DRIFT,
        f"Node {node.name} reports pods {ids} (books: none); the books stand and the node is "
        "sent its desired pods",
        node=node,
    )


def test_repeated_drift_collapses_into_one_counted_row(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, w1: Any
) -> None:
    dock = open_dock(qtbot, bridge)
    before = dock.model.rowCount()
    for ids in ("1, 2", "1, 2, 3", "4"):
        drift(ui_engine, w1, ids)
    model = dock.model
    qtbot.waitUntil(lambda: model.index(model.rowCount() - 1, 0).data(COUNT_ROLE) == 3)
    assert model.rowCount() == before + 1
    last = model.index(model.rowCount() - 1, 4).data()
    assert last.startswith("×3") and "pods 4" in last  # the newest words, counted
    # Another kind, or the same kind on another object, is a row of its own.
    ui_engine.cluster.record_event(EventKind.RUNTIME, "something else", node=w1)
    qtbot.waitUntil(lambda: model.rowCount() == before + 2)


def test_follow_stops_when_scrolled_back_and_resumes_from_the_toggle(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, w1: Any
) -> None:
    dock = open_dock(qtbot, bridge)
    follow = child(dock, QToolButton, "EventFollow")
    assert follow.isVisible() and follow.isChecked()
    for i in range(60):
        ui_engine.cluster.record_event(EventKind.RUNTIME, f"line {i}", node=w1)
    bar = dock.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 10 and bar.value() == bar.maximum())
    assert follow.text() == "● Following"
    bar.setValue(0)  # the user scrolls back to read
    assert not follow.isChecked() and follow.text() == "Follow"
    ui_engine.cluster.record_event(EventKind.RUNTIME, "newer", node=w1)
    qtbot.waitUntil(lambda: dock.model.index(dock.model.rowCount() - 1, 4).data() == "newer")
    assert bar.value() == 0 and not follow.isChecked()  # left where the user reads
    qtbot.mouseClick(follow, Qt.MouseButton.LeftButton)
    assert follow.isChecked() and bar.value() == bar.maximum()
    ui_engine.cluster.record_event(EventKind.RUNTIME, "newest", node=w1)
    qtbot.waitUntil(lambda: dock.model.index(dock.model.rowCount() - 1, 4).data() == "newest")
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert follow.isChecked()


def test_details_show_the_objects_own_events(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Any, w1: Any
) -> None:
    from kube9_desktop.ui.details import DetailsPanel
    from kube9_desktop.ui.details_table import Table
    from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
    from tests.ui.helpers import make_deployment

    body = {"name": "solo", "containers": [{"name": "c", "image": "x", "cpu_req": 0.1}]}
    pod = run_async(ui_engine.create_pod_from_json(body)).view
    make_deployment(run_async, ui_engine, "shop", replicas=1)
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(500, 800)
    panel.show()
    table = child(panel, Table, "ObjectEventsTable")

    def messages() -> list[str]:
        return [table.item(r, 2).text() for r in range(table.rowCount())]

    panel.show_item(TreeItem(ItemKind.POD, pod.id))
    qtbot.waitUntil(lambda: any("solo" in m for m in messages()), timeout=5000)
    assert all("shop" not in m for m in messages())  # only this pod's
    ui_engine.cluster.record_event(
        EventKind.RUNTIME, "solo: a new word", pod=ui_engine.cluster.pod(pod.id)
    )
    qtbot.waitUntil(lambda: "solo: a new word" in messages(), timeout=5000)
    (deployment,) = bridge.deployments()
    panel.show_item(TreeItem(ItemKind.DEPLOYMENT, deployment.id))
    qtbot.waitUntil(lambda: any("shop" in m for m in messages()), timeout=5000)
    assert all("solo" not in m for m in messages())
