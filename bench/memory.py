"""Memory per node on each runtime: what one more node costs.

- virtual: RSS growth of this process per added virtual node (engine state, the node's task,
  its store rows and cache), nodes heartbeating, after a warm-up batch so one-off start-up
  allocations are not counted.
- process: RSS of one node's agent process and its children (no pods), as `ps` would sum it.
- docker: one node container's memory usage as `docker stats` shows it (cgroup usage minus
  inactive file cache), no pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Figure, Figures, Sizes, median, process_tree, quiet_logging, rnd, rss_kb
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeSpec, NodeStatus, NodeType, Resources
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings

WARMUP_NODES = 100
SAMPLES = 5  # RSS readings, 0.5 s apart, per measured node


async def wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def add_nodes(engine: Engine, first: int, count: int) -> None:
    for i in range(first, first + count):
        await engine.create_node(NodeSpec(f"w{i}", NodeType.WORKER, Resources(4000, 8192)))
    nodes = engine.cluster.state.nodes
    await wait(lambda: all(n.status is NodeStatus.HEALTHY for n in nodes.values()), 120,
               "virtual nodes healthy")  # fmt: skip


async def virtual_kb(count: int, data_dir: Path) -> float:
    engine = Engine(Settings(data_dir=data_dir, runtime="virtual", api_token="bench"))
    await engine.start()
    try:
        await add_nodes(engine, 0, WARMUP_NODES)
        await asyncio.sleep(2.5)  # a couple of heartbeats and a WAL checkpoint
        gc.collect()
        before = rss_kb()
        await add_nodes(engine, WARMUP_NODES, count)
        await asyncio.sleep(2.5)
        gc.collect()
        return (rss_kb() - before) / count
    finally:
        await engine.stop()


async def one_real_node(runtime: str, data_dir: Path, read_mb: Callable[[Engine, int], float]
                        ) -> float:  # fmt: skip
    """Start an engine on ``runtime`` with one worker; median of its memory readings in MB."""
    settings = Settings(
        data_dir=data_dir, runtime=runtime, api_token="bench", port=0,
        cluster_name=f"bench-{os.getpid()}",
    )  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)
    node_id = None
    try:
        created = await engine.create_node(NodeSpec("mem-1", NodeType.WORKER, Resources(1000, 512)))
        node_id = created.view.id
        node = engine.cluster.state.nodes[node_id]
        await wait(lambda: node.status is NodeStatus.HEALTHY, 120, f"the {runtime} node healthy")
        await asyncio.sleep(2.0)  # past start-up: a few heartbeats in
        readings = []
        for _ in range(SAMPLES):
            readings.append(await asyncio.to_thread(read_mb, engine, node_id))
            await asyncio.sleep(0.5)
        return median(readings)
    finally:
        if node_id is not None:
            with contextlib.suppress(Exception):  # removes the container / work directory
                await engine.delete_node(node_id, force=True)
        await engine.stop()


def process_mb(engine: Engine, node_id: int) -> float:
    handle = engine.cluster.state.nodes[node_id].runtime_handle
    if handle is None:
        raise RuntimeError("the process node has no pid")
    return sum(rss_kb(pid) for pid in process_tree(int(handle))) / 1024


def docker_mb(engine: Engine, node_id: int) -> float:
    import docker

    handle = engine.cluster.state.nodes[node_id].runtime_handle
    client = docker.from_env(timeout=30)
    try:
        stats = client.containers.get(handle).stats(stream=False)
    finally:
        client.close()
    mem = stats["memory_stats"]
    detail = mem.get("stats", {})
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    return float(mem["usage"] - cache) / 2**20


def docker_reachable() -> str | None:
    """None when a daemon answers, else why not."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"no Docker daemon reachable ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def run(sizes: Sizes) -> Figures:
    quiet_logging()
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="kube9-bench-memory-") as tmp:
        root = Path(tmp)
        kb = asyncio.run(virtual_kb(sizes.virtual_nodes, root / "virtual"))
        figures["virtual_node_kb"] = Figure(
            rnd(kb), "KB",
            f"RSS growth of the engine process per virtual node: {sizes.virtual_nodes:,} nodes "
            f"added after {WARMUP_NODES} warm-up nodes, all heartbeating at 1 Hz, no pods",
        )  # fmt: skip
        try:
            mb = asyncio.run(one_real_node("process", root / "process", process_mb))
            figures["process_node_mb"] = Figure(
                rnd(mb), "MB", "RSS of one process-runtime node: its agent process (python -m "
                f"kube9_desktop.agent) and children, no pods; median of {SAMPLES} readings",
            )  # fmt: skip
        except Exception as exc:
            figures["process_node_mb"] = Figure(None, "MB", "", f"process node failed: {exc}")
        why = docker_reachable()
        if why is None:
            try:
                mb = asyncio.run(one_real_node("docker", root / "docker", docker_mb))
                figures["docker_node_mb"] = Figure(
                    rnd(mb), "MB", "memory of one Docker node container (usage minus inactive "
                    f"file cache, as docker stats shows), agent only, no pods; median of "
                    f"{SAMPLES} readings",
                )  # fmt: skip
            except Exception as exc:
                figures["docker_node_mb"] = Figure(None, "MB", "", f"docker node failed: {exc}")
        else:
            figures["docker_node_mb"] = Figure(None, "MB", "", why)
    return figures
