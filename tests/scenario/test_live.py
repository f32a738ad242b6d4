"""Live mode: the shipped partition scenario on the process runtime, in real time, against
its simulated report (issue 17's target: same incidents and moves, times within a heartbeat).

Shortened with the time scale (every time x 0.25: a 45 s run, heartbeat 0.25 s, a 15 s
partition); the simulated report is made at the same scale. Runs inside a network namespace
like the other engine tests (the process runtime's pods bind fixed loopback addresses).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.errors import UserError
from kube9_desktop.scenario.format import load_scenario, scaled
from kube9_desktop.scenario.live import LiveCluster, run_live
from kube9_desktop.scenario.report import run_scenario
from kube9_desktop.selftest import processes_of
from tests.helpers import wait_for

FOLDER = Path(__file__).resolve().parents[2] / "resources" / "scenarios"
SCALE = 0.25


def moves(report: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return sorted((m["pod"], m["from"], m["to"]) for m in report["moves"])


@pytest.mark.timeout(150)
def test_partition_live_on_processes_matches_the_simulated_run() -> None:
    scenario = scaled(load_scenario(FOLDER / "partition-split-brain.yaml"), SCALE)
    strategy = scenario.settings.strategy
    heartbeat = scenario.settings.heartbeat
    seen: list[LiveCluster] = []
    sim = run_scenario(scenario, [strategy])["strategies"][strategy]  # its own SimLoop
    live = asyncio.run(run_live(scenario, strategy, "process", on_ready=seen.append))
    (cluster,) = seen
    assert cluster.runtime == "process" and cluster.api_url.startswith("http://127.0.0.1:")
    assert cluster.kubeconfig is not None
    # Every node removed and the engine stopped: no agent nor pod process is left.
    assert processes_of(cluster.engine.settings.data_dir) == []
    assert not cluster.engine.nodes()

    (want,) = sim["incidents"]
    (got,) = live["incidents"]
    assert (got["node"], got["mode"], got["outcome"]) == (want["node"], want["mode"],
                                                         want["outcome"])  # fmt: skip
    assert moves(live) == moves(sim) and moves(sim)  # the same pods to the same nodes
    assert abs(got["detect_s"] - want["detect_s"]) <= heartbeat, (got, want)
    assert abs(got["recover_s"] - want["recover_s"]) <= heartbeat, (got, want)
    for key in ("evictions", "split_brain_copies", "reschedules"):
        assert live["totals"][key] == sim["totals"][key], key
    assert [s["action"] for s in live["steps"]] == [s["action"] for s in sim["steps"]]
    assert all("outcome" in s for s in live["steps"]), live["steps"]
    api = live["series"]["deployments"]["api"]
    assert api["available"][-1] == api["desired"][-1] == 6


def test_time_scale_shortens_every_time() -> None:
    s = load_scenario(FOLDER / "partition-split-brain.yaml")
    q = scaled(s, SCALE)
    assert (q.duration, q.settings.heartbeat, q.settings.grace) == (45.0, 0.25, 1.25)
    assert q.measure.sample_every == 0.5 and q.time_scale == SCALE
    (fault,) = [st for st in q.timeline if st.action == "fault"]
    assert fault.delay == 2.5 and fault.body["fault"].duration_s == 15.0
    assert scaled(s, 1.0) is s
    with pytest.raises(UserError, match=r"below the 0\.05 s"):
        scaled(s, 0.01)
    with pytest.raises(UserError, match="above 0"):
        scaled(s, 0)


def test_a_cancelled_live_run_removes_its_nodes_and_leaves_no_process() -> None:
    """What Ctrl+C does (the command cancels the run's task on SIGINT)."""
    scenario = scaled(load_scenario(FOLDER / "partition-split-brain.yaml"), SCALE)
    seen: list[LiveCluster] = []

    async def main() -> None:
        task = asyncio.create_task(run_live(scenario, "worst-fit", "process", on_ready=seen.append))

        def agents() -> list[int]:
            return processes_of(seen[0].engine.settings.data_dir) if seen else []

        await wait_for(lambda: len(agents()) >= 3, timeout=30, what="the three agents run")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    (cluster,) = seen
    assert not cluster.engine.nodes()
    assert processes_of(cluster.engine.settings.data_dir) == []
