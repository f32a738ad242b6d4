"""The headless engine for the heartbeat benchmark, with nodes run by the benchmark itself.

Exactly what ``kube9-desktop --headless`` serves (same Engine, settings, SQLite store and API),
except the runtime: ``ExternalRuntime`` starts nothing and prints each node's launch token, as
the process and Docker runtimes hand it to their agent (``KUBE9_NODE_TOKEN``). The benchmark
then plays the agents: it heartbeats over HTTP with those tokens.

    python bench/serve_engine.py --data-dir DIR     (admin token from KUBE9_API_TOKEN)

Prints ``READY <url>``, then ``TOKEN <node id> <token>`` per launched node; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kube9_desktop.engine import gc_policy  # noqa: E402
from kube9_desktop.engine.core import Engine  # noqa: E402
from kube9_desktop.engine.runtime.base import (  # noqa: E402
    FoundNode,
    NodeHandle,
    NodeLaunch,
    RuntimeState,
)
from kube9_desktop.serve import start_engine  # noqa: E402
from kube9_desktop.settings import Settings  # noqa: E402


class ExternalRuntime:
    """Nodes whose agents run elsewhere (here: in the benchmark process)."""

    name = "external"

    def __init__(self) -> None:
        self._nodes: set[int] = set()

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        self._nodes.add(launch.node_id)
        print(f"TOKEN {launch.node_id} {launch.token}", flush=True)
        return NodeHandle(launch.node_id, launch.name, f"external-{launch.node_id}")

    async def stop(self, node_id: int) -> None:
        self._nodes.discard(node_id)

    async def kill(self, node_id: int) -> None:
        self._nodes.discard(node_id)

    async def pause(self, node_id: int) -> None:
        return None

    async def resume(self, node_id: int) -> None:
        return None

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        return await self.start(launch)

    async def remove(self, node_id: int) -> None:
        self._nodes.discard(node_id)

    async def status(self, node_id: int) -> RuntimeState:
        return RuntimeState.RUNNING if node_id in self._nodes else RuntimeState.MISSING

    async def discover(self) -> list[FoundNode]:
        return []

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        return await self.start(launch)

    async def close(self) -> None:
        self._nodes.clear()


async def serve(data_dir: Path, heartbeat_interval: float) -> int:
    settings = Settings(
        data_dir=data_dir, port=0, runtime="virtual", heartbeat_interval=heartbeat_interval
    )
    engine = Engine(settings, runtime=ExternalRuntime(), runtime_reason="benchmark agents")
    await start_engine(engine)
    gc_policy.apply()  # as the headless engine does
    print(f"READY {engine.api_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await engine.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--heartbeat-interval", type=float, default=1.0)
    args = parser.parse_args()
    return asyncio.run(serve(args.data_dir, args.heartbeat_interval))


if __name__ == "__main__":
    sys.exit(main())
