"""Shared helpers for the UI tests: engines and windows, typed input and child lookup, tree
queries. The fake bridge lives in ``fake_bridge`` (the tree benchmark uses it too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QTableWidget, QWidget
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeType, PodPhase
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.preferences import Preferences
from tests.helpers import fast_settings
from tests.ui.fake_bridge import FakeBridge, fake_cluster

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester

__all__ = ["FakeBridge", "fake_cluster"]  # re-exported for the tests
Q = TypeVar("Q", bound=QObject)


# ---- engines and windows ------------------------------------------------------------------


def demo_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The demo cluster on virtual nodes with fast heartbeats, and a grace period (1 s) that a
    busy shared machine's stalls do not reach; a failed node waits 1 s before its restart (long
    enough to be seen unhealthy)."""
    values: dict[str, Any] = {"demo": True, "grace_period": 1.0, "recovery_backoff": 1.0}
    values.update(overrides)
    return fast_settings(tmp_path / "data", **values)


@contextmanager
def running_engine(settings: Settings, run_async: Callable[..., Any]) -> Iterator[Engine]:
    """A started engine on the test's qasync loop, stopped afterwards."""
    engine = Engine(settings)
    run_async(start_engine(engine))
    try:
        yield engine
    finally:
        run_async(engine.stop())


@pytest.fixture(name="demo")
def demo_fixture(tmp_path: Path, run_async: Callable[..., Any], qtbot: QtBot) -> Iterator[Engine]:
    """A started engine with the demo cluster (3 workers, a master, 6 pods being placed)."""
    with running_engine(demo_settings(tmp_path), run_async) as engine:
        yield engine


@pytest.fixture(name="process_engine")
def process_engine_fixture(tmp_path: Path, run_async: Callable[..., Any]) -> Iterator[Engine]:
    """A started engine on the process runtime (real processes) with 0.2 s heartbeats."""
    engine = Engine(fast_settings(tmp_path / "data", runtime="process", heartbeat_interval=0.2))
    run_async(start_engine(engine))
    try:
        yield engine
    finally:
        run_async(engine.stop(), timeout=60)


@pytest.fixture(name="demo_bridge")
def demo_bridge_fixture(demo: Engine) -> Iterator[EngineBridge]:
    bridge = EngineBridge()
    bridge.attach(demo)
    yield bridge
    bridge.detach()


@pytest.fixture(name="window")
def window_fixture(
    qtbot: QtBot, demo: Engine, demo_bridge: EngineBridge, prefs: Preferences
) -> MainWindow:
    """The main window over the demo cluster, active, once every demo pod runs."""
    wait_demo_placed(qtbot, demo)
    window = open_window(qtbot, demo_bridge, prefs, demo.settings)
    qtbot.waitUntil(lambda: parent_name(tree_model(window), "metrics") is not None)
    return window


def open_window(
    qtbot: QtBot, bridge: EngineBridge, prefs: Preferences, settings: Settings
) -> MainWindow:
    """A shown, active main window (shortcuts only reach the active window)."""
    window = MainWindow(bridge, prefs, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def tree_model(window: MainWindow) -> QAbstractItemModel:
    """What the tree view shows (the filtered, sorted proxy)."""
    return window.cluster.proxy


def select(qtbot: QtBot, window: MainWindow, name: str) -> None:
    """Click the tree row named ``name`` as a user would."""
    tree = window.cluster.tree
    index = find_row(tree.model(), name)
    assert index.isValid(), f"{name} is not in the tree"
    tree.scrollTo(index)
    rect = tree.visualRect(index)
    click(qtbot, tree.viewport(), rect.center())
    qtbot.waitUntil(lambda: window.details.title.text() == name)


# pytest-qt's input helpers, typed.


def click(qtbot: QtBot, widget: QWidget, pos: QPoint | None = None) -> None:
    """A left click on ``widget`` (at ``pos``, else its centre)."""
    pos = widget.rect().center() if pos is None else pos
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]


def double_click(qtbot: QtBot, widget: QWidget, pos: QPoint) -> None:
    """Press, release, then the double click, as a mouse does."""
    click(qtbot, widget, pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]


def type_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    qtbot.keyClicks(widget, text)  # type: ignore[no-untyped-call]


def edit_cell(qtbot: QtBot, table: QTableWidget, row: int, col: int, text: str) -> None:
    """Type into one cell the way a user does: pick a choice with the keys, type into a
    cell's own field, or open the item's editor, type and press Enter."""
    widget = table.cellWidget(row, col)
    if isinstance(widget, QComboBox):
        qtbot.keyClick(widget, Qt.Key.Key_Home)  # type: ignore[no-untyped-call]
        for _ in range(widget.findText(text)):
            qtbot.keyClick(widget, Qt.Key.Key_Down)  # type: ignore[no-untyped-call]
        assert widget.currentText() == text
        return
    if isinstance(widget, QLineEdit):
        type_text(qtbot, widget, text)
        return
    item = table.item(row, col)
    assert item is not None
    table.setCurrentCell(row, col)
    table.editItem(item)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.parent() is table.viewport()
    type_text(qtbot, editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: item.text() == text, timeout=2000)


