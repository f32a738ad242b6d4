"""Crash to NotReady on real nodes: heartbeat detection against ``--detect-from-runtime``, the
same crashes in the same run.

    .venv/bin/python bench/runtime_detection.py [--runtime process|docker] [--crashes N]

Each crash is the Crash fault (SIGKILL of the agent's process group, or ``docker kill``); the
time runs from just before the fault is injected until the node's status turns unhealthy in
a committed change (a change subscriber's clock). Between crashes the node is brought back
and heard from again, so every crash starts from a healthy node. Heartbeats every 1 s with
the default grace period (3 s), as the app runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import wait
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings


async def crashes(runtime: str, from_runtime: bool, count: int, data_dir: Path) -> list[float]:
    settings = Settings(
        data_dir=data_dir, runtime=runtime, api_token="bench", port=0,
        detect_from_runtime=from_runtime, recovery_backoff=0.2, max_recovery_attempts=1000,
        cluster_name=f"bench-detect-{int(from_runtime)}",
    )  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)  # real agents heartbeat over its HTTP API
    unhealthy_at: dict[int, float] = {}
    try:
        created = await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 1})
        node_id = created.view.id
        nodes = engine.cluster.state.nodes

        def status() -> NodeStatus:
            return nodes[node_id].status

        def on_changes(changes: Changes) -> None:
            if node_id in changes.ids(Kind.NODE) and status() is NodeStatus.UNHEALTHY:
                unhealthy_at.setdefault(len(unhealthy_at), time.monotonic())

        engine.bus.subscribe_changes(on_changes)
        out = []
        for i in range(count):
            await wait(lambda: status() is NodeStatus.HEALTHY, 60, f"healthy (is {status()})")
            await wait(lambda: engine.health.silence(node_id) < 0.2, 10, "a fresh heartbeat")
            t0 = time.monotonic()
            await engine.inject_fault(node_id, "crash")
            await wait(lambda i=i: i in unhealthy_at, 30, "detected")
            out.append(unhealthy_at[i] - t0)
        return out
    except TimeoutError:
        for e in engine.events(limit=40):
            print(e.at, e.kind, e.message)
        raise
    finally:
        await engine.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runtime", default="process", choices=("process", "docker"))
    parser.add_argument("--crashes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        beats = await crashes(args.runtime, False, args.crashes, Path(tmp) / "heartbeats")
        news = await crashes(args.runtime, True, args.crashes, Path(tmp) / "runtime")
    for label, xs in (("heartbeats (grace 3 s)", beats), ("--detect-from-runtime", news)):
        print(
            f"{args.runtime} {label}: crash -> unhealthy median {statistics.median(xs) * 1000:.0f}"
            f" ms, max {max(xs) * 1000:.0f} ms over {len(xs)} crashes"
        )
    ratio = statistics.median(beats) / statistics.median(news)
    print(f"runtime events detect {ratio:.0f}x sooner (median, same run)")


if __name__ == "__main__":
    asyncio.run(main())
