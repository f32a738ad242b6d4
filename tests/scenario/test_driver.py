"""The simulated driver end to end on small scenarios: the timeline's order and conditions,
refusals recorded, incidents timed, and the same file giving the same report bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kube9_desktop.scenario.format import parse_scenario
from kube9_desktop.scenario.report import csv_text, dumps, report_hash, run_scenario

ROOT = Path(__file__).resolve().parents[2]

SMALL = """\
name: small
seed: 11
duration: 90s
cluster:
  nodes:
    - {name: w, count: 3, cpu: 4, memory: 8Gi}
settings: {heartbeat: 1s, grace: 3s}
measure: {sample_every: 10s}
timeline:
  - at: 0s
    create_deployment:
      name: web
      replicas: 4
      template:
        labels: {app: web}
        containers: [{name: c, image: nginx, cpu_req: 0.5, memory_req: 256}]
  - after: deployment web ready
    delay: 5s
    fault: {node: random, mode: crash}
  - at: 20s
    create_pod: {name: huge, containers: [{name: c, image: nginx, cpu_req: 64}]}
  - at: 20s
    create_pod: {name: tiny, containers: [{name: c, image: nginx, cpu_req: 0.1}]}
  - at: 40s
    scale_deployment: {name: web, replicas: 30}
  - after: no pods pending
    heal: {node: w-1}
  - at: 50s
    repeat:
      count: 3
      every: 10s
      jitter: 4s
      do: {create_pod: {name: "r-{i}", containers: [{name: c, image: nginx, cpu_req: 0.1}]}}
"""


def run(text: str, strategies: list[str]) -> dict:  # type: ignore[type-arg]
    return run_scenario(parse_scenario(text, "small.yaml"), strategies)


def test_the_timeline_runs_in_order_and_is_reported() -> None:
    combined = run(SMALL, ["best-fit"])
    report = combined["strategies"]["best-fit"]
    steps = report["steps"]
    by_item = {s["item"]: s for s in steps if "repetition" not in s}
    assert by_item[0]["t"] == 0.0 and by_item[0]["outcome"] == "deployment web created"
    # After the Deployment is available (a heartbeat or two), plus the 5 s delay.
    assert 5.0 < by_item[1]["t"] < 10.0 and by_item[1]["outcome"].startswith("crash on w-")
    # Same time, file order; the bare pod no node can take is refused with the engine's words.
    assert [s["item"] for s in steps if s["t"] == 20.0] == [2, 3]
    assert "No available worker node can fit pod 'huge'" in by_item[2]["error"]
    assert by_item[3]["outcome"] == "pod tiny created"
    totals = report["totals"]
    assert totals["pods_refused"] == 1 and totals["refused_reasons"] == {"insufficient cpu": 1}
    # 30 replicas of 0.5 cores do not fit 2 healthy 4-core nodes: some wait, with reasons.
    assert totals["pending_peak"] > 0
    assert totals["unschedulable_reasons"].get("insufficient cpu", 0) > 0
    repeats = [s for s in steps if s.get("repetition")]
    assert [s["outcome"] for s in repeats] == ["pod r-1 created", "pod r-2 created",
                                               "pod r-3 created"]  # fmt: skip
    for n, s in enumerate(repeats):
        assert 50 + 10 * n <= s["t"] <= 54 + 10 * n
    (incident,) = report["incidents"]
    assert incident["mode"] == "crash" and incident["injected_t"] == by_item[1]["t"]
    assert 0 < incident["detect_s"] <= 4.0  # within the grace period and a tick
    assert incident["recover_s"] is not None and incident["recover_s"] > incident["detect_s"]
    assert totals["nodes_detected"] >= 1
    series = report["series"]
    assert series["t"][0] == 0.0 and series["t"][-1] == 90.0
    assert all(b - a == 10.0 for a, b in zip(series["t"][:-1], series["t"][1:], strict=True))
    assert max(series["cpu_allocated_m"]) <= max(series["cpu_capacity_m"])
    assert series["deployments"]["web"]["desired"][-1] == 30
    header = csv_text(report).splitlines()[0].split(",")
    assert header[:2] == ["t", "cpu_capacity_m"] and header[-2:] == ["web:available", "web:desired"]
    assert combined["scenario"]["seed"] == 11 and len(combined["scenario"]["file_sha256"]) == 64


def test_three_runs_give_one_report_hash() -> None:
    hashes = {report_hash(run(SMALL, ["best-fit", "worst-fit"])) for _ in range(3)}
    assert len(hashes) == 1


def test_another_seed_gives_another_report() -> None:
    a = dumps(run(SMALL, ["first-fit"]))
    b = dumps(run(SMALL.replace("seed: 11", "seed: 12"), ["first-fit"]))
    assert a != b


def test_the_same_bytes_from_separate_processes_with_other_hash_seeds(tmp_path: Path) -> None:
    """Across processes (string hashing differs with PYTHONHASHSEED), as across machines."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"out-{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "scenario", "run", str(path),
             "--strategies", "best-fit,first-fit", "--out", str(out)],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append((out / "small.json").read_bytes())
        assert (out / "small.best-fit.csv").is_file() and (out / "small.first-fit.json").is_file()
    assert outputs[0] == outputs[1]
    assert b'"app_version"' in outputs[0]


