"""The log view on the real process runtime: a container's output appears and follows, holds
still while scrolled up, shows the previous run after a restart, and can be searched, wrapped,
copied and saved; the tree's menu, the details and Ctrl+L open it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QPlainTextEdit, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus, PodView
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.log_actions import LogActions
from kube9_desktop.ui.log_view import MAX_LINES, LogView
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.palette import CommandPalette
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.shortcuts import shortcut_rows
from tests.ui.helpers import (
    FakeBridge,
    click,
    open_window,
    press,
    process_engine_fixture,
    select,
    start_pod,
)

__all__ = ["process_engine_fixture"]  # the fixture used below

# Prints a line every 50 ms (the first 300 at once: more than a window holds), and one line
# that is not UTF-8.
TICKER = (
    "import sys, time\n"
    "sys.stdout.buffer.write(b'bad \\xff byte\\n')\n"
    "for i in range(300): print('early', i)\n"
    "i = 0\n"
    "while True:\n"
    "    print('tick', i, flush=True); i += 1; time.sleep(0.05)\n"
)
# Counts its runs in a file of the pod's directory, says which run it is, and exits.
RESTARTER = (
    "import pathlib\n"
    "p = pathlib.Path('runs'); n = int(p.read_text()) + 1 if p.exists() else 1\n"
    "p.write_text(str(n)); print('run', n, flush=True)\n"
    "raise SystemExit(1)\n"
)


@pytest.fixture
def bridge_p(process_engine: Engine) -> Iterator[EngineBridge]:
    bridge = EngineBridge()
    bridge.attach(process_engine)
    yield bridge
    bridge.detach()


def open_view(qtbot: QtBot, bridge: EngineBridge, pod: PodView, container: str = "c0") -> LogView:
    view = LogView(bridge, pod, container)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def text_of(view: LogView) -> str:
    return view.text.toPlainText()


def test_logs_appear_and_follow_and_hold_still_when_scrolled_up(
    qtbot: QtBot, process_engine: Engine, bridge_p: EngineBridge, run_async: Callable[..., Any]
) -> None:
    pod = start_pod(qtbot, process_engine, run_async, "ticker", TICKER)
    view = open_view(qtbot, bridge_p, pod)
    assert view.follow.isChecked()
    qtbot.waitUntil(lambda: "early 299" in text_of(view), timeout=30_000)
    assert "bad \ufffd byte" in text_of(view)  # not UTF-8: a replacement character
    qtbot.waitUntil(lambda: "tick 3\n" in text_of(view), timeout=10_000)
    assert view.following
    bar = view.text.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())

    bar.setValue(0)  # the user scrolls up: lines keep coming, the view holds still
    lines = view.text.document().blockCount()
    qtbot.waitUntil(lambda: view.text.document().blockCount() > lines + 3, timeout=10_000)
    assert bar.value() == 0
    assert "scrolled up" in view.status.text()

    bar.setValue(bar.maximum())  # back at the end: it follows again
    lines = view.text.document().blockCount()
    qtbot.waitUntil(lambda: view.text.document().blockCount() > lines + 3, timeout=10_000)
    assert bar.value() == bar.maximum()
    assert "scrolled up" not in view.status.text()

    click(qtbot, view.follow)  # Follow off: no more lines
    qtbot.waitUntil(lambda: not view.following and "tick" in text_of(view), timeout=10_000)
    view.close()  # closing stops following: its task is cancelled
    assert view._tasks == []


def test_the_previous_run_after_a_restart(
    qtbot: QtBot, process_engine: Engine, bridge_p: EngineBridge, run_async: Callable[..., Any]
) -> None:
    pod = start_pod(qtbot, process_engine, run_async, "restarter", RESTARTER)
    view = open_view(qtbot, bridge_p, pod)
    qtbot.waitUntil(lambda: "run 1" in text_of(view), timeout=30_000)
    qtbot.waitUntil(
        lambda: any(c.restarts >= 2 for c in process_engine.pod(pod.id).containers),
        timeout=30_000,
    )
    click(qtbot, view.previous)
    qtbot.waitUntil(lambda: "run " in text_of(view), timeout=10_000)
    previous_run = int(text_of(view).split()[1])
    assert previous_run >= 1 and not view.follow.isEnabled()  # a finished run: nothing to follow
    assert "(previous run)" in view.windowTitle()
    click(qtbot, view.previous)
    qtbot.waitUntil(lambda: "run " in text_of(view), timeout=10_000)
    assert int(text_of(view).split()[1]) > previous_run


def test_no_previous_run_says_so(
    qtbot: QtBot, process_engine: Engine, bridge_p: EngineBridge, run_async: Callable[..., Any]
) -> None:
    pod = start_pod(qtbot, process_engine, run_async, "ticker", TICKER)
    view = open_view(qtbot, bridge_p, pod)
    qtbot.waitUntil(lambda: "tick" in text_of(view), timeout=30_000)
    click(qtbot, view.previous)
    qtbot.waitUntil(lambda: "No previous run" in view.text.placeholderText(), timeout=10_000)
    assert text_of(view) == ""
    assert "has not restarted" in view.text.placeholderText()


def test_search_wrap_copy_and_save(
    qtbot: QtBot,
    process_engine: Engine,
    bridge_p: EngineBridge,
    run_async: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pod = start_pod(qtbot, process_engine, run_async, "ticker", TICKER)
    view = open_view(qtbot, bridge_p, pod)
    qtbot.waitUntil(lambda: "early 299" in text_of(view), timeout=30_000)
    click(qtbot, view.follow)  # hold the text still for the search counts
    qtbot.waitUntil(lambda: not view.following and "early 299" in text_of(view), timeout=10_000)

    qtbot.keyClicks(view.search, "early 29")  # type: ignore[no-untyped-call]
    # early 29 and early 290-299: eleven matches, each painted, the first selected
    qtbot.waitUntil(lambda: view.matches.text() == "11 matches")
    assert len(view.text.extraSelections()) == 11
    assert view.text.textCursor().selectedText() == "early 29"
    first = view.text.textCursor().position()
    click(qtbot, view.find_next)
    assert view.text.textCursor().position() > first
    click(qtbot, view.find_previous)
    assert view.text.textCursor().position() == first
    view.search.setText("no such text")
    assert view.matches.text() == "no match"
    assert view.text.extraSelections() == []

    mode = QPlainTextEdit.LineWrapMode
    assert view.text.lineWrapMode() == mode.NoWrap
    click(qtbot, view.wrap)
    assert view.text.lineWrapMode() == mode.WidgetWidth

    click(qtbot, view.copy)  # nothing selected: all of it
    clipboard = QApplication.clipboard()
    assert clipboard.text() == text_of(view) and "early 299" in clipboard.text()
    assert "copied" in view.status.text()

    target = tmp_path / "saved.log"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Logs (*.log *.txt)")
    )
    click(qtbot, view.save)
    assert target.read_text(encoding="utf-8") == text_of(view)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "no" / "x.log"), "")
    )
    click(qtbot, view.save)
    assert view.error.isVisible() and "Could not save" in view.error.text()


def test_the_buffer_keeps_the_last_lines_and_says_older_ones_were_dropped(
    qtbot: QtBot, process_engine: Engine, bridge_p: EngineBridge, run_async: Callable[..., Any]
) -> None:
    many = (
        f"import sys, time\nfor i in range({MAX_LINES + 500}): print('line', i)\n"
        "sys.stdout.flush(); time.sleep(600)"
    )
    pod = start_pod(qtbot, process_engine, run_async, "chatty", many)
    view = open_view(qtbot, bridge_p, pod)
    last = f"line {MAX_LINES + 499}\n"
    qtbot.waitUntil(lambda: text_of(view).endswith(last), timeout=30_000)
    assert view.text.document().blockCount() - 1 == MAX_LINES
    assert text_of(view).startswith("line 500\n")
    assert "older lines dropped" in view.status.text()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: no stacking
def test_a_container_is_chosen_and_the_same_view_is_raised_again(
    qtbot: QtBot, process_engine: Engine, bridge_p: EngineBridge, run_async: Callable[..., Any]
) -> None:
    script = "import os, time; print('I am', os.environ['POD_NAME'], flush=True); time.sleep(600)"
    pod = start_pod(qtbot, process_engine, run_async, "pair", script, containers=2)
    qtbot.waitUntil(lambda: process_engine.pod(pod.id).node_id is not None)
    parent = QPushButton()  # any widget stands in for the window
    qtbot.addWidget(parent)
    actions = LogActions(bridge_p, parent)
    first = actions.open_for(TreeItem(ItemKind.CONTAINER, pod.id, 1))
    assert first is not None and first.container == "c1" and first.containers.isVisible()
    qtbot.addWidget(first)
    assert actions.open_logs(pod.id, "c1") is first  # raised, not opened twice
    first.containers.setCurrentText("c0")
    qtbot.waitUntil(lambda: "I am pair" in text_of(first), timeout=30_000)
    assert first.key == (pod.id, "c0") and "pair/c0" in first.windowTitle()
    assert actions.open_logs(pod.id, "c0") is first
    second = actions.open_logs(pod.id, "c1")
    assert second is not None and second is not first
    qtbot.addWidget(second)
    second.close()
    qtbot.waitUntil(lambda: len(actions.views) == 1)


def test_a_virtual_pod_says_it_has_no_output(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Callable[..., Any]
) -> None:
    node = run_async(ui_engine.create_node_from_json({"name": "v1", "cpu_cores_avail": 1}))
    qtbot.waitUntil(lambda: ui_engine.node(node.view.id).status is NodeStatus.HEALTHY)
    created = run_async(ui_engine.create_pod_from_json({
        "name": "quiet", "cpu_cores_req": 0.1,
        "containers": [{"name": "c0", "image": "nginx:1"}],
    }))  # fmt: skip
    view = open_view(qtbot, bridge, created.view)
    qtbot.waitUntil(lambda: "virtual node: no container output" in view.status.text())
    assert "Virtual nodes run no processes" in view.text.placeholderText()
    assert text_of(view) == "" and not view.following


def test_show_logs_is_disabled_with_a_reason(qtbot: QtBot) -> None:
    bridge = FakeBridge()
    node = bridge.add_node("w1")
    pending = bridge.add_pod("waiting", None)
    bound = bridge.add_pod("placed", node)
    bridge.attach_fake()
    parent = QPushButton()  # any widget stands in for the window
    qtbot.addWidget(parent)
    actions = LogActions(bridge, parent)
    assert not actions.show_logs.isEnabled()
    assert "select a pod first" in actions.show_logs.toolTip()
    actions.set_selection(TreeItem(ItemKind.POD, pending))
    assert not actions.show_logs.isEnabled()
    assert "not on a node yet" in actions.show_logs.toolTip()
    assert actions.open_for(TreeItem(ItemKind.POD, pending)) is None
    actions.set_selection(TreeItem(ItemKind.POD, bound))
    assert actions.show_logs.isEnabled()
    bridge.move_pod(bound, None)  # evicted: the window learns it from the change set
    changes = Changes()
    changes.changed = {Kind.POD: {bound}}
    bridge.cluster_changed.emit(changes)
    assert not actions.show_logs.isEnabled()


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: no popup grabs
def test_the_tree_menu_the_details_the_palette_and_ctrl_l_open_the_logs(
    qtbot: QtBot,
    process_engine: Engine,
    bridge_p: EngineBridge,
    run_async: Callable[..., Any],
    prefs: Preferences,
) -> None:
    pod = start_pod(qtbot, process_engine, run_async, "ticker", TICKER)
    settings: Settings = process_engine.settings
    window: MainWindow = open_window(qtbot, bridge_p, prefs, settings)
    window.cluster.tree.expandAll()
    qtbot.waitUntil(lambda: window.cluster.select(TreeItem(ItemKind.POD, pod.id)))
    select(qtbot, window, "ticker")
    assert window.logs.show_logs.isEnabled()
    assert ("Show Logs", "Ctrl+L") in shortcut_rows(window)  # the cheat sheet lists it

    press(qtbot, window, "Ctrl+L")
    qtbot.waitUntil(lambda: len(window.logs.views) == 1)
    view = window.logs.views[0]
    qtbot.waitUntil(lambda: "tick" in text_of(view), timeout=30_000)
    view.close()
    qtbot.waitUntil(lambda: not window.logs.views)

    button = window.details.logs_button
    assert button.isVisible() and button.isEnabled()
    click(qtbot, button)
    qtbot.waitUntil(lambda: len(window.logs.views) == 1)
    assert window.logs.views[0].key == (pod.id, "c0")
    window.logs.views[0].close()
    qtbot.waitUntil(lambda: not window.logs.views)

    menu = window.commands.context_menu  # the tree's right-click menu
    menu.popup(window.mapToGlobal(QPoint(200, 200)))
    qtbot.waitExposed(menu)
    click(qtbot, menu, menu.actionGeometry(window.logs.show_logs).center())
    qtbot.waitUntil(lambda: len(window.logs.views) == 1)
    window.logs.views[0].close()
    qtbot.waitUntil(lambda: not window.logs.views)

    press(qtbot, window, "Ctrl+K")  # the command palette
    palette = window.findChild(CommandPalette)
    assert palette is not None
    qtbot.keyClicks(palette.filter, "show logs")  # type: ignore[no-untyped-call]
    assert palette.list.currentItem().text() == "Show Logs  ·  Ctrl+L"
    qtbot.keyClick(palette.filter, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: len(window.logs.views) == 1)
    window.logs.views[0].close()
