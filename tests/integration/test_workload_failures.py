"""Deployments through node failures, on virtual nodes: replicas are replaced (bare pods still
move), and a rolling update under a crash or a partition never breaks its own limits — the
workload invariants are checked on every turn of the loop, not only at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants, check_workload_invariants
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.specs import PodCreate, parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch
from tests.helpers import wait_for
from tests.integration.conftest import EngineFactory, add_nodes


def template(image: str = "v1") -> dict[str, object]:
    return {"labels": {"app": "web"}, "cpu_cores_req": 0.5,
            "containers": [{"name": "c", "image": f"nginx:{image}"}]}  # fmt: skip


def deployment(replicas: int, image: str = "v1", **extra: object) -> DeploymentCreate:
    body = {"name": "web", "replicas": replicas, "template": template(image), **extra}
    return parse_body(DeploymentCreate, body)


@contextlib.asynccontextmanager
async def watched(engine: Engine) -> AsyncIterator[list[str]]:
    """Check every invariant on every turn of the loop while inside; collect what broke."""
    broken: list[str] = []

    async def watch() -> None:
        while True:
            state = engine.cluster.state
            failing = any(n.status is not NodeStatus.HEALTHY for n in state.nodes.values())
            broken.extend(check_invariants(state))
            broken.extend(
                check_workload_invariants(state, engine.clock.now(), nodes_failing=failing)
            )
            await asyncio.sleep(0)

    task = asyncio.create_task(watch())
    try:
        yield broken
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def ready(
    engine: Engine, d_id: int, replicas: int, revision: int | None = None
) -> Callable[[], bool]:
    def check() -> bool:
        d = engine.deployment(d_id)
        return d.status.available == d.status.updated == d.status.replicas == replicas and (
            revision is None or d.revision == revision
        )

    return check


async def test_a_crashed_nodes_replicas_are_replaced_and_bare_pods_move(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 3), ("b", 3), ("c", 3))
    # Best fit packs: the bare pod first, then replicas on the same node beside it.
    bare = await engine.create_pod(parse_body(PodCreate, {
        "name": "bare", "cpu_cores_req": 0.5, "containers": [{"name": "c", "image": "x"}]
    }).to_spec())  # fmt: skip
    d = (await engine.create_deployment(deployment(6).to_spec())).view
    await wait_for(ready(engine, d.id, 6), what="6 available")
    victim = engine.pod(bare.view.id).node_id
    assert victim is not None
    lost = {p for p in engine.node(victim).pod_ids if p != bare.view.id}
    assert lost  # replicas share the bare pod's node
    async with watched(engine) as broken:
        await engine.inject_fault(victim, "crash")

        # "Not healthy" comes first as suspect while the replicas still stand, and the stored
        # status trails the pods by a controller turn: wait for the pods themselves too.
        def all_replaced() -> bool:
            owned = [p.id for p in engine.pods() if p.owner is not None]
            return not lost & set(owned) and len(owned) == 6 and ready(engine, d.id, 6)()

        await wait_for(all_replaced, timeout=15, what="6 replacements available")
    assert broken == []
    owned = {p.id for p in engine.pods() if p.owner is not None}
    assert not owned & lost and len(owned) == 6  # replaced by new pods, not moved
    assert engine.pod(bare.view.id).node_id not in (None, victim)  # the bare pod moved, same id
    replaced = engine.events(kinds=["pod_deleted"])
    assert any("its ReplicaSet replaces it" in e.message for e in replaced)
    assert victim in ids.values()


async def test_a_rolling_update_through_a_crash_keeps_its_limits(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    await add_nodes(engine, ("a", 4), ("b", 4), ("c", 4), ("d", 4))
    strategy = {"strategy": {"max_surge": 2, "max_unavailable": 0}, "min_ready_seconds": 0}
    d = (await engine.create_deployment(deployment(8, **strategy).to_spec())).view
    await wait_for(ready(engine, d.id, 8), what="8 available")
    async with watched(engine) as broken:
        patch = parse_body(DeploymentPatch, {"template": template("v2")})
        await engine.update_deployment(d.id, patch)
        busiest = max(engine.nodes(), key=lambda n: len(n.pod_ids))
        await engine.inject_fault(busiest.id, "crash")
        await wait_for(ready(engine, d.id, 8, revision=2), timeout=30, what="rolled out")
        await wait_for(lambda: engine.node(busiest.id).status is NodeStatus.HEALTHY,
                       timeout=15, what="node recovered")  # fmt: skip
    assert broken == [], broken[:5]
    assert [r.spec.replicas for r in engine.cluster.state.replicasets.values()] == [0, 8]


async def test_a_rolling_update_through_a_partition_keeps_its_limits(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine()
    ids = await add_nodes(engine, ("a", 4), ("b", 4), ("c", 4))
    d = (await engine.create_deployment(deployment(6).to_spec())).view
    await wait_for(ready(engine, d.id, 6), what="6 available")
    async with watched(engine) as broken:
        await engine.inject_fault(ids["a"], "partition", duration_s=1.0)
        patch = parse_body(DeploymentPatch, {"template": template("v2")})
        await engine.update_deployment(d.id, patch)
        await wait_for(ready(engine, d.id, 6, revision=2), timeout=30, what="rolled out")
        await wait_for(lambda: engine.node(ids["a"]).status is NodeStatus.HEALTHY,
                       timeout=15, what="partition healed")  # fmt: skip
    assert broken == [], broken[:5]
