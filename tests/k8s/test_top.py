"""``kubectl top nodes`` / ``kubectl top pods`` through metrics.k8s.io/v1beta1: the usage the
(virtual) agents report, as metrics-server serves it, equal to the engine's own figures."""

from __future__ import annotations

from kube9_desktop.engine.usage import USAGE_CPU, USAGE_MEMORY, USAGE_VARY
from tests.helpers import wait_for
from tests.k8s.conftest import K8sCluster, kubectl, pod


def cells(out: str) -> dict[str, list[str]]:
    lines = [ln.split() for ln in out.splitlines() if ln.strip()]
    return {row[0]: row[1:] for row in lines[1:]}


async def test_top_pods_and_nodes_show_the_reported_usage(cluster: K8sCluster) -> None:
    steady = {USAGE_CPU: "300m", USAGE_MEMORY: "200Mi", USAGE_VARY: "0"}
    created = await cluster.engine.create_pod_from_json(
        pod("busy", {"app": "busy"}, annotations=steady)
    )
    usage = cluster.engine.heartbeats.usage
    await wait_for(lambda: usage.pod(created.view.id) is not None, timeout=30,
                   what="the pod's usage reported")  # fmt: skip
    top = cells((await kubectl(cluster, "top", "pods")).ok())
    assert top["busy"] == ["300m", "200Mi"]
    listed = (await kubectl(cluster, "get", "--raw",
                            "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy")).json()  # fmt: skip
    assert listed["kind"] == "PodMetrics" and listed["containers"][0]["name"] == "main"
    node = created.view.node_name
    assert node is not None
    figures = usage.node(created.view.node_id or 0)
    assert figures is not None
    nodes = cells((await kubectl(cluster, "top", "nodes")).ok())
    cpu_m = int(nodes[node][0].removesuffix("m"))
    assert abs(cpu_m - figures["cpu_cores"] * 1000) <= 50  # the node's next report may move
    silent = [n.name for n in cluster.engine.nodes() if usage.node(n.id) is None]
    for name in silent:
        assert nodes[name][0] == "<unknown>"


async def test_metrics_are_read_only_and_not_watched(cluster: K8sCluster) -> None:
    status, body = await cluster.get("/apis/metrics.k8s.io/v1beta1/nodes?watch=true")
    assert status == 405 and "watch" in body["message"]
    status, body = await cluster.get("/apis/metrics.k8s.io/v1beta1/nodes/ghost")
    assert status == 404 and body["reason"] == "NotFound"
    status, body = await cluster.get("/apis/metrics.k8s.io/v1beta1", method="GET")
    assert status == 200 and {r["kind"] for r in body["resources"]} == {"NodeMetrics", "PodMetrics"}
