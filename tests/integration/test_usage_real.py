"""Live usage on the process runtime agrees with /proc: a pod that burns CPU and one that holds
memory, their figures compared with readings the test takes itself."""

from __future__ import annotations

import os

from kube9_desktop.engine.core import Engine
from tests.helpers import wait_for
from tests.integration.conftest import EngineFactory
from tests.procs import marker, pids_with

FAST = {"heartbeat_interval": 0.25, "grace_period": 1.5, "recovery_backoff": 0.2}
TICKS = os.sysconf("SC_CLK_TCK")
BURN = "import sys\nwhile True:\n    pass\n"
HOLD = (
    "import sys, time\nb = bytearray(160 * 1024 * 1024)\nb[::4096] = b'x' * len(b[::4096])\n"
    "sys.stdout.write('held\\n'); sys.stdout.flush()\ntime.sleep(3600)\n"
)


def pod(name: str, mark: str, code: str) -> dict[str, object]:
    return {
        "name": name,
        "cpu_cores_req": 0.5,
        "containers": [{"name": "main", "image": "python:3", "command": "python3",
                        "args": ["-c", code, mark], "memory_req": 256}],
    }  # fmt: skip


def proc_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def proc_rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            line = next(x for x in f if x.startswith("VmRSS:"))
        total += int(line.split()[1]) / 1024
    return total


async def test_process_usage_matches_proc(make_engine: EngineFactory) -> None:
    engine: Engine = await make_engine(runtime="process", **FAST)
    created = await engine.create_node_from_json(
        {"name": "u1", "cpu_cores_avail": 2, "memory_mb": 2048}
    )
    node_id = created.view.id
    await wait_for(
        lambda: engine.cluster.state.nodes[node_id].status == "healthy", what="node healthy"
    )
    burn_mark, hold_mark = marker(), marker()
    burner = (await engine.create_pod_from_json(pod("burner", burn_mark, BURN))).view.id
    holder = (await engine.create_pod_from_json(pod("holder", hold_mark, HOLD))).view.id
    usage = engine.heartbeats.usage

    def settled() -> bool:
        held, burning = usage.pod(holder), usage.pod(burner)
        return (
            held is not None and held["memory_mb"] > 150 and burning is not None
            and burning["cpu_cores"] > 0.1
        )  # fmt: skip

    await wait_for(settled, timeout=30, what="usage of both pods reported")

    # Memory: the engine's latest figure against VmRSS of the pod's processes.
    hold_pids = pids_with(hold_mark)
    assert hold_pids
    reported = usage.pod(holder)
    assert reported is not None
    measured = proc_rss_mb(hold_pids)
    assert abs(reported["memory_mb"] - measured) <= 0.05 * measured, (reported, measured)

    # CPU: the CPU seconds the engine's samples add up to over a window, against /proc's.
    burn_pids = pids_with(burn_mark)
    ring = usage.pods[burner]
    assert ring.current is not None
    start_t = ring.current[0]
    start_ticks = proc_ticks(burn_pids)
    samples: list[tuple[float, float]] = []

    def collected() -> bool:
        current = ring.current
        assert current is not None
        if current[0] > (samples[-1][0] if samples else start_t):
            samples.append((current[0], current[1]))
        return len(samples) >= 16

    await wait_for(collected, timeout=30, what="16 usage samples")
    end_ticks = proc_ticks(burn_pids)
    engine_s, previous = 0.0, start_t
    for t, cpu in samples:
        engine_s += cpu * (t - previous)
        previous = t
    proc_s = (end_ticks - start_ticks) / TICKS
    assert proc_s > 0.5
    assert abs(engine_s - proc_s) <= 0.05 * proc_s, (engine_s, proc_s)

    # The node's figure is its pods' sum; both are served in the pod and node JSON.
    node_usage = usage.node(node_id)
    assert node_usage is not None
    assert node_usage["memory_mb"] >= reported["memory_mb"] * 0.9
