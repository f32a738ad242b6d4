"""The export round-trips through the real kubectl: a cluster built in one Kube-9 engine is
exported, a fresh engine gets the nodes of the export's kind config (named as kind names
them, with their labels and taints), ``kubectl apply -f DIR/manifests`` builds the rest in it
through its Kubernetes API, and the two clusters' objects are compared field by field
(uids, versions, times and node placement aside)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.k8s.decode import decode
from kube9_desktop.engine.k8s.export import export_cluster, write_export
from kube9_desktop.engine.k8s.status import Invalid
from kube9_desktop.engine.model import ConfigItem
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for
from tests.k8s.conftest import K8sCluster, kubectl, write_kubeconfig
from tests.k8s.test_export import build

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # kubectl apply's own


def comparable(value: Any) -> Any:
    """A spec as plain data, less what the trip changes on purpose: kubectl's last-applied
    annotation, a config item's own name (an ``env`` entry has only its variable's), and a
    one-container pod's CPU, which the export writes on that container."""
    if isinstance(value, ConfigItem):
        value = dataclasses.replace(value, name="")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: comparable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        containers = out.get("containers")
        if "request" in out and isinstance(containers, list) and len(containers) == 1:
            containers[0]["cpu_m"] = out["request"]["cpu_m"]
        return {"type": type(value).__name__, **out}
    if isinstance(value, Mapping):
        return {k: comparable(v) for k, v in value.items() if k != LAST_APPLIED}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    return value


def workloads(engine: Engine) -> dict[str, Any]:
    """Every object the export carries, by kind/namespace/name, as comparable specs."""
    out: dict[str, Any] = {}
    for ns in engine.namespaces():
        out[f"Namespace/{ns.name}"] = comparable({"labels": ns.labels,
                                                  "annotations": ns.annotations})  # fmt: skip
    for d in engine.deployments():
        out[f"Deployment/{d.namespace}/{d.name}"] = comparable(d.spec)
    for rs in engine.replicasets():
        if rs.owner is None:
            fields = ("replicas", "selector", "template", "min_ready_seconds", "labels",
                      "annotations")  # fmt: skip
            out[f"ReplicaSet/{rs.namespace}/{rs.name}"] = comparable(
                {f: getattr(rs, f) for f in fields}
            )
    for s in engine.services():
        out[f"Service/{s.namespace}/{s.name}"] = comparable(s.spec)
    for p in engine.pods():
        if p.owner is None:
            out[f"Pod/{p.namespace}/{p.name}"] = comparable(p.spec)
    return out


def node_specs(engine: Engine) -> list[Any]:
    return sorted(
        (str(n.node_type), sorted(n.labels.items()), [(t.key, t.value, str(t.effect))
                                                      for t in n.taints])
        for n in engine.nodes()
    )  # fmt: skip


def nodes_of(kind_config: dict[str, Any], mapping: list[str]) -> list[dict[str, Any]]:
    """The Kube-9 node bodies for kind's nodes, named as kind will name them."""
    bodies = []
    for name, node in zip(mapping, kind_config["nodes"], strict=True):
        body: dict[str, Any] = {"name": name, "cpu_cores_avail": 4, "memory_mb": 8192,
                                "labels": node.get("labels", {})}  # fmt: skip
        if node["role"] == "control-plane":
            body["node_type"] = "master"  # kubeadm's control-plane taint, as Kube-9's default
        for patch in node.get("kubeadmConfigPatches", ()):
            body["taints"] = yaml.safe_load(patch)["nodeRegistration"]["taints"]
        bodies.append(body)
    return bodies


async def test_export_applied_with_kubectl_into_a_fresh_cluster_is_the_same(
    tmp_path: Path,
) -> None:
    first = Engine(fast_settings(tmp_path / "first", k8s_port=0))
    await start_engine(first)
    try:
        async with aiohttp.ClientSession() as session:
            await build(Api(first.api_url, first.admin_token, session), first, odd=False)
        export = export_cluster(first)
        before, before_nodes = workloads(first), node_specs(first)
    finally:
        await first.stop()
    # Everything here has a faithful form (the two-container pod's CPU needs kind's gate).
    assert [item.what for item in export.left_out] == ["pod-level CPU requests (spec.resources)"]
    folder = tmp_path / "k8s"
    write_export(export, folder)

    second = Engine(fast_settings(tmp_path / "second", api_token=None, k8s_port=0))
    await start_engine(second)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(second.api_url, second.admin_token, session)
            config = yaml.safe_load((folder / "kind-config.yaml").read_text())
            for body in nodes_of(config, [m.kind_name for m in export.nodes]):
                status, reply = await api.post("/nodes/", body)
                assert status == 201, reply
            home = tmp_path / "home"
            home.mkdir()
            cluster = K8sCluster(second, api, write_kubeconfig(second, tmp_path / "kc"), home)
            out = (await kubectl(cluster, "apply", "-f", str(folder / "manifests"))).ok()
            assert out.splitlines() == [
                "namespace/team created",
                "service/api created", "service/cache created", "service/db created",
                "deployment.apps/api created", "deployment.apps/db created",
                "replicaset.apps/cache created",
                "pod/debug created", "pod/tool created",
            ]  # fmt: skip
            await wait_for(
                lambda: all(d.status.available == d.spec.replicas for d in second.deployments()),
                what="the applied Deployments available",
            )
            after = workloads(second)
            assert sorted(after) == sorted(before)
            for key in before:
                assert after[key] == before[key], key
            assert node_specs(second) == before_nodes
            # And the fresh cluster exports to the very same manifests and kind nodes.
            again = export_cluster(second)
            assert again.manifests == export.manifests
            assert again.kind_config == export.kind_config
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("limit", "size"),
    [("1Gi", 1), ("2Gi", 2), (3_000_000_000, 3), ("500Mi", 1), ("1G", 1), ("0.5Gi", 1)],
)
def test_an_emptydir_size_limit_reads_as_whole_gi(limit: object, size: int) -> None:
    """What the API serves (``sizeLimit: 1Gi``) reads back as the GiB Kube-9 keeps, rounded
    up as the pod form's manifest reader does (the round trip above found it read as text)."""
    body = decode("Pod", pod_with_limit(limit), "default").body
    assert body["volumes"] == [{"name": "v", "type": "emptyDir", "size": size}]


@pytest.mark.parametrize("limit", ["lots", "0", -1, "1e400"])
def test_an_emptydir_size_limit_that_is_no_size_is_invalid(limit: object) -> None:
    with pytest.raises(Invalid) as caught:
        decode("Pod", pod_with_limit(limit), "default")
    assert "spec.volumes[0].emptyDir.sizeLimit" in str(caught.value.status())


def pod_with_limit(limit: object) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}],
                 "volumes": [{"name": "v", "emptyDir": {"sizeLimit": limit}}]},
    }  # fmt: skip
