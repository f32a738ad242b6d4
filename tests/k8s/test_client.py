"""The official ``kubernetes`` Python client with the kubeconfig the subcommand writes.

The client is synchronous: each call runs in a thread so the engine's loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client, config

from kube9_desktop.engine.model import NodeType
from tests.k8s.conftest import K8sCluster

T = TypeVar("T")


@pytest.fixture
def kube(cluster: K8sCluster) -> Iterator[client.ApiClient]:
    """A client from the kubeconfig, closed before the engine stops (its pooled TLS
    connections would otherwise outlive the server)."""
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


async def call(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kw)


async def test_load_kube_config_reads_the_written_file(cluster: K8sCluster) -> None:
    config.load_kube_config(config_file=str(cluster.kubeconfig))
    loaded = client.Configuration.get_default_copy()
    assert loaded.host == cluster.url
    with client.ApiClient(loaded) as api:
        namespaces = await call(client.CoreV1Api(api).list_namespace)
        version = await call(client.VersionApi(api).get_code)
    assert sorted(n.metadata.name for n in namespaces.items) == sorted(
        n.name for n in cluster.engine.namespaces()
    )
    assert version.git_version == "v1.31.0"


async def test_list_namespaced_pod_is_the_engines_pods(
    cluster: K8sCluster, kube: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube)
    pods = await call(core.list_namespaced_pod, "default")
    engine = {p.name: p for p in cluster.engine.pods("default")}
    assert sorted(p.metadata.name for p in pods.items) == sorted(engine)
    for p in pods.items:
        view = engine[p.metadata.name]
        assert p.metadata.uid == view.uid and p.metadata.namespace == "default"
        assert p.spec.node_name == view.node_name and p.status.pod_ip == view.ip
        assert p.status.phase == "Running" and p.status.host_ip == "127.0.0.1"
        ready = next(c for c in p.status.conditions if c.type == "Ready")
        assert ready.status == "True"
        assert [c.restart_count for c in p.status.container_statuses] == [0]
    selected = await call(core.list_namespaced_pod, "default", label_selector="tier=front")
    assert sorted(p.metadata.name for p in selected.items) == ["web-a", "web-b"]
    everywhere = await call(
        core.list_pod_for_all_namespaces, field_selector="metadata.namespace=team"
    )
    assert [p.metadata.name for p in everywhere.items] == ["tool"]


async def test_read_node(cluster: K8sCluster, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    for view in cluster.engine.nodes():
        node = await call(core.read_node, view.name)
        assert node.metadata.uid == view.uid
        assert node.status.capacity == {
            "cpu": str(view.capacity.cpu_m // 1000),
            "memory": f"{view.capacity.mem_mi // 1024}Gi" if view.capacity.mem_mi % 1024 == 0
            else f"{view.capacity.mem_mi}Mi",
            "pods": "110",
        }  # fmt: skip
        assert node.status.allocatable == node.status.capacity
        (ready,) = node.status.conditions
        assert (ready.type, ready.status) == ("Ready", "True")
        assert node.status.node_info.kubelet_version == "v1.31.0"
        assert {a.type for a in node.status.addresses} == {"InternalIP", "Hostname"}
        roles = {k for k in node.metadata.labels if k.startswith("node-role.kubernetes.io/")}
        assert roles == ({"node-role.kubernetes.io/control-plane"}
                         if view.node_type is NodeType.MASTER else set())  # fmt: skip
    with pytest.raises(client.ApiException) as missing:
        await call(core.read_node, "nope")
    assert missing.value.status == 404


async def test_list_namespaced_deployment_and_replicasets(
    cluster: K8sCluster, kube: client.ApiClient
) -> None:
    apps = client.AppsV1Api(kube)
    (view,) = cluster.engine.deployments()
    (dep,) = (await call(apps.list_namespaced_deployment, "default")).items
    assert dep.metadata.uid == view.uid and dep.spec.replicas == view.spec.replicas
    assert dep.status.ready_replicas == view.status.ready == 2
    assert dep.spec.selector.match_labels == dict(view.spec.selector.match_labels)
    (rs,) = (await call(apps.list_namespaced_replica_set, "default")).items
    assert rs.metadata.owner_references[0].uid == view.uid
    assert rs.status.replicas == 2


async def test_paging_with_limit_and_continue(cluster: K8sCluster, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kw: dict[str, Any] = {"limit": 2}
        if token:
            kw["_continue"] = token
        page = await call(core.list_pod_for_all_namespaces, **kw)
        pages += 1
        assert len(page.items) <= 2
        seen += [f"{p.metadata.namespace}/{p.metadata.name}" for p in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count > 0
    expected = sorted(f"{p.namespace}/{p.name}" for p in cluster.engine.pods())
    assert seen == expected and pages == (len(expected) + 1) // 2
    with pytest.raises(client.ApiException) as bad:
        await call(core.list_namespaced_pod, "default", limit=2, _continue="not-a-token")
    assert bad.value.status == 400


async def test_services_and_endpoints(cluster: K8sCluster, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    (view,) = cluster.engine.services()
    svc = await call(core.read_namespaced_service, "web", "default")
    assert svc.spec.cluster_ip == view.cluster_ip and svc.spec.selector == {"app": "web"}
    assert [(p.port, p.target_port) for p in svc.spec.ports] == [(8080, 80)]
    ep = await call(core.read_namespaced_endpoints, "web", "default")
    (subset,) = ep.subsets
    assert sorted(a.ip for a in subset.addresses) == sorted(e.ip for e in view.endpoints if e.ready)
    assert [p.port for p in subset.ports] == [80]
