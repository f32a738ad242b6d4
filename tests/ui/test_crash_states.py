"""A crash loop you can see: on the real process runtime, a container that keeps exiting turns
its pod's row red with CrashLoopBackOff, and the details say how its last run ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.icons import status_color
from kube9_desktop.ui.models.tree_cells import Column, ItemKind, TreeItem
from tests.ui.helpers import find_row, process_engine_fixture  # noqa: F401


def test_a_crash_loop_turns_its_row_red_with_the_reason(
    qtbot: QtBot, process_engine: Engine, run_async: Callable[..., Any]
) -> None:
    engine = process_engine
    bridge = EngineBridge()
    bridge.attach(engine)
    panel = ClusterPanel(bridge)
    details = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    qtbot.addWidget(details)
    try:
        node = run_async(engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}))
        node_id = node.view.id
        qtbot.waitUntil(
            lambda: engine.cluster.state.nodes[node_id].status is NodeStatus.HEALTHY,
            timeout=30_000,
        )
        created = run_async(engine.create_pod_from_json({
            "name": "crasher", "cpu_cores_req": 0.2,
            "containers": [{"name": "main", "image": "python:3", "command": "python3",
                            "args": ["-c", "import sys; sys.exit(1)"]}],
        }))  # fmt: skip
        model = panel.tree.model()

        def status_cell() -> Any:
            return find_row(model, "crasher").siblingAtColumn(Column.STATUS)

        qtbot.waitUntil(lambda: status_cell().data() == "CrashLoopBackOff", timeout=30_000)
        color = status_cell().data(Qt.ItemDataRole.ForegroundRole)
        assert color == status_color("failed")
        assert "CrashLoopBackOff" in status_cell().data(Qt.ItemDataRole.ToolTipRole)

        details.show_item(TreeItem(ItemKind.POD, created.view.id))
        page = details.pod_page
        qtbot.waitUntil(lambda: "CrashLoopBackOff" in page.phase.text(), timeout=10_000)
        assert status_color("failed").name() in page.phase.text()
        state = page.containers.item(0, 1).text()
        assert state.startswith("CrashLoopBackOff") and "last Error" in state, state
    finally:
        bridge.detach()
