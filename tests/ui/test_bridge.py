"""The bridge turns engine events into coalesced Qt signals and runs operations as tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge


def test_operations_report_results_and_changes(
    bridge: EngineBridge, ui_engine: Engine, qtbot: QtBot, run_async: Callable[..., Any]
) -> None:
    results: list[Any] = []
    with qtbot.waitSignal(bridge.cluster_changed, timeout=5000) as changed:
        bridge.run(
            "Add node",
            lambda e: e.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}),
            results.append,
        )
    assert results and results[0].view.name == "w1"
    change = changed.args[0]
    assert isinstance(change, ChangeSet) and results[0].view.id in change.added[Kind.NODE]
    qtbot.waitUntil(lambda: bridge.nodes()[0].status == "healthy", timeout=5000)


def test_user_errors_reach_the_error_callback(bridge: EngineBridge, qtbot: QtBot) -> None:
    errors: list[Kube9Error] = []
    bridge.run("Add node", lambda e: e.create_node_from_json({"name": "BAD"}), None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0].to_json()["field"] in ("name", "cpu_cores_avail")


def test_unhandled_errors_become_operation_failed(bridge: EngineBridge, qtbot: QtBot) -> None:
    async def boom(_engine: Engine) -> None:
        raise ValueError("bug")

    with qtbot.waitSignal(bridge.operation_failed, timeout=5000) as failed:
        bridge.run("Explode", boom)
    assert failed.args[0] == "Explode" and "bug" in failed.args[1]


def test_namespaces_and_name_checks_are_the_engines_reads(
    bridge: EngineBridge, ui_engine: Engine, run_async: Callable[..., Any], qtbot: QtBot
) -> None:
    run_async(ui_engine.create_namespace("team-a"))
    names = [ns.name for ns in bridge.namespaces()]
    assert "default" in names and "team-a" in names
    team = bridge.namespace("team-a")
    assert team is not None and team.pod_count == 0
    assert bridge.namespace("nowhere") is None
    run_async(ui_engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2}))
    qtbot.waitUntil(lambda: bridge.nodes()[0].status == "healthy", timeout=5000)
    body = {"name": "p", "namespace": "team-a", "containers": [{"name": "c", "image": "x"}]}
    run_async(ui_engine.create_pod_from_json({**body, "cpu_cores_req": 1}))
    assert bridge.node_name_taken("w1") and not bridge.node_name_taken("w2")
    assert bridge.pod_name_taken("p", "team-a") and not bridge.pod_name_taken("p")


def test_a_detached_bridge_reads_nothing(qtbot: QtBot) -> None:
    bridge = EngineBridge()
    assert bridge.namespaces() == [] and bridge.namespace("default") is None
    assert not bridge.pod_name_taken("p") and not bridge.node_name_taken("w1")
