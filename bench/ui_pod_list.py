"""Benchmark: the pod list at 20,000 pods (1,000 nodes), offscreen.

Prints ``ui_pod_list_build_ms_20k`` (engine attach -> table filled and sorted by name, in the
window's own panel), ``ui_pod_list_apply_1000_changes_ms`` (one burst: 500 pods moved, 300
failed, 200 deleted, applied and laid out), ``ui_pod_list_sort_ms_20k`` (a header click: sort
by CPU used), ``ui_pod_list_filter_ms_20k`` (a filter typed) and ``ui_pod_list_tick_ms_20k``
(one bridge tick: usage read for every pod, ages and usage repainted), each the median of a
few repeats. The fake bridge builds the frozen views the engine does, so the UI alone is
measured.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_pod_list.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shiboken6  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from kube9_desktop.engine.model import PodPhase  # noqa: E402
from kube9_desktop.ui.models.pod_list_cells import PodColumn  # noqa: E402
from kube9_desktop.ui.pod_list_panel import PodListPanel  # noqa: E402
from kube9_desktop.ui.preferences import Preferences  # noqa: E402
from tests.ui.fake_bridge import FakeBridge, fake_cluster  # noqa: E402

NODES, PODS = 1000, 20_000


def _panel(bridge: FakeBridge, path: Path) -> PodListPanel:
    prefs = Preferences(QSettings(str(path), QSettings.Format.IniFormat))
    panel = PodListPanel(bridge, prefs)
    panel.resize(900, 700)
    panel.show()
    return panel


def _timed(app: QApplication, act: Callable[[], None]) -> float:
    start = time.perf_counter()
    act()
    app.processEvents()
    return (time.perf_counter() - start) * 1000


def measure(app: QApplication, seed: int, tmp: Path) -> dict[str, float]:
    rng = random.Random(seed)
    bridge = fake_cluster(NODES, PODS // NODES)
    for view in bridge.pods():
        bridge.set_pod_usage(view.id, rng.random(), rng.random() * 200)
    panel = _panel(bridge, tmp / f"prefs-{seed}.ini")
    out = {"ui_pod_list_build_ms_20k": _timed(app, bridge.attach_fake)}
    model = panel.model
    assert model.rowCount() == PODS
    pods = model.pod_ids()
    rng.shuffle(pods)
    nodes = [n.id for n in bridge.nodes()]
    moves, fails, deletes = pods[:500], pods[500:800], pods[800:1000]
    for pod in moves:
        bridge.move_pod(pod, rng.choice(nodes))
    for pod in fails:
        bridge.set_pod_phase(pod, PodPhase.FAILED)
    for pod in deletes:
        bridge.delete_pod(pod)
    touched = set(moves) | set(fails) | set(deletes)
    out["ui_pod_list_apply_1000_changes_ms"] = _timed(app, lambda: bridge.changed(pods=touched))
    assert model.rowCount() == PODS - len(deletes)
    out["ui_pod_list_sort_ms_20k"] = _timed(
        app, lambda: panel.table.sortByColumn(PodColumn.CPU, Qt.SortOrder.DescendingOrder)
    )
    for pod in model.pod_ids():
        bridge.set_pod_usage(pod, rng.random(), rng.random() * 200)
    out["ui_pod_list_tick_ms_20k"] = _timed(app, bridge.ticked.emit)

    def type_filter() -> None:
        panel.filter.setText("pod-7")
        panel.apply_filter()

    out["ui_pod_list_filter_ms_20k"] = _timed(app, type_filter)
    panel.close()
    shiboken6.delete(panel)
    return out


def run(repeats: int = 3) -> dict[str, float]:
    """Median figures in milliseconds."""
    import tempfile

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure(app, seed, Path(tmp)) for seed in range(repeats)]
    return {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, value in run(args.repeats).items():
        print(f"{name} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
