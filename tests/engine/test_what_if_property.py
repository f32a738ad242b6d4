"""The what-if preview against the real thing, in random clusters: build one, preview the
failure of some of its nodes, then crash them for real (the fault injector's crash, the fake
clock past the grace period, the controllers ticking) and require the outcome the preview
gave: the same node for every bare pod, the same count per node for each ReplicaSet's pods,
the same pending set.

KUBE9_WHAT_IF_EXAMPLES sets how many clusters (the issue's target is 1,000:
``KUBE9_WHAT_IF_EXAMPLES=1000 pytest tests/engine/test_what_if_property.py``); the default
keeps the suite's run short.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.constraints import Taint, TaintEffect, Toleration, TolerationOperator
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.noexecute import UNREACHABLE
from kube9_desktop.engine.scheduler import STRATEGIES
from tests.engine.what_if_world import World, predicted, snapshot

EXAMPLES = int(os.environ.get("KUBE9_WHAT_IF_EXAMPLES", "60"))
NS, NX, PNS = TaintEffect.NO_SCHEDULE, TaintEffect.NO_EXECUTE, TaintEffect.PREFER_NO_SCHEDULE
EXISTS = TolerationOperator.EXISTS
TAINTS = {
    "none": (),
    "gpu": (Taint("gpu", "yes", NS),),
    "spot": (Taint("spot", "", PNS),),
    "maint": (Taint("maint", "", NX),),
}
TOLERATIONS = {
    "none": (),
    "gpu": (Toleration("gpu", EXISTS, "", NS),),
    "maint": (Toleration("maint", EXISTS, "", NX),),
    "unreachable": (Toleration(UNREACHABLE, EXISTS, "", NX),),
    "unreachable-60s": (Toleration(UNREACHABLE, EXISTS, "", NX, 60),),
    "all": (Toleration("", EXISTS),),
}

nodes_st = st.lists(
    st.fixed_dictionaries({
        "cpu": st.sampled_from([1000, 2000, 3000, 4000, 8000]),
        "mem": st.sampled_from([512, 1024, 4096]),
        "zone": st.sampled_from(["a", "b"]),
        "taint": st.sampled_from(list(TAINTS)),
        "max_pods": st.sampled_from([None, None, None, 1, 3]),
        "cordoned": st.sampled_from([False, False, True]),
    }),
    min_size=2, max_size=6,
)  # fmt: skip
pods_st = st.lists(
    st.fixed_dictionaries({
        "cpu": st.sampled_from([100, 250, 500, 900, 1500, 3000]),
        "mem": st.sampled_from([64, 256, 1024]),
        "replicas": st.sampled_from([0, 0, 1, 2, 3]),  # 0: a bare pod
        "zone": st.sampled_from([None, None, "a", "b"]),
        "tolerate": st.sampled_from(list(TOLERATIONS)),
    }),
    min_size=1, max_size=12,
)  # fmt: skip


@settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
@given(
    nodes=nodes_st,
    pods=pods_st,
    strategy=st.sampled_from(sorted(STRATEGIES)),
    late=st.integers(0, 3),  # how many nodes join after the pods (so pods are spread)
    pick=st.data(),
)
def test_the_real_failure_ends_as_the_preview_said(
    nodes: list[dict[str, object]], pods: list[dict[str, object]], strategy: str, late: int,
    pick: st.DataObject,
) -> None:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp) / "c.db", strategy=strategy)
        made: list[int] = []

        def add_node(i: int, spec: dict[str, object]) -> None:
            made.append(w.node(
                f"n{i}", int(spec["cpu"]), int(spec["mem"]),  # type: ignore[call-overload]
                labels={"zone": str(spec["zone"])}, taints=TAINTS[str(spec["taint"])],
                max_pods=spec["max_pods"], cordoned=bool(spec["cordoned"]),  # type: ignore[arg-type]
            ))  # fmt: skip

        split = max(1, len(nodes) - late)
        for i, spec in enumerate(nodes[:split]):
            add_node(i, spec)
        for j, p in enumerate(pods):
            selector = {"zone": str(p["zone"])} if p["zone"] else None
            tolerations = TOLERATIONS[str(p["tolerate"])]
            cpu, mem = int(p["cpu"]), int(p["mem"])  # type: ignore[call-overload]
            if p["replicas"]:
                w.replicaset(f"rs{j}", int(p["replicas"]), cpu, mem,  # type: ignore[call-overload]
                             tolerations=tolerations, selector=selector)  # fmt: skip
            else:
                w.pod(f"p{j}", cpu, mem, tolerations=tolerations, selector=selector)
        for i, spec in enumerate(nodes[split:], start=split):
            add_node(i, spec)
        failing = pick.draw(
            st.lists(st.sampled_from(made), min_size=1, max_size=len(made), unique=True),
            label="fail_nodes",
        )
        views = snapshot(w)
        result = w.preview(failing)
        assert snapshot(w) == views  # the live cluster is as it was
        start = w.outcome()
        w.fail_and_settle(failing)
        assert w.outcome() == predicted(start, result), result
        assert not check_invariants(w.cluster.state, evictions_settled=False,
                                    eviction_scheduled=lambda _n: True)  # fmt: skip
        w.cluster.store.close()
