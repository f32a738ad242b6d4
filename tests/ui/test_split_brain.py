"""Split brain in the window: while a node is partitioned, the copies it still runs show under
it, greyed and marked, beside the pods that replaced them; the heal takes both marks away."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus, PodPhase
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.models.tree_cells import ITEM_ROLE, Column, ItemKind, TreeItem
from tests.ui.helpers import check_model, walk


def rows(model: Any) -> Iterator[tuple[str, str | None, TreeItem, QModelIndex]]:
    """(name, parent name, item, index) for every row of the tree."""
    for index in walk(model):
        parent = index.parent()
        yield (
            index.data(),
            parent.data() if parent.isValid() else None,
            index.data(ITEM_ROLE),
            index,
        )


def stale_rows(model: Any) -> list[tuple[str, str | None]]:
    return [(n, p) for n, p, item, _ in rows(model) if item.kind is ItemKind.STALE_COPY]


def info(model: Any, name: str, parent: str) -> str:
    index = next(i for n, p, item, i in rows(model) if n == name and p == parent)
    return str(index.siblingAtColumn(Column.INFO).data())


def test_stale_copies_show_under_the_partitioned_node_until_the_heal(
    qtbot: QtBot,
    ui_engine: Engine,
    bridge: EngineBridge,
    run_async: Callable[..., Any],
    qtmodeltester: ModelTester,
) -> None:
    engine = ui_engine
    panel = ClusterPanel(bridge)
    details = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    qtbot.addWidget(details)
    panel.resize(1000, 500)
    panel.show()
    a = run_async(engine.create_node_from_json({"name": "a", "cpu_cores_avail": 2})).view.id
    run_async(engine.create_node_from_json({"name": "b", "cpu_cores_avail": 4}))
    qtbot.waitUntil(lambda: all(n.status is NodeStatus.HEALTHY for n in engine.nodes()))
    pod = run_async(engine.create_pod_from_json({
        "name": "api", "cpu_cores_req": 1.5,
        "containers": [{"name": "main", "image": "busybox"}]}))  # fmt: skip  # best fit: a
    pod_id = pod.view.id
    qtbot.waitUntil(lambda: engine.pod(pod_id).phase is PodPhase.RUNNING)
    assert engine.pod(pod_id).node_id == a
    model = panel.tree.model()
    assert stale_rows(model) == []

    run_async(engine.inject_fault(a, "partition", duration_s=60))
    qtbot.waitUntil(lambda: stale_rows(model) == [("api", "a")], timeout=10_000)
    qtbot.waitUntil(lambda: ("api", "b") in [(n, p) for n, p, _, _ in rows(model)])
    stale = next(i for n, p, item, i in rows(model) if item.kind is ItemKind.STALE_COPY)
    assert stale.siblingAtColumn(Column.STATUS).data() == "Stale copy"
    assert "stale copy — node unreachable, stops when the partition heals" in str(
        stale.siblingAtColumn(Column.INFO).data()
    )
    assert "now runs on b" in str(stale.siblingAtColumn(Column.INFO).data())
    assert stale.data(Qt.ItemDataRole.FontRole).italic()
    assert info(model, "api", "b").startswith("replacement of a stale copy on a")
    check_model(qtmodeltester, panel.model)

    # The details say the same, for the copy and for its replacement.
    details.show_item(TreeItem(ItemKind.STALE_COPY, pod_id))
    assert "stale copy on a" in details.subtitle.text()
    assert "still runs on a" in details.stale_page.text()
    assert not details.yaml_button.isVisible()
    details.show_item(TreeItem(ItemKind.POD, pod_id))
    assert not details.split_note.isHidden()
    assert "replacement of a stale copy on a" in details.split_note.text()
    details.show_item(TreeItem(ItemKind.NODE, a))
    assert "Still running here, out of reach: api" in details.split_note.text()

    run_async(engine.faults.heal(engine.cluster.node(a)))  # the partition ends
    qtbot.waitUntil(lambda: stale_rows(model) == [], timeout=10_000)
    qtbot.waitUntil(lambda: not info(model, "api", "b").startswith("replacement"))
    qtbot.waitUntil(lambda: details.split_note.isHidden())
    check_model(qtmodeltester, panel.model)
