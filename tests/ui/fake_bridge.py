"""A bridge over plain dictionaries, for model tests and the tree benchmark (no engine, no
pytest): it serves the bridge's read methods and builds real frozen views on every read, as
the engine does, so the UI pays the same price."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE, ObjectRef
from kube9_desktop.engine.model import (
    WORKER_COMPONENTS,
    ContainerSpec,
    ContainerStatus,
    NamespaceView,
    NodeGauge,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodSpec,
    PodView,
    Resources,
)
from kube9_desktop.engine.usage import STEP_S, UsageHistoryJson, UsageJson, UsageSampleJson
from kube9_desktop.engine.workload_ops import Revision
from kube9_desktop.engine.workloads import (
    DeploymentSpec,
    DeploymentStatus,
    DeploymentView,
    LabelSelector,
    PodTemplate,
    ReplicaSetStatus,
    ReplicaSetView,
)
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeBridge(EngineBridge):
    """Serves the bridge's read methods from dictionaries, building real views on each read
    (as the engine does), so models can be tested and measured without an engine."""

    def __init__(self) -> None:
        super().__init__()
        self._attached = False
        self._nodes: dict[int, dict[str, Any]] = {}
        self._pods: dict[int, dict[str, Any]] = {}
        self._waiting: dict[int, None] = {}
        self._namespaces: dict[str, int] = {DEFAULT_NAMESPACE: 1}
        # The engine's name indexes: a name check is one lookup, as there.
        self._node_names: dict[str, int] = {}
        self._pod_names: dict[tuple[str, str], int] = {}
        self._next_id = 1
        self._deployments: dict[int, dict[str, Any]] = {}
        self._replicasets: dict[int, dict[str, Any]] = {}
        self._usage: dict[int, UsageJson] = {}  # pod id -> latest figures (nodes: the sum)
        self._samples: dict[int, list[UsageSampleJson]] = {}  # pod id -> one per STEP_S

    @property
    def attached(self) -> bool:
        return self._attached

    def attach_fake(self) -> None:
        self._attached = True
        self.engine_attached.emit()

    # reads

    def nodes(self) -> list[NodeView]:
        return [self._node_view(n) for n in self._nodes.values()]

    def pods(self) -> list[PodView]:
        return [self._pod_view(p) for p in self._pods.values()]

    def node_gauges(self) -> list[NodeGauge]:
        return [NodeGauge.of(v) for v in self.nodes()]

    def node(self, node_id: int) -> NodeView | None:
        node = self._nodes.get(node_id)
        return self._node_view(node) if node else None

    def pod(self, pod_id: int) -> PodView | None:
        pod = self._pods.get(pod_id)
        return self._pod_view(pod) if pod else None

    def pod_ids_of(self, node_id: int) -> list[int]:
        node = self._nodes.get(node_id)
        return sorted(node["pods"]) if node else []

    def pending_pod_ids(self) -> list[int]:
        return list(self._waiting)

    def node_name_taken(self, name: str) -> bool:
        return name in self._node_names

    def pod_name_taken(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> bool:
        return (namespace, name) in self._pod_names

    def namespaces(self) -> list[NamespaceView]:
        return [self._namespace_view(name) for name in self._namespaces]

    def priority_classes(self) -> list[Any]:
        return []

    def namespace(self, name: str) -> NamespaceView | None:
        return self._namespace_view(name) if name in self._namespaces else None

    def pod_usage(self, pod_id: int) -> UsageJson | None:
        return self._usage.get(pod_id)

    def pod_usages(self) -> dict[int, tuple[float, float]]:
        return {p: (u["cpu_cores"], u["memory_mb"]) for p, u in self._usage.items()}

    def node_usage(self, node_id: int) -> UsageJson | None:
        node = self._nodes.get(node_id)
        figures = [self._usage[p] for p in node["pods"] if p in self._usage] if node else []
        if not figures:
            return None
        return {
            "cpu_cores": sum(f["cpu_cores"] for f in figures),
            "memory_mb": sum(f["memory_mb"] for f in figures),
        }

    def pod_usage_history(self, pod_id: int) -> UsageHistoryJson | None:
        samples = self._samples.get(pod_id, [])
        now = samples[-1]["t"] if samples else 0.0
        return {
            "now": now,
            "step_s": STEP_S,
            "current": self._usage.get(pod_id),
            "samples": samples,
        }

    def node_usage_history(self, node_id: int) -> UsageHistoryJson | None:
        return {"now": 0.0, "step_s": STEP_S, "current": self.node_usage(node_id), "samples": []}

    def deployments(self) -> list[DeploymentView]:
        return [self._deployment_view(d) for d in self._deployments.values()]

    def replicasets(self) -> list[ReplicaSetView]:
        return [self._replicaset_view(r) for r in self._replicasets.values()]

    def deployment(self, deployment_id: int) -> DeploymentView | None:
        d = self._deployments.get(deployment_id)
        return self._deployment_view(d) if d else None

    def replicaset(self, rs_id: int) -> ReplicaSetView | None:
        rs = self._replicasets.get(rs_id)
        return self._replicaset_view(rs) if rs else None

    def deployment_history(self, deployment_id: int) -> list[Revision]:
        d = self._deployments.get(deployment_id)
        if d is None:
            return []
        rss = [self._replicasets[r] for r in sorted(self._owned(deployment_id))]
        return sorted(
            (
                Revision(r["revision"], r["name"], r["id"], r["template"], "", EPOCH,
                         r["replicas"], r["revision"] == d["revision"])
                for r in rss
            ),
            key=lambda r: r.revision,
        )  # fmt: skip

    def deployment_name_taken(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> bool:
        return any(
            d["name"] == name and d["namespace"] == namespace for d in self._deployments.values()
        )

    def rollback_refusal(self, deployment_id: int, revision: int | None = None) -> str | None:
        history = self.deployment_history(deployment_id)
        return None if any(not r.current for r in history) else "no earlier revision"

    def _owned(self, deployment_id: int) -> list[int]:
        return [r["id"] for r in self._replicasets.values() if r["owner"] == deployment_id]

    def _template(self, image: str) -> PodTemplate:
        return PodTemplate(
            Resources(100, 64), (ContainerSpec("app", image, 100, 64),), labels={"app": "x"}
        )

    def _deployment_view(self, d: dict[str, Any]) -> DeploymentView:
        rss = [self._replicaset_view(self._replicasets[r]) for r in self._owned(d["id"])]
        new = next((r for r in rss if r.revision == d["revision"]), None)
        spec = DeploymentSpec(
            d["name"], d["namespace"], d["replicas"], LabelSelector({"app": "x"}),
            self._template(d["image"]), paused=d["paused"],
        )  # fmt: skip
        status = DeploymentStatus(
            replicas=sum(r.status.replicas for r in rss),
            updated=new.status.replicas if new else 0,
            ready=sum(r.status.ready for r in rss),
            available=sum(r.status.available for r in rss),
            conditions=d["conditions"],
        )
        return DeploymentView(
            d["id"], f"uid-deployment-{d['id']}", d["name"], d["namespace"], spec,
            d["revision"], 1, status, tuple(sorted(r.id for r in rss)), EPOCH, 1,
        )  # fmt: skip

    def _replicaset_view(self, r: dict[str, Any]) -> ReplicaSetView:
        pods = [self._pods[p] for p in sorted(r["pods"])]
        running = sum(1 for p in pods if p["phase"] is PodPhase.RUNNING)
        owner = self._deployments.get(r["owner"]) if r["owner"] is not None else None
        ref = ObjectRef("Deployment", owner["id"], "uid", owner["name"]) if owner else None
        return ReplicaSetView(
            r["id"], f"uid-rs-{r['id']}", r["name"], DEFAULT_NAMESPACE, r["replicas"],
            LabelSelector({"app": "x"}), r["template"], 0, {}, {}, ref, r["revision"], "hash",
            ReplicaSetStatus(len(pods), len(pods), running, running), tuple(sorted(r["pods"])),
            EPOCH, 1, 1,
        )  # fmt: skip

    def _namespace_view(self, name: str) -> NamespaceView:
        pods = sum(1 for p in self._pods.values() if p["spec"].namespace == name)
        return NamespaceView(
            id=self._namespaces[name],
            uid=f"uid-namespace-{name}",
            name=name,
            labels={},
            annotations={},
            created_at=EPOCH,
            resource_version=1,
            pod_count=pods,
        )

    def _node_view(self, n: dict[str, Any]) -> NodeView:
        allocated = Resources(
            sum(self._pods[p]["spec"].request.cpu_m for p in n["pods"]),
            sum(self._pods[p]["spec"].request.mem_mi for p in n["pods"]),
        )
        return NodeView(
            id=n["id"],
            uid=f"uid-node-{n['id']}",
            name=n["name"],
            node_type=n["type"],
            capacity=n["capacity"],
            allocated=allocated,
            status=n["status"],
            status_reason="",
            components=dict.fromkeys(WORKER_COMPONENTS, "running"),
            pod_ids=tuple(sorted(n["pods"])),
            last_heartbeat=EPOCH,
            seconds_since_heartbeat=0.5,
            recovery_attempts=0,
            runtime="virtual",
            runtime_handle=f"virtual-{n['id']}",
            faults=(),
            created_at=EPOCH,
        )

    def _pod_view(self, p: dict[str, Any]) -> PodView:
        spec: PodSpec = p["spec"]
        node = self._nodes.get(p["node"]) if p["node"] is not None else None
        return PodView(
            id=p["id"],
            uid=f"uid-pod-{p['id']}",
            name=spec.name,
            spec=spec,
            node_id=p["node"],
            node_name=node["name"] if node else None,
            phase=p["phase"],
            ip=f"127.244.{p['id'] // 250}.{p['id'] % 250 + 1}",
            containers=tuple(
                ContainerStatus(c.name, p["state"], restarts=p.get("restarts", 0))
                for c in spec.containers
            ),
            decision=None,
            created_at=p.get("created_at", EPOCH),
        )

    def set_pod_history(self, pod_id: int, restarts: int, created_at: datetime) -> None:
        """Restarts of each of its containers, and when it was created."""
        self._pods[pod_id].update(restarts=restarts, created_at=created_at)

    # changes (each returns the ids it touched; call changed() to publish them)

    def add_node(self, name: str, cpu_m: int = 4000, mem_mi: int = 8192, **kw: Any) -> int:
        node_id = self._new_id()
        self._nodes[node_id] = {
            "id": node_id,
            "name": name,
            "capacity": Resources(cpu_m, mem_mi),
            "pods": set(),
            "type": kw.get("node_type", NodeType.WORKER),
            "status": kw.get("status", NodeStatus.HEALTHY),
        }
        self._node_names[name] = node_id
        return node_id

    def add_namespace(self, name: str) -> None:
        self._namespaces.setdefault(name, len(self._namespaces) + 1)

    def add_pod(
        self,
        name: str,
        node_id: int | None,
        cpu_m: int = 100,
        containers: int = 1,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> int:
        pod_id = self._new_id()
        spec = PodSpec(
            name,
            Resources(cpu_m, 64),
            tuple(ContainerSpec(f"c{i}", "nginx:latest", cpu_m, 64) for i in range(containers)),
            namespace=namespace,
        )
        self.add_namespace(namespace)
        self._pod_names[(namespace, name)] = pod_id
        self._pods[pod_id] = {
            "id": pod_id,
            "spec": spec,
            "node": None,
            "phase": PodPhase.PENDING,
            "state": "waiting",
        }
        self.move_pod(pod_id, node_id)
        return pod_id

    def move_pod(self, pod_id: int, node_id: int | None) -> None:
        pod = self._pods[pod_id]
        if pod["node"] is not None:
            self._nodes[pod["node"]]["pods"].discard(pod_id)
        self._waiting.pop(pod_id, None)
        pod["node"] = node_id
        if node_id is None:
            self._waiting[pod_id] = None
            pod["phase"], pod["state"] = PodPhase.PENDING, "waiting"
        else:
            self._nodes[node_id]["pods"].add(pod_id)
            pod["phase"], pod["state"] = PodPhase.RUNNING, "running"

    def delete_pod(self, pod_id: int) -> None:
        self.move_pod(pod_id, None)
        self._waiting.pop(pod_id, None)
        spec = self._pods.pop(pod_id)["spec"]
        del self._pod_names[(spec.namespace, spec.name)]

    def delete_node(self, node_id: int) -> list[int]:
        """Remove a node; its pods become pending (returned)."""
        pods = sorted(self._nodes[node_id]["pods"])
        for pod_id in pods:
            self.move_pod(pod_id, None)
        del self._node_names[self._nodes.pop(node_id)["name"]]
        return pods

    def set_node_status(self, node_id: int, status: NodeStatus) -> None:
        self._nodes[node_id]["status"] = status

    def set_pod_phase(self, pod_id: int, phase: PodPhase) -> None:
        self._pods[pod_id]["phase"] = phase

    def set_pod_usage(self, pod_id: int, cpu_cores: float, memory_mb: float) -> None:
        """A pod's latest usage, as a heartbeat would report it (no change is published); each
        call is also the next sample of its history, STEP_S after the previous one."""
        self._usage[pod_id] = {"cpu_cores": cpu_cores, "memory_mb": memory_mb}
        samples = self._samples.setdefault(pod_id, [])
        t = samples[-1]["t"] + STEP_S if samples else 0.0
        samples.append({"t": t, "cpu_cores": cpu_cores, "memory_mb": memory_mb})

    # workloads (a Deployment's ReplicaSets are found by their owner; pods by theirs)

    def add_deployment(self, name: str, replicas: int = 2, image: str = "nginx:1") -> int:
        d_id = self._new_id()
        self._deployments[d_id] = {
            "id": d_id, "name": name, "namespace": DEFAULT_NAMESPACE, "replicas": replicas,
            "image": image, "revision": 0, "paused": False, "conditions": (),
        }  # fmt: skip
        return d_id

    def add_replicaset(
        self, name: str, deployment_id: int | None, replicas: int = 2, image: str = "nginx:1"
    ) -> int:
        """A ReplicaSet (its Deployment's next revision, which becomes the current one)."""
        rs_id = self._new_id()
        revision = 1
        if deployment_id is not None:
            d = self._deployments[deployment_id]
            d["revision"] = revision = d["revision"] + 1
            d["image"] = image
        self._replicasets[rs_id] = {
            "id": rs_id, "name": name, "owner": deployment_id, "replicas": replicas,
            "revision": revision, "template": self._template(image), "pods": set(),
        }  # fmt: skip
        return rs_id

    def add_owned_pod(self, name: str, rs_id: int, node_id: int | None) -> int:
        """A pod of a ReplicaSet (placed on ``node_id``, or pending)."""
        rs = self._replicasets[rs_id]
        pod_id = self.add_pod(name, node_id)
        pod = self._pods[pod_id]
        pod["spec"] = replace(pod["spec"], owner=ObjectRef("ReplicaSet", rs_id, "uid", rs["name"]))
        rs["pods"].add(pod_id)
        return pod_id

    def set_replicas(self, rs_id: int, replicas: int) -> None:
        self._replicasets[rs_id]["replicas"] = replicas

    def delete_owned_pod(self, pod_id: int) -> None:
        for rs in self._replicasets.values():
            rs["pods"].discard(pod_id)
        self.delete_pod(pod_id)

    def delete_replicaset(self, rs_id: int) -> list[int]:
        """Remove a ReplicaSet and its pods (returned)."""
        pods = sorted(self._replicasets[rs_id]["pods"])
        for pod_id in pods:
            self.delete_owned_pod(pod_id)
        del self._replicasets[rs_id]
        return pods

    def delete_deployment(self, deployment_id: int) -> tuple[list[int], list[int]]:
        """Remove a Deployment with its ReplicaSets and pods: (ReplicaSet ids, pod ids)."""
        rss = self._owned(deployment_id)
        pods = [p for r in rss for p in self.delete_replicaset(r)]
        del self._deployments[deployment_id]
        return rss, pods

    def changed(
        self,
        nodes: set[int] | None = None,
        pods: set[int] | None = None,
        deployments: set[int] | None = None,
        replicasets: set[int] | None = None,
    ) -> None:
        changes = ChangeSet()
        changes.changed = {Kind.NODE: set(nodes or ()), Kind.POD: set(pods or ())}
        if deployments:
            changes.changed[Kind.DEPLOYMENT] = set(deployments)
        if replicasets:
            changes.changed[Kind.REPLICASET] = set(replicasets)
        self.cluster_changed.emit(changes)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1


def fake_cluster(nodes: int, pods_per_node: int, pending: int = 0) -> FakeBridge:
    """A fake cluster of ``nodes`` workers with ``pods_per_node`` pods each and some pending."""
    bridge = FakeBridge()
    for n in range(nodes):
        node_id = bridge.add_node(f"worker-{n + 1}", cpu_m=64_000, mem_mi=65_536)
        for p in range(pods_per_node):
            bridge.add_pod(f"pod-{n + 1}-{p + 1}", node_id, containers=1 + p % 2)
    for p in range(pending):
        bridge.add_pod(f"waiting-{p + 1}", None, cpu_m=100_000)
    return bridge
