"""The event timeline dock: the log (newest at the bottom), its filters, and a failure's
timeline with durations."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.events import EVENT_ROLE, EventLogModel
from tests.ui.helpers import (
    busiest_worker,
    check_model,
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    double_click,
    node_id,
    type_text,
    window_fixture,  # noqa: F401
)


def shown_events(window: MainWindow) -> list[Event]:
    proxy = window.events.proxy
    return [proxy.index(r, 0).data(EVENT_ROLE) for r in range(proxy.rowCount())]


def test_event_log_model_is_valid_and_grows_at_the_bottom(
    qtbot: QtBot, qtmodeltester: ModelTester, demo: Engine, demo_bridge: EngineBridge
) -> None:
    model = EventLogModel(demo_bridge)
    check_model(qtmodeltester, model)
    ids = [model.event_at(r).id for r in range(model.rowCount())]  # type: ignore[union-attr]
    assert ids == sorted(ids) and ids
    demo_bridge.run(
        "Add node", lambda e: e.create_node_from_json({"name": "w9", "cpu_cores_avail": 1})
    )

    def events() -> list[Event]:
        return [e for r in range(model.rowCount()) if (e := model.event_at(r)) is not None]

    qtbot.waitUntil(
        lambda: any(e.node_name == "w9" and e.kind is EventKind.NODE_READY for e in events()),
        timeout=5000,
    )
    ids = [e.id for e in events()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # newest at the bottom, no repeats
    check_model(qtmodeltester, model)


def test_events_filter_by_kind_and_by_node_or_pod(qtbot: QtBot, window: MainWindow) -> None:
    kinds = child(window, QComboBox, "EventKindFilter")
    kinds.setCurrentText("Only pod_created")
    bound = shown_events(window)
    assert len(bound) == 6 and {e.kind for e in bound} == {EventKind.POD_CREATED}
    type_text(qtbot, child(window, QLineEdit, "EventFilter"), "web-1")
    assert [e.pod_name for e in shown_events(window)] == ["web-1"]
    kinds.setCurrentText("All events")
    assert all("web-1" in (e.pod_name or "") + e.message for e in shown_events(window))
    assert len(shown_events(window)) > 1


def test_a_failure_event_shows_the_failure_timeline_with_durations(
    qtbot: QtBot, window: MainWindow, demo: Engine, demo_bridge: EngineBridge
) -> None:
    victim = busiest_worker(demo)
    victim_id = node_id(demo, victim)
    demo_bridge.run("Crash", lambda e: e.inject_fault(victim_id, "crash"))

    def recovered() -> bool:
        return any(
            e.kind is EventKind.NODE_RECOVERED and e.node_id == victim_id
            for e in shown_events(window)
        )

    qtbot.waitUntil(recovered, timeout=10_000)
    table = child(window, QTableView, "EventTable")
    row = next(
        r
        for r, e in enumerate(shown_events(window))
        if e.kind is EventKind.NODE_DETECTED and e.node_id == victim_id
    )
    index = window.events.proxy.index(row, 4)
    table.scrollTo(index)
    click(qtbot, table.viewport(), table.visualRect(index).center())
    title = child(window, QLabel, "IncidentTitle")
    qtbot.waitUntil(lambda: "Failure #" in title.text())
    assert f"crash of {victim}" in title.text()

    incident = window.events.selected_event().incident_id  # type: ignore[union-attr]
    assert incident is not None
    timeline = demo_bridge.timeline(incident)
    assert timeline is not None
    durations = timeline.durations()
    assert durations["detect_s"] is not None and durations["recover_s"] is not None
    text = child(window, QLabel, "IncidentDurations").text()
    assert f"detected after {durations['detect_s']:.2f} s" in text
    assert f"recovered after {durations['recover_s']:.2f} s" in text
    assert f"{timeline.pods_moved} pod(s) moved" in text
    milestones = child(window, Table, "IncidentTimeline")
    assert milestones.texts(0)[:5] == [
        "Injected",
        "Detected",
        "Evictions started",
        "Last pod rebound",
        "Recovered",
    ]
    assert "not yet" not in milestones.texts(1)
    assert milestones.texts(2)[0] == "0.00 s"


def test_double_clicking_an_event_selects_its_pod(qtbot: QtBot, window: MainWindow) -> None:
    table = child(window, QTableView, "EventTable")
    row = next(r for r, e in enumerate(shown_events(window)) if e.pod_name == "api-1")
    index = window.events.proxy.index(row, 0)
    table.scrollTo(index)
    where = table.visualRect(index).center()
    double_click(qtbot, table.viewport(), where)
    qtbot.waitUntil(lambda: window.details.title.text() == "api-1")
