"""ChartsPanel: samples into ring buffers, redraws on demand, markers from events, 1,000 nodes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import (
    ClusterSummary,
    NodeGauge,
    NodeStatus,
    NodeType,
    NodeView,
    Resources,
)
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.charts import ChartsPanel, Marker, RingBuffer
from kube9_desktop.ui.charts.markers import layout_labels
from kube9_desktop.ui.preferences import Preferences
from tests.helpers import fast_settings


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    """Fast heartbeats, but a grace period that a busy shared machine's stalls cannot reach."""
    return fast_settings(tmp_path / "data", grace_period=1.0)


def make_panel(
    qtbot: QtBot, bridge: EngineBridge, settings: Settings, prefs: Preferences | None = None
) -> ChartsPanel:
    panel = ChartsPanel(bridge, settings, prefs=prefs)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def cluster(ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot) -> Engine:
    """Two healthy 2-core workers, a master, and two pods."""
    for body in (
        {"name": "w1", "cpu_cores_avail": 2},
        {"name": "w2", "cpu_cores_avail": 2},
        {"name": "m1", "cpu_cores_avail": 4, "node_type": "master"},
    ):
        run_async(ui_engine.create_node_from_json(body))
    qtbot.waitUntil(
        lambda: all(n.status == "healthy" for n in ui_engine.cluster.node_views()), timeout=5000
    )
    for name, cpu in (("a", 1.5), ("b", 0.5)):
        run_async(
            ui_engine.create_pod_from_json(
                {"name": name, "containers": [{"name": "c", "image": "busybox", "cpu_req": cpu,
                                              "memory_req": 512}]}
            )
        )  # fmt: skip
    return ui_engine


def test_series_reflect_allocation(
    bridge: EngineBridge, cluster: Engine, ui_settings: Settings, qtbot: QtBot
) -> None:
    panel = make_panel(qtbot, bridge, ui_settings)
    for _ in range(3):
        panel.sample()
    panel.redraw()
    assert panel.series("t").size >= 3 and np.all(np.diff(panel.series("t")) >= 0)
    assert panel.series("cpu_capacity")[-1] == 4.0  # workers only: the master is not counted
    assert panel.series("cpu_allocated")[-1] == 2.0
    assert panel.series("mem_capacity")[-1] == 8.0  # GiB: 2 workers x 2 cores x 2048 MiB
    assert panel.series("mem_allocated")[-1] == 1.0
    phases = panel.series("pods_scheduled")[-1] + panel.series("pods_running")[-1]
    assert phases == 2 and panel.series("pods_pending")[-1] == 0
    bars = panel.node_bars()
    assert [b.name for b in bars] == ["w1", "w2", "m1"] == [n.name for n in bridge.nodes()]
    assert sum(b.cpu_allocated for b in bars) == 2.0
    assert panel.allocation_bars.count() == panel.heartbeat_bars.count() == len(bridge.nodes())
    assert panel.allocation_bars.heights()["healthy"] == [b.cpu_allocated for b in bars]
    assert all(b.heartbeat_age is not None for b in bars)
    assert panel.grace_period() == pytest.approx(ui_settings.effective_grace_period)
    assert panel.grace_line.isVisible()
    curve = panel.curves["cpu_allocated"]
    assert curve.xData.dtype == np.float64 and curve.yData[-1] == 2.0


def test_the_bridge_clock_samples_and_a_timer_redraws(
    bridge: EngineBridge, cluster: Engine, ui_settings: Settings, qtbot: QtBot
) -> None:
    bridge.set_tick_interval(20)
    panel = ChartsPanel(bridge, ui_settings, redraw_ms=20)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.series("t").size >= 3, timeout=5000)
    qtbot.waitUntil(lambda: len(panel.node_bars()) == 3, timeout=5000)


def labels_of(panel: ChartsPanel) -> list[str]:
    return [m.label for m in panel.markers()]


