"""bench/scenario.py cannot rot: it runs at tiny sizes, prints its figures and holds repeated
runs to one report hash. No wall time is judged here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_the_scenario_benchmark_runs_small(tmp_path: Path) -> None:
    kept = tmp_path / "bench.yaml"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scenario.py"), "--nodes", "12", "--pods", "120",
         "--faults", "3", "--duration", "5m", "--determinism", "2", "--keep", str(kept)],
        capture_output=True, text=True, cwd=ROOT, timeout=280,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["determinism_runs"] == 2 and result["determinism_hashes"] == 1
    assert result["ratio"] > 0 and len(result["hash"]) == 64
    for strategy in ("best-fit", "first-fit", "worst-fit"):
        assert f"{strategy}:" in done.stdout
    assert "sim/wall" in done.stdout and "incidents 3" in done.stdout
    assert "count: 3" in kept.read_text()  # the faults' repeat, kept for a look
