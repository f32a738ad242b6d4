"""The pod list's model and panel over the fake bridge: Qt's model tester, numeric sorting by
real header clicks, the filter box, row-level updates, usage on the tick, 20,000 pods."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.model import PodPhase
from kube9_desktop.ui import formatting as fmt
from kube9_desktop.ui.models.pod_list import PodListModel
from kube9_desktop.ui.models.pod_list_cells import PodColumn, sort_key
from kube9_desktop.ui.pod_list_panel import PodListPanel
from kube9_desktop.ui.preferences import Preferences
from tests.ui.fake_bridge import FakeBridge, fake_cluster
from tests.ui.helpers import check_model, click, type_text


def make_panel(qtbot: QtBot, bridge: FakeBridge, tmp_path: Path) -> PodListPanel:
    prefs = Preferences(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))
    panel = PodListPanel(bridge, prefs)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def column(model: PodListModel, col: int) -> list[str]:
    return [str(model.index(r, col).data()) for r in range(model.rowCount())]


def click_header(qtbot: QtBot, panel: PodListPanel, col: int) -> None:
    header = panel.table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    pos = header.rect().center()
    pos.setX(x)
    click(qtbot, header.viewport(), pos)


def three_pods() -> tuple[FakeBridge, dict[str, int]]:
    """Pods whose figures sort differently as text and as numbers: 2 < 9 < 10 restarts,
    9 < 10 cores, 30 s < 5 min < 3 days old."""
    bridge = fake_cluster(2, 0)
    node = bridge.nodes()[0].id
    ids = {name: bridge.add_pod(name, node) for name in ("alpha", "bravo", "charlie")}
    now = datetime.now(UTC)
    for name, restarts, age_s, cpu in (
        ("alpha", 10, 300, 9.0),
        ("bravo", 2, 259_200, 10.0),
        ("charlie", 9, 30, 0.5),
    ):
        bridge.set_pod_history(ids[name], restarts, now - timedelta(seconds=age_s))
        bridge.set_pod_usage(ids[name], cpu, 100.0)
    return bridge, ids


def test_the_model_passes_qts_model_tester_through_changes(
    qtbot: QtBot, qtmodeltester: ModelTester, tmp_path: Path
) -> None:
    bridge = fake_cluster(3, 4, pending=2)
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    check_model(qtmodeltester, panel.model)
    pods = panel.model.pod_ids()
    bridge.move_pod(pods[0], None)
    bridge.delete_pod(pods[1])
    added = bridge.add_pod("zulu", bridge.nodes()[0].id)
    bridge.changed(pods={pods[0], pods[1], added})
    panel.table.sortByColumn(PodColumn.NODE, Qt.SortOrder.DescendingOrder)
    panel.model.set_filter_text("pod-1")
    assert panel.model.rowCount() == 3  # pod-1-1 (now pending), pod-1-3, pod-1-4
    check_model(qtmodeltester, panel.model)


def test_header_clicks_sort_restarts_age_and_cpu_as_numbers(qtbot: QtBot, tmp_path: Path) -> None:
    bridge, _ids = three_pods()
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    model = panel.model
    assert column(model, PodColumn.NAME) == ["alpha", "bravo", "charlie"]

    click_header(qtbot, panel, PodColumn.RESTARTS)
    qtbot.waitUntil(lambda: model.sort_column == PodColumn.RESTARTS)
    assert column(model, PodColumn.RESTARTS) == ["2", "9", "10"]  # as text: 10, 2, 9
    click_header(qtbot, panel, PodColumn.RESTARTS)
    qtbot.waitUntil(lambda: column(model, PodColumn.RESTARTS) == ["10", "9", "2"])

    click_header(qtbot, panel, PodColumn.AGE)
    qtbot.waitUntil(lambda: model.sort_column == PodColumn.AGE)
    assert column(model, PodColumn.AGE) == ["30s", "5m", "3d"]  # youngest first
    assert column(model, PodColumn.NAME) == ["charlie", "alpha", "bravo"]

    click_header(qtbot, panel, PodColumn.CPU)
    qtbot.waitUntil(lambda: model.sort_column == PodColumn.CPU)
    # As text "10.00/0.10" would come before "9.00/0.10".
    assert column(model, PodColumn.CPU) == ["0.50/0.10", "9.00/0.10", "10.00/0.10"]


def test_the_filter_box_shows_matching_pods_and_keeps_the_selection(
    qtbot: QtBot, tmp_path: Path
) -> None:
    bridge = fake_cluster(3, 3)
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    model = panel.model
    target = model.pod_ids()[model.pod_ids().index(bridge.pods()[4].id)]
    panel.select_pods([target])
    type_text(qtbot, panel.filter, "WORKER-2")  # case does not matter; nodes match too
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    assert column(model, PodColumn.NODE) == ["worker-2"] * 3
    assert panel.selected_ids() == [target]  # pod-2-2 is on worker-2: still selected
    panel.filter.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 9)
    assert panel.selected_ids() == [target]


def test_changes_are_row_updates_never_a_reset(qtbot: QtBot, tmp_path: Path) -> None:
    bridge = fake_cluster(2, 3)
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    model = panel.model
    resets, inserted, removed = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda _p, first, _l: inserted.append(first))
    model.rowsRemoved.connect(lambda _p, first, _l: removed.append(first))
    pods = model.pod_ids()
    bridge.set_pod_phase(pods[2], PodPhase.FAILED)
    bridge.delete_pod(pods[0])
    new = bridge.add_pod("aaa-first", bridge.nodes()[1].id)
    with qtbot.waitSignal(model.changes_applied):
        bridge.changed(pods={pods[0], pods[2], new})
    assert not resets
    assert inserted == [0] and removed == [0]  # "aaa-first" sorts first by name
    assert model.pod_ids() == [new, *pods[1:]]
    status = model.index(model.row_of(pods[2]), PodColumn.STATUS)
    assert status.data() == "failed"


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_a_block_of_deleted_rows_leaves_in_one_remove(
    qtbot: QtBot, tmp_path: Path, order: Qt.SortOrder
) -> None:
    bridge = fake_cluster(2, 4)
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    model = panel.model
    panel.table.sortByColumn(PodColumn.NAME, order)
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    pods = model.pod_ids()
    panel.select_pods(pods[2:6])
    for pod in (*pods[2:6], pods[7]):
        bridge.delete_pod(pod)
    bridge.changed(pods={*pods[2:6], pods[7]})
    # The run last in the ascending list goes first: positions before it still hold.
    ascending = order is Qt.SortOrder.AscendingOrder
    assert removed == ([(7, 7), (2, 5)] if ascending else [(2, 5), (3, 3)])
    assert model.pod_ids() == [*pods[:2], pods[6]]
    assert panel.selected_ids() == []


def test_usage_is_read_on_the_tick(qtbot: QtBot, tmp_path: Path) -> None:
    bridge, ids = three_pods()
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    model = panel.model
    cpu = model.index(model.row_of(ids["alpha"]), PodColumn.CPU)
    assert cpu.data() == "9.00/0.10"
    bridge.set_pod_usage(ids["alpha"], 0.42, 120.4)
    assert cpu.data() == "9.00/0.10"  # not before the tick
    bridge.ticked.emit()
    assert cpu.data() == "0.42/0.10"
    assert cpu.siblingAtColumn(PodColumn.MEMORY).data() == "120/64 Mi"


def test_usage_is_read_only_while_the_list_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    bridge, ids = three_pods()
    panel = make_panel(qtbot, bridge, tmp_path)
    bridge.attach_fake()
    cpu = panel.model.index(panel.model.row_of(ids["bravo"]), PodColumn.CPU)
    panel.hide()  # another tab is shown
    bridge.set_pod_usage(ids["bravo"], 0.25, 10.0)
    bridge.ticked.emit()
    assert cpu.data() == "10.00/0.10"
    panel.show()
    assert cpu.data() == "0.25/0.10"  # read at once, not a tick later


def test_ages_read_as_kubectl_shows_them() -> None:
    assert [fmt.short_age(s) for s in (0, 42, 119, 120, 7199, 7200, 172_799, 172_800)] == [
        "0s",
        "42s",
        "119s",
        "2m",
        "119m",
        "2h",
        "47h",
        "2d",
    ]


def test_twenty_thousand_pods_build_and_take_a_burst(qtbot: QtBot, tmp_path: Path) -> None:
    """Correctness at the size of the scale target; the time is printed, never asserted
    (bench/ui_pod_list.py measures it)."""
    bridge = fake_cluster(1000, 20)
    panel = make_panel(qtbot, bridge, tmp_path)
    start = time.perf_counter()
    bridge.attach_fake()
    built = time.perf_counter() - start
    model = panel.model
    assert model.rowCount() == 20_000
    assert set(model.pod_ids()) == {p.id for p in bridge.pods()}
    panel.table.sortByColumn(PodColumn.NODE, Qt.SortOrder.DescendingOrder)

    pods = model.pod_ids()
    moved, failed, gone = pods[:500], pods[500:800], pods[800:1000]
    for pod in moved:
        bridge.move_pod(pod, None)
    for pod in failed:
        bridge.set_pod_phase(pod, PodPhase.FAILED)
    for pod in gone:
        bridge.delete_pod(pod)
    added = [bridge.add_pod(f"new-{i}", bridge.nodes()[i].id) for i in range(100)]
    start = time.perf_counter()
    bridge.changed(pods={*moved, *failed, *gone, *added})
    applied = time.perf_counter() - start
    print(
        f"pod list, 20,000 pods: built in {built * 1000:.0f} ms, burst in {applied * 1000:.0f} ms"
    )

    assert model.rowCount() == 20_000 - 200 + 100
    assert set(model.pod_ids()) == {p.id for p in bridge.pods()}
    views = {p.id: p for p in bridge.pods()}
    keys = [sort_key(views[p], None, PodColumn.NODE) for p in model.pod_ids()]
    assert keys == sorted(keys, reverse=True)
    assert all(model.index(model.row_of(p), PodColumn.NODE).data() == "" for p in moved)
    assert {model.index(model.row_of(p), PodColumn.STATUS).data() for p in failed} == {"failed"}
