"""The Kubernetes API over HTTP(S) directly: discovery, Tables, paging, and every refusal a Status.

Bad input of any kind is a 4xx ``Status`` naming the problem, never a 5xx.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import EnvironmentProblem
from kube9_desktop.serve import start_engine
from tests.helpers import fast_settings, wait_for
from tests.k8s.conftest import K8sCluster

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def assert_status(body: Any, code: int, reason: str) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
    assert (body["status"], body["code"], body["reason"]) == ("Failure", code, reason), body
    assert body["message"]


async def test_discovery_documents(cluster: K8sCluster) -> None:
    status, api = await cluster.get("/api", accept=AGGREGATED)
    assert status == 200 and api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    status, groups = await cluster.get("/apis", accept=AGGREGATED)
    assert status == 200 and groups["kind"] == "APIGroupList"
    assert [g["name"] for g in groups["groups"]] == [
        "apps",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "metrics.k8s.io",
        "scheduling.k8s.io",
    ]
    assert groups["groups"][0]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    status, core = await cluster.get("/api/v1")
    assert status == 200 and core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert sorted(by_name) == [
        "endpoints", "events", "namespaces", "namespaces/status", "nodes", "nodes/status", "pods",
        "pods/eviction", "pods/log", "pods/status", "services", "services/status",
    ]  # fmt: skip
    assert by_name["pods"] == {
        "name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
        "verbs": ["get", "list", "watch", "delete", "create", "update", "patch", "deletecollection"],
        "shortNames": ["po"], "categories": ["all"],
    }  # fmt: skip
    assert by_name["nodes"]["namespaced"] is False
    status, apps = await cluster.get("/apis/apps/v1/")
    assert status == 200
    assert sorted(r["name"] for r in apps["resources"]) == [
        "deployments", "deployments/scale", "deployments/status", "replicasets",
        "replicasets/scale", "replicasets/status",
    ]  # fmt: skip
    status, sched = await cluster.get("/apis/scheduling.k8s.io/v1")
    assert status == 200
    assert sched["resources"] == [{
        "name": "priorityclasses", "singularName": "priorityclass", "namespaced": False,
        "kind": "PriorityClass",
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        "shortNames": ["pc"],
    }]  # fmt: skip
    for path in ("/healthz", "/readyz", "/livez"):
        assert await cluster.get(path, token=None) == (200, "ok")
    status, version = await cluster.get("/version/", token=None)
    assert status == 200
    assert set(version) == {"major", "minor", "gitVersion", "gitCommit", "gitTreeState",
                            "buildDate", "goVersion", "compiler", "platform"}  # fmt: skip


async def test_table_rows_carry_partial_metadata_or_the_object(cluster: K8sCluster) -> None:
    engine = cluster.engine
    status, table = await cluster.get("/api/v1/namespaces/default/pods", accept=TABLE)
    assert status == 200 and (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                     "Nominated Node", "Readiness Gates"]  # fmt: skip
    assert [c["priority"] for c in table["columnDefinitions"]] == [0] * 5 + [1] * 4
    pods = {p.name: p for p in engine.pods("default")}
    assert sorted(r["cells"][0] for r in table["rows"]) == sorted(pods)
    for row in table["rows"]:
        assert row["object"]["kind"] == "PartialObjectMetadata"
        assert row["object"]["metadata"]["uid"] == pods[row["cells"][0]].uid
        assert row["cells"][5] == pods[row["cells"][0]].ip
    assert table["metadata"]["resourceVersion"] == str(engine.resource_version())
    status, full = await cluster.get("/api/v1/nodes?includeObject=Object", accept=TABLE)
    assert status == 200 and {r["object"]["kind"] for r in full["rows"]} == {"Node"}
    status, bare = await cluster.get("/api/v1/nodes?includeObject=None", accept=TABLE)
    assert status == 200 and all("object" not in r for r in bare["rows"])
    status, one = await cluster.get(
        "/apis/apps/v1/namespaces/default/deployments/api", accept=TABLE
    )
    assert status == 200 and [r["cells"][:4] for r in one["rows"]] == [["api", "2/2", 2, 2]]


async def test_paging_serves_every_object_once(cluster: K8sCluster) -> None:
    seen, token = [], ""
    while True:
        status, page = await cluster.get(f"/api/v1/pods?limit=1&continue={token}")
        assert status == 200 and page["kind"] == "PodList" and len(page["items"]) == 1
        seen.append(page["items"][0]["metadata"]["name"])
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert sorted(seen) == sorted(p.name for p in cluster.engine.pods())
    # a token of one list is refused by another
    status, page = await cluster.get("/api/v1/pods?limit=1")
    status, body = await cluster.get(f"/api/v1/nodes?continue={page['metadata']['continue']}")
    assert_status(body, 400, "BadRequest")


HOSTILE = [
    "labelSelector=" + "a" * 5000,
    "labelSelector=%3D%3D%3D",
    "labelSelector=app%20in%20(",
    "labelSelector=%00",
    "labelSelector=caf%C3%A9=1",
    "fieldSelector=spec.nodeName",
    "fieldSelector=spec.secret=1",
    "fieldSelector=" + "x=1," * 2000,
    "fieldSelector=a%5C",
    "limit=-1",
    "limit=1e3",
    "limit=" + "9" * 40,
    "limit=%EF%BC%91",  # a full-width digit
    "continue=garbage",
    "continue=" + "A" * 10000,
    "continue=eyJ2IjogMn0",  # valid base64 JSON of another version
    "includeObject=Everything",
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_bad_list_input_is_a_400_status(cluster: K8sCluster, query: str) -> None:
    status, body = await cluster.get(f"/api/v1/namespaces/default/pods?{query}")
    assert status == 400
    assert_status(body, 400, "BadRequest")


@pytest.mark.parametrize(
    ("path", "details"),
    [
        ("/api/v1/namespaces/default/pods/caf%C3%A9", {"name": "café", "kind": "pods"}),
        ("/api/v1/nodes/" + "n" * 3000, {"name": "n" * 3000, "kind": "nodes"}),
        ("/api/v1/namespaces/nope", {"name": "nope", "kind": "namespaces"}),
        ("/apis/apps/v1/namespaces/default/deployments/x",
         {"name": "x", "kind": "deployments", "group": "apps"}),
        ("/api/v1/widgets", {}),
        ("/api/v1/pods/web-a", {}),  # a namespaced object needs its namespace
        ("/api/v1/namespaces/default/nodes", {}),  # nodes are not namespaced
        ("/api/v1/namespaces/default/pods/web-a/widget", {}),  # no such subresource
        ("/apis/batch/v1", {}),
        ("/openapi/v2", {}),
    ],
)  # fmt: skip
async def test_unknown_paths_and_names_are_a_404_status(
    cluster: K8sCluster, path: str, details: dict[str, str]
) -> None:
    status, body = await cluster.get(path)
    assert status == 404
    assert_status(body, 404, "NotFound")
    assert body["details"] == details


@pytest.mark.parametrize(
    ("method", "path", "verb"),
    [
        ("POST", "/api/v1/namespaces/default/endpoints", "create"),
        ("PUT", "/api/v1/namespaces/default/endpoints/web", "update"),
        ("PATCH", "/api/v1/namespaces/default/endpoints/web", "patch"),
        ("POST", "/api/v1/nodes", "create"),
        ("DELETE", "/api/v1/namespaces/default/endpoints/web", "delete"),
        ("DELETE", "/api/v1/namespaces/default/endpoints", "deletecollection"),
        ("POST", "/version", "create"),
        ("POST", "/api/v1/namespaces/default/pods/web-a/attach", "create pods/attach"),
        ("POST", "/api/v1/namespaces/default/pods/web-a/exec", "create pods/exec"),
        ("PUT", "/api/v1/namespaces/default/pods/web-a/scale", "put pods/scale"),
        ("GET", "/api/v1/namespaces/default/endpoints/web/status", "get endpoints/status"),
        ("PUT", "/api/v1/nodes/worker-1/status", "update nodes/status"),
    ],
)
async def test_verbs_not_served_are_a_405_naming_them(
    cluster: K8sCluster, method: str, path: str, verb: str
) -> None:
    before = cluster.engine.resource_version()
    status, body = await cluster.get(path, method=method)
    assert status == 405
    assert_status(body, 405, "MethodNotAllowed")
    assert f"{verb} on " in body["message"]
    assert cluster.engine.resource_version() == before


async def test_auth_refusals_are_401_statuses(cluster: K8sCluster) -> None:
    for token in (None, "wrong", "k9n.1.forged"):
        status, body = await cluster.get("/api/v1/nodes", token=token)
        assert status == 401, token
        assert_status(body, 401, "Unauthorized")
    status, body = await cluster.get("/version", token="wrong")  # sent, so it must be right
    assert_status(body, 401, "Unauthorized")
    status, body = await cluster.get("/api/v1/nodes", token=None)
    assert "items" not in body
    # A node's own token is a real identity, just not one this API serves: 403.
    node_token = next(iter(cluster.engine.cluster.tokens.values()))
    status, body = await cluster.get("/api/v1/nodes", token=node_token)
    assert status == 403 and "items" not in body
    assert_status(body, 403, "Forbidden")


async def test_a_taken_port_names_it_and_the_flag(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        engine = Engine(fast_settings(tmp_path / "data", k8s_port=port))
        with pytest.raises(EnvironmentProblem) as taken:
            await start_engine(engine)
    assert f"Port {port}" in taken.value.message and "--k8s-port" in taken.value.message
    assert not engine.started


async def test_a_taken_default_port_falls_back_to_a_free_one_that_kubeconfig_finds(
    tmp_path: Path,
) -> None:
    """Another cluster's API server on 6443 (Docker Desktop's, kind's) must not stop the app:
    the default port gives way to a free one, and ``kube9-desktop kubeconfig`` without a port
    names the one served; once stopped, the default again."""
    import errno

    from kube9_desktop.engine.k8s.kubeconfig import kubeconfig_text
    from kube9_desktop.engine.k8s.server import URL_FILE, K8sServer

    settings = fast_settings(tmp_path / "data", port=5000)  # k8s_port unset: 6443
    assert settings.k8s_port is None and settings.effective_k8s_port == 6443
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", 6443))
            busy.listen()
        except OSError as exc:  # taken already, by something else: the same case
            taken = exc.errno
        else:
            taken = errno.EADDRINUSE
        assert taken == errno.EADDRINUSE
        server = K8sServer(Engine(settings), settings)
        url = await server.start()
        try:
            assert url.startswith("https://127.0.0.1:") and server.port != 6443
            assert (settings.data_dir / URL_FILE).read_text().strip() == url
            assert f"server: {url}" in kubeconfig_text(settings)
            pinned = settings.with_(k8s_port=7443)  # a port given is the port meant
            assert "server: https://127.0.0.1:7443" in kubeconfig_text(pinned)
        finally:
            await server.stop()
    assert not (settings.data_dir / URL_FILE).exists()
    assert "server: https://127.0.0.1:6443" in kubeconfig_text(settings)


async def test_remote_host_needs_allow_remote(tmp_path: Path) -> None:
    from kube9_desktop.engine.k8s.server import K8sServer

    settings = fast_settings(tmp_path / "data", host="192.0.2.1", k8s_port=0)
    with pytest.raises(Exception, match="--allow-remote"):
        await K8sServer(Engine(settings), settings).start()


async def test_each_node_has_a_lease_renewed_by_its_heartbeats(cluster: K8sCluster) -> None:
    from datetime import datetime

    status, body = await cluster.get(
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
    )
    assert status == 200 and body["kind"] == "LeaseList"
    by_name = {item["metadata"]["name"]: item for item in body["items"]}
    assert set(by_name) == {n.name for n in cluster.engine.nodes()}
    node = next(n for n in cluster.engine.nodes() if n.name == "worker-1")
    first = by_name["worker-1"]["spec"]
    assert first["holderIdentity"] == "worker-1" and first["leaseDurationSeconds"] >= 1
    renewed = datetime.fromisoformat(first["renewTime"].replace("Z", "+00:00"))

    async def renewed_again() -> bool:
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-1"
        status, lease = await cluster.get(path)
        assert status == 200 and lease["metadata"]["ownerReferences"][0]["uid"] == node.uid
        at = datetime.fromisoformat(lease["spec"]["renewTime"].replace("Z", "+00:00"))
        return at > renewed

    await wait_for(renewed_again, what="the lease renewed by a heartbeat")
    status, other = await cluster.get("/apis/coordination.k8s.io/v1/namespaces/default/leases")
    assert status == 200 and other["items"] == []
