"""The details' tables in a narrow pane (about 330 px at 1024x700): one line per row, long
text elided with all of it in the tooltip, and no table wider than the pane."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from tests.ui.helpers import child

DB_URL = "postgresql://user@db.example.com:5432/application_production?sslmode=require"
LONG_POD = {
    "name": "long-pod",
    "cpu_cores_req": 2.5,
    "containers": [
        {
            "name": "application-server",
            "image": "registry.example.com/team/application-server:1.2.3",
            "command": "python3",
            "args": ["-m", "http.server", "--bind", "0.0.0.0", "8080"],
            "cpu_req": 2,
            "memory_req": 512,
        },
        {"name": "sidecar-log-shipper", "image": "fluent/fluent-bit:latest", "cpu_req": 0.5},
    ],
    "volumes": [
        {"name": "data", "type": "emptyDir", "size": 2, "path": "/var/lib/application/data/cache"}
    ],
    "config": [{"name": "database-url", "type": "env", "key": "DATABASE_URL", "value": DB_URL}],
}
TABLES = ("PodContainers", "PodVolumes", "PodConfig", "SchedulingCandidates")


def long_pod_panel(
    qtbot: QtBot, engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any], width: int
) -> DetailsPanel:
    """The details of a pod with long names, paths and values that fits one node of three."""
    for name, cores in (("small-1", 1), ("small-2", 2), ("big", 4)):
        run_async(engine.create_node_from_json({"name": name, "cpu_cores_avail": cores}))
    qtbot.waitUntil(
        lambda: all(n.status is NodeStatus.HEALTHY for n in engine.cluster.node_views()),
        timeout=10_000,
    )
    pod = run_async(engine.create_pod_from_json(LONG_POD)).view
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(width, 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_item(TreeItem(ItemKind.POD, pod.id))
    return panel


def test_a_narrow_pane_shows_each_row_on_one_line_with_the_rest_in_tooltips(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    panel = long_pod_panel(qtbot, ui_engine, bridge, run_async, width=330)
    room = panel.scroll_area.viewport().width()
    for name in TABLES:
        table = child(panel, Table, name)
        line = table.fontMetrics().height()
        # As tall as its rows (and a sideways scroll bar if it needs one): nothing hides.
        qtbot.waitUntil(
            lambda t=table: (
                t.rowCount() > 0
                and t.width() <= room
                and t.viewport().height() >= sum(t.rowHeight(r) for r in range(t.rowCount()))
            )
        )
        assert not table.wordWrap(), name
        for row in range(table.rowCount()):
            assert table.rowHeight(row) < 2 * line, (name, row)  # one line, not six
            for column in range(table.columnCount()):
                item = table.item(row, column)
                assert item is not None
                assert "\n" not in item.text(), (name, item.text())
                assert item.toolTip() or not item.text(), (name, item.text())

    containers = child(panel, Table, "PodContainers")
    server = containers.item(0, 0)
    assert server is not None and server.text().startswith("application-server")
    tip = server.toolTip()
    assert "registry.example.com/team/application-server:1.2.3" in tip and "8080" in tip
    width = containers.columnWidth(0)
    assert containers.fontMetrics().horizontalAdvance(server.text()) > width  # it is elided

    config = child(panel, Table, "PodConfig")
    value = config.item(0, 3)
    assert value is not None and value.toolTip() == DB_URL

    candidates = child(panel, Table, "SchedulingCandidates")
    assert candidates.texts(0) == ["big", "small-1", "small-2"]
    reasons = candidates.item(2, 3)
    assert reasons is not None
    assert reasons.toolTip().startswith("insufficient cpu: requested 2.5, free 2")
    # The reasons column gets the room the short columns leave, at least a few words' worth.
    assert candidates.columnWidth(3) >= candidates.fontMetrics().horizontalAdvance("x" * 12)


def test_a_wide_pane_shows_the_same_rows_whole(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    panel = long_pod_panel(qtbot, ui_engine, bridge, run_async, width=900)
    config = child(panel, Table, "PodConfig")
    qtbot.waitUntil(lambda: config.rowCount() == 1)
    value = config.item(0, 3)
    assert value is not None
    qtbot.waitUntil(lambda: config.columnWidth(3) >= config.fontMetrics().horizontalAdvance(DB_URL))
    assert config.horizontalScrollBarPolicy() is not Qt.ScrollBarPolicy.ScrollBarAlwaysOn
    assert not config.horizontalScrollBar().isVisible()
