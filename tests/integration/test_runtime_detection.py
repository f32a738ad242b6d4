"""Crash detection from the runtime's own news (``--detect-from-runtime``): a node's agent
process that exits, or its container's Docker ``die`` event, marks it NotReady at once, long
before a missed grace period would; a hang still waits for the heartbeats (nothing died), and
the engine's own stops, restarts and deletions are no news.

The grace period here is 120 s, so only the runtime can have detected anything within the
tests' waits."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.runtime.process import ProcessRuntime
from main import build_parser, settings_from_args
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
)
from tests.helpers import assert_invariants, wait_for
from tests.integration.conftest import EngineFactory, add_nodes, add_pod

SLOW_HEARTBEATS = {"heartbeat_interval": 0.25, "grace_period": 120.0, "recovery_backoff": 0.2}
RUNTIMES = ["process", pytest.param("docker", marks=pytest.mark.docker), "virtual"]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Engine settings for each runtime; Docker gets a cluster of its own, removed after."""
    name: str = request.param
    if name != "docker":
        yield {"runtime": name}
        return
    client = connect_or_skip()
    ensure_offline_base(client)
    remove_clusters(client, leftover)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield {"runtime": name, "cluster_name": cluster}
    finally:
        remove_clusters(client, lambda c: c == cluster)
        client.close()


def detections(engine: Engine, node_id: int) -> list[Any]:
    return [
        e for e in engine.events(node_id=node_id, limit=5000) if e.kind is EventKind.NODE_DETECTED
    ]


def status(engine: Engine, node_id: int) -> NodeStatus:
    return engine.cluster.state.nodes[node_id].status


def test_the_flag_turns_it_on_and_it_is_off_by_default() -> None:
    assert settings_from_args(build_parser().parse_args([])).detect_from_runtime is False
    args = build_parser().parse_args(["--detect-from-runtime"])
    assert settings_from_args(args).validate().detect_from_runtime is True


async def test_a_crash_is_detected_from_the_runtime_and_plays_out(
    runtime: dict[str, Any], make_engine: EngineFactory
) -> None:
    engine = await make_engine(detect_from_runtime=True, **SLOW_HEARTBEATS, **runtime)
    ids = await add_nodes(engine, ("w1", 2), ("w2", 2))
    pod = await add_pod(engine, "web", 0.5)
    holder = engine.cluster.state.pods[pod].node_id
    assert holder is not None
    other = next(i for i in ids.values() if i != holder)

    await engine.inject_fault(holder, "crash")
    await wait_for(lambda: bool(detections(engine, holder)), timeout=20, what="detected")
    (found,) = detections(engine, holder)
    assert found.data["detected_by"] == "runtime"
    said = found.data["runtime_said"]
    assert {
        "process": "its agent process exited (killed by SIGKILL)",
        "docker": "its container died (exit code 137)",
        "virtual": "its virtual node was killed",
    }[runtime["runtime"]] == said
    assert "detected from the runtime" in found.message

    # The failure plays out as after a missed grace period: the pod moves, the node returns.
    await wait_for(lambda: engine.cluster.state.pods[pod].node_id == other, what="pod moved")
    await wait_for(lambda: status(engine, holder) is NodeStatus.HEALTHY, timeout=30, what="back")
    timeline = engine.incidents()[0]
    assert timeline.incident.node_id == holder
    assert timeline.detected_by == "runtime"
    assert timeline.to_json()["detected_by"] == "runtime"
    # The restart that brought it back was the engine's own doing: no second detection.
    assert len(detections(engine, holder)) == 1
    assert_invariants(engine)


async def test_a_node_killed_behind_the_engines_back_is_detected(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine(detect_from_runtime=True, runtime="process", **SLOW_HEARTBEATS)
    ids = await add_nodes(engine, ("w1", 1))
    assert isinstance(engine.runtime, ProcessRuntime)
    pid = engine.runtime.pid(ids["w1"])
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # as a user's `kill -9` or the OOM killer would
    await wait_for(lambda: bool(detections(engine, ids["w1"])), timeout=20, what="detected")
    assert detections(engine, ids["w1"])[0].data["detected_by"] == "runtime"


async def test_the_engines_own_stops_and_deletions_are_no_news(
    runtime: dict[str, Any], make_engine: EngineFactory
) -> None:
    engine = await make_engine(detect_from_runtime=True, **SLOW_HEARTBEATS, **runtime)
    ids = await add_nodes(engine, ("w1", 1), ("w2", 1))
    await engine.delete_node(ids["w2"])
    # A restart the engine asks for replaces the agent: the old one's exit is expected.
    node = engine.cluster.state.nodes[ids["w1"]]
    await engine.supervisor.restart(node)
    await wait_for(lambda: status(engine, ids["w1"]) is NodeStatus.HEALTHY, what="healthy")
    # Something the runtime does report still arrives, so silence above was not a dead watch,
    # and the only detection is the crash's (a restart's would come before the fault).
    await engine.inject_fault(ids["w1"], "crash")
    await wait_for(lambda: bool(detections(engine, ids["w1"])), timeout=20, what="detected")
    fault = next(
        e for e in engine.events(node_id=ids["w1"], limit=5000)
        if e.kind is EventKind.FAULT_INJECTED
    )  # fmt: skip
    found = detections(engine, ids["w1"])
    assert [(e.data["detected_by"], e.id > fault.id) for e in found] == [("runtime", True)]
    assert detections(engine, ids["w2"]) == []


async def test_a_hang_still_waits_for_the_grace_period(make_engine: EngineFactory) -> None:
    engine = await make_engine(
        detect_from_runtime=True, runtime="process", heartbeat_interval=0.25, grace_period=1.0
    )
    ids = await add_nodes(engine, ("w1", 1), ("w2", 1))
    await engine.inject_fault(ids["w1"], "hang")
    await wait_for(lambda: bool(detections(engine, ids["w1"])), timeout=20, what="detected")
    assert detections(engine, ids["w1"])[0].data["detected_by"] == "heartbeat"
