"""The Pods tab in the window over a real engine (virtual nodes): every pod listed, the filter
keys, the details on double-click and Enter, the bulk commands from their keys (Delete with
one confirmation, fail, recover the pods' nodes) with refusals named, and the columns and sort
order kept across windows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.pod_list_cells import PodColumn
from kube9_desktop.ui.palette import CommandPalette, action_label, window_actions
from kube9_desktop.ui.pod_list_panel import PodListPanel
from kube9_desktop.ui.preferences import Preferences
from tests.ui.helpers import (
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    double_click,
    make_deployment,
    node_id,
    open_window,
    press,
    type_text,
    window_fixture,  # noqa: F401
)

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def show_pods(qtbot: QtBot, window: MainWindow) -> PodListPanel:
    """Click the Pods tab; the list takes the keyboard focus."""
    bar = window.trees.tabBar()
    click(qtbot, bar, bar.tabRect(window.trees.indexOf(window.pods)).center())
    qtbot.waitUntil(lambda: window.trees.currentWidget() is window.pods)
    window.pods.table.setFocus()
    qtbot.waitUntil(window.pods.table.hasFocus)
    return window.pods


def pod_names(panel: PodListPanel) -> list[str]:
    model = panel.model
    return [str(model.index(r, PodColumn.NAME).data()) for r in range(model.rowCount())]


def select_names(qtbot: QtBot, panel: PodListPanel, names: list[str]) -> list[int]:
    """Click the first name, Ctrl+click the others, as a user selects several rows."""
    table, model = panel.table, panel.model
    ids = []
    for n, name in enumerate(names):
        row = pod_names(panel).index(name)
        ids.append(model.pod_id_at(row))
        rect = table.visualRect(model.index(row, PodColumn.NAME))
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(  # type: ignore[no-untyped-call]
            table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center()
        )
    qtbot.waitUntil(lambda: sorted(panel.selected_ids()) == sorted(ids))
    return ids


def events_of(bridge: EngineBridge) -> list[Event]:
    seen: list[Event] = []
    bridge.event_published.connect(seen.append)
    return seen


def bulk(qtbot: QtBot, window: MainWindow, keys: str) -> str:
    """Press a bulk command's keys; its report once it has run."""
    with qtbot.waitSignal(window.pod_commands.finished, timeout=10_000) as done:
        press(qtbot, window, keys)
    return str(done.args[0])


def test_the_pods_tab_lists_every_pod_and_shows_one_in_the_details(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    panel = show_pods(qtbot, window)
    assert sorted(pod_names(panel)) == sorted(p.name for p in demo.pods())
    assert pod_names(panel) == sorted(pod_names(panel))  # by name until a header is clicked
    row = pod_names(panel).index("api-1")
    assert (
        panel.model.index(row, PodColumn.NODE).data()
        == demo.find_pod(panel.model.pod_id_at(row)).node_name
    )  # type: ignore[union-attr]
    assert panel.model.index(row, PodColumn.STATUS).data() == "running"

    index = panel.model.index(pod_names(panel).index("cache-1"), PodColumn.STATUS)
    double_click(qtbot, panel.table.viewport(), panel.table.visualRect(index).center())
    qtbot.waitUntil(lambda: window.details.title.text() == "cache-1")
    panel.table.setCurrentIndex(panel.model.index(pod_names(panel).index("web-2"), 0))
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: window.details.title.text() == "web-2")
    # The tree's commands stand down while the list is shown: the list's own hold the keys.
    assert not window.commands.delete.isEnabled() and not window.commands.kill_pod.isEnabled()
    labels = {action_label(a) for a in window_actions(window)}
    assert {"Delete Selected Pods", "Fail Selected Pods", "Recover Nodes of Selected Pods"} <= (
        labels
    )


