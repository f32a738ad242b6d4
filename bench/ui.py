"""The cluster tree's figures, from ``bench/ui_tree.py`` run in its own process offscreen.

Qt never loads into the benchmark's processes: the tree benchmark runs as a child with
``QT_QPA_PLATFORM=offscreen``; when it is missing, fails or Qt is absent, both figures are
null with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bench.common import ROOT, Figure, Figures, Sizes

KEYS = ("ui_tree_build_ms_1k_20k", "ui_apply_1000_changes_ms")
TIMEOUT_S = 240.0
SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from bench.ui_tree import run
print("UI-RESULT " + json.dumps(run({repeats}, {nodes}, {pods})), flush=True)
"""


def missing(why: str) -> Figures:
    return {k: Figure(None, "ms", "", why) for k in KEYS}


def run(sizes: Sizes) -> Figures:
    if not (ROOT / "bench" / "ui_tree.py").exists():
        return missing("bench/ui_tree.py is not there yet: the tree benchmark is not measured")
    code = SCRIPT.format(
        root=str(ROOT), repeats=sizes.repeats, nodes=sizes.ui_nodes, pods=sizes.ui_pods
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
            timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return missing(f"bench/ui_tree.py did not finish within {TIMEOUT_S:g} s")
    for line in out.stdout.splitlines():
        if line.startswith("UI-RESULT "):
            values = json.loads(line[len("UI-RESULT ") :])
            break
    else:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return missing(f"bench/ui_tree.py failed (exit {out.returncode}): {tail[:200]}")
    size = f"{sizes.ui_nodes:,} nodes / {sizes.ui_pods:,} pods"
    return {
        "ui_tree_build_ms_1k_20k": Figure(
            values.get("ui_tree_build_ms_1k_20k"),
            "ms",
            f"ClusterTreeModel with its filter proxy and a tree view, offscreen, {size}: engine "
            f"attach -> model filled; median of {sizes.repeats} (bench/ui_tree.py)",
        ),
        "ui_apply_1000_changes_ms": Figure(
            values.get("ui_apply_1000_changes_ms"),
            "ms",
            f"the same tree, {size}: one burst of 1,000 changes (500 pod moves, 300 status "
            f"changes, 200 deletes) applied and laid out; median of {sizes.repeats} "
            "(bench/ui_tree.py)",
        ),
    }
