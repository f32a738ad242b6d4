"""The workload controller's loop stops when told, even when its wake-up arrives together with
the cancellation (Python 3.11's wait_for swallowed that cancel and the engine never stopped)."""

from __future__ import annotations

import asyncio
from typing import Any

from kube9_desktop.engine.terminating import TerminatingPods
from kube9_desktop.engine.workload_controller import WorkloadConfig, WorkloadController


class _Bus:
    def subscribe_changes(self, _fn: Any) -> None:
        return None


class _Cluster:
    def __init__(self) -> None:
        self.bus = _Bus()
        self.state = type("State", (), {"deployments": {}, "replicasets": {}})()


async def test_stop_wins_over_a_wake_up_in_the_same_moment() -> None:
    for _ in range(200):  # the race is about one loop iteration: try it many times
        controller = WorkloadController(_Cluster(), clock=None, config=WorkloadConfig(tick=5.0))  # type: ignore[arg-type]
        controller.start()
        await asyncio.sleep(0)  # the loop is waiting for its wake-up
        controller._wake.set()
        await asyncio.wait_for(controller.stop(), timeout=2.0)


def test_an_empty_terminating_book_is_still_the_one_counted() -> None:
    # TerminatingPods has __len__, so an empty book is falsy: the controller must still count
    # from it (it fills later), not fall back to counting nothing for ever.
    cluster = _Cluster()
    book = TerminatingPods(cluster, clock=None)  # type: ignore[arg-type]
    assert len(book) == 0
    controller = WorkloadController(cluster, clock=None, terminating=book)  # type: ignore[arg-type]
    book._counts[7] = 2  # as after a pod of ReplicaSet 7 was deleted on a real node
    assert controller._count_terminating(7) == 2


def _draws(*suffixes: str) -> Any:
    """secrets.choice as a script: these suffixes letter by letter, then the real thing."""
    import secrets

    letters = iter("".join(suffixes))
    real = secrets.choice
    return lambda seq: next(letters, None) or real(seq)


async def test_pods_of_one_step_never_share_a_name(tmp_path: Any, monkeypatch: Any) -> None:
    """A step names all its new pods before any exists: two equal random suffixes in one
    batch made the step's commit fail (a 1,200-pod scale-up hung in CI)."""
    from kube9_desktop.engine import replicasets
    from kube9_desktop.engine.core import Engine
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentCreate
    from kube9_desktop.serve import start_engine
    from tests.helpers import fast_settings, wait_for

    engine = Engine(fast_settings(tmp_path / "data"))
    await start_engine(engine)
    try:
        await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 8})
        await wait_for(lambda: all(n.status == "healthy" for n in engine.nodes()), what="up")
        monkeypatch.setattr(replicasets.secrets, "choice", _draws("bbbbb", "bbbbb"))
        body = {"name": "web", "replicas": 3, "template": {
            "labels": {"app": "web"}, "containers": [{"name": "c", "image": "nginx",
                                                     "cpu_req": 0.1}]}}  # fmt: skip
        await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
        await wait_for(lambda: len(engine.pods()) == 3, what="three pods")
        names = [p.name for p in engine.pods()]
        assert len(set(names)) == 3 and sum(n.endswith("-bbbbb") for n in names) == 1
    finally:
        await engine.stop()


async def test_a_failed_step_is_tried_again_at_the_next_tick(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """A step whose commit failed leaves nothing short: the ReplicaSet still reaches its
    replicas once the cause has passed (the controller keeps a failed step due for its next
    tick, whatever else happens to wake it)."""
    from kube9_desktop.engine import replicasets
    from kube9_desktop.engine.core import Engine
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.engine.workload_specs import DeploymentCreate
    from kube9_desktop.serve import start_engine
    from tests.helpers import fast_settings, wait_for

    engine = Engine(fast_settings(tmp_path / "data"))
    await start_engine(engine)
    try:
        await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 8})
        await wait_for(lambda: all(n.status == "healthy" for n in engine.nodes()), what="up")
        real = replicasets.manage
        failures: list[Exception] = []

        def flaky(*args: Any) -> Any:
            if failures:
                raise failures.pop()
            return real(*args)

        monkeypatch.setattr(replicasets, "manage", flaky)
        body = {"name": "web", "replicas": 2, "template": {
            "labels": {"app": "web"}, "containers": [{"name": "c", "image": "nginx",
                                                     "cpu_req": 0.1}]}}  # fmt: skip
        d = await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
        await wait_for(lambda: engine.deployment(d.view.id).status.available == 2, what="up")
        await wait_for(lambda: engine.workloads.settled, what="nothing left to do")
        # Nothing else will touch the ReplicaSet once its scale-up step fails.
        failures.append(RuntimeError("the store hiccuped"))
        await engine.scale_deployment(d.view.id, 4)
        await wait_for(lambda: len(engine.pods()) == 4, what="four pods after the retry")
        assert not failures
    finally:
        await engine.stop()
