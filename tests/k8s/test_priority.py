"""scheduling.k8s.io/v1 PriorityClasses and pods' priority through the Kubernetes API, with the
real kubectl: apply a class and a pod using it, get them back (tables, -o json), discovery,
a preemption's nominated node and Preempted event, delete; refusals as Status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config

from tests.k8s.conftest import K8sCluster, kubectl

CLASS_AND_POD = """\
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000000
preemptionPolicy: PreemptLowerPriority
description: serving pods
---
apiVersion: v1
kind: Pod
metadata:
  name: vip
spec:
  priorityClassName: high
  containers:
  - name: app
    image: nginx:1.25
    resources:
      requests: {cpu: 100m}
"""


async def call(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """The official client blocks: run it off the loop that serves it."""
    return await asyncio.to_thread(fn, *args, **kw)


def write(tmp_path: Path, text: str, name: str = "pc.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


async def test_apply_a_class_and_a_pod_using_it_then_get_them(
    cluster: K8sCluster, tmp_path: Path
) -> None:
    out = (await kubectl(cluster, "apply", "-f", write(tmp_path, CLASS_AND_POD))).ok()
    assert out.splitlines() == ["priorityclass.scheduling.k8s.io/high created", "pod/vip created"]
    vip = cluster.engine.find_pod_named("default", "vip")
    assert vip is not None
    assert (vip.spec.priority_class_name, vip.spec.priority) == ("high", 1000000)
    table = (await kubectl(cluster, "get", "priorityclasses")).ok().splitlines()
    assert table[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE"]
    rows = {line.split()[0]: line.split()[1:3] for line in table[1:]}
    assert rows == {
        "high": ["1000000", "false"],
        "system-cluster-critical": ["2000000000", "false"],
        "system-node-critical": ["2000001000", "false"],
    }
    wide = (await kubectl(cluster, "get", "pc", "high", "-o", "wide")).ok().splitlines()
    assert wide[0].split()[-1] == "PREEMPTIONPOLICY" and wide[1].split()[-1] == (
        "PreemptLowerPriority"
    )
    obj = json.loads((await kubectl(cluster, "get", "priorityclass", "high", "-o", "json")).ok())
    assert (obj["apiVersion"], obj["kind"], obj["value"]) == (
        "scheduling.k8s.io/v1", "PriorityClass", 1000000,
    )  # fmt: skip
    assert obj["description"] == "serving pods"
    pod = json.loads((await kubectl(cluster, "get", "pod", "vip", "-o", "json")).ok())
    assert pod["spec"]["priorityClassName"] == "high"
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (
        1000000, "PreemptLowerPriority",
    )  # fmt: skip
    # A second apply changes nothing; a changed value is refused naming it.
    # (kubectl says "configured": the class keeps no annotations, so kubectl finds no record
    # of its last apply and sends it; the engine writes nothing)
    before = cluster.engine.resource_version()
    again = (await kubectl(cluster, "apply", "-f", write(tmp_path, CLASS_AND_POD))).ok()
    assert again.splitlines() == [
        "priorityclass.scheduling.k8s.io/high configured", "pod/vip unchanged",
    ]  # fmt: skip
    assert cluster.engine.resource_version() == before
    changed = CLASS_AND_POD.split("---\n")[0].replace("value: 1000000", "value: 7")
    res = await kubectl(cluster, "apply", "-f", write(tmp_path, changed, "changed.yaml"))
    assert res.rc != 0 and "value: " in res.err and "delete it and create it again" in res.err
    assert cluster.engine.find_priority_class("high").value == 1000000  # type: ignore[union-attr]
    resources = (await kubectl(cluster, "api-resources", "--api-group=scheduling.k8s.io")).ok()
    assert "priorityclasses" in resources and "pc" in resources.split()
    out = (await kubectl(cluster, "delete", "pod", "vip")).ok()
    assert 'pod "vip" deleted' in out
    out = (await kubectl(cluster, "delete", "priorityclass", "high")).ok()
    assert 'priorityclass.scheduling.k8s.io "high" deleted' in out
    assert cluster.engine.find_priority_class("high") is None


async def test_refusals_name_the_field(cluster: K8sCluster, tmp_path: Path) -> None:
    unknown = CLASS_AND_POD.split("---\n")[1].replace("priorityClassName: high",
                                                      "priorityClassName: gold")  # fmt: skip
    res = await kubectl(cluster, "apply", "-f", write(tmp_path, unknown, "pod.yaml"))
    assert res.rc != 0 and "no PriorityClass with name gold was found" in res.err, res.err
    assert cluster.engine.find_pod_named("default", "vip") is None
    huge = CLASS_AND_POD.split("---\n")[0].replace("value: 1000000", "value: 1000000001")
    res = await kubectl(cluster, "apply", "-f", write(tmp_path, huge, "huge.yaml"))
    assert res.rc != 0 and "value: 1000000001 is out of range" in res.err, res.err
    res = await kubectl(cluster, "delete", "priorityclass", "system-node-critical")
    assert res.rc != 0 and "built in" in res.err, res.err


async def test_a_preemption_seen_through_the_official_client(cluster: K8sCluster) -> None:
    """The preemptor's status.nominatedNodeName and its victim's Preempted event."""
    engine = cluster.engine
    config.load_kube_config(str(cluster.kubeconfig))
    sched = client.SchedulingV1Api()
    await call(sched.create_priority_class,
               client.V1PriorityClass(metadata=client.V1ObjectMeta(name="top"), value=100000))  # fmt: skip
    listed = await call(sched.list_priority_class)
    assert "top" in [c.metadata.name for c in listed.items]
    biggest = max((n for n in engine.nodes() if n.node_type == "worker"),
                  key=lambda n: n.capacity.cpu_m)  # fmt: skip
    core = client.CoreV1Api()
    body = client.V1Pod(
        metadata=client.V1ObjectMeta(name="big"),
        spec=client.V1PodSpec(
            priority_class_name="top",
            containers=[client.V1Container(
                name="app", image="nginx:1.25",
                resources=client.V1ResourceRequirements(
                    requests={"cpu": f"{biggest.capacity.cpu_m}m"}))],
        ),
    )  # fmt: skip
    await call(core.create_namespaced_pod, "default", body)
    got = await call(core.read_namespaced_pod, "big", "default")
    assert got.spec.priority == 100000
    assert got.status.nominated_node_name == got.spec.node_name
    view = engine.find_pod_named("default", "big")
    assert view is not None and view.decision is not None and view.decision.preemption
    victims = {v.pod.split("/")[1] for v in view.decision.preemption.victims}
    events = (
        await call(core.list_event_for_all_namespaces, field_selector="reason=Preempted")
    ).items
    preempted = {e.involved_object.name: e.message for e in events}
    assert set(preempted) == victims and victims
    assert all(m == f"Preempted by default/big on node {got.spec.node_name}"
               for m in preempted.values())  # fmt: skip