def press(qtbot: QtBot, window: MainWindow, key: str) -> None:
    """Type a shortcut such as "Ctrl+Shift+P" into the window, made active first (a closed
    popup menu can leave the offscreen platform without an active window)."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    combination = cast(Any, QKeySequence(key))[0]  # a QKeyCombination (the stubs lack [])
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, combination.key(), combination.keyboardModifiers())  # type: ignore[no-untyped-call]


def node_id(engine: Engine, name: str) -> int:
    node = engine.cluster.state.node_by_name(name)
    assert node is not None, name
    return node.id


def busiest_worker(engine: Engine) -> str:
    """The worker holding the most pods (whose crash moves the most)."""
    workers = [n for n in engine.cluster.node_views() if n.node_type is NodeType.WORKER]
    return max(workers, key=lambda n: (len(n.pod_ids), -n.id)).name


def wait_demo_placed(qtbot: QtBot, engine: Engine, pods: int = 6) -> None:
    """Until the demo cluster's pods are all created and running on healthy workers."""

    def placed() -> bool:
        views = engine.cluster.pod_views()
        return len(views) >= pods and all(v.phase is PodPhase.RUNNING for v in views)

    qtbot.waitUntil(placed, timeout=15_000)


def child(parent: QObject, kind: type[Q], name: str) -> Q:
    """The child of ``parent`` named ``name``, of type ``kind`` (fails the test otherwise)."""
    found = parent.findChild(kind, name)
    assert isinstance(found, kind), f"no {kind.__name__} named {name!r}"
    return found


# ---- tree queries ---------------------------------------------------------------------------


def check_model(tester: ModelTester, model: QAbstractItemModel, *, force_py: bool = False) -> None:
    """pytest-qt's model tester (Qt's own unless ``force_py``); it keeps watching signals."""
    tester.check(model, force_py=force_py)  # type: ignore[no-untyped-call]


def walk(model: QAbstractItemModel, parent: QModelIndex | None = None) -> Iterator[QModelIndex]:
    """Every index in column 0 below ``parent``, depth first."""
    parent = parent or QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        yield index
        yield from walk(model, index)


def names_in(model: QAbstractItemModel) -> set[str]:
    """Every name the tree shows (nodes, the Pending group, pods, containers)."""
    return {str(i.data()) for i in walk(model)}


def find_row(model: QAbstractItemModel, name: str) -> QModelIndex:
    """The first index whose name column reads ``name`` (invalid when absent)."""
    return next((i for i in walk(model) if i.data() == name), QModelIndex())


def parent_name(model: QAbstractItemModel, name: str) -> str | None:
    """The name of the row above ``name`` ("Pending" for waiting pods), None when absent."""
    index = find_row(model, name)
    return index.parent().data() if index.isValid() else None


def cell(model: QAbstractItemModel, name: str, column: int) -> Any:
    index = find_row(model, name)
    return index.siblingAtColumn(column).data(Qt.ItemDataRole.DisplayRole)


# ---- workloads ------------------------------------------------------------------------------


def deployment_body(
    name: str, replicas: int = 2, image: str = "nginx:1.25", **spec: Any
) -> dict[str, Any]:
    """A DeploymentCreate body: ``replicas`` pods of one 0.1-core container labelled app=name."""
    cpu = spec.pop("cpu", "100m")
    return {
        "name": name,
        "replicas": replicas,
        "template": {
            "labels": {"app": name},
            "containers": [{"name": "app", "image": image, "cpu_req": cpu, "memory_req": "64Mi"}],
        },
        **spec,
    }


def make_deployment(
    run_async: Callable[..., Any], engine: Engine, name: str, replicas: int = 2, **spec: Any
) -> int:
    """Create a Deployment through the engine (as the API would); returns its id."""
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentCreate

    body = deployment_body(name, replicas, **spec)
    done = run_async(engine.create_deployment(parse_body(DeploymentCreate, body).to_spec()))
    return int(done.view.id)


def workloads_model(window: MainWindow) -> QAbstractItemModel:
    return window.workloads.proxy


def show_workloads(qtbot: QtBot, window: MainWindow) -> None:
    """Click the Workloads tab."""
    bar = window.trees.tabBar()
    click(qtbot, bar, bar.tabRect(1).center())
    qtbot.waitUntil(lambda: window.trees.currentWidget() is window.workloads)


def select_workload(qtbot: QtBot, window: MainWindow, name: str) -> None:
    """Click the workloads tree's row named ``name`` as a user would."""
    show_workloads(qtbot, window)
    tree = window.workloads.tree
    qtbot.waitUntil(lambda: find_row(tree.model(), name).isValid(), timeout=5000)
    index = find_row(tree.model(), name)
    tree.scrollTo(index)
    click(qtbot, tree.viewport(), tree.visualRect(index).center())
    qtbot.waitUntil(lambda: window.details.title.text() == name)


def rollout_complete(engine: Engine, deployment_id: int) -> bool:
    """Every replica updated and available, old ReplicaSets at 0 (and their pods gone)."""
    d = engine.find_deployment(deployment_id)
    if d is None:
        return False
    s = d.status
    cond = s.condition("Progressing")
    return (
        cond is not None
        and cond.reason == "NewReplicaSetAvailable"
        and s.updated == s.replicas == s.available == d.spec.replicas
    )
