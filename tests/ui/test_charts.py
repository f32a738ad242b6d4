"""ChartsPanel: samples into ring buffers, redraws on demand, markers from events, 1,000 nodes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import (
    ClusterSummary,
    NodeStatus,
    NodeType,
    NodeView,
    Resources,
)
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.charts import ChartsPanel, RingBuffer
from tests.helpers import fast_settings


@pytest.fixture
def ui_settings(tmp_path: Path) -> Settings:
    """Fast heartbeats, but a grace period that a busy shared machine's stalls cannot reach."""
    return fast_settings(tmp_path / "data", grace_period=1.0)


def make_panel(qtbot: QtBot, bridge: EngineBridge, settings: Settings) -> ChartsPanel:
    panel = ChartsPanel(bridge, settings)
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

    def summary(self) -> ClusterSummary | None:
        capacity = sum((n.capacity for n in self._nodes), Resources())
        allocated = sum((n.allocated for n in self._nodes), Resources())
        return ClusterSummary({}, {"running": 10}, capacity, allocated, len(self._nodes), 10, "x")


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
    assert panel.allocation_bars.count() == 1000
    drawn = panel.allocation_bars.heights()
    assert sum(len(h) for h in drawn.values()) == 1000 and len(drawn["failed"]) == 200
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
