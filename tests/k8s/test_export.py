"""The export for a real Kubernetes: every manifest valid against Kubernetes 1.33's own schemas
(strict: no unknown field), no Kube-9-only field left, a kind config carrying the nodes'
labels and taints, everything Kube-9 models without a faithful form listed in the README."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import kubernetes_validate
import pytest
import yaml

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.k8s.export import KIND_API, Export, export_cluster
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for
from tests.k8s.conftest import K8sCluster, kubectl, write_kubeconfig

K8S_VERSION = "1.33.0"  # the schemas this API serves (scripts/gen_k8s_schemas.py)

NODES = (
    {"name": "master-1", "cpu_cores_avail": 2, "node_type": "master"},
    {
        "name": "worker-1", "cpu_cores_avail": 4, "memory_mb": 8192,
        "labels": {"disk": "ssd", "topology.kubernetes.io/zone": "zone-a"},
        "taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}],
    },
    {
        "name": "worker-2", "cpu_cores_avail": 4, "memory_mb": 8192,
        "labels": {"disk": "hdd", "topology.kubernetes.io/zone": "zone-b"},
        "taints": [{"key": "spot", "effect": "PreferNoSchedule"}],
    },
    {"name": "worker-3", "cpu_cores_avail": 4, "memory_mb": 8192},
)  # fmt: skip
# A label a kubelet may not set on itself, and a Kube-9 pod limit: both listed as left out.
ODD_NODE = {
    "name": "worker-4", "cpu_cores_avail": 2, "labels": {"node-role.kubernetes.io/infra": ""},
    "max_pods": 20,
}  # fmt: skip

HTTP_PROBE = {"http_get": {"path": "/healthz", "port": "http"}, "period_s": 5,
              "failure_threshold": 2}  # fmt: skip
API = {
    "name": "api",
    "replicas": 3,
    "labels": {"app": "api"},
    "strategy": {"type": "RollingUpdate", "max_surge": "50%", "max_unavailable": 0},
    "min_ready_seconds": 2,
    "revision_history_limit": 4,
    "template": {
        "labels": {"app": "api", "tier": "back"},
        "annotations": {"example.com/owner": "team-a"},
        "cpu_cores_req": 0.25,
        "containers": [
            {
                "name": "api", "image": "python:3.12", "memory_req": 64,
                "command": ["python", "-m", "http.server"], "args": ["8080"],
                "ports": [{"name": "http", "container_port": 8080}],
                "readiness_probe": HTTP_PROBE,
                "liveness_probe": {"tcp_socket": {"port": 8080}, "initial_delay_s": 3},
            }
        ],
        "config": [{"name": "mode", "type": "env", "key": "MODE", "value": "prod"}],
        "volumes": [{"name": "scratch", "type": "emptyDir", "size": 1, "path": "/scratch"}],
        "tolerations": [{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}],
        "node_affinity": {
            "required": [{"match_expressions": [
                {"key": "disk", "operator": "In", "values": ["ssd", "hdd"]}]}],
            "preferred": [{"weight": 20, "preference": {"match_expressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In",
                 "values": ["zone-b"]}]}}],
        },
        "pod_anti_affinity": {
            "preferred": [{"weight": 50, "pod_affinity_term": {
                "label_selector": {"match_labels": {"app": "api"}},
                "topology_key": "kubernetes.io/hostname"}}],
        },
        "topology_spread_constraints": [
            {"max_skew": 2, "topology_key": "topology.kubernetes.io/zone",
             "when_unsatisfiable": "ScheduleAnyway",
             "label_selector": {"match_labels": {"app": "api"}}}
        ],
    },
}  # fmt: skip
DB = {
    "name": "db",
    "namespace": "team",
    "replicas": 1,
    "strategy": {"type": "Recreate"},
    "template": {
        "labels": {"app": "db"},
        "cpu_cores_req": 1,
        "containers": [
            {"name": "db", "image": "postgres:16", "memory_req": 512,
             "liveness_probe": {"exec": {"command": ["pg_isready"]}, "timeout_s": 2}},
        ],
        "termination_grace_period_s": 45,
        "node_selector": {"disk": "ssd"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db",
                         "effect": "NoSchedule"}],
    },
}  # fmt: skip
CACHE = {  # a bare ReplicaSet
    "name": "cache",
    "replicas": 2,
    "selector": {"app": "cache"},
    "min_ready_seconds": 1,
    "template": {
        "labels": {"app": "cache"},
        "cpu_cores_req": 0.1,
        "containers": [{"name": "redis", "image": "redis:7", "memory_req": 32,
                        "ports": [{"name": "redis", "container_port": 6379}]}],
    },
}  # fmt: skip
SERVICES = (
    {"name": "api", "labels": {"app": "api"}, "selector": {"app": "api"},
     "ports": [{"name": "http", "port": 80, "target_port": "http"}]},
    {"name": "cache", "selector": {"app": "cache"}, "session_affinity": "ClientIP",
     "ports": [{"port": 6379, "target_port": 6379}]},
    {"name": "db", "namespace": "team", "type": "NodePort", "selector": {"app": "db"},
     "ports": [{"name": "pg", "port": 5432, "target_port": 5432, "node_port": 30432}]},
)  # fmt: skip
PODS = (
    {"name": "tool", "namespace": "team", "cpu_cores_req": 0.2, "labels": {"app": "tool"},
     "annotations": {"example.com/note": "kept"},
     "containers": [{"name": "sh", "image": "busybox:1.36", "command": ["sleep", "infinity"],
                     "memory_req": 16}],
     "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]},
    {"name": "debug", "cpu_cores_req": 0.5, "labels": {"app": "debug"},
     "containers": [{"name": "a", "image": "busybox:1.36", "cpu_req": 0.1, "memory_req": 8},
                    {"name": "b", "image": "busybox:1.36", "cpu_req": 0.1, "memory_req": 8}],
     "volumes": [{"name": "logs", "type": "hostPath", "path": "/var/log/debug"}]},
)  # fmt: skip
# Kube-9 forms with no faithful Kubernetes one: each must be listed, not dropped in silence.
ODD_POD = {
    "name": "odd", "cpu_cores_req": 0.1, "labels": {"app": "odd"},
    "node_affinity": {"preferred": [{"weight": 1, "preference": {"match_expressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-3"]}]}}]},
    "annotations": {"kube9.io/usage-cpu": "50m", "kube9.io/note": "a\nkind: Secret"},
    "containers": [{"name": "main", "image": "busybox:1.36", "memory_req": 8}],
    "config": [{"name": "db-password", "type": "secret", "key": "PASSWORD", "value": "hunter2"}],
    "volumes": [{"name": "settings", "type": "configMap", "path": "/etc/settings"},
                {"name": "nowhere", "type": "hostPath"}],
}  # fmt: skip


@dataclass
class Built:
    engine: Engine
    api: Api


async def build(api: Api, engine: Engine, *, odd: bool) -> None:
    """Every kind the export carries (and, with ``odd``, what it cannot carry faithfully)."""
    for node in NODES + ((ODD_NODE,) if odd else ()):
        status, body = await api.post("/nodes/", node)
        assert status == 201, body
    await wait_for(lambda: all(n.status == "healthy" for n in engine.nodes()), what="nodes up")
    status, body = await api.post("/namespaces/", {"name": "team", "labels": {"owner": "ops"}})
    assert status == 201, body
    for path, items in (("/deployments/", (API, DB)), ("/replicasets/", (CACHE,)),
                        ("/services/", SERVICES),
                        ("/pods/", PODS + ((ODD_POD,) if odd else ()))):  # fmt: skip
        for item in items:
            status, body = await api.post(path, item)
            assert status == 201, (path, body)
    await wait_for(
        lambda: all(d.status.available == d.spec.replicas for d in engine.deployments()),
        what="Deployments available",
    )


@pytest.fixture
async def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Built]:
    # The admin token in the data directory, as the kubeconfig subcommand reads it.
    monkeypatch.delenv("KUBE9_API_TOKEN", raising=False)
    engine = Engine(fast_settings(tmp_path / "data", api_token=None, k8s_port=0))
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(engine.api_url, engine.admin_token, session)
            await build(api, engine, odd=True)
            yield Built(engine, api)
    finally:
        await engine.stop()


def validate_strict(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def walk_keys(value: Any, path: str = "") -> list[str]:
    """Every key path in a manifest (``spec.template.spec.containers[].name``)."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out.append(f"{path}.{k}".lstrip("."))
            out += walk_keys(v, f"{path}.{k}".lstrip("."))
        return out
    if isinstance(value, list):
        return [p for item in value for p in walk_keys(item, f"{path}[]")]
    return []


