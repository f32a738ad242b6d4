"""Live usage agrees with what the test reads itself: on the process runtime and in a Docker
node, a pod that burns CPU and one that holds memory against /proc; a Docker node's own figure
against its container's cgroup."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.usage import Ring
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
    await check_pods_against_proc(engine)


@pytest.mark.docker
async def test_docker_usage_matches_proc_and_the_node_cgroup(
    docker_cluster: tuple[Any, str], make_engine: EngineFactory
) -> None:
    """In a Docker node the pods' figures agree with /proc (seen from the host, as the pods'
    processes are) and the node's with the container's own cgroup, read inside it."""
    client, cluster = docker_cluster
    engine: Engine = await make_engine(runtime="docker", cluster_name=cluster, **FAST)
    node_id = await check_pods_against_proc(engine)
    (node,) = client.containers.list(filters={"label": f"kube9.cluster={cluster}"})
    ring = engine.heartbeats.usage.nodes[node_id]

    # Memory: the node's latest figure (its cgroup's charge: RSS and page cache) against the
    # same counter read right after it arrived.
    await next_sample(ring)
    reported_mb = (ring.current or (0, 0, 0))[2]
    _usec, memory = await cgroup_of(node)
    measured_mb = memory / (1024 * 1024)
    assert measured_mb > 150  # the holder's 160 MB at least
    assert abs(reported_mb - measured_mb) <= 0.05 * measured_mb, (reported_mb, measured_mb)

    # CPU: the CPU seconds the node's samples add up to against the cgroup's own counter.
    start_t = await next_sample(ring)
    start_usec, _memory = await cgroup_of(node)
    engine_s = await integrate(ring, start_t, 24)
    end_usec, _memory = await cgroup_of(node)
    cgroup_s = (end_usec - start_usec) / 1e6
    assert cgroup_s > 1.0
    assert abs(engine_s - cgroup_s) <= 0.05 * cgroup_s, (engine_s, cgroup_s)


CGROUP_FILES = (
    "cat /sys/fs/cgroup/cpu.stat /sys/fs/cgroup/memory.current 2>/dev/null || "
    "cat /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/memory/memory.usage_in_bytes"
)


async def cgroup_of(container: Any) -> tuple[int, int]:
    """(CPU µs, memory bytes) of a node container's own cgroup (v2, else v1), read inside it."""
    result = await asyncio.to_thread(container.exec_run, ["sh", "-c", CGROUP_FILES])
    assert result.exit_code == 0, result.output
    lines = result.output.decode().split()
    if "usage_usec" in lines:
        return int(lines[lines.index("usage_usec") + 1]), int(lines[-1])
    nsec, memory = (int(x) for x in lines)
    return nsec // 1000, memory


async def next_sample(ring: Ring) -> float:
    """Wait for the ring's next figure; its engine time."""
    seen = ring.current[0] if ring.current else None
    await wait_for(
        lambda: ring.current is not None and ring.current[0] != seen, what="the next usage figure"
    )
    assert ring.current is not None
    return ring.current[0]


async def integrate(ring: Ring, start_t: float, count: int) -> float:
    """CPU seconds of the next ``count`` figures after ``start_t`` (rate x time between them)."""
    samples: list[tuple[float, float]] = []

    def collected() -> bool:
        current = ring.current
        assert current is not None
        if current[0] > (samples[-1][0] if samples else start_t):
            samples.append((current[0], current[1]))
        return len(samples) >= count

    await wait_for(collected, timeout=30, what=f"{count} usage samples")
    total, previous = 0.0, start_t
    for t, cpu in samples:
        total += cpu * (t - previous)
        previous = t
    return total


async def check_pods_against_proc(engine: Engine) -> int:
    """A pod that burns CPU and one that holds memory, each checked against /proc within 5 %;
    the node's id."""
    created = await engine.create_node_from_json(
        {"name": "u1", "cpu_cores_avail": 2, "memory_mb": 2048}
    )
    node_id = created.view.id
    await wait_for(
        lambda: engine.cluster.state.nodes[node_id].status == "healthy",
        timeout=60,
        what="node healthy",
    )
    burn_mark, hold_mark = marker(), marker()
    burner = (await engine.create_pod_from_json(pod("burner", burn_mark, BURN))).view.id
    holder = (await engine.create_pod_from_json(pod("holder", hold_mark, HOLD))).view.id
    usage = engine.heartbeats.usage

    def settled() -> bool:
        held, burning = usage.pod(holder), usage.pod(burner)
        return (
            held is not None and held["memory_mb"] > 160 and burning is not None
            and burning["cpu_cores"] > 0.1
        )  # fmt: skip

    await wait_for(settled, timeout=60, what="usage of both pods reported")

    # Memory: VmRSS of the pod's processes against the engine's next figure (past 160 MiB the
    # holder has filled its buffer and stays put; an earlier figure may be taken mid-fill).
    hold_pids = pids_with(hold_mark)
    assert hold_pids
    measured = proc_rss_mb(hold_pids)
    await next_sample(usage.pods[holder])
    reported = usage.pod(holder)
    assert reported is not None
    assert abs(reported["memory_mb"] - measured) <= 0.05 * measured, (reported, measured)

    # CPU: the CPU seconds the engine's samples add up to over a window, against /proc's.
    burn_pids = pids_with(burn_mark)
    ring = usage.pods[burner]
    assert ring.current is not None
    start_t = ring.current[0]
    start_ticks = proc_ticks(burn_pids)
    engine_s = await integrate(ring, start_t, 16)
    proc_s = (proc_ticks(burn_pids) - start_ticks) / TICKS
    assert proc_s > 0.5
    assert abs(engine_s - proc_s) <= 0.05 * proc_s, (engine_s, proc_s)

    # The node's figure covers its pods (their sum, or a Docker node's cgroup).
    node_usage = usage.node(node_id)
    assert node_usage is not None
    assert node_usage["memory_mb"] >= reported["memory_mb"] * 0.9
    return node_id
