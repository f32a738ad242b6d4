"""core/v1 Events from the engine's event log: ``kubectl get events`` and the Events section of
``kubectl describe``, where the scheduler's verdict says why a pod is where it is, or why it
is pending (every node's reason); ``kubectl get events -w``; names, selectors, NotFound."""

from __future__ import annotations

from typing import Any

from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate
from tests.helpers import wait_for
from tests.k8s.conftest import K8sCluster, kubectl, kubectl_streaming, pod


async def test_get_events_lists_the_engines_events_about_objects(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "get", "events", "-A", "-o", "json")).json()
    events = out["items"]
    engine_events = [e for e in cluster.engine.events(limit=10_000) if e.object is not None]
    assert len(events) == len(engine_events)
    web_a = next(p for p in cluster.engine.pods() if p.name == "web-a")
    scheduled = [e for e in events if e["involvedObject"]["name"] == "web-a"
                 and e["reason"] == "Scheduled"]  # fmt: skip
    assert len(scheduled) == 1
    (ev,) = scheduled
    assert ev["type"] == "Normal" and ev["source"]["component"] == "default-scheduler"
    assert ev["involvedObject"] == {"kind": "Pod", "name": "web-a", "namespace": "default",
                                    "uid": web_a.uid, "apiVersion": "v1"}  # fmt: skip
    assert web_a.node_name and web_a.node_name in ev["message"]
    nodes = {e["metadata"]["namespace"] for e in events if e["involvedObject"]["kind"] == "Node"}
    assert nodes == {"default"}  # cluster-scoped objects' events live in default
    table = (await kubectl(cluster, "get", "events", "-n", "default")).ok().splitlines()
    assert table[0].split()[:5] == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT"]
    assert any("pod/web-a" in line and "Scheduled" in line for line in table)
    wide = (await kubectl(cluster, "get", "events", "-o", "wide")).ok().splitlines()
    assert "SOURCE" in wide[0] and "COUNT" in wide[0]


async def test_describe_pod_says_where_it_was_scheduled(cluster: K8sCluster) -> None:
    web_a = next(p for p in cluster.engine.pods() if p.name == "web-a")
    out = (await kubectl(cluster, "describe", "pod", "web-a")).ok()
    events = out.split("Events:", 1)[1]
    line = next(ln for ln in events.splitlines() if "Scheduled" in ln)
    assert "default-scheduler" in line and str(web_a.node_name) in line


async def test_describe_a_pending_pod_gives_every_nodes_reason(cluster: K8sCluster) -> None:
    """A replica that fits nowhere waits pending; its FailedScheduling event (a Warning from
    the scheduler) names every node and why it was refused."""
    body: dict[str, Any] = {
        "name": "big", "replicas": 1,
        "template": {"labels": {"app": "big"}, "cpu_cores_req": 64,
                     "containers": [{"name": "big", "image": "nginx:1.25"}]},
    }  # fmt: skip
    await cluster.engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
    await wait_for(lambda: any(p.name.startswith("big-") for p in cluster.engine.pods()),
                   what="the pending replica")  # fmt: skip
    name = next(p.name for p in cluster.engine.pods() if p.name.startswith("big-"))
    out = (await kubectl(cluster, "describe", "pod", name)).ok()
    events = out.split("Events:", 1)[1]
    line = next(ln for ln in events.splitlines() if "FailedScheduling" in ln)
    assert line.split()[0] == "Warning" and "default-scheduler" in line
    for node in ("worker-1", "worker-2"):
        assert node in line
    assert "insufficient cpu" in line


async def test_describe_node_has_its_events(cluster: K8sCluster) -> None:
    out = (await kubectl(cluster, "describe", "node", "worker-1")).ok()
    events = out.split("Events:", 1)[1]
    assert "RegisteredNode" in events and "NodeReady" in events


async def test_one_event_by_name_and_by_selectors(cluster: K8sCluster) -> None:
    listed = (await kubectl(cluster, "get", "events", "--field-selector",
                            "involvedObject.name=db,reason=Scheduled", "-o", "json")).json()  # fmt: skip
    (ev,) = listed["items"]
    name = ev["metadata"]["name"]
    one = (await kubectl(cluster, "get", "event", name, "-o", "json")).json()
    assert one == ev
    missing = await kubectl(cluster, "get", "event", "db.00000000000fffff")
    assert missing.rc != 0 and "NotFound" in missing.err
    bad = await kubectl(cluster, "get", "event", "no-dot-here")
    assert bad.rc != 0 and "NotFound" in bad.err


async def test_get_events_w_sees_a_new_pods_events(cluster: K8sCluster) -> None:
    async with kubectl_streaming(cluster, "get", "events", "-w") as lines:
        await wait_for(lambda: any("pod/web-a" in ln for ln in lines), timeout=60,
                       what="the events so far")  # fmt: skip
        await cluster.engine.create_pod_from_json(pod("fresh", {"app": "fresh"}))
        await wait_for(lambda: any("pod/fresh" in ln and "Scheduled" in ln for ln in lines),
                       timeout=30, what="the new pod's Scheduled event")  # fmt: skip