def test_fault_injection_and_recovery_become_markers(
    bridge: EngineBridge,
    cluster: Engine,
    ui_settings: Settings,
    qtbot: QtBot,
    run_async: Callable[..., Any],
) -> None:
    panel = make_panel(qtbot, bridge, ui_settings)
    panel.sample()
    w1 = next(n for n in bridge.nodes() if n.name == "w1")
    bridge.run("Crash", lambda e: e.inject_fault(w1.id, "crash"))
    qtbot.waitUntil(lambda: "crash w1" in labels_of(panel), timeout=5000)
    qtbot.waitUntil(lambda: "recovered w1" in labels_of(panel), timeout=15000)
    panel.sample()
    panel.redraw()
    labels = labels_of(panel)
    after_crash = labels[labels.index("crash w1") :]
    assert "detected w1" in after_crash and "recovered w1" in after_crash
    assert panel.drawn_markers() == len(panel.markers())
    injected = next(m for m in panel.markers() if m.kind == "fault_injected")
    assert abs(injected.t - datetime.now(UTC).timestamp()) < 60


def test_no_engine_means_no_samples(ui_settings: Settings, qtbot: QtBot) -> None:
    panel = make_panel(qtbot, EngineBridge(), ui_settings)
    panel.sample()
    panel.redraw()
    assert panel.series("cpu_allocated").size == 0 and panel.node_bars() == []


class ScaleBridge(EngineBridge):
    """A bridge over a synthetic snapshot of many nodes (no engine needed)."""

    def __init__(self, nodes: list[NodeView]) -> None:
        super().__init__()
        self._nodes = nodes

    def nodes(self) -> list[NodeView]:
        return self._nodes

    def node_gauges(self) -> list[NodeGauge]:
        return [NodeGauge.of(n) for n in self._nodes]

    def summary(self) -> ClusterSummary | None:
        capacity = sum((n.capacity for n in self._nodes), Resources())
        allocated = sum((n.allocated for n in self._nodes), Resources())
        return ClusterSummary({}, {"running": 10}, capacity, allocated, len(self._nodes), 10, "x")


def scale_nodes(count: int) -> list[NodeView]:
    """Synthetic healthy workers named like a real cluster's, each at a different load."""
    template = NodeView(
        id=0, uid="", name="", node_type=NodeType.WORKER, capacity=Resources(4000, 8192),
        allocated=Resources(1000, 1024), status=NodeStatus.HEALTHY, status_reason="",
        components={}, pod_ids=(), last_heartbeat=None, seconds_since_heartbeat=0.05,
        recovery_attempts=0, runtime="virtual", runtime_handle=None, faults=(),
        created_at=datetime.now(UTC),
    )  # fmt: skip
    return [
        dataclasses.replace(
            template, id=i, name=f"worker-node-{i:03d}", allocated=Resources(10 * (i % 300), 64)
        )
        for i in range(count)
    ]


def in_panel(panel: ChartsPanel, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(panel, QPoint(0, 0)), widget.size())


def data_area(panel: ChartsPanel, card: Any) -> QRect:
    """A plot's data area (its ViewBox) in the panel's coordinates."""
    box = card.plot.getViewBox().sceneBoundingRect()
    rect = card.view.mapFromScene(box).boundingRect()
    return QRect(card.view.mapTo(panel, rect.topLeft()), rect.size())


def test_an_empty_chart_has_a_sane_range_and_says_so(ui_settings: Settings, qtbot: QtBot) -> None:
    panel = make_panel(qtbot, EngineBridge(), ui_settings)
    panel.redraw()
    for card in (panel.cpu_card, panel.mem_card, panel.pods_card):
        (x0, x1), (y0, y1) = card.plot.getViewBox().viewRange()
        assert (y0, y1) == (0.0, 1.0)
        assert x1 - x0 == pytest.approx(300.0)  # the default window: 5 minutes
        for name in ("left", "bottom"):
            assert "(x" not in card.plot.getAxis(name).labelString()
        assert card.view.empty.isVisible() and card.view.empty.toPlainText() == "no data yet"
    assert "(cores)" in panel.cpu_card.title.text()
    assert panel.nodes_card.view.empty.isVisible()
    assert panel.nodes_card.view.empty.toPlainText() == "no nodes yet"
    assert panel.nodes_plot.getAxis("bottom")._tickLevels == [[]]  # no 0.1 … 0.9 "nodes"
    # The grace period line would strike through the heartbeat chart's "no nodes yet".
    assert panel.heartbeat_card.view.empty.isVisible() and not panel.grace_line.isVisible()


