"""Benchmark: the cluster tree at 1,000 nodes / 20,000 pods, offscreen.

Prints ``ui_tree_build_ms_1k_20k`` (engine attach -> model filled, with its sort/filter proxy
and a tree view attached, as in the window) and ``ui_apply_1000_changes_ms`` (one burst of
1,000 changes: 500 pod moves, 300 status changes, 200 deletes, applied and laid out), each the
median of a few repeats. The cluster is served by the tests' fake bridge, which builds the same
frozen views the engine does on every read, so the figures measure the UI alone.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_tree.py [--repeats 5]

``run()`` returns the same figures as a dict for other scripts.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shiboken6  # noqa: E402
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kube9_desktop.engine.model import NodeStatus, PodPhase  # noqa: E402
from kube9_desktop.ui.cluster_panel import ClusterPanel  # noqa: E402
from kube9_desktop.ui.models.cluster_tree import ClusterTreeModel  # noqa: E402
from tests.ui.fake_bridge import FakeBridge, fake_cluster  # noqa: E402

NODES, PODS = 1000, 20_000
EXPANDED = 50  # nodes a user has opened: their rows are mapped by the proxy and laid out


def _window(bridge: FakeBridge) -> tuple[ClusterTreeModel, ClusterPanel]:
    """The window's own tree panel (filter box, proxy, view), shown offscreen."""
    panel = ClusterPanel(bridge)
    panel.resize(900, 700)
    panel.show()
    return panel.model, panel


def measure_build(app: QApplication, nodes: int, pods: int) -> float:
    bridge = fake_cluster(nodes, pods // nodes)
    model, view = _window(bridge)
    start = time.perf_counter()
    bridge.attach_fake()
    app.processEvents()
    elapsed = time.perf_counter() - start
    assert model.rowCount() == nodes + 1
    _dispose(view)
    return elapsed * 1000


def _dispose(view: ClusterPanel) -> None:
    view.close()
    shiboken6.delete(view)


def measure_changes(app: QApplication, nodes: int, pods: int, seed: int) -> float:
    rng = random.Random(seed)
    bridge = fake_cluster(nodes, pods // nodes)
    model, view = _window(bridge)
    bridge.attach_fake()
    for row in range(EXPANDED):
        view.tree.expand(view.proxy.index(row, 0))
    app.processEvents()
    node_ids = model.node_ids()
    all_pods = [p for n in node_ids for p in model.pod_ids(n)]
    total = len(all_pods)
    rng.shuffle(all_pods)
    moves, phases, deletes = all_pods[:500], all_pods[500:650], all_pods[650:850]
    touched_nodes: set[int] = set()
    for pod in moves:
        old, new = model.parent_of_pod(pod), rng.choice(node_ids)
        bridge.move_pod(pod, new)
        touched_nodes.update((old, new))  # type: ignore[arg-type]
    for pod in phases:
        bridge.set_pod_phase(pod, PodPhase.FAILED)
    for node in rng.sample(node_ids, min(150, len(node_ids))):
        bridge.set_node_status(node, NodeStatus.UNHEALTHY)
        touched_nodes.add(node)
    for pod in deletes:
        touched_nodes.add(model.parent_of_pod(pod))  # type: ignore[arg-type]
        bridge.delete_pod(pod)
    start = time.perf_counter()
    bridge.changed(touched_nodes, set(moves) | set(phases) | set(deletes))
    app.processEvents()
    elapsed = time.perf_counter() - start
    assert sum(len(model.pod_ids(n)) for n in node_ids) == total - len(deletes)
    _dispose(view)
    return elapsed * 1000


def _quiet(_mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if "propagateSizeHints" not in message:  # the offscreen platform's note on every show
        print(message, file=sys.stderr)


def run(repeats: int = 3, nodes: int = NODES, pods: int = PODS) -> dict[str, float]:
    """Median build and apply times in milliseconds."""
    qInstallMessageHandler(_quiet)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    build = [measure_build(app, nodes, pods) for _ in range(repeats)]
    apply = [measure_changes(app, nodes, pods, seed) for seed in range(repeats)]
    return {
        "ui_tree_build_ms_1k_20k": round(statistics.median(build), 1),
        "ui_apply_1000_changes_ms": round(statistics.median(apply), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, value in run(args.repeats).items():
        print(f"{name} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
