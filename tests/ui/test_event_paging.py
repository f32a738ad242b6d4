"""The events dock pages back through the store: it opens on the newest events, and "Load
older" brings the page before the oldest shown, in order, with no event twice, repeats still
counted in one row across pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.event_dock import EventDock
from kube9_desktop.ui.models.events import COUNT_ROLE, HISTORY, PAGE, EventLogModel

STORED = 30_000
REPEATS = (10, 12_000, 29_990)  # the same event, seen on three different pages


@pytest.fixture
def stored(ui_engine: Engine) -> Engine:
    """30,000 events in the store (one commit), before any window reads them."""
    with ui_engine.cluster.transaction() as t:
        for i in range(STORED):
            message = "disk is slow" if i in REPEATS else f"step {i}"
            t.event(EventKind.RUNTIME, message, data={"i": i})
    return ui_engine


@pytest.fixture
def dock(qtbot: QtBot, stored: Engine) -> Iterator[EventDock]:
    bridge = EngineBridge()
    bridge.attach(stored)
    dock = EventDock(bridge)
    qtbot.addWidget(dock)
    dock.resize(900, 300)
    dock.show()
    qtbot.waitExposed(dock)
    yield dock
    bridge.detach()


def steps(model: EventLogModel) -> list[int]:
    """The ``i`` of every stored step row, top to bottom (engine events have none)."""
    out = []
    for row in range(model.rowCount()):
        event = model.event_at(row)
        assert event is not None
        if "i" in event.data:
            out.append(int(event.data["i"]))
    return out


def test_load_older_pages_back_in_order_without_duplicates(
    qtbot: QtBot, dock: EventDock, stored: Engine
) -> None:
    model = dock.model
    assert steps(model) == list(range(STORED - HISTORY, STORED))  # the newest page
    assert dock.older.isEnabled() and dock.older.text() == "Load older"
    assert model.index(model.rowCount() - 1, 4).data() == f"step {STORED - 1}"

    qtbot.mouseClick(dock.older, Qt.MouseButton.LeftButton)
    assert not dock.following  # reading back is not following
    assert steps(model) == list(range(STORED - HISTORY - PAGE, STORED))

    while dock.older.isEnabled():
        qtbot.mouseClick(dock.older, Qt.MouseButton.LeftButton)
    assert dock.older.text() == "No older events"
    # Every stored event once, in order; the three repeats count in the row of the newest,
    # which says its words (i = 29,990) where it was first shown.
    assert steps(model) == [i for i in range(STORED) if i not in REPEATS[:2]]
    counted = [
        model.index(r, 0).data(COUNT_ROLE)
        for r in range(model.rowCount())
        if model.event_at(r).message == "disk is slow"
    ]
    assert counted == [3]
    assert "×3" in next(
        model.index(r, 4).data()
        for r in range(model.rowCount())
        if "slow" in model.index(r, 4).data()
    )

    # New events still arrive at the bottom, after the whole history.
    stored.cluster.record_event(EventKind.RUNTIME, "the newest")
    qtbot.waitUntil(lambda: model.event_at(model.rowCount() - 1).message == "the newest")
