"""The first writes of the Kubernetes API, driven by the real kubectl and the official client
and checked in the engine: ``kubectl scale`` (the Scale subresource), ``kubectl delete`` with
cascade, dry run and preconditions; each refusal a Status with Kubernetes' reason."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from kubernetes import client, config

from tests.helpers import wait_for
from tests.k8s.conftest import K8sCluster, kubectl


@pytest.fixture
def kube(cluster: K8sCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


async def send(
    cluster: K8sCluster, method: str, path: str, body: Any = None, ctype: str = "application/json"
) -> tuple[int, Any]:
    headers = {**cluster.headers(), "Content-Type": ctype}
    data = None if body is None else json.dumps(body)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, cluster.url + path, data=data, headers=headers,
                        ssl=cluster.ssl_context()) as resp,
    ):  # fmt: skip
        return resp.status, await resp.json()


def deployment(cluster: K8sCluster, name: str = "api") -> Any:
    return next(d for d in cluster.engine.deployments() if d.name == name)


async def test_kubectl_scale_a_deployment(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "scale", "deployment", "api", "--replicas=4")).ok()
    assert out.strip() == "deployment.apps/api scaled"
    assert deployment(cluster).spec.replicas == 4
    await wait_for(lambda: deployment(cluster).status.available == 4, timeout=30,
                   what="four available replicas")  # fmt: skip
    rows = (await kubectl(cluster, "get", "deployment", "api")).rows()
    assert rows[1][1] == "4/4"
    scale = (await kubectl(cluster, "get", "--raw",
                           "/apis/apps/v1/namespaces/default/deployments/api/scale")).json()  # fmt: skip
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    assert scale["status"]["selector"] == "app=api"


async def test_an_owned_replicaset_is_not_scaled_behind_its_deployment(cluster: K8sCluster) -> None:
    rs = next(r for r in cluster.engine.replicasets() if r.owner is not None)
    out = await kubectl(cluster, "scale", "replicaset", rs.name, "--replicas=5")
    assert out.rc != 0 and "invalid" in out.err and "scale the Deployment" in out.err


async def test_scale_through_the_client_and_each_patch_type(
    cluster: K8sCluster, kube: client.ApiClient
) -> None:
    apps = client.AppsV1Api(kube)
    done = await asyncio.to_thread(
        apps.patch_namespaced_deployment_scale, "api", "default", {"spec": {"replicas": 1}}
    )
    assert done.spec.replicas == 1 and deployment(cluster).spec.replicas == 1
    path = "/apis/apps/v1/namespaces/default/deployments/api/scale"
    status, body = await send(cluster, "PATCH", path,
                              [{"op": "replace", "path": "/spec/replicas", "value": 3}],
                              "application/json-patch+json")  # fmt: skip
    assert status == 200 and body["spec"]["replicas"] == 3
    status, body = await send(cluster, "PATCH", path, {"spec": {"replicas": 2}},
                              "application/merge-patch+json")  # fmt: skip
    assert status == 200 and deployment(cluster).spec.replicas == 2
    for bad in ({"spec": {"replicas": -1}}, {"spec": {"replicas": "many"}},
                {"spec": {"replicas": 2, "paused": True}}):  # fmt: skip
        status, body = await send(cluster, "PATCH", path, bad, "application/merge-patch+json")
        assert status == 422 and body["reason"] == "Invalid", (bad, body)
    status, body = await send(cluster, "PATCH", path, {"spec": {"replicas": 1}}, "text/plain")
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 5}}
    status, body = await send(cluster, "PUT", path, stale)
    assert status == 409 and body["reason"] == "Conflict"
    assert deployment(cluster).spec.replicas == 2  # none of the refusals changed it


async def test_kubectl_delete_a_pod_then_again(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "delete", "pod", "web-a")).ok()
    assert out.strip() == 'pod "web-a" deleted'
    assert cluster.engine.find_pod_named("default", "web-a") is None
    again = await kubectl(cluster, "delete", "pod", "web-a")
    assert again.rc != 0 and 'pods "web-a" not found' in again.err


async def test_delete_a_deployment_orphaning_its_pods(cluster: K8sCluster) -> None:
    pods = {p.name for p in cluster.engine.pods() if p.labels.get("app") == "api"}
    assert len(pods) == 2
    (await kubectl(cluster, "delete", "deployment", "api", "--cascade=orphan")).ok()
    assert not cluster.engine.deployments()
    kept = [p for p in cluster.engine.pods() if p.labels.get("app") == "api"]
    assert {p.name for p in kept} == pods and all(p.spec.owner is None for p in kept)
    # (its ReplicaSet goes with it, where Kubernetes keeps it: docs/kubernetes.md)


async def test_delete_a_service_and_a_namespace_with_its_pods(cluster: K8sCluster) -> None:
    (await kubectl(cluster, "delete", "service", "web")).ok()
    assert cluster.engine.find_service_named("default", "web") is None
    (await kubectl(cluster, "delete", "namespace", "team")).ok()
    assert cluster.engine.find_namespace("team") is None
    assert cluster.engine.find_pod_named("team", "tool") is None
    refused = await kubectl(cluster, "delete", "namespace", "default")
    assert refused.rc != 0 and "(Forbidden)" in refused.err
    assert 'namespaces "default" is forbidden: this namespace may not be deleted' in refused.err
    assert cluster.engine.find_namespace("default") is not None


async def test_dry_run_and_preconditions_change_nothing(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "delete", "pod", "db", "--dry-run=server")).ok()
    assert "deleted (server dry run)" in out
    assert cluster.engine.find_pod_named("default", "db") is not None
    path = "/api/v1/namespaces/default/pods/db"
    status, body = await send(cluster, "DELETE", path, {"preconditions": {"uid": "not-it"}})
    assert (
        status == 409 and body["reason"] == "Conflict" and "Precondition failed" in body["message"]
    )
    for bad in ({"propagationPolicy": "Sideways"}, {"dryRun": ["Some"]}, ["not", "options"]):
        status, body = await send(cluster, "DELETE", path, bad)
        assert status == 400 and body["reason"] == "BadRequest", (bad, body)
    assert cluster.engine.find_pod_named("default", "db") is not None
    status, body = await send(cluster, "DELETE", path, {"propagationPolicy": "Foreground"})
    assert status == 200 and body["kind"] == "Pod" and body["metadata"]["name"] == "db"
    assert cluster.engine.find_pod_named("default", "db") is None
    status, body = await send(cluster, "DELETE", "/api/v1/namespaces/default/services/web")
    assert status == 200 and body["kind"] == "Status" and body["status"] == "Success"
    assert body["details"] == {"name": "web", "kind": "services",
                               "uid": body["details"]["uid"]}  # fmt: skip


async def test_the_client_deletes_a_pod(cluster: K8sCluster, kube: client.ApiClient) -> None:
    core = client.CoreV1Api(kube)
    await asyncio.to_thread(core.delete_namespaced_pod, "web-b", "default")
    assert cluster.engine.find_pod_named("default", "web-b") is None
    with pytest.raises(client.ApiException) as missing:
        await asyncio.to_thread(core.delete_namespaced_pod, "web-b", "default")
    assert missing.value.status == 404


async def test_an_eviction_deletes_the_pod_and_its_replicaset_makes_another(
    cluster: K8sCluster, kube: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube)
    victim = next(p for p in cluster.engine.pods() if p.labels.get("app") == "api")
    body = client.V1Eviction(api_version="policy/v1", kind="Eviction",
                             metadata=client.V1ObjectMeta(name=victim.name, namespace="default"))  # fmt: skip
    await asyncio.to_thread(core.create_namespaced_pod_eviction, victim.name, "default", body)
    assert cluster.engine.find_pod_named("default", victim.name) is None
    await wait_for(lambda: sum(p.labels.get("app") == "api" for p in cluster.engine.pods()) == 2,
                   what="the ReplicaSet's replacement")  # fmt: skip
    path = "/api/v1/namespaces/default/pods/db/eviction"
    for bad in ({"kind": "Pod"}, {"kind": "Eviction", "metadata": {"name": "web-b"}}, [1]):
        status, reply = await send(cluster, "POST", path, bad)
        assert status == 400 and reply["reason"] == "BadRequest", (bad, reply)
    dry = {"kind": "Eviction", "deleteOptions": {"dryRun": ["All"]}}
    status, reply = await send(cluster, "POST", path, dry)
    assert status == 201 and cluster.engine.find_pod_named("default", "db") is not None
    status, reply = await send(cluster, "POST", "/api/v1/namespaces/default/pods/gone/eviction",
                               {"kind": "Eviction"})  # fmt: skip
    assert status == 404 and reply["reason"] == "NotFound"
