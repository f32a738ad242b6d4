"""The benchmark cannot rot: ``bench/run.py --smoke`` runs every section at tiny sizes and
reports every figure, as a number or as null with the reason. No figure is judged here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import KEYS  # noqa: E402


@pytest.mark.timeout(600)
def test_smoke_run_reports_every_figure(tmp_path: Path) -> None:
    out_file = tmp_path / "out.json"
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--json", str(out_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=540, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out_file.read_text())
    meta = data["meta"]
    assert meta["mode"] == "smoke" and meta["python"] and meta["date"]
    assert meta["machine"]["cores"] >= 1
    problems = []
    for key in KEYS:
        if key not in data:
            problems.append(f"{key}: missing")
            continue
        value = data[key]
        if value is None:
            reason = meta["notes"].get(key, "")
            if not reason:
                problems.append(f"{key}: null without a reason")
            elif "section " in reason and " failed" in reason:
                problems.append(f"{key}: {reason}")  # a null must be the machine's, not a crash
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{key}: {value!r} is not a number")
        elif not meta["workloads"].get(key):
            problems.append(f"{key}: no workload stated")
        if key not in out.stdout:
            problems.append(f"{key}: not in the printed table")
    assert not problems, "\n".join(problems) + "\n" + out.stdout + out.stderr
    assert set(data) == {*KEYS, "meta"}


@pytest.mark.timeout(300)
def test_the_kubernetes_api_benchmark_runs_at_small_sizes() -> None:
    """bench/k8s_api.py end to end (kubectl, the official client, watchers), tiny."""
    from tests.k8s.conftest import kubectl_path

    kubectl_path()  # skips (or fails in CI) without kubectl, like the kubectl tests
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "k8s_api.py"), "--pods", "60", "--k1", "40",
         "--burst", "20", "--watchers", "5", "--apply", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    for key in (
        "kubectl_get_pods_40_s",
        "client_list_60_pods_s",
        "watch_5x20_p99_s",
        "kubectl_apply_5_deployments_s",
    ):
        assert key in out.stdout, out.stdout
    assert "watch_events_lost 0 of 100" in out.stdout, out.stdout
