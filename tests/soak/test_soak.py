"""The soak in its short mode: 50 virtual nodes, 2,000 pods, 8 Deployments rolled out and\nscaled, nodes cordoned, tainted and drained, random faults for 20 s."""

from __future__ import annotations

from pathlib import Path

from tests.soak.soak import soak


async def test_short_soak_survives_every_fault_without_false_alarms(tmp_path: Path) -> None:
    report = await soak(nodes=50, pods=2000, duration=20, runtime="virtual", seed=7,
                        interval=0.2, max_faulty=3, data_dir=tmp_path / "data")  # fmt: skip
    print("\n" + report.table())
    assert sum(report.faults_injected.values()) >= 10
    assert report.pods_rescheduled > 0 and report.nodes_recovered > 0
    assert report.false_detections == 0
    assert report.invariant_violations == 0, report.invariant_examples
    assert report.rollouts_started >= 3 and report.rollouts_during_faults >= 1
    assert report.rollouts_completed >= 1
    assert set(report.maintenance) == {"cordon", "taint", "no_execute", "drain"}, report.maintenance
    assert report.placements_checked > 500
