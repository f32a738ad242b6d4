"""The details panel: a node's capacity, components and events; a pod's containers, masked
secrets, and why it is where it is (every candidate node with its reasons, verbatim)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.details_usage import UsageSection
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from tests.ui.helpers import (
    busiest_worker,
    child,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    fake_cluster,
    select,
    window_fixture,  # noqa: F401
)


def texts_shown(widget: QWidget) -> list[str]:
    """Every label and table cell under ``widget``."""
    shown = [label.text() for label in widget.findChildren(QLabel)]
    for table in widget.findChildren(Table):
        for column in range(table.columnCount()):
            shown += table.texts(column) if table.rowCount() else []
    return shown


def test_node_details_show_capacity_components_heartbeat_and_events(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    name = busiest_worker(demo)
    node = next(n for n in demo.cluster.node_views() if n.name == name)
    select(qtbot, window, name)
    details = window.details
    usage = child(details, UsageSection, "NodeUsage")
    assert usage.cpu.bar.requested == node.allocated.cpu_m / 1000 and usage.cpu.bar.full == 4
    assert usage.cpu.text().endswith(f"/{node.allocated.cpu_m / 1000:g} of 4")
    assert usage.memory.bar.full == node.capacity.mem_mi == 8192
    assert usage.pods.text() == f"{len(node.pod_ids)}/110"
    components = child(details, Table, "NodeComponents")
    assert components.texts(0) == ["kubelet", "container_runtime", "kube_proxy", "node_agent"]
    assert set(components.texts(1)) == {"running"}
    assert (
        child(details, QLabel, "NodeRuntime").text()
        == f"virtual on engine local · virtual-{node.id}"
    )
    assert child(details, QLabel, "NodeRecovery").text() == "0"
    assert child(details, QLabel, "NodeFaults").text() == "none"
    pods = child(details, QLabel, "NodePods").text()
    assert pods.startswith(f"{len(node.pod_ids)} / {node.pod_limit}: ")  # count vs capacity
    assert child(details, QLabel, "NodeTaints").text() == "none"
    assert child(details, QLabel, "NodeScheduling").text() == "schedulable"
    heartbeat = child(details, QLabel, "NodeHeartbeat")
    assert " s ago (" in heartbeat.text()
    first = heartbeat.text()
    qtbot.waitUntil(lambda: heartbeat.text() != first, timeout=3000)  # refreshed at 1 Hz
    events = [
        details.node_page.events.item(i).text() for i in range(details.node_page.events.count())
    ]
    assert any("node_ready" in e for e in events) and any("node_created" in e for e in events)


def test_pod_details_show_containers_volumes_and_masked_config(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    pod = next(p for p in demo.cluster.pod_views() if p.name == "worker-job")
    select(qtbot, window, "worker-job")
    details = window.details
    assert child(details, QLabel, "PodNode").text() == pod.node_name
    assert child(details, QLabel, "PodIp").text() == pod.ip
    assert "running" in child(details, QLabel, "PodPhase").text()
    containers = child(details, Table, "PodContainers")
    assert containers.texts(0) == ["worker · busybox:latest"]
    assert containers.texts(1) == ["running"] and containers.texts(4) == ["1 CPU, 768Mi"]
    assert child(details, Table, "PodVolumes").texts(0) == ["scratch"]
    config = child(details, Table, "PodConfig")
    assert config.texts(2) == ["MODE", "API_TOKEN"]
    assert config.texts(3) == ["batch", "******"]
    assert not any("demo-secret" in text for text in texts_shown(window))


def test_scheduling_explanation_lists_every_candidate_with_its_reasons(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    for pod in demo.cluster.pod_views():
        decision = pod.decision
        assert decision is not None
        select(qtbot, window, pod.name)
        summary = child(window.details, QLabel, "SchedulingSummary").text()
        assert f"Placed on <b>{pod.node_name}</b> by best-fit" in summary
        table = child(window.details, Table, "SchedulingCandidates")
        names = table.texts(0)
        assert names == [c.node_name for c in decision.candidates]
        assert len(names) == 4  # every node of the demo cluster, the master included
        assert table.texts(1)[names.index(str(pod.node_name))] == "chosen"
        fits = [
            ("chosen" if c.node_id == decision.node_id else "yes") if c.fits else "no"
            for c in decision.candidates
        ]
        assert table.texts(1) == fits
        reasons = ["; ".join(c.reasons) if c.reasons else "fits" for c in decision.candidates]
        assert table.texts(3) == reasons
    assert any(
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" in r
        for r in table.texts(3)
    )


def test_details_of_a_pending_pod_a_container_and_a_vanished_node(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=1, pods_per_node=1, pending=1)
    bridge.attach_fake()
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    waiting = bridge.pending_pod_ids()[0]
    panel.show_item(TreeItem(ItemKind.POD, waiting))
    assert panel.title.text() == "waiting-1"
    assert child(panel, QLabel, "PodNode").text() == "none — waiting for capacity"
    assert child(panel, QLabel, "SchedulingSummary").text() == "Not scheduled yet."

    node = bridge.nodes()[0]
    pod = node.pod_ids[0]
    panel.show_item(TreeItem(ItemKind.CONTAINER, pod, 0))
    containers = child(panel, Table, "PodContainers")
    assert containers.currentRow() == 0 and panel.title.text() == "pod-1-1"

    panel.show_item(TreeItem(ItemKind.NODE, node.id))
    assert panel.title.text() == "worker-1"
    bridge.delete_node(node.id)
    bridge.changed({node.id})
    assert "no longer exists" in child(panel, QLabel, "DetailsEmpty").text()


def test_the_details_are_as_tall_as_the_page_shown_not_its_tallest(qtbot: QtBot) -> None:
    """The hint and a pod's events sit right under what is shown, with no node-page-high gap."""
    bridge = fake_cluster(nodes=1, pods_per_node=1)
    bridge.attach_fake()
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(440, 900)
    panel.show()
    qtbot.waitExposed(panel)
    node = bridge.nodes()[0]
    panel.show_item(TreeItem(ItemKind.NODE, node.id))
    qtbot.waitUntil(lambda: panel.pages.height() > 300)  # the node page: capacity, components…
    panel.show_item(None)
    empty = child(panel, QLabel, "DetailsEmpty")
    qtbot.waitUntil(lambda: panel.pages.height() <= empty.sizeHint().height() + 20)
    assert empty.mapTo(panel, empty.rect().topLeft()).y() < 150  # near the top, not mid-panel


def test_the_hint_wraps_whole_in_a_narrow_pane(qtbot: QtBot) -> None:
    """At 1024x700 the details pane is narrow: the hint's wrapped lines all show."""
    bridge = fake_cluster(nodes=1, pods_per_node=1)
    bridge.attach_fake()
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(190, 400)
    panel.show()
    qtbot.waitExposed(panel)
    empty = child(panel, QLabel, "DetailsEmpty")
    qtbot.waitUntil(lambda: empty.height() >= empty.heightForWidth(empty.width()))
    assert empty.heightForWidth(empty.width()) > empty.fontMetrics().height()  # it did wrap
