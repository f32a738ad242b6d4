"""The rollout view: rollouts read from events (a pure function and its table), the chart's
samples, and the events dock's steps with the duration, a stalled one shown stalled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentPatch
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.events import EVENT_ROLE
from kube9_desktop.ui.rollout_timeline import (
    COMPLETE,
    IN_PROGRESS,
    STALLED,
    SUPERSEDED,
    rollout_around,
)
from tests.ui.helpers import (
    demo_bridge_fixture,  # noqa: F401
    demo_fixture,  # noqa: F401
    make_deployment,
    rollout_complete,
    select_workload,
    window_fixture,  # noqa: F401
)

K = EventKind
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WEB = ObjectRef("Deployment", 1, "u1", "web")
API = ObjectRef("Deployment", 2, "u2", "api")


def events(
    *spec: tuple[EventKind, ObjectRef] | tuple[EventKind, ObjectRef, dict[str, Any]],
) -> list[Event]:
    """Events one second apart, ids from 1."""
    out = []
    for i, item in enumerate(spec, start=1):
        kind, obj, data = item if len(item) == 3 else (*item, {})  # type: ignore[misc]
        out.append(Event(i, T0 + timedelta(seconds=i), kind, f"{kind} {obj.name}", obj, data=data))
    return out


LOG = events(
    (K.DEPLOYMENT_CREATED, WEB),  # 1
    (K.DEPLOYMENT_SCALED, WEB),  # 2
    (K.DEPLOYMENT_SCALED, API),  # 3 (another Deployment's)
    (K.DEPLOYMENT_COMPLETE, WEB),  # 4
    (K.DEPLOYMENT_UPDATED, WEB, {"rollout": False}),  # 5: a scale, not a rollout
    (K.DEPLOYMENT_UPDATED, WEB, {"rollout": True}),  # 6
    (K.DEPLOYMENT_SCALED, WEB),  # 7
    (K.DEPLOYMENT_STALLED, WEB),  # 8
    (K.DEPLOYMENT_ROLLED_BACK, WEB),  # 9
    (K.DEPLOYMENT_SCALED, WEB),  # 10
)


@pytest.mark.parametrize(
    ("anchor", "start", "steps", "end", "outcome"),
    [
        (1, 1, [2], 4, COMPLETE),  # the first rollout: created -> complete in 3 s
        (4, 1, [2], 4, COMPLETE),  # its complete event belongs to it
        (5, 1, [2], 4, COMPLETE),  # an update that is no rollout: still the last one
        (7, 6, [7], 9, SUPERSEDED),  # stalled, then a rollback started the next one
        (10, 9, [10], None, IN_PROGRESS),  # the rollback's rollout goes on
    ],
)
def test_a_rollout_is_read_from_its_deployments_events(
    anchor: int, start: int, steps: list[int], end: int | None, outcome: str
) -> None:
    rollout = rollout_around(LOG, WEB.id, anchor)
    assert rollout is not None
    assert rollout.start.id == start
    assert [e.id for e in rollout.steps] == steps
    assert (rollout.end.id if rollout.end else None) == end
    assert rollout.outcome == outcome
    if outcome == COMPLETE:
        assert rollout.duration_s(T0) == 3.0  # created at 1 s, complete at 4 s


def test_a_stalled_rollout_has_no_end_and_counts_to_now() -> None:
    rollout = rollout_around(LOG[:8], WEB.id, 8)
    assert rollout is not None and rollout.outcome == STALLED
    assert rollout.stalled_after_s == 2.0
    assert rollout.duration_s(T0 + timedelta(seconds=20)) == 14.0
    assert rollout_around(LOG, API.id, 3) is None  # no start of api's is known


def test_the_chart_samples_the_replicasets_of_a_rollout(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    d_id = make_deployment(run_async, demo, "web", 2, image="nginx:1.25")
    select_workload(qtbot, window, "web")
    sampler = window.details.rollouts
    qtbot.waitUntil(lambda: sampler.size(d_id) >= 2, timeout=5000)
    patch = {"template": {"labels": {"app": "web"}, "containers": [
        {"name": "app", "image": "nginx:1.26", "cpu_req": "100m", "memory_req": "64Mi"}]}}  # fmt: skip
    run_async(demo.update_deployment(d_id, parse_body(DeploymentPatch, patch)))
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    qtbot.waitUntil(lambda: len(sampler.replicasets(d_id)) == 2, timeout=5000)
    chart = window.details.deployment_page.chart
    qtbot.waitUntil(
        lambda: (
            chart.curve_names()
            == ["rev 1 available", "rev 1 replicas", "rev 2 available", "rev 2 replicas"]
        ),
        timeout=5000,
    )
    (old, new) = sorted(sampler.replicasets(d_id), key=lambda r: sampler.replicasets(d_id)[r])
    qtbot.waitUntil(lambda: sampler.series(d_id, old, "replicas")[-1] == 0, timeout=5000)
    qtbot.waitUntil(lambda: sampler.series(d_id, new, "available")[-1] == 2, timeout=5000)
    assert np.isnan(sampler.series(d_id, new, "replicas")[0])  # it did not exist yet
    assert np.nanmax(sampler.series(d_id, old, "replicas")) == 2
    assert len(sampler.times(d_id)) == sampler.size(d_id)


def _select_event(window: MainWindow, kind: str, name: str) -> None:
    table = window.events.table
    model = table.model()
    rows = [r for r in range(model.rowCount(QModelIndex()))
            if (e := model.index(r, 0).data(EVENT_ROLE)).kind == kind and e.object.name == name]  # fmt: skip
    table.selectRow(rows[-1])


def test_the_events_dock_shows_a_rollouts_steps_and_duration(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    d_id = make_deployment(run_async, demo, "web", 2, image="nginx:1.25")
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    patch = {"template": {"labels": {"app": "web"}, "containers": [
        {"name": "app", "image": "nginx:1.26", "cpu_req": "100m", "memory_req": "64Mi"}]}}  # fmt: skip
    run_async(demo.update_deployment(d_id, parse_body(DeploymentPatch, patch)))
    qtbot.waitUntil(lambda: rollout_complete(demo, d_id), timeout=10_000)
    qtbot.waitUntil(
        lambda: any(
            window.events.model.event_at(r).kind is K.DEPLOYMENT_COMPLETE
            and window.events.model.event_at(r).id > 0
            for r in range(window.events.model.rowCount())
        )
    )
    _select_event(window, "deployment_complete", "web")
    panel = window.events.rollout
    qtbot.waitUntil(lambda: window.events.side.currentWidget() is panel)
    assert "Rollout of web" in panel.title.text() and "complete in" in panel.title.text()
    steps = panel.steps.texts(0)
    assert steps[0] == "rollout: app: image nginx:1.25 → nginx:1.26"  # the update
    assert any("scaled" in s for s in steps[1:-1])  # the controller's steps
    assert steps[-1].startswith("Rollout complete")
    assert not panel.why.isVisible()


def test_a_stalled_rollout_is_stalled_in_the_events_dock(
    qtbot: QtBot, window: MainWindow, demo: Engine, run_async: Callable[..., Any]
) -> None:
    make_deployment(run_async, demo, "huge", 2, cpu="6", progress_deadline_seconds=1)
    qtbot.waitUntil(
        lambda: any(
            window.events.model.event_at(r).kind is K.DEPLOYMENT_STALLED
            for r in range(window.events.model.rowCount())
        ),
        timeout=10_000,
    )
    _select_event(window, "deployment_stalled", "huge")
    panel = window.events.rollout
    qtbot.waitUntil(lambda: "stalled" in panel.title.text())
    assert panel.why.isVisible()
    why = panel.why.text()
    assert "made no progress for 1 s" in why and "ProgressDeadlineExceeded" in why
    assert "its new pods wait: 2 pods: no node fits" in why
