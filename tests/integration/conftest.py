"""Engines for failure scenarios: fast heartbeats so a whole failure plays out in a second."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.serve import start_engine
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
)
from tests.helpers import fast_settings, wait_for

EngineFactory = Callable[..., Awaitable[Engine]]


@pytest.fixture
async def make_engine(tmp_path: Path) -> AsyncIterator[EngineFactory]:
    started: list[Engine] = []

    async def make(**overrides: Any) -> Engine:
        settings = fast_settings(tmp_path / f"data{len(started)}", **overrides)
        eng = Engine(settings)
        await start_engine(eng)
        started.append(eng)
        return eng

    yield make
    for eng in started:
        await eng.stop()


async def add_nodes(
    engine: Engine, *specs: tuple[str, float], max_pods: int | None = None
) -> dict[str, int]:
    """``max_pods``: for a test that puts more than a kubelet's 110 pods on a node."""
    ids = {}
    more = {} if max_pods is None else {"max_pods": max_pods}
    for name, cpu in specs:
        body = {"name": name, "cpu_cores_avail": cpu, **more}
        created = await engine.create_node_from_json(body)
        ids[name] = created.view.id
    await wait_for(
        lambda: all(engine.cluster.state.nodes[i].status == "healthy" for i in ids.values()),
        what="nodes healthy",
    )
    return ids


async def add_pod(engine: Engine, name: str, cpu: float, mem: int = 0) -> int:
    created = await engine.create_pod_from_json(
        {"name": name, "cpu_cores_req": cpu,
         "containers": [{"name": "main", "image": "busybox", "memory_req": mem}]}
    )  # fmt: skip
    return created.view.id


@pytest.fixture
def docker_cluster() -> Iterator[tuple[Any, str]]:
    """A Docker client and a cluster name of this test, removed after its engine stopped."""
    client = connect_or_skip()
    ensure_offline_base(client)
    remove_clusters(client, leftover)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield client, cluster
    finally:
        remove_clusters(client, lambda c: c == cluster)
        client.close()