def test_the_cli_refuses_a_bad_file_and_an_unknown_strategy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nduration: 1m\ncluster:\n  nodes: [{name: w, cpu: 0}]\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "run", str(bad)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{bad}:4: cluster.nodes[0].cpu: must be greater than 0" in done.stderr
    good = tmp_path / "good.yaml"
    good.write_text("seed: 1\nduration: 1m\ncluster:\n  nodes: [{name: w, cpu: 1}]\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "run", str(good),
         "--strategies", "best-fit,fastest-fit"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "fastest-fit is not one of" in done.stderr


def test_the_cli_finds_shipped_scenarios_by_name(tmp_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "list"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0 and "partition-split-brain" in listed.stdout
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "scenario", "check", "n-plus-one"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith(
        "n-plus-one: valid (2 step(s), 5 node(s))"
    )


def test_measure_series_chooses_what_the_series_keep() -> None:
    text = SMALL.replace(
        "measure: {sample_every: 10s}", "measure: {sample_every: 30s, series: [pending]}"
    )
    report = run(text, ["best-fit"])["strategies"]["best-fit"]
    assert set(report["series"]) == {"t", "nodes_schedulable", "pending"}
    assert report["series"]["t"] == [0.0, 30.0, 60.0, 90.0]
    assert csv_text(report).splitlines()[0] == "t,pending,nodes_schedulable"
    assert report["totals"]["pending_peak"] >= 0 and "deployments" in report["totals"]


EVERY_ACTION = """\
seed: 5
duration: 60s
cluster:
  nodes: [{name: w, count: 2, cpu: 4, memory: 8Gi}]
settings: {heartbeat: 1s, grace: 3s, detection: runtime}
measure: {sample_every: 5s}
timeline:
  - at: 0s
    add_node: {name: extra, cpu: 2, memory: 4Gi, labels: {disk: ssd}}
  - at: 1s
    create_pod: {name: solo, count: 2, containers: [{name: c, image: nginx, cpu_req: 0.2}]}
  - at: 2s
    create_deployment:
      name: web
      replicas: 2
      template: {labels: {app: web}, containers: [{name: c, image: nginx, cpu_req: 0.2}]}
  - at: 3s
    create_service: {name: web, selector: {app: web}, ports: [{port: 80, target_port: 8080}]}
  - after: node extra healthy
    fault: {node: w-2, mode: crash}
  - after: node w-2 healthy
    heal: {node: w-2}
  - at: 20s
    fault: {node: w-1, mode: component, component: kubelet}
  - at: 30s
    scale_deployment: {name: web, replicas: 3}
  - after: deployment web complete
    delete_service: {name: web}
  - at: 40s
    delete_pod: {name: solo-1}
  - at: 45s
    delete_deployment: {name: web}
  - at: 50s
    remove_node: {node: extra}
  - at: 55s
    delete_pod: {name: nobody}
"""


def test_every_action_kind_runs_through_the_engine() -> None:
    report = run(EVERY_ACTION, ["best-fit"])["strategies"]["best-fit"]
    outcomes = {s["item"]: s.get("outcome") or s.get("error") for s in report["steps"]}
    assert outcomes == {
        0: "1 node(s) added",
        1: "2 pod(s) created",
        2: "deployment web created",
        3: "service web created",
        4: "crash on w-2",
        5: outcomes[5],  # the Recover button's words: nothing left to heal
        6: "component on w-1",
        7: "deployment web scaled to 3",
        8: "service web deleted",
        9: "pod solo-1 deleted",
        10: "deployment web deleted",
        11: "node extra removed",
        12: "Pod 'nobody' not found",
    }
    assert "w-2" in outcomes[5]
    crash = next(i for i in report["incidents"] if i["mode"] == "crash")
    assert crash["detected_by"] == "runtime" and crash["detect_s"] < 1.0  # at once, no grace
    assert report["series"]["nodes_schedulable"][-1] == 2  # extra was removed
    assert report["series"]["deployments"]["web"]["desired"][-1] == 0  # deleted


def test_a_step_whose_condition_never_holds_is_reported_not_run() -> None:
    text = """\
seed: 1
duration: 20s
cluster:
  nodes: [{name: w, cpu: 1}]
timeline:
  - at: 0s
    create_deployment:
      name: big
      replicas: 1
      template: {labels: {app: big}, containers: [{name: c, image: x, cpu_req: 0.9}]}
  - at: 1s
    create_deployment:
      name: more
      replicas: 1
      template: {labels: {app: more}, containers: [{name: c, image: x, cpu_req: 0.9}]}
  - after: no pods pending
    heal: {node: w}
  - after: deployment more ready
    heal: {node: w}
"""
    report = run(text, ["best-fit"])["strategies"]["best-fit"]
    last = report["steps"][-2:]
    assert [s["item"] for s in last] == [2, 3] and all(s["t"] is None for s in last)
    assert last[0]["not_run"] == "still waiting for 'no pods pending' at the end"
    assert report["totals"]["pending_at_end"] == 1


def test_an_after_repeat_counts_its_copies_from_the_condition() -> None:
    text = """\
seed: 3
duration: 2m
cluster:
  nodes: [{name: w, count: 2, cpu: 4}]
timeline:
  - at: 0s
    create_deployment:
      name: web
      replicas: 2
      template: {labels: {app: web}, containers: [{name: c, image: x, cpu_req: 0.1}]}
  - after: deployment web ready
    delay: 5s
    repeat:
      count: 3
      every: 10s
      do: {create_pod: {name: "p-{i}", containers: [{name: c, image: x, cpu_req: 0.1}]}}
"""
    steps = run(text, ["best-fit"])["strategies"]["best-fit"]["steps"]
    times = [s["t"] for s in steps if s.get("repetition")]
    assert len(times) == 3
    assert times[1] - times[0] == pytest.approx(10.0) and times[2] - times[1] == pytest.approx(10.0)
    assert 5.0 < times[0] < 10.0  # the Deployment ready within a few beats, then 5 s
