"""The real kubectl, at its default flags, against the engine's Kubernetes API.

Each answer is checked against the engine's own objects (its reads), not against constants.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from kube9_desktop.engine.model import NodeStatus, NodeType
from tests.helpers import node_named, wait_for
from tests.k8s.conftest import K8sCluster, kubectl


def header_and_rows(rows: list[list[str]]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """A kubectl table as its header and {NAME (or NAMESPACE/NAME): {column: cell}}."""
    header, *body = rows
    out = {}
    for cells in body:
        row = dict(zip(header, cells, strict=True))
        key = f"{row['NAMESPACE']}/{row['NAME']}" if "NAMESPACE" in row else row["NAME"]
        out[key] = row
    return header, out


async def test_version_names_the_server(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "version", "-o", "json")).json()
    status, served = await cluster.get("/version")
    assert status == 200
    assert out["serverVersion"] == served
    assert served["gitVersion"] == "v1.31.0" and served["major"] == "1" and served["minor"] == "31"


async def test_get_nodes_default_and_wide(cluster: K8sCluster) -> None:
    engine = cluster.engine
    header, rows = header_and_rows((await kubectl(cluster, "get", "nodes")).rows())
    assert header == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert sorted(rows) == sorted(n.name for n in engine.nodes())
    for n in engine.nodes():
        assert rows[n.name]["STATUS"] == "Ready"  # every node is healthy
        role = "control-plane" if n.node_type is NodeType.MASTER else "<none>"
        assert rows[n.name]["ROLES"] == role
        assert rows[n.name]["VERSION"] == "v1.31.0"
    header, wide = header_and_rows((await kubectl(cluster, "get", "nodes", "-o", "wide")).rows())
    assert header[:7] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP"]
    assert all(r["INTERNAL-IP"] == "127.0.0.1" for r in wide.values())


async def test_a_lost_node_is_not_ready(
    cluster: K8sCluster,
) -> None:
    engine = cluster.engine
    lost = node_named(engine, "worker-2")
    await engine.inject_fault(lost.id, "partition")
    await wait_for(
        lambda: engine.node(lost.id).status is not NodeStatus.HEALTHY, what="worker-2 lost"
    )
    _, rows = header_and_rows((await kubectl(cluster, "get", "nodes")).rows())
    assert engine.node(lost.id).status is not NodeStatus.HEALTHY  # still, after kubectl ran
    assert rows["worker-2"]["STATUS"] == "NotReady" and rows["worker-1"]["STATUS"] == "Ready"
    node = (await kubectl(cluster, "get", "node", "worker-2", "-o", "json")).json()
    (ready,) = node["status"]["conditions"]
    assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")


async def test_get_pods_default_wide_and_all_namespaces(cluster: K8sCluster) -> None:
    engine = cluster.engine
    header, rows = header_and_rows((await kubectl(cluster, "get", "pods")).rows())
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert sorted(rows) == sorted(p.name for p in engine.pods("default"))
    assert {r["STATUS"] for r in rows.values()} == {"Running"}
    assert {r["READY"] for r in rows.values()} == {"1/1"}
    header, wide = header_and_rows((await kubectl(cluster, "get", "pods", "-o", "wide")).rows())
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                      "NOMINATED NODE", "READINESS GATES"]  # fmt: skip
    for p in engine.pods("default"):
        assert (wide[p.name]["IP"], wide[p.name]["NODE"]) == (p.ip, p.node_name)
    header, everywhere = header_and_rows((await kubectl(cluster, "get", "pods", "-A")).rows())
    assert header[0] == "NAMESPACE"
    assert sorted(everywhere) == sorted(f"{p.namespace}/{p.name}" for p in engine.pods())
    assert "team/tool" in everywhere


async def test_get_pods_json_and_yaml_are_the_engines_objects(cluster: K8sCluster) -> None:
    engine = cluster.engine
    listed = (await kubectl(cluster, "get", "pods", "-o", "json")).json()
    assert listed["kind"] == "List"
    by_name = {i["metadata"]["name"]: i for i in listed["items"]}
    for p in engine.pods("default"):
        item = by_name[p.name]
        assert item["kind"] == "Pod" and item["metadata"]["uid"] == p.uid
        assert item["metadata"]["labels"] == dict(p.labels)
        assert item["spec"]["nodeName"] == p.node_name
        assert item["status"]["podIP"] == p.ip and item["status"]["phase"] == "Running"
        assert item["metadata"]["resourceVersion"] == str(p.resource_version)
    web_a = next(p for p in engine.pods("default") if p.name == "web-a")
    one = (await kubectl(cluster, "get", "pod", "web-a", "-o", "yaml")).yaml()
    assert one["metadata"]["uid"] == web_a.uid and one["spec"]["nodeName"] == web_a.node_name
    (container,) = one["spec"]["containers"]
    assert container["image"] == "nginx:1.25"
    assert container["resources"]["requests"]["memory"] == "128Mi"
    (cs,) = one["status"]["containerStatuses"]
    assert cs["restartCount"] == 0 and "running" in cs["state"] and cs["ready"] is True
    owned = next(p for p in engine.pods("default") if p.owner is not None)
    got = (await kubectl(cluster, "get", "pod", owned.name, "-o", "json")).json()
    (ref,) = got["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"]) == (
        "ReplicaSet",
        owned.owner.name,
        owned.owner.uid,
    )


async def test_label_and_field_selectors(cluster: K8sCluster) -> None:
    engine = cluster.engine
    names = (await kubectl(cluster, "get", "pods", "-l", "app=web", "-o", "name")).ok().split()
    assert sorted(names) == sorted(
        f"pod/{p.name}" for p in engine.pods("default") if p.labels.get("app") == "web"
    )
    names = (
        (await kubectl(cluster, "get", "pods", "-l", "app notin (web,api)", "-o", "name"))
        .ok()
        .split()
    )
    assert names == ["pod/db"]
    node = next(p.node_name for p in engine.pods("default") if p.name == "db")
    assert node is not None
    out = await kubectl(
        cluster, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "name"
    )
    assert sorted(out.ok().split()) == sorted(
        f"pod/{p.name}" for p in engine.pods() if p.node_name == node
    )
    nodes = (await kubectl(cluster, "get", "nodes", "-l", "disk=ssd", "-o", "name")).ok().split()
    assert nodes == ["node/worker-1"]
    bad = await kubectl(cluster, "get", "pods", "--field-selector", "spec.nope=x")
    assert bad.rc != 0 and "BadRequest" in bad.err and "field label not supported" in bad.err


async def test_get_deployments_services_namespaces(cluster: K8sCluster) -> None:
    engine = cluster.engine
    header, deps = header_and_rows((await kubectl(cluster, "get", "deployments")).rows())
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    (d,) = engine.deployments()
    assert deps[d.name]["READY"] == f"{d.status.ready}/{d.spec.replicas}" == "2/2"
    assert deps[d.name]["UP-TO-DATE"] == str(d.status.updated)
    header, rss = header_and_rows((await kubectl(cluster, "get", "rs", "-o", "wide")).rows())
    assert header[:4] == ["NAME", "DESIRED", "CURRENT", "READY"]
    assert sorted(rss) == sorted(rs.name for rs in engine.replicasets())
    header, svcs = header_and_rows((await kubectl(cluster, "get", "services")).rows())
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    (s,) = engine.services()
    assert (svcs["web"]["TYPE"], svcs["web"]["CLUSTER-IP"], svcs["web"]["PORT(S)"]) == (
        "ClusterIP", s.cluster_ip, "8080/TCP")  # fmt: skip
    header, eps = header_and_rows((await kubectl(cluster, "get", "endpoints")).rows())
    addresses = sorted(f"{e.ip}:80" for e in s.endpoints if e.ready)
    assert sorted(eps["web"]["ENDPOINTS"].split(",")) == addresses and len(addresses) == 2
    header, nss = header_and_rows((await kubectl(cluster, "get", "namespaces")).rows())
    assert header == ["NAME", "STATUS", "AGE"]
    assert sorted(nss) == sorted(n.name for n in engine.namespaces())
    assert {r["STATUS"] for r in nss.values()} == {"Active"}
    dep = (await kubectl(cluster, "get", "deployment", "api", "-o", "yaml")).yaml()
    assert dep["spec"]["replicas"] == 2 and dep["status"]["availableReplicas"] == 2
    assert dep["metadata"]["uid"] == d.uid


async def test_missing_pod_is_a_not_found_error(cluster: K8sCluster) -> None:
    out = await kubectl(cluster, "get", "pod", "nope")
    assert out.rc != 0
    assert 'Error from server (NotFound): pods "nope" not found' in out.err


async def test_writes_are_refused_not_pretended(cluster: K8sCluster) -> None:
    before = {p.name: p.labels for p in cluster.engine.pods()}
    out = await kubectl(cluster, "label", "pod", "web-a", "extra=yes")
    assert out.rc != 0 and 'The Pod "web-a" is invalid' in out.err and "pod updates" in out.err
    assert {p.name: p.labels for p in cluster.engine.pods()} == before


async def test_without_the_token_kubectl_is_refused(cluster: K8sCluster, tmp_path: Path) -> None:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["users"][0]["user"] = {}
    tokenless = tmp_path / "tokenless"
    tokenless.write_text(yaml.safe_dump(config))
    out = await kubectl(cluster, "get", "pods", kubeconfig=tokenless)
    # With no credentials at all kubectl answers a 401 by asking for a user name (as against
    # any API server); stdin is closed, so it gives up.
    assert out.rc != 0 and "Please enter Username" in out.out and not out.out.count("web-a")
    status, body = await cluster.get("/api/v1/namespaces/default/pods", token=None)
    assert status == 401 and (body["kind"], body["reason"]) == ("Status", "Unauthorized")
    config["users"][0]["user"] = {"token": "not-the-token"}
    tokenless.write_text(yaml.safe_dump(config))
    out = await kubectl(cluster, "get", "nodes", kubeconfig=tokenless)
    assert out.rc != 0 and "You must be logged in to the server" in out.err


async def test_get_endpointslices_lists_the_services_endpoints(cluster: K8sCluster) -> None:
    svc = next(s for s in cluster.engine.services() if s.name == "web")
    out = (await kubectl(cluster, "get", "endpointslices", "-o", "json")).json()
    (sl,) = out["items"]
    assert sl["metadata"]["name"] == "web-kube9"
    assert sl["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert sl["metadata"]["ownerReferences"][0]["uid"] == svc.uid
    assert sorted(a for e in sl["endpoints"] for a in e["addresses"]) == sorted(
        e.ip for e in svc.endpoints
    )
    assert all(e["conditions"]["ready"] for e in sl["endpoints"])
    assert {p["port"] for p in sl["ports"]} == {80}
    rows = (await kubectl(cluster, "get", "endpointslice", "web-kube9")).rows()
    assert rows[0][:4] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"] and rows[1][1] == "IPv4"
    missing = await kubectl(cluster, "get", "endpointslice", "web")
    assert missing.rc != 0 and "NotFound" in missing.err


async def test_rollout_status_follows_a_rollout_and_history_lists_it(cluster: K8sCluster) -> None:
    """``kubectl rollout status`` (a watch of the Deployment) ends once the new template is
    rolled out; ``rollout history`` lists both revisions; ``describe`` ends with the steps."""
    from kube9_desktop.engine.workload_specs import DeploymentPatch

    api = next(d for d in cluster.engine.deployments() if d.name == "api")
    template = {
        "labels": {"app": "api"}, "cpu_cores_req": 0.25,
        "containers": [{"name": "api", "image": "python:3.13", "memory_req": 64}],
    }  # fmt: skip
    status = asyncio.create_task(kubectl(cluster, "rollout", "status", "deployment/api"))
    await cluster.engine.update_deployment(
        api.id, DeploymentPatch.model_validate({"template": template})
    )
    done = (await asyncio.wait_for(status, 90)).ok()
    assert 'deployment "api" successfully rolled out' in done
    images = {c.image for p in cluster.engine.pods() if p.labels.get("app") == "api"
              for c in p.spec.containers}  # fmt: skip
    assert images == {"python:3.13"}
    history = (await kubectl(cluster, "rollout", "history", "deployment/api")).ok().split()
    assert history[history.index("REVISION") + 2 :][:3:2] == ["1", "2"]
    described = (await kubectl(cluster, "describe", "deployment", "api")).ok()
    assert "python:3.13" in described and "ScalingReplicaSet" in described.split("Events:")[1]