def test_slash_focuses_the_lists_filter_and_esc_clears_it(qtbot: QtBot, window: MainWindow) -> None:
    panel = show_pods(qtbot, window)
    select_names(qtbot, panel, ["api-1"])
    press(qtbot, window, "/")
    qtbot.waitUntil(panel.filter.hasFocus)
    type_text(qtbot, panel.filter, "web")
    qtbot.waitUntil(lambda: pod_names(panel) == ["web-1", "web-2"])
    # The selected pod is filtered out: it leaves the selection and the details, as in the tree.
    assert panel.selected_ids() == []
    qtbot.waitUntil(lambda: window.details.title.text() != "api-1")
    qtbot.keyClick(panel.filter, Qt.Key.Key_Escape)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: len(pod_names(panel)) == 6)


def test_bulk_delete_asks_once_and_removes_exactly_those(
    qtbot: QtBot, window: MainWindow, demo: Engine
) -> None:
    panel = show_pods(qtbot, window)
    ids = select_names(qtbot, panel, ["web-1", "cache-1", "metrics"])
    kept = {p.id for p in demo.pods()} - set(ids)
    press(qtbot, window, "Delete")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
    box = child(window, QMessageBox, "ConfirmDelete")
    qtbot.waitExposed(box)
    assert box.text() == "Delete 3 pods? cache-1, metrics, web-1."
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    with qtbot.waitSignal(window.pod_commands.finished, timeout=10_000) as done:
        click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    assert done.args[0] == "Deleted 3 pods: cache-1, metrics, web-1."
    assert {p.id for p in demo.pods()} == kept
    qtbot.waitUntil(lambda: sorted(pod_names(panel)) == ["api-1", "web-2", "worker-job"])
    assert panel.selected_ids() == []


def test_a_pod_deleted_while_the_confirmation_is_open_is_named(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    panel = show_pods(qtbot, window)
    ids = select_names(qtbot, panel, ["api-1", "web-2"])
    press(qtbot, window, "Delete")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "ConfirmDelete") is not None)
    box = child(window, QMessageBox, "ConfirmDelete")
    qtbot.waitExposed(box)
    run_async(demo.delete_pod(ids[0]))  # someone else (the API, say) was quicker
    with qtbot.waitSignal(window.pod_commands.finished, timeout=10_000) as done:
        click(qtbot, box.button(QMessageBox.StandardButton.Ok))
    assert done.args[0] == "Deleted 1 of 2 pods: web-2; refused: api-1 (already deleted)."
    assert not {p.name for p in demo.pods()} & {"api-1", "web-2"}


def test_bulk_fail_kills_the_running_ones_and_names_the_refused(
    qtbot: QtBot, window: MainWindow, demo: Engine, demo_bridge: EngineBridge,
    run_async: Callable[..., Any],
) -> None:  # fmt: skip
    make_deployment(run_async, demo, "big", 1, cpu="64")  # its replica fits nowhere: pending
    qtbot.waitUntil(lambda: any(p.name.startswith("big-") for p in demo.pods()))
    big = next(p.name for p in demo.pods() if p.name.startswith("big-"))
    panel = show_pods(qtbot, window)
    qtbot.waitUntil(lambda: big in pod_names(panel))
    events = events_of(demo_bridge)
    ids = select_names(qtbot, panel, ["web-1", "api-1", big])
    report = bulk(qtbot, window, "Ctrl+Shift+X")
    assert report == (
        f"Failed 2 of 3 pods: api-1, web-1; "
        f"refused: {big} (Pod {big} is pending: it has no process to kill)."
    )
    qtbot.waitUntil(lambda: len([e for e in events if e.kind is EventKind.POD_KILLED]) == 2)
    killed = {e.pod_id for e in events if e.kind is EventKind.POD_KILLED}
    assert killed == set(ids[:2])
    assert f"refused: {big}" in child(window, QLabel, "MessageText").text()


