"""Send Traffic on a Service, driven as a user would: the form (validated inline), the run
charted in the Service's details (a line per endpoint and one of errors), Stop Traffic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.traffic import TrafficSpec
from kube9_desktop.ui.dialogs.traffic_form import TrafficForm
from kube9_desktop.ui.main_window import MainWindow
from tests.ui.helpers import (
    child,
    click,
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    make_deployment,
    type_text,
    window_fixture,  # noqa: F401
)
from tests.ui.test_services import make_service, select_service

pytestmark = [pytest.mark.qt_log_ignore("This plugin does not support")]


def open_traffic_form(qtbot: QtBot, window: MainWindow) -> TrafficForm:
    window.service_commands.send_traffic.trigger()
    qtbot.waitUntil(lambda: window.findChild(TrafficForm) is not None)
    form = child(window, TrafficForm, "TrafficForm")
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    return form


def retype(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    field.selectAll()
    type_text(qtbot, field, text)


def test_send_traffic_charts_it_and_stop_ends_it(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    make_deployment(run_async, demo, "web", 2)
    s_id = make_service(run_async, demo, "web")
    select_service(qtbot, window, "web")
    actions = window.service_commands
    assert actions.send_traffic.isEnabled() and not actions.stop_traffic.isEnabled()
    page = window.details.service_page
    assert not page.traffic.isVisibleTo(page)  # nothing has run yet

    form = open_traffic_form(qtbot, window)
    submit = child(form, QPushButton, "submit")
    retype(qtbot, form.rate, "0")
    error = child(form, QLabel, "rate_error")
    qtbot.waitUntil(lambda: "greater than 0" in error.text())
    assert not submit.isEnabled()
    retype(qtbot, form.path, "/a b")
    qtbot.waitUntil(lambda: "visible ASCII" in child(form, QLabel, "path_error").text())
    retype(qtbot, form.rate, "40")
    retype(qtbot, form.path, "/")
    retype(qtbot, form.duration, "3600")
    qtbot.waitUntil(submit.isEnabled)
    with qtbot.waitSignal(form.accepted, timeout=5000):
        click(qtbot, submit)

    qtbot.waitUntil(lambda: page.traffic.isVisibleTo(page), timeout=5000)
    qtbot.waitUntil(lambda: actions.stop_traffic.isEnabled(), timeout=5000)
    assert not actions.send_traffic.isEnabled()
    chart = page.traffic_chart
    qtbot.waitUntil(
        lambda: (
            sum(chart.lines.get("errors", []))
            + sum(sum(v) for k, v in chart.lines.items() if k != "errors")
            >= 40
        ),
        timeout=15_000,
    )
    assert "running" in page.traffic_summary.text()
    assert "errors" in chart.lines  # always drawn, in red, dashed

    actions.stop_traffic.trigger()
    qtbot.waitUntil(lambda: "stopped" in page.traffic_summary.text(), timeout=5000)
    qtbot.waitUntil(lambda: actions.send_traffic.isEnabled(), timeout=5000)
    run = demo.traffic(s_id).to_json()
    totals = run["totals"]
    # What the chart drew is what the engine counted, second by second.
    qtbot.waitUntil(lambda: len(chart.lines["errors"]) == len(run["series"]), timeout=5000)
    drawn = sum(sum(v) for k, v in chart.lines.items() if k != "errors")
    assert drawn == sum(totals["by_endpoint"].values()) == totals["requests"]
    assert sum(chart.lines["errors"]) == sum(totals["errors"].values())


def test_a_crash_during_traffic_is_marked_on_the_chart(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    make_deployment(run_async, demo, "api", 2)
    s_id = make_service(run_async, demo, "api")
    select_service(qtbot, window, "api")
    run_async(demo.start_traffic(s_id, TrafficSpec(20, 3600)))
    page = window.details.service_page
    qtbot.waitUntil(lambda: page.traffic.isVisibleTo(page), timeout=5000)
    holder = next(p.node_id for p in demo.pods() if p.labels.get("app") == "api")
    assert holder is not None
    run_async(demo.inject_fault(holder, "crash"))
    chart = page.traffic_chart
    qtbot.waitUntil(lambda: len(chart.marker_times) >= 1, timeout=10_000)
    assert all(t >= 0 for t in chart.marker_times)
    run_async(demo.stop_traffic(s_id))


def test_the_chart_keeps_each_endpoint_s_colour_and_names_markers_in_its_legend(
    qtbot: QtBot,
) -> None:
    from kube9_desktop.ui.traffic_chart import TrafficChart

    chart = TrafficChart()
    qtbot.addWidget(chart)

    def run(seconds: list[dict[str, int]]) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for s in seconds:
            for k, v in s.items():
                totals[k] = totals.get(k, 0) + v
        zero = {"refused": 0, "reset": 0, "timeout": 0, "http_5xx": 0}
        return {
            "started_at": 100.0, "series": [
                {"second": i, "ok": sum(s.values()), "errors": zero, "by_endpoint": s,
                 "p50_ms": 1.0, "p99_ms": 2.0} for i, s in enumerate(seconds)],
            "totals": {"by_endpoint": totals},
        }  # fmt: skip

    chart.show_run(run([{"web-abc-a1": 5, "web-abc-b2": 1}]), [])
    before = dict(chart._colors)
    # b2 overtakes a1 (the order by count changes): each keeps its colour.
    chart.show_run(run([{"web-abc-a1": 5, "web-abc-b2": 1}, {"web-abc-b2": 50}]), [])
    assert chart._colors == before and len(set(before.values())) == 2
    legend = chart.legend.text()
    assert "…a1" in legend and "…b2" in legend and "web-abc" not in legend  # shared prefix cut
    assert chart.lines["web-abc-b2"] == [1.0, 50.0]