def test_marker_labels_never_overlap_and_the_legend_is_outside_the_data(
    bridge: EngineBridge, cluster: Engine, ui_settings: Settings, qtbot: QtBot
) -> None:
    panel = make_panel(qtbot, bridge, ui_settings)
    panel.sample()
    now = panel.series("t")[-1]
    for k in range(30):  # a burst of 29 within half a minute, then one on its own
        t = now - 240 + k if k < 29 else now - 60
        panel.marker_layer.add(Marker(t, "fault_injected", f"crash node-{k}"))
    panel.redraw()
    box = panel.cpu_plot.getViewBox().sceneBoundingRect()
    rects = panel.marker_layer.label_rects()
    # TextItems place themselves when the view next updates.
    qtbot.waitUntil(lambda: all(box.contains(r) for r in panel.marker_layer.label_rects()))
    rects = panel.marker_layer.label_rects()
    assert [s.text for s in panel.marker_layer.slots] == ["crash node-0 +28", "crash node-29"]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not a.intersects(b), (a, b)
    assert sum(len(s.members) for s in panel.marker_layer.slots) == 30
    assert "crash node-0" in panel.marker_layer.hover(QPointF(now - 240, 0.5))
    for card in panel.cards:
        assert not in_panel(panel, card.legend).intersects(data_area(panel, card))


def test_label_layout_merges_what_would_touch() -> None:
    slots = layout_labels([10, 40, 200], ["a", "b", "c"], lambda t: 60.0, 400.0)
    assert [(s.text, s.members) for s in slots] == [("a +1", (0, 1)), ("c", (2,))]
    at_edge = layout_labels([390], ["a"], lambda t: 60.0, 400.0)
    assert at_edge[0].right <= 400.0  # pulled back inside, not cut off
    assert layout_labels([-5, 500], ["a", "b"], lambda t: 60.0, 400.0) == []


def test_range_buttons_set_the_window_and_a_double_click_follows_live_again(
    bridge: EngineBridge, cluster: Engine, ui_settings: Settings, qtbot: QtBot, prefs: Preferences
) -> None:
    panel = make_panel(qtbot, bridge, ui_settings, prefs)
    panel.sample()
    panel.redraw()

    def width() -> float:
        (x0, x1), _ = panel.cpu_plot.getViewBox().viewRange()
        return float(x1 - x0)

    assert width() == pytest.approx(300.0)
    qtbot.mouseClick(panel.range_bar.buttons["1m"], Qt.MouseButton.LeftButton)
    assert width() == pytest.approx(60.0) and prefs.chart_range() == "1m"
    t = panel.series("t")[-1]
    panel.mem_plot.getViewBox().setXRange(t - 20, t + 5, padding=0)
    assert not panel.following and panel.paused.isVisibleTo(panel)
    panel.sample()
    panel.redraw()
    assert width() == pytest.approx(25.0)  # a moved range holds until asked back
    view = panel.mem_card.view
    qtbot.mouseDClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.viewport().rect().center()
    )
    assert panel.following and not panel.paused.isVisibleTo(panel)
    assert width() == pytest.approx(60.0)
    again = make_panel(qtbot, bridge, ui_settings, prefs)
    assert again.range_bar.current() == "1m"  # remembered


def test_five_hundred_nodes_show_readable_names_and_tooltips(
    ui_settings: Settings, qtbot: QtBot
) -> None:
    panel = make_panel(qtbot, ScaleBridge(scale_nodes(500)), ui_settings)
    panel.sample()
    panel.redraw()
    shown = panel.nodes_slots.shown
    assert 3 <= len(shown) < 500
    # The busiest by CPU requested (no usage reported), busiest first.
    assert shown[0].name == "worker-node-299" and shown[0].cpu_allocated == 2.99
    axis = panel.nodes_plot.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert [t for _, _, t in texts] == [n.name for n in shown]  # every name, written out whole
    rects = [r for r, _, _ in texts]
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])
    view = panel.nodes_card.view
    box = panel.nodes_plot.getViewBox()
    at = view.mapFromScene(box.mapViewToScene(QPointF(0, 1.0)))
    qtbot.mouseMove(view.viewport(), at)
    qtbot.waitUntil(lambda: view.hover_text.startswith("worker-node-299 · healthy"))
    assert "requested 2.99" in view.hover_text and "used not reported" in view.hover_text
    qtbot.mouseMove(view.viewport(), view.mapFromScene(box.mapViewToScene(QPointF(0.5, 1.0))))
    qtbot.waitUntil(lambda: view.hover_text == "")  # between two bars: no tooltip


