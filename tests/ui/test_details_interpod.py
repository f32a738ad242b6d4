"""The details' "Why it is here" with pod (anti-)affinity and spread: each node's reason in
kube-scheduler's words and the score parts of the nodes that fit, for placed and pending pods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.details import DetailsPanel
from kube9_desktop.ui.details_table import Table
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from tests.ui.helpers import child

TERM = {
    "label_selector": {"match_labels": {"app": "web"}},
    "topology_key": "kubernetes.io/hostname",
}


def web(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "labels": {"app": "web"}, "cpu_cores_req": 0.5,
            "containers": [{"name": "c", "image": "nginx"}], **fields}  # fmt: skip


def panel_for(qtbot: QtBot, bridge: EngineBridge, pod_id: int) -> Table:
    panel = DetailsPanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_item(TreeItem(ItemKind.POD, pod_id))
    return child(panel, Table, "SchedulingCandidates")


def test_why_it_is_here_names_anti_affinity_and_shows_scores(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    for name, cores in (("w1", 2), ("w2", 4), ("w3", 8)):
        body = {"name": name, "cpu_cores_avail": cores, "labels": {"host": name}}
        run_async(ui_engine.create_node_from_json(body))
    qtbot.waitUntil(
        lambda: all(n.status is NodeStatus.HEALTHY for n in ui_engine.cluster.node_views()),
        timeout=10_000,
    )
    first = run_async(ui_engine.create_pod_from_json(web("web-1"))).view
    assert first.node_name == "w1"
    rules = {"required": [TERM]}
    near = {"preferred": [{"weight": 40, "pod_affinity_term": {**TERM, "label_selector": {
        "match_labels": {"app": "cache"}}}}]}  # fmt: skip
    run_async(
        ui_engine.create_pod_from_json(
            {**web("cache"), "labels": {"app": "cache"}, "node_selector": {"host": "w3"}}
        )
    )
    second = run_async(ui_engine.create_pod_from_json(
        web("web-2", pod_anti_affinity=rules, pod_affinity=near))).view  # fmt: skip
    assert second.node_name == "w3"
    table = panel_for(qtbot, bridge, second.id)
    qtbot.waitUntil(lambda: table.rowCount() == 3)
    shown = dict(zip(table.texts(0), table.texts(3), strict=True))
    assert shown == {
        "w3": "fits · pod affinity 40",
        "w2": "fits · pod affinity 0",
        "w1": "node(s) didn't match pod anti-affinity rules",
    }


def test_a_pending_replica_says_which_rule_keeps_it_out(
    qtbot: QtBot, ui_engine: Engine, bridge: EngineBridge, run_async: Callable[..., Any]
) -> None:
    for name in ("a1", "b1"):
        body = {"name": name, "cpu_cores_avail": 4,
                "labels": {"topology.kubernetes.io/zone": name[0]}}  # fmt: skip
        run_async(ui_engine.create_node_from_json(body))
    qtbot.waitUntil(
        lambda: all(n.status is NodeStatus.HEALTHY for n in ui_engine.cluster.node_views()),
        timeout=10_000,
    )
    spread = [{"max_skew": 1, "topology_key": "topology.kubernetes.io/zone",
               "label_selector": {"match_labels": {"app": "web"}}}]  # fmt: skip
    template = web("x", pod_anti_affinity={"required": [TERM]}, topology_spread_constraints=spread)
    del template["name"]
    body = {"name": "web", "replicas": 3, "template": template}
    run_async(ui_engine.create_deployment(parse_body(DeploymentCreate, body).to_spec()))
    qtbot.waitUntil(lambda: sum(p.node_id is None for p in ui_engine.pods()) == 1, timeout=10_000)
    pending = next(p for p in ui_engine.pods() if p.node_id is None)
    table = panel_for(qtbot, bridge, pending.id)
    qtbot.waitUntil(lambda: table.rowCount() == 2)
    assert set(table.texts(3)) == {"node(s) didn't satisfy existing pods anti-affinity rules"}