def exported(engine: Engine) -> Export:
    return export_cluster(engine)


async def test_every_manifest_is_valid_kubernetes_1_33_strictly(built: Built) -> None:
    export = exported(built.engine)
    kinds = sorted(m["kind"] for m in export.manifests.values())
    # One per object: the namespace, 3 Services, 2 Deployments, the bare ReplicaSet and the
    # bare pods; no Deployment's ReplicaSet, no pod a ReplicaSet owns.
    assert (
        kinds == ["Deployment"] * 2 + ["Namespace"] + ["Pod"] * 3 + ["ReplicaSet"] + ["Service"] * 3
    )
    for path, text in export.files.items():
        if not path.startswith("manifests/"):
            continue
        (obj,) = list(yaml.safe_load_all(text))
        assert obj == export.manifests[path]
        assert obj["apiVersion"] in ("v1", "apps/v1")
        validate_strict(obj)


async def test_no_kube9_only_field_is_left(built: Built) -> None:
    export = exported(built.engine)
    server_set = {"uid", "resourceVersion", "creationTimestamp", "generation",
                  "ownerReferences", "managedFields", "status", "nodeName", "clusterIP",
                  "clusterIPs", "ipFamilies", "ipFamilyPolicy"}  # fmt: skip
    for path, m in export.manifests.items():
        keys = walk_keys(m)
        leaf = {k.rsplit(".", 1)[-1].removesuffix("[]") for k in keys}
        assert not leaf & server_set, (path, leaf & server_set)
        text = export.files[path]
        assert "kube9.io" not in text, path
        assert "deployment.kubernetes.io/revision" not in text, path
    api = export.manifests["manifests/20-deployment-default.api.yaml"]
    assert api["metadata"] == {"name": "api", "namespace": "default", "labels": {"app": "api"}}
    spec = api["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": 0},
    }  # fmt: skip
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8080}
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    # The pod's CPU with one container: that container's (no alpha pod-level field needed).
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "64Mi"}}
    assert "resources" not in spec["template"]["spec"]
    affinity = spec["template"]["spec"]["affinity"]
    assert set(affinity) == {"nodeAffinity", "podAntiAffinity"}
    db = export.manifests["manifests/20-deployment-team.db.yaml"]
    assert db["spec"]["strategy"] == {"type": "Recreate"}
    assert db["spec"]["template"]["spec"]["nodeSelector"] == {"disk": "ssd"}
    svc = export.manifests["manifests/10-service-team.db.yaml"]
    assert svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"][0]["nodePort"] == 30432
    ns = export.manifests["manifests/00-namespace-team.yaml"]
    assert ns == {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "team", "labels": {"owner": "ops"}}}  # fmt: skip
    tool = export.manifests["manifests/40-pod-team.tool.yaml"]
    assert tool["metadata"]["annotations"] == {"example.com/note": "kept"}
    # The strict schemas refuse what they do not know: the served objects (status included)
    # are valid, but a field Kubernetes has not is caught, so the validation above means it.
    bad = copy.deepcopy(svc)
    bad["spec"]["endpoints"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_strict(bad)


async def test_kind_config_has_a_worker_per_node_with_labels_and_taints(built: Built) -> None:
    export = exported(built.engine)
    config = yaml.safe_load(export.files["kind-config.yaml"])
    assert config["kind"] == "Cluster" and config["apiVersion"] == KIND_API
    nodes = config["nodes"]
    assert [n["role"] for n in nodes] == ["control-plane"] + ["worker"] * 4
    assert "kubeadmConfigPatches" not in nodes[0]  # kubeadm's own control-plane taint
    assert nodes[1]["labels"] == {"disk": "ssd", "topology.kubernetes.io/zone": "zone-a"}
    (patch,) = nodes[1]["kubeadmConfigPatches"]
    assert yaml.safe_load(patch) == {
        "kind": "JoinConfiguration",
        "nodeRegistration": {"taints": [{"key": "dedicated", "value": "db",
                                         "effect": "NoSchedule"}]},
    }  # fmt: skip
    assert yaml.safe_load(nodes[2]["kubeadmConfigPatches"][0])["nodeRegistration"] == {
        "taints": [{"key": "spot", "effect": "PreferNoSchedule"}]
    }
    assert "kubeadmConfigPatches" not in nodes[3] and "labels" not in nodes[3]
    assert "labels" not in nodes[4]  # node-role.kubernetes.io/infra: the kubelet may not
    assert config["featureGates"] == {"PodLevelResources": True}  # the debug pod's 0.5 CPU
    assert [(m.kube9_name, m.kind_name) for m in export.nodes] == [
        ("master-1", "kube9-control-plane"), ("worker-1", "kube9-worker"),
        ("worker-2", "kube9-worker2"), ("worker-3", "kube9-worker3"),
        ("worker-4", "kube9-worker4"),
    ]  # fmt: skip


async def test_what_has_no_kubernetes_form_is_listed(built: Built) -> None:
    export = exported(built.engine)
    listed = [item.what for item in export.left_out]
    assert listed == [
        "Pod default/odd annotations kube9.io/note=a\nkind: Secret, kube9.io/usage-cpu=50m",
        "Pod default/odd volume settings (configMap settings)",
        "Pod default/odd volume nowhere (hostPath, no path)",
        "Pod default/odd secret db-password (key PASSWORD)",
        "pod-level CPU requests (spec.resources)",
        "Node worker-4 label node-role.kubernetes.io/infra=",
        "Node worker-4 annotation kube9.io/max-pods=20",
        "Pod default/odd picks node worker-3 by kubernetes.io/hostname",
    ]
    (picks,) = [item for item in export.left_out if "picks node" in item.what]
    assert picks.why == "kind names that node kube9-worker3: change the manifest to match"
    odd = export.manifests["manifests/40-pod-default.odd.yaml"]
    assert [v["name"] for v in odd["spec"]["volumes"]] == ["settings"]  # "nowhere" is invalid
    assert "hunter2" not in "".join(export.files.values())  # a secret's value never leaves
    readme = export.files["README.txt"]
    assert "  kind create cluster --config kind-config.yaml\n" in readme
    assert "  kubectl apply -f manifests/\n" in readme
    assert "  worker-2 -> kube9-worker2 (worker)\n" in readme
    for item in export.left_out:
        assert f"  - {item.line()}\n" in readme
    assert "\nkind: Secret" not in readme


async def test_the_running_cluster_exports_itself_over_its_kubernetes_api(
    built: Built, tmp_path: Path
) -> None:
    """``kubectl get --raw /export/kubernetes``: the manifests as one stream kubectl applies,
    what was left out as comments; ``?format=json`` the export folder's files."""
    home = tmp_path / "home"
    home.mkdir()
    cluster = K8sCluster(built.engine, built.api, write_kubeconfig(built.engine,
                         tmp_path / "kc"), home)  # fmt: skip
    export = exported(built.engine)
    text = (await kubectl(cluster, "get", "--raw", "/export/kubernetes")).ok()
    assert text == export.stream()
    assert text.startswith(
        "# not carried over: Pod default/odd annotations kube9.io/note=a\\nkind: Secret, "
    )  # a value's newline stays in its comment
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert docs == [m for _, m in sorted(export.manifests.items())]
    assert docs[0]["kind"] == "Namespace"  # apply order
    status, body = await cluster.get("/export/kubernetes?format=json&kindName=lab")
    assert status == 200
    assert body["files"] == exported_named(built.engine, "lab").files
    assert body["leftOut"][0] == {"what": export.left_out[0].what, "why": export.left_out[0].why}
    assert body["nodes"][1] == {"kube9": "worker-1", "kind": "lab-worker", "role": "worker"}


def exported_named(engine: Engine, name: str) -> Export:
    return export_cluster(engine, name)


@pytest.mark.parametrize(
    ("query", "method", "code", "says"),
    [
        ("?format=xml", "GET", 400, "format must be yaml or json (got 'xml')"),
        ("?kind=x", "GET", 400, "unknown query parameter 'kind' for /export/kubernetes"),
        ("?format=json&format=yaml", "GET", 400, "query parameter 'format' given more than once"),
        ("?kindName=Big_Lab", "GET", 422, "'Big_Lab' cannot name a kind cluster"),
        ("", "POST", 405, "POST on /export/kubernetes (it is read with GET)"),
    ],
)
async def test_a_bad_export_request_is_a_status_naming_it(
    built: Built, tmp_path: Path, query: str, method: str, code: int, says: str
) -> None:
    cluster = K8sCluster(built.engine, built.api, tmp_path / "unused", tmp_path)
    status, body = await cluster.get("/export/kubernetes" + query, method=method)
    assert status == code
    assert body["kind"] == "Status" and says in body["message"]
    status, body = await cluster.get("/export/kubernetes", token=None)
    assert status == 401  # the admin token's, like every other path but health and version
