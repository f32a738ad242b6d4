"""The cluster tree model: a valid Qt model that follows the cluster with row-level updates."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.ui.cluster_panel import ClusterPanel
from kube9_desktop.ui.models.cluster_proxy import ClusterFilterProxy
from kube9_desktop.ui.models.cluster_tree import ROW_SIGNALS, ClusterTreeModel
from kube9_desktop.ui.models.tree_cells import PENDING, Column, ItemKind, TreeItem
from tests.ui.helpers import FakeBridge, cell, check_model, fake_cluster, find_row, parent_name


def attached(bridge: FakeBridge) -> ClusterTreeModel:
    model = ClusterTreeModel(bridge)
    bridge.attach_fake()
    return model


def test_model_is_valid_with_nodes_pods_containers_and_pending(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    bridge = fake_cluster(nodes=3, pods_per_node=3, pending=2)
    model = attached(bridge)
    check_model(qtmodeltester, model)
    assert model.rowCount() == 4  # three nodes and the Pending group
    assert [model.index(r, 0).data() for r in range(4)][-1] == "Pending"
    assert parent_name(model, "waiting-1") == "Pending"
    assert parent_name(model, "pod-2-1") == "worker-2"
    pod = find_row(model, "pod-1-2")
    assert model.rowCount(pod) == 2  # its containers
    assert model.index(1, 0, pod).data() == "c1"
    assert cell(model, "worker-1", Column.CPU) == "–/0.3 of 64"  # no usage reported yet
    assert cell(model, "worker-1", Column.PODS) == "3/110"
    assert cell(model, "pod-1-1", Column.STATUS) == "running"


def test_model_stays_valid_through_row_level_updates(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    bridge = fake_cluster(nodes=3, pods_per_node=2, pending=1)
    model = attached(bridge)
    check_model(qtmodeltester, model)  # keeps watching every signal from here on
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    w1, w2, w3 = model.node_ids()
    waiting = model.pod_ids(PENDING)[0]
    moved = model.pod_ids(w1)[0]

    w4 = bridge.add_node("worker-4")  # a new node with a new pod
    new_pod = bridge.add_pod("fresh", w4)
    bridge.changed({w4}, {new_pod})
    assert parent_name(model, "fresh") == "worker-4"

    bridge.move_pod(moved, w2)  # a pod moves
    bridge.move_pod(waiting, w4)  # a pending pod is placed: the group empties
    bridge.changed({w1, w2, w4}, {moved, waiting})
    assert model.parent_of_pod(moved) == w2 and model.pending_count() == 0

    rebound = bridge.delete_node(w3)  # a node goes; its pods wait
    bridge.changed({w3}, set(rebound))
    assert all(model.parent_of_pod(p) == PENDING for p in rebound)
    assert w3 not in model.node_ids()

    bridge.delete_pod(new_pod)
    bridge.set_node_status(w1, NodeStatus.UNHEALTHY)
    bridge.changed({w1, w4}, {new_pod})
    assert find_row(model, "fresh").isValid() is False
    assert cell(model, "worker-1", Column.STATUS) == "unhealthy"
    check_model(qtmodeltester, model, force_py=True)
    assert not resets


def test_a_selected_pod_stays_selected_when_it_moves(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=2, pods_per_node=2)
    panel = ClusterPanel(bridge)
    qtbot.addWidget(panel)
    bridge.attach_fake()
    w1, w2 = panel.model.node_ids()
    pod = TreeItem(ItemKind.POD, panel.model.pod_ids(w1)[1])
    seen: list[TreeItem | None] = []
    panel.selection_changed.connect(seen.append)
    assert panel.select(pod) and seen == [pod]
    bridge.move_pod(pod.id, w2)
    bridge.changed({w1, w2}, {pod.id})
    assert panel.selected() == pod and seen == [pod]  # no flicker through "nothing"
    assert panel.tree.selectionModel().selectedRows()[0].parent().data() == "worker-2"
    bridge.delete_pod(pod.id)
    bridge.changed({w2}, {pod.id})
    # Gone: the view moves to a neighbour (Qt's way) and the panel reports it once.
    assert panel.selected() != pod and seen == [pod, panel.selected()]


def test_change_sets_that_touch_nothing_new_only_emit_data_changed(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=2, pods_per_node=3)
    model = attached(bridge)
    signals: list[str] = []
    for name in ("rowsInserted", "rowsRemoved", "rowsMoved", "modelReset", "layoutChanged"):
        getattr(model, name).connect(lambda *_a, n=name: signals.append(n))
    changed: list[tuple[QModelIndex, QModelIndex]] = []
    model.dataChanged.connect(lambda a, b, _r: changed.append((a, b)))
    w1, w2 = model.node_ids()
    for node in (w1, w2):  # a view opened them: their pods' changes are signalled
        model.set_expanded(model.index_of(TreeItem(ItemKind.NODE, node)), True)
    bridge.changed({w1, w2}, set(model.pod_ids(w1)) | set(model.pod_ids(w2)))
    assert not signals
    # A signal per changed row (a view repaints only those it shows): 2 nodes, 2 x 3 pods.
    assert len(changed) == 8
    assert all(a.row() == b.row() and a.parent() == b.parent() for a, b in changed)
    assert {(a.parent().row(), a.row()) for a, b in changed} == {
        (-1, 0), (-1, 1), *((n, p) for n in (0, 1) for p in range(3))
    }  # fmt: skip


def test_pods_of_a_node_never_opened_change_without_signals_but_their_node(
    qtbot: QtBot,
) -> None:
    """A dataChanged under a closed node would make the proxy map its pods, and from then on
    forward every pod removed there: the tree would lay out its 1,000 rows again each time."""
    bridge = fake_cluster(nodes=60, pods_per_node=3)
    panel = ClusterPanel(bridge)
    qtbot.addWidget(panel)
    panel.show()
    bridge.attach_fake()
    model = panel.model
    node = model.node_ids()[55]  # past AUTO_EXPAND_NODES: the tree starts closed
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, _b, _r: changed.append((a.parent().row(), a.row())))
    forwarded: list[int] = []
    panel.proxy.rowsAboutToBeRemoved.connect(lambda parent, *_: forwarded.append(parent.row()))
    bridge.changed({node}, set(model.pod_ids(node)))
    assert changed == [(-1, 55)]
    gone = model.pod_ids(node)[0]
    bridge.delete_pod(gone)
    bridge.changed({node}, {gone})
    assert model.pod_ids(node) == bridge.pod_ids_of(node) and not forwarded
    assert panel.select(TreeItem(ItemKind.POD, model.pod_ids(node)[0]))  # opens the node
    changed.clear()
    bridge.changed({node}, set(model.pod_ids(node)))
    assert changed == [(-1, 55), (55, 0), (55, 1)]
    bridge.delete_pod(model.pod_ids(node)[1])
    bridge.changed({node}, {model.pod_ids(node)[1]})
    assert forwarded == [55] and panel.proxy.rowCount(panel.proxy.index(55, 0)) == 1


def test_many_changed_rows_go_as_one_range(qtbot: QtBot) -> None:
    """Past ROW_SIGNALS rows under one parent, one range is cheaper than a signal each."""
    bridge = fake_cluster(nodes=ROW_SIGNALS + 1, pods_per_node=0)
    model = attached(bridge)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _r: changed.append((a.row(), b.row())))
    nodes = model.node_ids()
    bridge.changed(set(nodes), set())
    assert changed == [(0, len(nodes) - 1)]
    changed.clear()
    bridge.changed({nodes[0], nodes[-1]}, set())
    assert changed == [(0, 0), (len(nodes) - 1, len(nodes) - 1)]


def test_volatile_values_refresh_once_per_open_parent(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=4, pods_per_node=2)
    model = attached(bridge)
    w1 = model.node_ids()[0]
    model.set_expanded(model.index_of(TreeItem(ItemKind.NODE, w1)), True)
    changed: list[QModelIndex] = []
    model.dataChanged.connect(lambda a, _b, _r: changed.append(a.parent()))
    model.refresh_volatile()
    assert len(changed) == 2  # the node rows, and worker-1's pods
    assert not changed[0].isValid() and changed[1].data() == "worker-1"


def test_filter_is_recursive_and_hides_an_empty_pending_group(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=3, pods_per_node=2, pending=1)
    model = attached(bridge)
    proxy = ClusterFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.NAME, Qt.SortOrder.DescendingOrder)
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert names == ["worker-3", "worker-2", "worker-1", "Pending"]  # Pending stays last

    proxy.set_filter_text("POD-2-")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["worker-2"]
    assert proxy.rowCount(proxy.index(0, 0)) == 2

    proxy.set_filter_text("worker-1")  # a matching node keeps its pods
    node = proxy.index(0, 0)
    assert proxy.rowCount() == 1 and proxy.rowCount(node) == 2

    proxy.set_filter_text("")
    waiting = model.pod_ids(PENDING)[0]
    bridge.move_pod(waiting, model.node_ids()[0])
    bridge.changed({model.node_ids()[0]}, {waiting})
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())][-1] == "worker-1"


def test_large_cluster_builds_and_applies_changes(qtbot: QtBot) -> None:
    bridge = fake_cluster(nodes=200, pods_per_node=20, pending=5)
    model = attached(bridge)
    assert model.rowCount() == 201
    nodes = model.node_ids()
    moved = [model.pod_ids(n)[0] for n in nodes[:100]]
    for i, pod in enumerate(moved):
        bridge.move_pod(pod, nodes[-1 - i])
    bridge.changed(set(nodes), set(moved))
    assert all(model.parent_of_pod(p) == nodes[-1 - i] for i, p in enumerate(moved))
    assert sum(len(model.pod_ids(n)) for n in nodes) == 4000
