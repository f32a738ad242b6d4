"""The workloads tree model: Deployments -> ReplicaSets -> pods, a valid Qt model updated row by
row from change sets."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.deployments import PROGRESSING, TIMED_OUT
from kube9_desktop.engine.workloads import Condition
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.models.workload_cells import WColumn
from kube9_desktop.ui.models.workload_proxy import WorkloadFilterProxy
from kube9_desktop.ui.models.workload_tree import BARE, WorkloadTreeModel
from tests.ui.helpers import FakeBridge, cell, check_model, find_row, names_in, parent_name


def workloads() -> tuple[FakeBridge, dict[str, int]]:
    """web (2 ReplicaSets mid-rollout), api (one), and a bare ReplicaSet 'batch'."""
    b = FakeBridge()
    w1 = b.add_node("worker-1")
    ids = {"web": b.add_deployment("web", replicas=3), "api": b.add_deployment("api", 1)}
    ids["web-old"] = b.add_replicaset("web-old", ids["web"], replicas=2, image="nginx:1")
    ids["web-new"] = b.add_replicaset("web-new", ids["web"], replicas=2, image="nginx:2")
    ids["api-1"] = b.add_replicaset("api-1", ids["api"], replicas=1)
    ids["batch"] = b.add_replicaset("batch", None, replicas=1)
    for name, rs in (("o1", "web-old"), ("o2", "web-old"), ("n1", "web-new"), ("a1", "api-1")):
        ids[name] = b.add_owned_pod(name, ids[rs], w1)
    ids["n2"] = b.add_owned_pod("n2", ids["web-new"], None)  # pending
    ids["b1"] = b.add_owned_pod("b1", ids["batch"], w1)
    b.add_pod("bare-pod", w1)  # no owner: not a workload
    return b, ids


def attached(bridge: FakeBridge) -> WorkloadTreeModel:
    model = WorkloadTreeModel(bridge)
    bridge.attach_fake()
    return model


def test_tree_shows_deployments_replicasets_pods_and_bare_replicasets(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    bridge, ids = workloads()
    model = attached(bridge)
    check_model(qtmodeltester, model)
    top = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert top == ["web", "api", "batch"]  # Deployments first, then ReplicaSets of none
    assert parent_name(model, "web-new") == "web"
    assert parent_name(model, "n2") == "web-new"
    assert parent_name(model, "b1") == "batch"
    assert "bare-pod" not in names_in(model)
    # kubectl's columns: DESIRED, READY (ready/desired), UP-TO-DATE, AVAILABLE
    assert [cell(model, "web", c) for c in (WColumn.DESIRED, WColumn.READY)] == ["3", "3/3"]
    assert cell(model, "web", WColumn.UP_TO_DATE) == "2"  # the new ReplicaSet's pods
    assert cell(model, "web", WColumn.AVAILABLE) == "3"
    assert cell(model, "web-new", WColumn.READY) == "1/2"
    assert cell(model, "web-old", WColumn.UP_TO_DATE) == "0"  # an old revision
    assert "current" in cell(model, "web-new", WColumn.INFO)
    assert "old" in cell(model, "web-old", WColumn.INFO)
    assert cell(model, "n2", WColumn.STATUS) == "pending"
    assert cell(model, "n1", WColumn.INFO).startswith("on worker-1")
    assert model.index_of(TreeItem(ItemKind.POD, ids["n2"])).parent().data() == "web-new"


def test_tree_follows_changes_row_by_row(qtmodeltester: ModelTester, qtbot: QtBot) -> None:
    bridge, ids = workloads()
    model = attached(bridge)
    check_model(qtmodeltester, model)  # keeps watching every signal from here on
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    inserted: list[tuple[str, int]] = []
    model.rowsInserted.connect(
        lambda parent, first, _last: inserted.append((str(parent.data()), first))
    )

    # A new Deployment with its first ReplicaSet and a pod, in one burst.
    d = bridge.add_deployment("cache", 1)
    rs = bridge.add_replicaset("cache-1", d, 1)
    pod = bridge.add_owned_pod("c1", rs, None)
    bridge.changed(pods={pod}, deployments={d}, replicasets={rs})
    assert parent_name(model, "c1") == "cache-1" and parent_name(model, "cache-1") == "cache"
    assert model.index(2, 0).data() == "cache" and model.index(3, 0).data() == "batch"

    # The rollout goes on: the old ReplicaSet loses a pod, the pending one is placed.
    bridge.set_replicas(ids["web-old"], 1)
    bridge.delete_owned_pod(ids["o2"])
    bridge.move_pod(ids["n2"], model.bridge.nodes()[0].id)
    bridge.changed(pods={ids["o2"], ids["n2"]}, replicasets={ids["web-old"]})
    assert model.pod_ids(ids["web-old"]) == [ids["o1"]]
    assert cell(model, "n2", WColumn.STATUS) == "running"
    assert cell(model, "web-old", WColumn.DESIRED) == "1"

    # A Deployment deleted with everything it owns; a bare ReplicaSet deleted.
    rss, pods = bridge.delete_deployment(ids["web"])
    gone = bridge.delete_replicaset(ids["batch"])
    bridge.changed(pods={*pods, *gone}, deployments={ids["web"]}, replicasets={*rss, ids["batch"]})
    assert model.deployment_ids() == [ids["api"], d] and model.replicaset_ids(BARE) == []
    assert not {"web", "web-new", "n1", "batch", "b1"} & names_in(model)
    assert not resets
    assert ("cache", 0) in inserted


def test_stalled_deployment_reads_stalled_in_red(qtbot: QtBot) -> None:
    bridge, ids = workloads()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    bridge._deployments[ids["web"]]["conditions"] = (
        Condition(PROGRESSING, "False", TIMED_OUT, 'ReplicaSet "web-new" has timed out', now, now),
    )
    model = attached(bridge)
    assert cell(model, "web", WColumn.STATUS) == "stalled"
    index = find_row(model, "web").siblingAtColumn(WColumn.STATUS)
    assert TIMED_OUT in str(index.data(Qt.ItemDataRole.ToolTipRole))  # it says why
    assert index.data(Qt.ItemDataRole.ForegroundRole).name() == "#d9534f"  # "unhealthy" red


def test_filter_keeps_ancestors_and_sorting_by_counts_works(
    qtmodeltester: ModelTester, qtbot: QtBot
) -> None:
    bridge, _ids = workloads()
    model = attached(bridge)
    proxy = WorkloadFilterProxy()
    proxy.setSourceModel(model)
    check_model(qtmodeltester, proxy)
    proxy.set_filter_text("nginx:2")  # the new ReplicaSet's image
    assert names_in(proxy) >= {"web", "web-new", "n1", "n2"}
    assert "api" not in names_in(proxy)
    proxy.set_filter_text("")
    proxy.sort(WColumn.DESIRED)
    assert proxy.index(0, 0, QModelIndex()).data() == "api"  # 1 replica: the fewest
