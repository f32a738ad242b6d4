"""Split brain on virtual nodes: a partitioned node's pods that still run there are listed on
it, each with the pod that replaced it, until the heal lets its agent stop them."""

from __future__ import annotations

from kube9_desktop.engine.api.serialize import node_json
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus, PodPhase
from kube9_desktop.engine.runtime.virtual import VirtualRuntime
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate
from tests.helpers import assert_invariants, wait_for
from tests.integration.conftest import EngineFactory, add_nodes, add_pod


def running_on(engine: Engine, node_id: int) -> set[int]:
    """Pod ids the node's (virtual) agent really runs, whatever the engine believes."""
    runtime = engine.runtime
    assert isinstance(runtime, VirtualRuntime)
    return set(runtime._nodes[node_id].pods)


async def test_stale_copies_are_listed_with_their_replacements_until_the_heal(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 4))
    bare = await add_pod(engine, "bare", 1.5)  # best fit: a
    body = {"name": "web", "replicas": 1, "template": {
        "labels": {"app": "web"}, "cpu_cores_req": 0.25,
        "containers": [{"name": "c", "image": "nginx"}]}}  # fmt: skip
    await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
    pods = engine.cluster.state.pods
    await wait_for(lambda: len(pods) == 2 and all(p.phase is PodPhase.RUNNING
                                                  for p in pods.values()), what="both running")  # fmt: skip
    owned = next(p for p in pods if p != bare)
    a, b = ids["a"], ids["b"]
    assert {p.node_id for p in pods.values()} == {a}
    assert engine.node(a).stale_pods == ()

    await engine.inject_fault(a, "partition", duration_s=60)
    await wait_for(lambda: len(engine.node(a).stale_pods) == 2
                   and all(c.replaced_by_node == "b" for c in engine.node(a).stale_pods),
                   what="both copies listed with their replacements")  # fmt: skip
    assert engine.node(a).status is NodeStatus.UNHEALTHY
    by_id = {c.pod_id: c for c in engine.node(a).stale_pods}
    # The bare pod moved: the stale copy is the same pod, still running on a.
    assert by_id[bare].replaced_by == bare and pods[bare].node_id == b
    # The ReplicaSet's pod was deleted and replaced by a new pod of that ReplicaSet.
    new = by_id[owned].replaced_by
    assert owned not in pods and new is not None and pods[new].node_id == b
    assert by_id[owned].replaced_by_name == pods[new].name
    assert {bare, owned} <= running_on(engine, a)  # split brain: both copies run
    await wait_for(lambda: {bare, new} <= running_on(engine, b), what="replacements running")
    said = engine.events(kinds=[EventKind.SPLIT_BRAIN])
    assert [e.pod_id for e in said] == [new] and "still runs on unreachable node a" in (
        said[0].message
    )
    served = node_json(engine.node(a))["stale_pods"]
    assert sorted((s["pod_id"], s["replaced_by"], s["replaced_by_node"]) for s in served) == sorted(
        [(bare, bare, "b"), (owned, new, "b")]
    )
    assert node_json(engine.node(b))["stale_pods"] == []

    await engine.faults.heal(engine.cluster.node(a))  # the partition ends: heartbeats get in
    await wait_for(lambda: engine.node(a).stale_pods == (), what="stale copies cleared")
    assert running_on(engine, a).isdisjoint({bare, owned})  # the agent stopped them
    stopped = engine.events(kinds=[EventKind.SPLIT_BRAIN])[-1]
    assert stopped.node_id == a and "stopped its stale copies" in stopped.message
    assert sorted(stopped.data["stopped"]) == sorted([bare, owned])
    assert engine.node(a).status is NodeStatus.HEALTHY
    assert_invariants(engine)


async def test_a_restart_ends_the_stale_copies_and_a_crash_makes_none(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 2), ("b", 4), ("c", 2))
    first = await add_pod(engine, "first", 1.5)  # best fit: a
    pods = engine.cluster.state.pods
    await wait_for(lambda: pods[first].phase is PodPhase.RUNNING, what="running")
    assert pods[first].node_id == ids["a"]
    await engine.inject_fault(ids["a"], "partition", duration_s=60)
    await wait_for(lambda: len(engine.node(ids["a"]).stale_pods) == 1, what="listed")
    await engine.recover_node(ids["a"])  # heal and restart: the restart kills the old copy
    await wait_for(lambda: engine.node(ids["a"]).stale_pods == (), what="cleared by restart")

    second = await add_pod(engine, "second", 1.5)  # best fit: c (a, b have room too)
    await wait_for(lambda: pods[second].phase is PodPhase.RUNNING, what="running")
    holder = pods[second].node_id
    assert holder is not None
    await engine.inject_fault(holder, "crash")  # a dead node runs nothing: no stale copy
    await wait_for(lambda: pods[second].node_id != holder, what="moved")
    assert engine.node(holder).stale_pods == ()