def test_bulk_recover_restarts_the_pods_nodes_once_each(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    panel = show_pods(qtbot, window)
    web1 = next(p for p in demo.pods() if p.name == "web-1")
    assert web1.node_name is not None
    run_async(demo.inject_fault(node_id(demo, web1.node_name), "hang"))
    same_node = [p.name for p in demo.pods() if p.node_id == web1.node_id]
    elsewhere = next(p for p in demo.pods() if p.node_id not in (None, web1.node_id))
    select_names(qtbot, panel, [*same_node, elsewhere.name])
    report = bulk(qtbot, window, "Ctrl+R")
    assert report.startswith(f"Recovering 1 of 2 nodes: {web1.node_name}; refused: ")
    assert f"{elsewhere.node_name} (Node {elsewhere.node_name} is healthy: nothing to recover)" in (
        report
    )
    hung = demo.find_node(web1.node_id)  # type: ignore[arg-type]
    assert hung is not None and not hung.faults


def test_the_context_menu_and_the_palette_act_on_the_whole_selection(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = show_pods(qtbot, window)
    select_names(qtbot, panel, ["api-1", "web-2"])
    row = pod_names(panel).index("web-2")
    rect = panel.table.visualRect(panel.model.index(row, PodColumn.STATUS))
    panel.table.customContextMenuRequested.emit(rect.center())
    menu = child(window, QMenu, "PodListContextMenu")
    qtbot.waitUntil(menu.isVisible)
    assert len(panel.selected_ids()) == 2  # a right click on a selected row keeps them all
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:3] == [
        "Fail Selected Pods",
        "Recover Nodes of Selected Pods",
        "Delete Selected Pods…",
    ]
    assert all(a.isEnabled() for a in menu.actions()[:3])
    # The current row's logs, as from the tree (virtual pods: opens and says there are none).
    assert window.logs.show_logs in menu.actions() and window.logs.show_logs.isEnabled()
    menu.close()

    press(qtbot, window, "Ctrl+K")
    qtbot.waitUntil(lambda: window.findChild(CommandPalette) is not None)
    palette = child(window, CommandPalette, "CommandPalette")
    type_text(qtbot, palette.filter, "fail selected")
    assert palette.list.currentItem().text() == "Fail Selected Pods  ·  Ctrl+Shift+X"
    with qtbot.waitSignal(window.pod_commands.finished, timeout=10_000) as done:
        qtbot.keyClick(palette.filter, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    assert done.args[0] == "Failed 2 pods: api-1, web-2."


def test_columns_and_sort_order_survive_a_new_window(
    qtbot: QtBot, window: MainWindow, demo_bridge: EngineBridge, prefs: Preferences,
    demo: Engine,
) -> None:  # fmt: skip
    panel = show_pods(qtbot, window)
    header = panel.table.horizontalHeader()
    header.customContextMenuRequested.emit(QPoint(10, 5))
    menu = child(panel, QMenu, "PodListColumnsMenu")
    qtbot.waitUntil(menu.isVisible)
    namespace = child(menu, QAction, f"PodListColumn{PodColumn.NAMESPACE}")
    assert not child(menu, QAction, "PodListColumn0").isEnabled()  # Name stays
    namespace.trigger()
    menu.close()
    assert header.isSectionHidden(PodColumn.NAMESPACE)
    for _ in range(2):  # ascending, then descending
        x = header.sectionViewportPosition(PodColumn.RESTARTS) + 10
        click(qtbot, header.viewport(), QPoint(x, header.height() // 2))
    qtbot.waitUntil(lambda: header.sortIndicatorOrder() is Qt.SortOrder.DescendingOrder)
    window.close()

    again = open_window(qtbot, demo_bridge, prefs, demo.settings)
    pods = again.pods
    restored = pods.table.horizontalHeader()
    assert restored.isSectionHidden(PodColumn.NAMESPACE)
    assert not restored.isSectionHidden(PodColumn.NODE)
    assert restored.sortIndicatorSection() == PodColumn.RESTARTS
    assert restored.sortIndicatorOrder() is Qt.SortOrder.DescendingOrder
    assert pods.model.sort_column == PodColumn.RESTARTS
