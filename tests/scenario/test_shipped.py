"""Each shipped scenario (resources/scenarios/) runs end to end in simulated time, and its
report's key figures show what the scenario is there to teach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.scenario.format import load_scenario
from kube9_desktop.scenario.report import run_scenario

FOLDER = Path(__file__).resolve().parents[2] / "resources" / "scenarios"
SHIPPED = sorted(p.stem for p in FOLDER.glob("*.yaml"))


def run(name: str, strategies: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = run_scenario(load_scenario(FOLDER / f"{name}.yaml"), strategies)
    return result


def test_the_shipped_set() -> None:
    assert SHIPPED == [
        "fragmentation", "n-plus-one", "partition-split-brain", "preemption",
        "rolling-update-node-crash",
    ]  # fmt: skip


@pytest.mark.parametrize("name", SHIPPED)
def test_every_step_of_each_shipped_scenario_is_carried_out(name: str) -> None:
    combined = run(name, ["first-fit"])
    steps = combined["strategies"]["first-fit"]["steps"]
    assert steps and all("outcome" in s for s in steps), steps
    assert len(steps) == len(load_scenario(FOLDER / f"{name}.yaml").timeline)


def test_fragmentation_strands_less_under_best_fit_than_worst_fit() -> None:
    runs = run("fragmentation", ["best-fit", "worst-fit"])["strategies"]
    best, worst = runs["best-fit"]["totals"], runs["worst-fit"]["totals"]
    assert best["stranded_cpu_m_mean"] < worst["stranded_cpu_m_mean"] / 2
    assert best["pending_peak"] == 1 and worst["pending_peak"] == 6  # the big pods
    assert best["deployments"]["big"]["mean"] > worst["deployments"]["big"]["mean"]
    # Worst-fit's big pods wait until the small Deployment shrinks at 2 min.
    assert worst["pending_wait_s"]["placed"] == 6 and worst["pending_wait_s"]["p50"] > 100
    series = runs["worst-fit"]["series"]
    peak = max(series["stranded_cpu_m"])
    assert peak == 20_000  # 8 nodes x 2.5 cores free, none of it usable by a 3-core pod


def test_rolling_update_rides_out_the_crash() -> None:
    report = run("rolling-update-node-crash", ["best-fit"])["strategies"]["best-fit"]
    (incident,) = report["incidents"]
    assert incident["node"] == "w-2" and incident["outcome"] == "recovered"
    assert 0 < incident["detect_s"] <= 4.0 + 0.5  # the grace period and a monitor tick
    assert incident["recover_s"] >= incident["detect_s"]
    totals = report["totals"]
    assert totals["evictions"] >= 1
    assert totals["reschedules"] == totals["evictions"]  # each evicted pod was replaced
    web = report["series"]["deployments"]["web"]
    assert web["available"][-1] == web["desired"][-1] == 6  # the rollout finished
    assert 0.8 < totals["deployments"]["web"]["mean"] < 1.0  # the crash cost some availability


def test_partition_makes_a_split_brain_that_heals() -> None:
    report = run("partition-split-brain", ["best-fit"])["strategies"]["best-fit"]
    (incident,) = report["incidents"]
    assert incident["mode"] == "partition" and incident["outcome"] == "healed"
    assert incident["detected_by"] == "heartbeat"
    assert 5.0 <= incident["detect_s"] <= 5.5  # grace 5 s
    assert 59.0 <= incident["recover_s"] <= 62.0  # the partition's 60 s
    totals = report["totals"]
    assert totals["split_brain_copies"] >= 1
    assert totals["split_brain_copies"] == totals["evictions"]  # each evicted pod was replaced
    assert report["series"]["deployments"]["api"]["available"][-1] == 6


def test_n_plus_one_at_90_percent_leaves_pods_pending() -> None:
    report = run("n-plus-one", ["best-fit"])["strategies"]["best-fit"]
    series, totals = report["series"], report["totals"]
    before = series["t"].index(20.0)
    assert series["cpu_allocated_m"][before] / series["cpu_capacity_m"][before] == 0.9
    (incident,) = report["incidents"]
    assert incident["outcome"] == "failed" and incident["recover_s"] is None
    assert series["cpu_capacity_m"][-1] == 16_000  # four nodes left
    assert totals["pending_at_end"] == 4 and series["pending"][-1] == 4  # 18 cores wanted
    assert totals["reschedules"] == totals["evictions"] > 0  # replaced, 4 of them pending
    assert totals["unschedulable_reasons"].get("insufficient cpu", 0) >= 1
    assert totals["deployments"]["shop"]["fully_available_share"] < 0.5


def test_preemption_places_every_high_priority_pod_and_leaves_the_low_ones_pending() -> None:
    report = run("preemption", ["best-fit"])["strategies"]["best-fit"]
    totals, series = report["totals"], report["series"]
    web = series["deployments"]["web"]
    assert web["available"][-1] == web["desired"][-1] == 4  # every critical pod placed
    assert totals["deployments"]["web"]["fully_available_share"] == 1.0
    # Two 1-core batch pods make room for each 2-core web pod; none of anything else.
    assert totals["preemptions"] == 8 and totals["preempted_by_priority"] == {"100": 8}
    assert totals["evictions"] == 0 and report["incidents"] == []
    # The batch pods recreated have no one of lower priority to preempt, and the polite
    # class (preemption_policy Never) waits instead of preempting them.
    assert totals["pending_at_end_by_priority"] == {"100": 8, "10000": 2}
    assert totals["pending_at_end"] == series["pending"][-1] == 10
    batch = series["deployments"]["batch"]
    assert max(batch["available"]) == 16 and batch["available"][-1] == 8
    assert series["deployments"]["reports"]["available"][-1] == 0


def test_a_wheel_carries_the_scenarios_and_the_schema() -> None:
    """The .deb and the bundle take resources/ whole; a wheel takes what pyproject lists."""
    import tomllib

    root = FOLDER.parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    files = data["data-files"]
    assert "resources/scenario.schema.json" in files["share/kube9-desktop"]
    assert sorted(files["share/kube9-desktop/scenarios"]) == [
        f"resources/scenarios/{name}.yaml" for name in SHIPPED
    ]
