"""Live usage you can see: on the real process runtime a pod that burns CPU fills its bar in the
tree and in the details past half a core while an idle pod's stays near empty; memory shows a
plausible RSS; the node's row carries its pods' sum and its pod count against its limit. The
bar figures themselves (what fills, where the request marker sits) are checked on a fake
cluster, painted pixels included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.models.tree_cells import BAR_ROLE, Column, ItemKind, TreeItem
from kube9_desktop.ui.theme import USAGE_COLORS
from kube9_desktop.ui.usage_bars import BLANK, Bar, node_memory, paint_bar
from tests.ui.helpers import fake_cluster, find_row, process_engine_fixture  # noqa: F401

# Two processes (the forked one leaves when its parent does), so a busy shared machine still
# gives the pod more than half a core.
BURN = (
    "import os\nparent = os.getpid()\nif os.fork() == 0:\n    while os.getppid() == parent:\n"
    "        pass\n    raise SystemExit\nwhile True:\n    pass\n"
)
IDLE = "import time\ntime.sleep(3600)\n"


def python_pod(name: str, code: str, cpu: float) -> dict[str, Any]:
    return {
        "name": name, "cpu_cores_req": cpu,
        "containers": [{"name": "main", "image": "python:3", "command": "python3",
                        "args": ["-c", code], "memory_req": 128}],
    }  # fmt: skip


def bar_of(index: QModelIndex, column: Column) -> Bar:
    bar = index.siblingAtColumn(column).data(BAR_ROLE)
    assert isinstance(bar, Bar)
    return bar


def used(index: QModelIndex, column: Column) -> float:
    return bar_of(index, column).used or 0.0


def test_a_burning_pod_fills_its_bars_in_the_tree_and_the_details(
    qtbot: QtBot, process_engine: Engine, run_async: Callable[..., Any]
) -> None:
    engine = process_engine
    bridge = EngineBridge()
    bridge.attach(engine)
    bridge.set_tick_interval(200)
    panel = ClusterPanel(bridge)
    details = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    qtbot.addWidget(details)
    panel.resize(900, 400)
    panel.show()
    details.show()
    try:
        node = run_async(engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}))
        node_id = node.view.id
        qtbot.waitUntil(
            lambda: engine.cluster.state.nodes[node_id].status is NodeStatus.HEALTHY,
            timeout=30_000,
        )
        burner = run_async(engine.create_pod_from_json(python_pod("burner", BURN, 1.0))).view.id
        run_async(engine.create_pod_from_json(python_pod("idle", IDLE, 0.25)))
        model = panel.tree.model()

        def settled() -> bool:
            burning, idle = find_row(model, "burner"), find_row(model, "idle")
            return used(burning, Column.CPU) > 0.5 and bar_of(idle, Column.CPU).used is not None

        qtbot.waitUntil(settled, timeout=30_000)
        # The idle pod's first sample can hold its interpreter's start-up (~0.05 core): it
        # settles near zero once it only sleeps.
        qtbot.waitUntil(lambda: used(find_row(model, "idle"), Column.CPU) < 0.05, timeout=30_000)
        idle = find_row(model, "idle")
        assert 3 <= used(idle, Column.MEMORY) <= 100  # a sleeping python3: a few MB resident
        burning = bar_of(find_row(model, "burner"), Column.CPU)
        assert burning.requested == 1.0 and burning.full >= 1.0
        assert burning.text.endswith("/1")  # used/requested, no limit set
        node_row = find_row(model, "w1")
        assert used(node_row, Column.CPU) > 0.5  # its pods' sum
        assert bar_of(node_row, Column.CPU).full == 2
        assert node_row.siblingAtColumn(Column.PODS).data() == "2/110"

        details.show_item(TreeItem(ItemKind.POD, burner))
        usage = details.pod_page.usage
        qtbot.waitUntil(lambda: (usage.cpu.bar.used or 0.0) > 0.5, timeout=10_000)
        assert usage.cpu.text().endswith("/1")
        assert 3 <= (usage.memory.bar.used or 0.0) <= 100
        qtbot.waitUntil(lambda: usage.cpu_line.points[-1][1] > 0.5, timeout=10_000)
        assert "peak" in usage.cpu_line.label
        details.show_item(TreeItem(ItemKind.NODE, node_id))
        node_usage = details.node_page.usage
        qtbot.waitUntil(lambda: (node_usage.cpu.bar.used or 0.0) > 0.5, timeout=10_000)
        assert node_usage.pods.text() == "2/110"
    finally:
        bridge.detach()


def fill_color(panel: ClusterPanel, index: QModelIndex) -> QColor:
    """The colour painted a few pixels into a bar cell, at its left end (before any text)."""
    shown = panel.proxy.mapFromSource(index)
    rect = panel.tree.visualRect(shown)
    image = panel.tree.viewport().grab().toImage()
    return image.pixelColor(QPoint(rect.left() + 6, rect.center().y()))


def test_bars_paint_use_against_capacity_and_follow_each_tick(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=1, pods_per_node=2)
    panel = ClusterPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    bridge.attach_fake()
    model = panel.model
    (node,) = model.node_ids()
    over, under = model.pod_ids(node)
    bridge.set_pod_usage(over, 0.25, 40)  # request 0.1: over it
    bridge.set_pod_usage(under, 0.0, 10)
    colors = USAGE_COLORS[
        "dark" if panel.palette().color(QPalette.ColorRole.Base).lightness() < 128 else "light"
    ]
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _r: changed.append((a.column(), b.column())))
    model.refresh_volatile()  # what the bridge's tick does
    assert changed and all(a <= Column.CPU and b >= Column.PODS for a, b in changed)
    over_row = model.index_of(TreeItem(ItemKind.POD, over))
    under_row = model.index_of(TreeItem(ItemKind.POD, under))
    assert over_row.siblingAtColumn(Column.CPU).data() == "0.25/0.1"
    qtbot.waitUntil(
        lambda: fill_color(panel, over_row.siblingAtColumn(Column.CPU)) == QColor(colors["warn"])
    )
    assert fill_color(panel, under_row.siblingAtColumn(Column.CPU)) == QColor(colors["track"])
    node_cpu = bar_of(model.index_of(TreeItem(ItemKind.NODE, node)), Column.CPU)
    assert node_cpu.used == 0.25 and node_cpu.requested == 0.2 and node_cpu.full == 64
    assert node_cpu.text == "0.25/0.2 of 64"


def test_the_request_marker_ticks_the_edges_and_leaves_the_text_alone(qtbot: QtBot) -> None:
    """A line through the text read as a glyph ("1.1G|i"): the marker is two edge ticks."""
    image = QImage(200, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    palette = QPalette(QColor("white"))
    painter = QPainter(image)
    paint_bar(painter, QRect(0, 0, 200, 20), Bar(1.0, 2.0, 4.0, "1/2 of 4"), palette, False)
    painter.end()
    marker = QColor(USAGE_COLORS["light"]["marker"])
    assert image.pixelColor(100, 1) == marker and image.pixelColor(100, 18) == marker
    assert image.pixelColor(100, 10) != marker  # where the text is drawn


def test_bar_text_is_compact_and_the_tooltip_exact() -> None:
    bridge = fake_cluster(nodes=1, pods_per_node=0)
    bridge.attach_fake()
    (node_id,) = [n.id for n in bridge.nodes()]
    node = bridge.node(node_id)
    assert node is not None
    bar = node_memory(replace(node, allocated=replace(node.allocated, mem_mi=2176)), None)
    assert bar.text.startswith("–/2.1Gi of ") and "2.125Gi requested" in bar.tip


def test_a_pods_empty_pods_cell_paints_as_the_rows_background(qtbot: QtBot) -> None:
    """A pod has no pod count: its Pods cell is a blank bar, painted as the row's background
    (the selection's highlight when selected) without asking the model for every role."""
    bridge = fake_cluster(nodes=1, pods_per_node=2)
    panel = ClusterPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    bridge.attach_fake()
    model = panel.model
    (node,) = model.node_ids()
    first, second = model.pod_ids(node)
    cell = model.index_of(TreeItem(ItemKind.POD, first)).siblingAtColumn(Column.PODS)
    assert cell.data(BAR_ROLE) is BLANK and cell.data() == ""
    other = model.index_of(TreeItem(ItemKind.POD, second)).siblingAtColumn(Column.PODS)
    assert panel.select(TreeItem(ItemKind.POD, first))
    highlight = panel.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    qtbot.waitUntil(lambda: fill_color(panel, cell) != fill_color(panel, other))
    background = panel.tree.palette()
    assert fill_color(panel, other) in (
        background.color(QPalette.ColorRole.Base),
        background.color(QPalette.ColorRole.AlternateBase),
    )
    assert fill_color(panel, cell).rgb() in (highlight.rgb(), panel.tree.palette().color(
        QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight).rgb())  # fmt: skip
