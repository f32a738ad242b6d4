"""Crash to unhealthy to healthy again on a remote Docker engine against the local one, the
same crashes in the same run (target: the same within one heartbeat interval).

    sudo .venv/bin/python bench/remote_engine.py [--crashes N]

The remote engine is a second dockerd in a network namespace this bench makes (bench/
netns_engine.py: agents there heartbeat across a veth route to the advertised address). One
node on each engine; each crash is the Crash fault (``docker kill`` on the node's engine),
alternating local and remote. Detection runs from just before the fault until the node's
status turns unhealthy in a committed change; recovery until it is healthy again. Heartbeats
every 1 s, grace period 3 s, as the app runs.
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

import docker

from bench.common import wait
from bench.netns_engine import netns_engine, remove_clusters, usable
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings

CLUSTER = "bench-remote-"


async def crashes(url: str, count: int, data_dir: Path) -> dict[str, list[tuple[float, float]]]:
    settings = Settings(
        data_dir=data_dir, runtime="docker", api_token="bench", port=0,
        recovery_backoff=0.2, max_recovery_attempts=1000, cluster_name=f"{CLUSTER}1",
        docker_engines=(f"far={url}",), advertise_url="http://10.213.0.1",
    )  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)
    try:
        ids = {}
        for name, where in (("near", "local"), ("far1", "far")):
            made = await engine.create_node_from_json(
                {"name": name, "cpu_cores_avail": 1, "engine": where}
            )
            ids[where] = made.view.id
        nodes = engine.cluster.state.nodes
        seen: dict[int, list[tuple[NodeStatus, float]]] = {i: [] for i in ids.values()}

        def on_changes(changes: Changes) -> None:
            now = time.monotonic()
            for node_id in changes.ids(Kind.NODE):
                if node_id in seen:
                    seen[node_id].append((nodes[node_id].status, now))

        engine.bus.subscribe_changes(on_changes)
        out: dict[str, list[tuple[float, float]]] = {"local": [], "far": []}
        for i in range(2 * count):
            where = ("local", "far")[i % 2]
            node_id = ids[where]
            await wait(lambda n=node_id: nodes[n].status is NodeStatus.HEALTHY, 180, "healthy")
            await wait(lambda n=node_id: engine.health.silence(n) < 0.2, 10, "a fresh heartbeat")
            seen[node_id].clear()
            t0 = time.monotonic()
            await engine.inject_fault(node_id, "crash")

            def at(status: NodeStatus, n: int = node_id) -> float | None:
                return next((t for s, t in seen[n] if s is status), None)

            await wait(lambda: at(NodeStatus.UNHEALTHY) is not None, 30, "detected")
            bad = at(NodeStatus.UNHEALTHY)
            assert bad is not None

            def back(n: int = node_id, bad: float = bad) -> float | None:
                return next((t for s, t in seen[n] if s is NodeStatus.HEALTHY and t > bad), None)

            await wait(lambda: back() is not None, 60, "recovered")
            good = back()
            assert good is not None
            out[where].append((bad - t0, good - t0))
        return out
    finally:
        await engine.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--crashes", type=int, default=3, help="per engine")
    args = parser.parse_args()
    if not usable():
        raise SystemExit("needs root, dockerd, docker, ip and nsenter")
    try:
        with netns_engine(CLUSTER) as remote, tempfile.TemporaryDirectory() as tmp:
            found = await crashes(remote.url, args.crashes, Path(tmp))
    finally:  # the local engine's node container and volume too
        local = docker.from_env()
        remove_clusters(local, CLUSTER)
        local.close()
    medians = {}
    for where, xs in found.items():
        detect = statistics.median(d for d, _ in xs)
        recover = statistics.median(r for _, r in xs)
        medians[where] = (detect, recover)
        print(f"{where:5}: crash -> unhealthy median {detect * 1000:.0f} ms, -> healthy again "
              f"median {recover * 1000:.0f} ms over {len(xs)} crashes")  # fmt: skip
    dd = abs(medians["far"][0] - medians["local"][0])
    dr = abs(medians["far"][1] - medians["local"][1])
    print(f"remote - local: detection {dd * 1000:.0f} ms, recovery {dr * 1000:.0f} ms "
          f"(target: within one heartbeat interval, 1000 ms)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