def test_usage_lines_and_bars_move_when_a_virtual_pod_declares_usage(
    bridge: EngineBridge,
    cluster: Engine,
    ui_settings: Settings,
    qtbot: QtBot,
    run_async: Callable[..., Any],
) -> None:
    panel = make_panel(qtbot, bridge, ui_settings)
    panel.sample()
    assert np.isnan(panel.series("cpu_used")[-1])  # nothing declares usage: no line, not 0
    run_async(
        cluster.create_pod_from_json(
            {"name": "busy", "annotations": {"kube9.io/usage-cpu": "300m", "kube9.io/usage-memory": "256Mi"},
             "containers": [{"name": "c", "image": "busybox", "cpu_req": 0.5, "memory_req": 512}]}
        )
    )  # fmt: skip

    def sampled_usage() -> bool:
        panel.sample()
        return panel.series("cpu_used")[-1] == pytest.approx(0.3)

    qtbot.waitUntil(sampled_usage, timeout=10000)
    assert panel.series("mem_used")[-1] == pytest.approx(0.25)  # GiB
    panel.redraw()
    busy = next(b for b in panel.node_bars() if b.cpu_used)
    assert busy.cpu_used == pytest.approx(0.3) and busy.mem_used == pytest.approx(256)
    at = [b.name for b in panel.nodes_slots.shown].index(busy.name)  # all fit: in node order
    assert panel.used_bars.opts["height"][at] == pytest.approx(0.3)


def test_a_thousand_nodes_are_one_bar_item_each_chart(ui_settings: Settings, qtbot: QtBot) -> None:
    statuses = list(NodeStatus)
    template = NodeView(
        id=0, uid="", name="", node_type=NodeType.WORKER, capacity=Resources(4000, 8192),
        allocated=Resources(1000, 1024), status=NodeStatus.HEALTHY, status_reason="",
        components={}, pod_ids=(), last_heartbeat=None, seconds_since_heartbeat=0.05,
        recovery_attempts=0, runtime="virtual", runtime_handle=None, faults=(),
        created_at=datetime.now(UTC),
    )  # fmt: skip
    nodes = [
        dataclasses.replace(template, id=i, name=f"n{i}", status=statuses[i % len(statuses)])
        for i in range(1000)
    ]
    panel = make_panel(qtbot, ScaleBridge(nodes), ui_settings)
    items_before = len(panel.nodes_plot.items) + len(panel.heartbeat_plot.items)
    for _ in range(3):
        panel.sample()
        panel.redraw()
    assert len(panel.node_bars()) == 1000
    shown = panel.allocation_bars.count()
    assert 1 <= shown < 1000 and shown == len(panel.nodes_slots.shown)
    assert panel.nodes_card.note.text() == f"top {shown} of 1000 · and {1000 - shown} more"
    assert len(panel.nodes_plot.items) + len(panel.heartbeat_plot.items) == items_before
    assert panel.series("cpu_capacity")[-1] == 4000.0


def test_ring_buffer_keeps_the_newest_samples() -> None:
    ring = RingBuffer(("t", "v"), capacity=3)
    assert ring.series("v").size == 0 and ring.last("v") is None
    for i in range(5):
        ring.append({"t": float(i), "v": float(i * 10)})
    assert ring.series("t").tolist() == [2.0, 3.0, 4.0]
    assert ring.series("v").tolist() == [20.0, 30.0, 40.0]
    ring.append({"t": 5.0})
    assert np.isnan(ring.series("v")[-1]) and ring.last("t") == 5.0
    assert ring.series("v").dtype == np.float64


def test_a_tick_samples_once_its_other_handlers_have_returned(
    ui_settings: Settings, qtbot: QtBot
) -> None:
    """The sample is not taken inside the tick's emission (where the tree's refresh and the
    status bar run too) but right after it, once control is back in the loop."""
    bridge = ScaleBridge(scale_nodes(5))
    panel = make_panel(qtbot, bridge, ui_settings)
    before = panel.series("t").size
    bridge.ticked.emit()
    assert panel.series("t").size == before
    qtbot.waitUntil(lambda: panel.series("t").size == before + 1)
    assert len(panel.node_bars()) == 5
