"""A big node on a real runtime: a thousand pod processes on one agent, a desired set over
1 MiB fetched in pages over HTTP, every pod reported running, the node healthy throughout."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.heartbeat import DESIRED_INLINE_BYTES, desired_pod
from kube9_desktop.engine.model import NodeStatus, PodPhase, PodSpec
from kube9_desktop.engine.specs import PodCreate, parse_body
from kube9_desktop.selftest import processes_of
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
)
from tests.helpers import assert_invariants, wait_for
from tests.integration.conftest import EngineFactory
from tests.procs import marker, pids_with, wait_sync


def big_pods(count: int, mark: str, env_bytes: int) -> list[PodSpec]:
    """Pods whose one container is the placeholder (``sleep infinity`` named after the image,
    the cheapest real process), each with large env values, requesting almost nothing."""
    config = [
        {"name": f"big{n}", "type": "env", "key": f"BIG{n}", "value": "v" * 4000}
        for n in range(env_bytes // 4000)
    ] + [{"name": "rest", "type": "env", "key": "REST", "value": "v" * (env_bytes % 4000)}]
    return [
        parse_body(
            PodCreate,
            {
                "name": f"p{i}",
                "cpu_cores_req": 0.001,
                "containers": [{"name": "main", "image": f"{mark}:1", "memory_req": 1}],
                "config": config,
            },
        ).to_spec()
        for i in range(count)
    ]


class PageSpy:
    """Counts the desired-pod pages the engine served (the route calls this method)."""

    def __init__(self, engine: Engine) -> None:
        self.calls: list[tuple[int, int]] = []
        self._real = engine.desired_pods_page

    async def __call__(
        self, node_id: int, token: str | None, generation: int, offset: int, limit: int
    ) -> dict[str, Any]:
        self.calls.append((offset, limit))
        return await self._real(node_id, token, generation, offset, limit)


async def run_big_node(
    engine: Engine, count: int, env_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> float:
    """One node with ``count`` pods carrying ``env_bytes`` of env each; return the seconds from
    their creation until the engine has every one reported running."""
    spy = PageSpy(engine)
    monkeypatch.setattr(engine, "desired_pods_page", spy)
    created = await engine.create_node_from_json(
        {"name": "big", "cpu_cores_avail": 4, "memory_mb": 16_384, "max_pods": count}
    )
    node_id = created.view.id
    node = engine.cluster.state.nodes[node_id]
    await wait_for(lambda: node.status is NodeStatus.HEALTHY, timeout=30, what="agent up")
    mark = marker()
    began = time.monotonic()
    await engine.create_pods(big_pods(count, mark, env_bytes))
    pods = [p for p in engine.cluster.state.pods.values() if p.node_id == node_id]
    assert len(pods) == count
    size = sum(len(json.dumps(desired_pod(p))) for p in pods)
    assert size > DESIRED_INLINE_BYTES, "the desired set must be large enough to be paged"

    def all_running() -> bool:
        assert node.status is NodeStatus.HEALTHY, f"node {node.status}: {node.reason}"
        return all(p.phase is PodPhase.RUNNING for p in pods)

    await wait_for(all_running, timeout=100, what=f"{count} pods reported running")
    took = time.monotonic() - began
    assert spy.calls, "the desired set was not fetched in pages"
    assert len(pids_with(mark)) == count  # real processes, one per pod
    beats = engine.heartbeats.session(node_id).count

    def ten_more_heartbeats() -> bool:
        assert node.status is NodeStatus.HEALTHY
        assert all(p.phase is PodPhase.RUNNING for p in pods)
        return engine.heartbeats.session(node_id).count >= beats + 10

    await wait_for(ten_more_heartbeats, timeout=30, what="ten more heartbeats")
    assert not engine.events(kinds=[str(EventKind.NODE_DETECTED)])
    assert not engine.events(kinds=[str(EventKind.DRIFT)])
    assert all(p.containers["main"].restarts == 0 for p in pods)
    assert_invariants(engine)
    return took


async def test_a_process_node_runs_1000_pods_with_a_paged_desired_set(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = await make_engine(runtime="process", heartbeat_interval=0.5)
    took = await run_big_node(engine, 1000, 1200, monkeypatch)  # ~1.5 MB of desired pods
    print(f"1,000 pods on one process node: all reported running after {took:.1f}s")


@pytest.fixture
def docker_cluster(request: pytest.FixtureRequest) -> Iterator[str]:
    client = connect_or_skip()
    ensure_offline_base(client)
    remove_clusters(client, leftover)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield cluster
    finally:
        remove_clusters(client, lambda c: c == cluster)
        client.close()


@pytest.mark.docker
async def test_a_docker_node_pages_through_a_large_desired_set(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch, docker_cluster: str
) -> None:
    engine = await make_engine(
        runtime="docker", heartbeat_interval=0.5, cluster_name=docker_cluster
    )
    await run_big_node(engine, 100, 12_000, monkeypatch)  # ~1.2 MB of desired pods


@pytest.fixture(autouse=True)
def _no_orphans_after_the_engine_stops(tmp_path: Path) -> Iterator[None]:
    yield
    wait_sync(lambda: processes_of(tmp_path) == [], timeout=30, what="no leftover processes")
