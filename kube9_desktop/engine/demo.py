"""The demo cluster: three workers of different sizes, a master, and pods of several sizes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.model import (
    ConfigItem,
    ContainerSpec,
    NodeSpec,
    NodeStatus,
    NodeType,
    PodSpec,
    Resources,
    VolumeSpec,
)
from kube9_desktop.engine.usage import USAGE_VARY

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

log = logging.getLogger(__name__)

DEMO_NODES = (
    NodeSpec("worker-1", NodeType.WORKER, Resources(4000, 8192)),
    NodeSpec("worker-2", NodeType.WORKER, Resources(4000, 8192)),
    NodeSpec("worker-3", NodeType.WORKER, Resources(2000, 4096)),
    NodeSpec("master-1", NodeType.MASTER, Resources(2000, 4096)),
)


def _pod(name: str, cpu_m: int, mem_mi: int, image: str, **extra: object) -> PodSpec:
    """On virtual nodes a demo pod uses half its request, swinging by 40 % (engine/usage.py),
    so the usage bars and charts move; real runtimes report what its processes use."""
    return PodSpec(
        name=name,
        request=Resources(cpu_m, mem_mi),
        containers=(ContainerSpec(name.split("-")[0], image, cpu_m, mem_mi),),
        annotations={USAGE_VARY: "0.4"},
        **extra,  # type: ignore[arg-type]
    )


DEMO_PODS = (
    _pod("web-1", 1000, 512, "nginx:latest"),
    _pod("web-2", 1000, 512, "nginx:latest"),
    _pod("api-1", 1500, 1024, "python:3.12"),
    _pod("cache-1", 500, 256, "redis:latest"),
    _pod(
        "worker-job",
        1000,
        768,
        "busybox:latest",
        volumes=(VolumeSpec("scratch", "emptyDir", 1, "/scratch"),),
        config=(
            ConfigItem("mode", "env", "MODE", "batch"),
            ConfigItem("token", "secret", "API_TOKEN", "demo-secret"),
        ),
    ),
    _pod("metrics", 250, 128, "prom/node-exporter"),
)


async def create_demo_cluster(engine: Engine, ready_timeout: float = 30.0) -> None:
    """Create the demo nodes now and the pods once the workers are ready (in the background)."""
    for spec in DEMO_NODES:
        await engine.create_node(spec)

    async def place_pods() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        while loop.time() < deadline:
            workers = [n for n in engine.nodes() if n.node_type is NodeType.WORKER]
            if workers and all(n.status is NodeStatus.HEALTHY for n in workers):
                break
            await asyncio.sleep(0.05)
        for pod in DEMO_PODS:
            try:
                await engine.create_pod(pod)
            except Kube9Error as exc:
                log.warning("demo pod %s not created: %s", pod.name, exc.message)

    engine.demo_task = asyncio.create_task(place_pods(), name="demo-pods")
