"""create, apply, diff, patch, replace and rollouts through the Kubernetes API, driven by the
real kubectl at its default flags and the official client, each checked in the engine; every
refusal a Status naming the field, with nothing created or changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client, config, watch

from kube9_desktop.engine.k8s.decode import decode
from kube9_desktop.engine.k8s.resources import BY_PATH
from tests.helpers import wait_for
from tests.k8s.conftest import K8sCluster, kubectl

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports:
  - port: 8080
    targetPort: 80
"""


def shop(cluster: K8sCluster) -> Any:
    return cluster.engine.find_deployment_named("default", "shop")


def image(cluster: K8sCluster) -> str:
    return str(shop(cluster).spec.template.containers[0].image)


def write(tmp_path: Path, text: str, name: str = "app.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


async def rolled_out(cluster: K8sCluster) -> None:
    out = await kubectl(cluster, "rollout", "status", "deployment/shop", "--timeout=60s")
    assert 'deployment "shop" successfully rolled out' in out.ok()


async def test_apply_diff_rollout_history_and_undo(cluster: K8sCluster, tmp_path: Path) -> None:
    first = write(tmp_path, APP)
    out = (await kubectl(cluster, "apply", "-f", first)).ok()
    assert out.split("\n")[:2] == ["deployment.apps/shop created", "service/shop created"]
    d = shop(cluster)
    assert d is not None and d.spec.replicas == 2 and image(cluster) == "nginx:1.25"
    svc = cluster.engine.find_service_named("default", "shop")
    assert svc is not None and svc.spec.ports[0].port == 8080
    await rolled_out(cluster)
    # Unchanged: no diff, and a second apply changes nothing in the engine.
    assert (await kubectl(cluster, "diff", "-f", first)).rc == 0
    before = cluster.engine.resource_version()
    out = (await kubectl(cluster, "apply", "-f", first)).ok()
    assert "deployment.apps/shop unchanged" in out and "service/shop unchanged" in out
    assert cluster.engine.resource_version() == before

    second = write(tmp_path, APP.replace("nginx:1.25", "nginx:1.26").replace("replicas: 2",
                   "replicas: 3"), "app2.yaml")  # fmt: skip
    diff = await kubectl(cluster, "diff", "-f", second)
    assert diff.rc == 1, diff.err  # 1: differences found
    changed = [ln for ln in diff.out.splitlines() if ln[:1] in "+-" and ln[:3] not in "---+++"]
    assert sorted(changed) == sorted(
        [
            "-  replicas: 2",
            "+  replicas: 3",
            "-      - image: nginx:1.25",
            "+      - image: nginx:1.26",
        ]
    )
    assert cluster.engine.resource_version() == before  # a diff is a dry run
    out = (await kubectl(cluster, "apply", "-f", second)).ok()
    assert "deployment.apps/shop configured" in out and "service/shop unchanged" in out
    await rolled_out(cluster)
    assert image(cluster) == "nginx:1.26" and shop(cluster).spec.replicas == 3
    assert shop(cluster).revision == 2
    history = (await kubectl(cluster, "rollout", "history", "deployment/shop")).ok()
    assert [ln.split()[0] for ln in history.splitlines()[2:] if ln.strip()] == ["1", "2"]

    out = (await kubectl(cluster, "rollout", "undo", "deployment/shop")).ok()
    assert out.strip() == "deployment.apps/shop rolled back"
    await rolled_out(cluster)
    assert image(cluster) == "nginx:1.25" and shop(cluster).revision == 3
    owned = [r for r in cluster.engine.replicasets() if r.owner and r.owner.name == "shop"]
    assert len(owned) == 2  # the first ReplicaSet came back; none was added
    pods = [p for p in cluster.engine.pods() if p.labels.get("app") == "shop"]
    assert len(pods) == 3 and {p.spec.containers[0].image for p in pods} == {"nginx:1.25"}

    out = (await kubectl(cluster, "delete", "-f", second)).ok()
    assert 'deployment.apps "shop" deleted' in out
    assert shop(cluster) is None and cluster.engine.find_service_named("default", "shop") is None


async def test_server_side_apply_creates_then_merges(cluster: K8sCluster, tmp_path: Path) -> None:
    out = (await kubectl(cluster, "apply", "--server-side", "-f", write(tmp_path, APP))).ok()
    assert "deployment.apps/shop serverside-applied" in out
    assert shop(cluster).spec.replicas == 2
    changed = APP.replace("replicas: 2", "replicas: 4")
    (await kubectl(cluster, "apply", "--server-side", "-f", write(tmp_path, changed))).ok()
    assert shop(cluster).spec.replicas == 4 and image(cluster) == "nginx:1.25"
    (await kubectl(cluster, "scale", "deployment", "shop", "--replicas=3")).ok()
    (await kubectl(cluster, "label", "deployment", "shop", "tier=front")).ok()
    shown = (await kubectl(cluster, "get", "deployment", "shop", "-o", "yaml",
                           "--show-managed-fields")).yaml()  # fmt: skip
    managers = {(m["manager"], m["operation"]): m for m in shown["metadata"]["managedFields"]}
    assert set(managers) == {("kubectl", "Apply"), ("kubectl-label", "Update")}, managers
    applied = managers[("kubectl", "Apply")]["fieldsV1"]
    assert "f:replicas" in applied["f:spec"]
    containers = applied["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert 'k:{"name":"nginx"}' in containers
    assert managers[("kubectl-label", "Update")]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:tier": {}}}}  # fmt: skip


async def test_imperative_commands(cluster: K8sCluster) -> None:
    """What tutorials type: run, create deployment, expose, label, annotate, set image, scale."""
    assert (await kubectl(cluster, "run", "solo", "--image=nginx:1.25")).ok().strip() == (
        "pod/solo created"
    )
    solo = cluster.engine.find_pod_named("default", "solo")
    assert solo is not None and solo.labels == {"run": "solo"}
    assert solo.request.cpu_m == 100  # no request: 100m (docs/kubernetes.md)
    (await kubectl(cluster, "create", "deployment", "shop", "--image=nginx:1.25",
                   "--replicas=2")).ok()  # fmt: skip
    (await kubectl(cluster, "expose", "deployment", "shop", "--port=8080",
                   "--target-port=80")).ok()  # fmt: skip
    svc = cluster.engine.find_service_named("default", "shop")
    assert svc is not None and dict(svc.spec.selector) == {"app": "shop"}
    assert svc.spec.ports[0].target_port == 80
    (await kubectl(cluster, "label", "deployment", "shop", "tier=front")).ok()
    (await kubectl(cluster, "annotate", "deployment", "shop", "note=hello")).ok()
    (await kubectl(cluster, "set", "image", "deployment/shop", "nginx=nginx:1.27")).ok()
    d = shop(cluster)
    assert d.spec.labels == {"app": "shop", "tier": "front"}
    assert d.spec.annotations["note"] == "hello" and image(cluster) == "nginx:1.27"
    (await kubectl(cluster, "create", "namespace", "lab")).ok()
    assert cluster.engine.find_namespace("lab") is not None
    # A pod's fields are not changed in place: refused, and the pod stays as it was.
    out = await kubectl(cluster, "label", "pod", "solo", "extra=yes")
    assert out.rc != 0 and 'The Pod "solo" is invalid' in out.err
    assert cluster.engine.find_pod_named("default", "solo").labels == {"run": "solo"}


async def test_a_secret_typed_in_kube9_survives_kubectl_changes(cluster: K8sCluster) -> None:
    """A secret's value never leaves the engine; a change through kubectl keeps it."""
    body = {"name": "vault", "replicas": 1, "template": {
        "labels": {"app": "vault"}, "cpu_cores_req": 0.1,
        "containers": [{"name": "v", "image": "nginx:1.25"}],
        "config": [{"name": "db-pass", "type": "secret", "key": "DB_PASS", "value": "hunter2"},
                   {"name": "mode", "type": "env", "key": "MODE", "value": "prod"}]}}  # fmt: skip
    assert (await cluster.api.post("/deployments/", body))[0] == 201
    shown = (await kubectl(cluster, "get", "deployment", "vault", "-o", "yaml")).ok()
    assert "hunter2" not in shown and "secretKeyRef" in shown
    (await kubectl(cluster, "label", "deployment", "vault", "tier=back")).ok()
    (await kubectl(cluster, "set", "image", "deployment/vault", "v=nginx:1.26")).ok()
    t = cluster.engine.find_deployment_named("default", "vault").spec.template
    assert {(c.name, c.key, c.value) for c in t.config} == {
        ("db-pass", "DB_PASS", "hunter2"), ("mode", "MODE", "prod")}  # fmt: skip
    assert t.containers[0].image == "nginx:1.26"


async def test_replace_and_edit_round_trip_what_get_shows(cluster: K8sCluster) -> None:
    """Every object this API shows reads back as itself: ``kubectl replace`` of ``get -o
    yaml`` changes nothing, for every kind that can be written."""
    for r in BY_PATH.values():
        if "update" not in r.verbs:
            continue
        for view in r.views(cluster.engine, None):
            obj = r.to_object(view)
            ns = obj["metadata"].get("namespace")
            assert decode(r.kind, obj, ns).name == obj["metadata"]["name"]
    live = (await kubectl(cluster, "get", "deployment", "api", "-o", "yaml")).ok()
    before = cluster.engine.resource_version()
    path = Path(cluster.home) / "api.yaml"
    path.write_text(live)
    assert (await kubectl(cluster, "replace", "-f", str(path))).ok().strip() == (
        "deployment.apps/api replaced"
    )
    assert cluster.engine.resource_version() == before


BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
      - name: c
        image: nginx
"""


@pytest.mark.parametrize(
    ("change", "reason", "text"),
    [
        (
            "        imagePulPolicy: Always\n",
            "BadRequest",
            'strict decoding error: unknown field "spec.template.spec.containers[0].imagePulPolicy"',
        ),
        (
            "      hostNetwork: true\n",
            "Invalid",
            "spec.template.spec.hostNetwork: Kube-9 Desktop does not model this field",
        ),
        (
            "        resources: {limits: {cpu: '1'}, requests: {cpu: 500m}}\n",
            "Invalid",
            "spec.template.spec.containers[0].resources.limits.cpu: Kube-9 Desktop has no limits",
        ),
        (
            "        env: [{name: K, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n",
            "Invalid",
            "env[0].value: a secret needs a value",
        ),
        (
            "        ports: [{containerPort: 99999}]\n",
            "Invalid",
            "spec.template.spec.containers[0].ports[0].containerPort: input should be less",
        ),
    ],
)
async def test_bad_manifests_are_refused_naming_the_field(
    cluster: K8sCluster, tmp_path: Path, change: str, reason: str, text: str
) -> None:
    manifest = BAD + change if change.startswith("        ") else BAD.replace(
        "      containers:\n", change + "      containers:\n")  # fmt: skip
    before = cluster.engine.resource_version()
    out = await kubectl(cluster, "apply", "-f", write(tmp_path, manifest))
    assert out.rc == 1
    shown = "(BadRequest)" if reason == "BadRequest" else 'The Deployment "bad" is invalid'
    assert shown in out.err and text in out.err, out.err
    assert cluster.engine.find_deployment_named("default", "bad") is None
    assert cluster.engine.resource_version() == before


async def send(
    cluster: K8sCluster, method: str, path: str, body: Any, ctype: str = "application/json"
) -> tuple[int, Any]:
    headers = {**cluster.headers(), "Content-Type": ctype}
    data = body if body is None or isinstance(body, str | bytes) else json.dumps(body)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, cluster.url + path, data=data, headers=headers,
                        ssl=cluster.ssl_context()) as resp,
    ):  # fmt: skip
        return resp.status, await resp.json()


DEPLOY = "/apis/apps/v1/namespaces/default/deployments"


async def test_refusals_over_http(cluster: K8sCluster) -> None:
    api = await send(cluster, "GET", DEPLOY + "/api", None)
    live = api[1]
    before = cluster.engine.resource_version()
    cases: list[tuple[str, str, Any, str, int, str]] = [
        ("POST", DEPLOY, live, "application/json", 409, "AlreadyExists"),
        (
            "PUT",
            DEPLOY + "/api",
            {**live, "metadata": {**live["metadata"], "resourceVersion": "1"}},
            "application/json",
            409,
            "Conflict",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            {"spec": {"selector": {"matchLabels": {"app": "x"}}}},
            "application/merge-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            [{"op": "remove", "path": "/spec/nope"}],
            "application/json-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            [{"op": "launch", "path": "/spec"}],
            "application/json-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            {"spec": {"replicas": 2}},
            "text/plain",
            415,
            "UnsupportedMediaType",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            {"spec": {"replicas": -3}},
            "application/merge-patch+json",
            422,
            "Invalid",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            {"metadata": {"name": "other"}},
            "application/merge-patch+json",
            422,
            "Invalid",
        ),
        (
            "POST",
            DEPLOY,
            {
                "kind": "Deployment",
                "metadata": {"name": "ünïcode"},
                "spec": {
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {
                        "metadata": {"labels": {"a": "b"}},
                        "spec": {"containers": [{"name": "c", "image": "i"}]},
                    },
                },
            },
            "application/json",
            422,
            "Invalid",
        ),
        (
            "POST",
            DEPLOY,
            {"kind": "Pod", "metadata": {"name": "x"}},
            "application/json",
            422,
            "Invalid",
        ),
        ("POST", DEPLOY, [1, 2], "application/json", 400, "BadRequest"),
        ("POST", DEPLOY + "?dryRun=Some", live, "application/json", 400, "BadRequest"),
        (
            "POST",
            "/api/v1/namespaces/default/pods",
            {
                "metadata": {"name": "p"},
                "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "i"}]},
            },
            "application/json",
            422,
            "Invalid",
        ),
        ("PATCH", DEPLOY + "/api", "a: [", "application/apply-patch+yaml", 400, "BadRequest"),
        (
            "PATCH",
            DEPLOY + "/api",
            "a: &x [1]\nb: *x\n",
            "application/apply-patch+yaml",
            400,
            "BadRequest",
        ),
        ("PATCH", DEPLOY + "/api", "1: one\n", "application/apply-patch+yaml", 400, "BadRequest"),
        (
            "PATCH",
            DEPLOY + "/api",
            "spec: {replicas: .nan}\n",
            "application/apply-patch+yaml",
            400,
            "BadRequest",
        ),
        (
            "PATCH",
            DEPLOY + "/api",
            "spec: !!binary aGk=\n",
            "application/apply-patch+yaml",
            400,
            "BadRequest",
        ),
    ]
    for method, path, body, ctype, code, reason in cases:
        status, answer = await send(cluster, method, path, body, ctype)
        assert (status, answer.get("reason")) == (code, reason), (method, path, answer)
        assert answer["kind"] == "Status" and answer["message"], answer
    assert cluster.engine.resource_version() == before
    # deep and huge bodies are refused by the reader's limits
    deep: Any = {}
    for _ in range(200):
        deep = {"a": deep}
    status, answer = await send(cluster, "PATCH", DEPLOY + "/api", {"spec": deep},
                                "application/merge-patch+json")  # fmt: skip
    assert 400 <= status < 500, answer
    assert cluster.engine.resource_version() == before


async def test_dry_run_create_and_patch_change_nothing(cluster: K8sCluster) -> None:
    before = cluster.engine.resource_version()
    manifest = yaml.safe_load(APP.split("---")[0])
    status, answer = await send(cluster, "POST", DEPLOY + "?dryRun=All", manifest)
    assert status == 201 and answer["metadata"]["name"] == "shop"
    status, answer = await send(cluster, "PATCH", DEPLOY + "/api?dryRun=All",
                                {"spec": {"replicas": 7}}, "application/merge-patch+json")  # fmt: skip
    assert status == 200 and answer["spec"]["replicas"] == 7
    assert cluster.engine.resource_version() == before and shop(cluster) is None
    assert cluster.engine.find_deployment_named("default", "api").spec.replicas == 2


@pytest.fixture
def kube(cluster: K8sCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


async def test_python_client_crud_and_watch(cluster: K8sCluster, kube: client.ApiClient) -> None:
    apps = client.AppsV1Api(kube)
    core = client.CoreV1Api(kube)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="shop", labels={"app": "shop"}),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "shop"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "shop"}),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="web", image="nginx:1.25",
                    resources=client.V1ResourceRequirements(requests={"cpu": "200m"}))]),
            ),
        ),
    )  # fmt: skip
    seen: list[tuple[str, int]] = []
    rv = (await asyncio.to_thread(apps.list_namespaced_deployment, "default")).metadata
    start = rv.resource_version

    def follow() -> None:
        w = watch.Watch()
        for ev in w.stream(apps.list_namespaced_deployment, "default", resource_version=start,
                           field_selector="metadata.name=shop", timeout_seconds=30):  # fmt: skip
            seen.append((ev["type"], ev["object"].spec.replicas))
            if ev["type"] == "DELETED":
                w.stop()

    watcher = asyncio.create_task(asyncio.to_thread(follow))
    created = await asyncio.to_thread(apps.create_namespaced_deployment, "default", body)
    assert created.metadata.uid == shop(cluster).uid
    # The watch replays from the list's version: it sees the creation, then each change live.
    await wait_for(lambda: ("ADDED", 1) in seen, timeout=30, what="the watch's ADDED")
    assert shop(cluster).spec.template.request.cpu_m == 200
    got = await asyncio.to_thread(apps.read_namespaced_deployment, "shop", "default")
    got.spec.replicas = 3
    replaced = await asyncio.to_thread(apps.replace_namespaced_deployment, "shop", "default", got)
    assert replaced.spec.replicas == 3 and shop(cluster).spec.replicas == 3
    patched = await asyncio.to_thread(apps.patch_namespaced_deployment, "shop", "default",
                                      {"spec": {"template": {"spec": {"containers": [
                                          {"name": "web", "image": "nginx:1.26"}]}}}})  # fmt: skip
    assert patched.spec.template.spec.containers[0].image == "nginx:1.26"
    assert image(cluster) == "nginx:1.26"
    stale = got  # resourceVersion from before the replace
    with pytest.raises(client.ApiException) as conflict:
        await asyncio.to_thread(apps.replace_namespaced_deployment, "shop", "default", stale)
    assert conflict.value.status == 409
    svc = client.V1Service(metadata=client.V1ObjectMeta(name="shop"), spec=client.V1ServiceSpec(
        selector={"app": "shop"}, ports=[client.V1ServicePort(port=80, target_port=80)]))  # fmt: skip
    made = await asyncio.to_thread(core.create_namespaced_service, "default", svc)
    assert made.spec.cluster_ip == cluster.engine.find_service_named("default", "shop").cluster_ip
    await asyncio.to_thread(apps.delete_namespaced_deployment, "shop", "default")
    assert shop(cluster) is None
    await asyncio.wait_for(watcher, 30)
    kinds = [k for k, _ in seen]
    assert kinds[0] == "ADDED" and kinds[-1] == "DELETED" and "MODIFIED" in kinds
    assert ("MODIFIED", 3) in seen, seen


async def test_explain_reads_kubernetes_documentation(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "explain", "deployment.spec")).ok()
    assert "KIND:       Deployment" in out and "FIELD: spec <DeploymentSpec>" in out
    assert "minReadySeconds\t<integer>" in out and "template\t<PodTemplateSpec> -required-" in out
    out = (await kubectl(cluster, "explain", "pods.spec.containers.image")).ok()
    assert "Container image name" in out


async def test_changes_through_kubectl_reach_the_kube9_api(
    cluster: K8sCluster, tmp_path: Path
) -> None:
    (await kubectl(cluster, "apply", "-f", write(tmp_path, APP))).ok()
    status, body = await cluster.api.get("/deployments/?namespace=default")
    assert status == 200
    names = {d["name"] for d in (body["items"] if isinstance(body, dict) else body)}
    assert "shop" in names
    await wait_for(lambda: shop(cluster).status.available == 2, timeout=30,
                   what="two available shop replicas")  # fmt: skip


async def test_delete_collection_by_selector(cluster: K8sCluster, kube: client.ApiClient) -> None:
    """The client's ``delete_collection_namespaced_pod``: what the selector matches, only."""
    core = client.CoreV1Api(kube)
    before = {p.name for p in cluster.engine.pods()}
    done = await asyncio.to_thread(core.delete_collection_namespaced_pod, "default",
                                   label_selector="tier=front", _preload_content=False)  # fmt: skip
    answer = json.loads(done.data)
    assert answer["kind"] == "PodList"
    assert sorted(i["metadata"]["name"] for i in answer["items"]) == ["web-a", "web-b"]
    assert {p.name for p in cluster.engine.pods()} == before - {"web-a", "web-b"}
    # a dry run names what would go and deletes nothing
    status, body = await send(cluster, "DELETE", "/api/v1/namespaces/default/pods?dryRun=All"
                              "&fieldSelector=metadata.name%3Ddb", None)  # fmt: skip
    assert status == 200 and [i["metadata"]["name"] for i in body["items"]] == ["db"]
    assert cluster.engine.find_pod_named("default", "db") is not None
    status, body = await send(cluster, "DELETE", "/api/v1/namespaces", None)
    assert status == 405 and "deletecollection" in body["message"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["metadata", "spec", "name", "containers", "template", "replicas",
                         "labels", "image", "ports", "selector", "matchLabels", "x", "$patch",
                         "$setElementOrder/containers", "$retainKeys", "op", "path", "value"]),
        inner, max_size=5),
    max_leaves=25,
)  # fmt: skip
WRITES = [
    ("POST", DEPLOY, "application/json"),
    ("POST", "/api/v1/namespaces/default/pods", "application/json"),
    ("POST", "/api/v1/namespaces/default/services", "application/json"),
    ("PUT", DEPLOY + "/api", "application/json"),
    ("PATCH", DEPLOY + "/api", "application/merge-patch+json"),
    ("PATCH", DEPLOY + "/api", "application/strategic-merge-patch+json"),
    ("PATCH", DEPLOY + "/api", "application/json-patch+json"),
    ("PATCH", "/api/v1/namespaces/default/services/web", "application/strategic-merge-patch+json"),
]


