"""``kubectl cordon``, ``uncordon``, ``taint`` and ``drain --ignore-daemonsets`` (the real
kubectl), each checked in the engine; what a node patch may not change is a 422 naming it."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from kube9_desktop.engine.constraints import TaintEffect
from tests.k8s.conftest import K8sCluster, kubectl


def node(cluster: K8sCluster, name: str) -> Any:
    return next(n for n in cluster.engine.nodes() if n.name == name)


async def patch(cluster: K8sCluster, name: str, body: Any, ctype: str) -> tuple[int, Any]:
    headers = {**cluster.headers(), "Content-Type": ctype}
    async with (
        aiohttp.ClientSession() as session,
        session.patch(f"{cluster.url}/api/v1/nodes/{name}", data=json.dumps(body),
                      headers=headers, ssl=cluster.ssl_context()) as resp,
    ):  # fmt: skip
        return resp.status, await resp.json()


async def test_cordon_and_uncordon(cluster: K8sCluster) -> None:
    assert (await kubectl(cluster, "cordon", "worker-2")).ok().strip() == "node/worker-2 cordoned"
    assert node(cluster, "worker-2").cordoned
    rows = {r[0]: r[1] for r in (await kubectl(cluster, "get", "nodes")).rows()[1:]}
    assert rows["worker-2"] == "Ready,SchedulingDisabled"
    out = (await kubectl(cluster, "uncordon", "worker-2")).ok()
    assert out.strip() == "node/worker-2 uncordoned" and not node(cluster, "worker-2").cordoned


async def test_taint_and_untaint(cluster: K8sCluster) -> None:
    (await kubectl(cluster, "taint", "nodes", "worker-2", "dedicated=gpu:NoSchedule")).ok()
    (taint,) = node(cluster, "worker-2").taints
    assert (taint.key, taint.value, taint.effect) == ("dedicated", "gpu", TaintEffect.NO_SCHEDULE)
    described = (await kubectl(cluster, "describe", "node", "worker-2")).ok()
    assert "dedicated=gpu:NoSchedule" in described
    (await kubectl(cluster, "taint", "nodes", "worker-2", "dedicated-")).ok()
    assert node(cluster, "worker-2").taints == ()
    master = (await kubectl(cluster, "get", "node", "master-1", "-o", "json")).json()
    assert master["spec"]["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]


async def test_drain_evicts_and_cordons(cluster: K8sCluster) -> None:
    """The drained node's pods are evicted: a Deployment's are made again (pending here,
    where nothing else fits), bare ones (with --force, as kubectl requires) are gone."""
    target = next(p.node_name for p in cluster.engine.pods() if p.labels.get("app") == "api")
    assert target is not None
    out = await kubectl(cluster, "drain", target, "--ignore-daemonsets", "--force")
    assert out.rc == 0, out.err
    assert f"node/{target} drained" in out.out and node(cluster, target).cordoned
    assert not [p for p in cluster.engine.pods() if p.node_name == target]
    # Its replicas are made again; the other worker is full, so they wait, and the drained
    # node's verdict is that it is cordoned.
    api = [p for p in cluster.engine.pods() if p.labels.get("app") == "api"]
    assert len(api) == 2 and all(p.node_name != target for p in api)
    pending = [p for p in api if p.node_name is None]
    for p in pending:
        assert p.decision is not None
        assert "node(s) were unschedulable" in p.decision.reasons[target]


async def test_what_a_node_patch_may_not_change(cluster: K8sCluster) -> None:
    labelled = await kubectl(cluster, "label", "node", "worker-1", "extra=yes")
    assert labelled.rc != 0 and "metadata.labels" in labelled.err
    merge = "application/merge-patch+json"
    for body, words in (
        ({"spec": {"podCIDR": "10.0.0.0/24"}}, "spec.podCIDR"),
        ({"spec": {"unschedulable": "yes"}}, "spec.unschedulable"),
        ({"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}, "spec.taints[0].effect"),
        ({"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}] * 2}}, "given twice"),
        ({"status": {"phase": "Gone"}}, "status"),
    ):
        status, reply = await patch(cluster, "worker-1", body, merge)
        assert status == 422 and reply["reason"] == "Invalid" and words in reply["message"], (
            body, reply,
        )  # fmt: skip
    status, reply = await patch(cluster, "worker-1", {"spec": {}}, "text/plain")
    assert status == 415 and reply["reason"] == "UnsupportedMediaType"
    status, reply = await patch(cluster, "ghost", {"spec": {"unschedulable": True}}, merge)
    assert status == 404 and reply["reason"] == "NotFound"
    assert not node(cluster, "worker-1").cordoned and node(cluster, "worker-1").taints == ()