async def test_random_bodies_are_refused_or_done_never_a_5xx(cluster: K8sCluster) -> None:
    """Whatever a client sends to a write, the answer is a 2xx or a 4xx Status."""

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.sampled_from(WRITES), JSON)
    def one(write: tuple[str, str, str], body: Any) -> None:
        method, path, ctype = write
        status, answer = asyncio.run_coroutine_threadsafe(
            send(cluster, method, path, body, ctype), loop).result(30)  # fmt: skip
        assert status < 500, (write, body, answer)
        if status >= 400:
            assert answer["kind"] == "Status" and answer["message"], answer

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(one)


SPREAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 2
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname
        podAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 50
            podAffinityTerm:
              labelSelector:
                matchExpressions: [{key: app, operator: In, values: [web]}]
              topologyKey: kubernetes.io/hostname
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector: {matchLabels: {app: spread}}
      containers:
      - name: c
        image: nginx:1.25
        resources: {requests: {cpu: 100m}}
"""


async def test_inter_pod_rules_through_kubectl(cluster: K8sCluster, tmp_path: Path) -> None:
    """Pod anti-affinity, affinity and spread read from a manifest reach the scheduler: two
    replicas that may not share a node are on two nodes; the rules read back unchanged."""
    # (worker-1 is full: a third worker gives the second replica somewhere to go)
    node = {"name": "worker-3", "cpu_cores_avail": 2, "memory_mb": 4096}
    assert (await cluster.api.post("/nodes/", node))[0] == 201
    await wait_for(lambda: all(n.status == "healthy" for n in cluster.engine.nodes()),
                   what="worker-3 healthy")  # fmt: skip
    path = write(tmp_path, SPREAD)
    assert "deployment.apps/spread created" in (await kubectl(cluster, "apply", "-f", path)).ok()
    rules = cluster.engine.find_deployment_named("default", "spread").spec.template.interpod
    assert rules is not None and rules.anti_affinity and rules.affinity and rules.spread
    await wait_for(
        lambda: len({p.node_name for p in cluster.engine.pods()
                     if p.labels.get("app") == "spread" and p.node_name}) == 2,
        timeout=30, what="the two replicas on two nodes",
    )  # fmt: skip
    await wait_for(
        lambda: cluster.engine.find_deployment_named("default", "spread").status.available == 2,
        timeout=30, what="both replicas available",
    )  # fmt: skip
    before = cluster.engine.resource_version()
    assert "unchanged" in (await kubectl(cluster, "apply", "-f", path)).ok()
    assert (await kubectl(cluster, "diff", "-f", path)).rc == 0
    assert cluster.engine.resource_version() == before
    shown = (await kubectl(cluster, "get", "deployment", "spread", "-o", "yaml")).yaml()
    spec = shown["spec"]["template"]["spec"]
    assert spec["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"
    anti = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"


async def test_status_subresource_reads_the_object(cluster: K8sCluster) -> None:
    status, body = await cluster.get("/apis/apps/v1/namespaces/default/deployments/api/status")
    assert status == 200 and body["kind"] == "Deployment"
    assert body["status"]["availableReplicas"] == 2
    status, body = await cluster.get("/api/v1/nodes/worker-1/status")
    assert status == 200 and body["status"]["conditions"]
    status, body = await cluster.get("/api/v1/namespaces/default/pods/nope/status")
    assert status == 404 and body["reason"] == "NotFound"
