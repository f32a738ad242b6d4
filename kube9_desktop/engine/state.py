"""The working copy of the cluster in memory, with the indexes the scheduler and monitor need.

Only ``cluster.py`` mutates it, and only after the store has committed the change. Everything
handed out is a frozen view.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kube9_desktop.engine.constraints import Taint
from kube9_desktop.engine.interpod import InterPodRules
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.model import (
    ContainerStatus,
    Decision,
    NamespaceView,
    NodeGauge,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodSpec,
    PodView,
    Resources,
    pod_limit_of,
)
from kube9_desktop.engine.priority import BUILTIN as BUILTIN_PRIORITY_CLASSES
from kube9_desktop.engine.priority import PriorityClassView
from kube9_desktop.engine.scheduler import SchedulingIndexes, is_open
from kube9_desktop.engine.scheduler.topology_books import PodTopology
from kube9_desktop.engine.services import (
    ClusterIpPool,
    Endpoint,
    NodePorts,
    ServiceSpec,
    endpoint_of,
    service_env,
)
from kube9_desktop.engine.workloads import DeploymentSpec, DeploymentStatus, ReplicaSetSpec

# 127.244.0.0/14: 262,142 pod addresses. Loopback, so a pod's processes can bind their own
# address without root and everything on this machine reaches it (the node agent gives it to
# them as POD_IP); a /16 (65,534) is short of the 100,000 pods a KWOK-sized cluster holds.
POD_NETWORK = (127 << 24) | (244 << 16)
POD_NETWORK_SIZE = 1 << 18


def _ip(offset: int) -> str:
    value = POD_NETWORK + offset
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _offset(ip: str) -> int:
    a, b, c, d = (int(x) for x in ip.split("."))
    return ((a << 24) | (b << 16) | (c << 8) | d) - POD_NETWORK


class IpPool:
    """Unique pod IPs in 10.244.0.0/14: a bump pointer, then the oldest freed first.

    A deleted pod's processes may still hold its address on their node for a moment (the
    agent's stop grace), so an address is handed out again as late as possible: the pointer
    runs through the whole network before any freed address is reused, and then the one
    freed longest ago comes first (Kubernetes' host-local IPAM also allocates round-robin).
    """

    def __init__(self) -> None:
        self._next = 1
        self._free: deque[int] = deque()  # freed addresses, oldest first (used after wrapping)
        self._used: set[int] = set()
        self._wrapped = False

    def reserve(self, ip: str) -> None:
        off = _offset(ip)
        if not 0 < off < POD_NETWORK_SIZE:
            return  # an address from before the network moved (10.244/14): it stays unique
        self._used.add(off)
        self._next = max(self._next, off + 1)

    def allocate(self) -> str:
        if self._next < POD_NETWORK_SIZE - 1:
            off = self._next
            self._next += 1
            self._used.add(off)
            return _ip(off)
        if not self._wrapped:
            # The pointer reached the top once: from now on every free address is on the list
            # (one scan, once; the gaps left by reloads and deletions so far, in order).
            self._wrapped = True
            self._free = deque(o for o in range(1, POD_NETWORK_SIZE - 1) if o not in self._used)
        while self._free:
            off = self._free.popleft()
            if off not in self._used:
                self._used.add(off)
                return _ip(off)
        raise RuntimeError("the pod network 10.244.0.0/14 is full")

    def unallocate(self, ip: str) -> None:
        """Take back an allocation that was never committed (a transaction's undo, in reverse
        order): no pod ever had it, so the pointer steps back and the next pod gets it."""
        off = _offset(ip)
        if not self._wrapped and off == self._next - 1:  # (remove_pod may have released it)
            self._used.discard(off)
            self._next = off
            return
        self.release(ip)

    def release(self, ip: str) -> None:
        off = _offset(ip)
        if off in self._used:
            self._used.discard(off)
            if self._wrapped:
                self._free.append(off)


@dataclass(slots=True, eq=False)
class NodeState:
    """A node as stored, plus the books the scheduler reads (allocation, bound pods).

    Controllers keep their own bookkeeping (deadlines, back-off, faults, agent sessions); only
    the cluster's transaction steps change this record.
    """

    id: int
    uid: str
    name: str
    node_type: NodeType
    capacity: Resources
    status: NodeStatus
    token_hash: str
    created_at: datetime
    runtime: str
    status_reason: str = ""
    components: dict[str, str] = field(default_factory=dict)
    runtime_handle: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    allocated: Resources = field(default_factory=Resources)
    pod_ids: set[int] = field(default_factory=set)
    cordoned: bool = False  # spec.unschedulable: no new pods (cordoned, or being deleted)
    taints: tuple[Taint, ...] = ()
    deleting: bool = False  # never stored: set by the deletion's own commit
    recovery_attempts: int = 0
    resource_version: int = 0
    # The bound set's version: bumped whenever it changes; agents echo the one they applied.
    generation: int = 1
    last_heartbeat_at: datetime | None = None
    engine: str = "local"  # the Docker engine it runs on (runtime/engines.py)

    @property
    def free(self) -> Resources:
        return self.capacity - self.allocated

    @property
    def pod_limit(self) -> int:
        return pod_limit_of(self.annotations)

    def ref(self) -> ObjectRef:
        return ObjectRef("Node", self.id, self.uid, self.name)

    def seconds_since_heartbeat(self, now: datetime) -> float | None:
        if self.last_heartbeat_at is None:
            return None
        return round(max(0.0, (now - self.last_heartbeat_at).total_seconds()), 3)

    def gauge(self, now: datetime) -> NodeGauge:
        return NodeGauge(
            self.id, self.name, self.node_type, self.status, self.capacity, self.allocated,
            self.seconds_since_heartbeat(now),
        )  # fmt: skip

    def view(
        self,
        now: datetime,
        faults: tuple[str, ...] = (),
        component_faults: Mapping[str, str] | None = None,
    ) -> NodeView:
        since = self.seconds_since_heartbeat(now)
        return NodeView(
            id=self.id,
            uid=self.uid,
            name=self.name,
            node_type=self.node_type,
            capacity=self.capacity,
            allocated=self.allocated,
            status=self.status,
            status_reason=self.status_reason,
            components=dict(self.components),
            pod_ids=tuple(sorted(self.pod_ids)),
            last_heartbeat=self.last_heartbeat_at,
            seconds_since_heartbeat=since,
            recovery_attempts=self.recovery_attempts,
            runtime=self.runtime,
            runtime_handle=self.runtime_handle,
            faults=faults,
            component_faults=dict(component_faults or {}),
            created_at=self.created_at,
            schedulable=is_open(self),
            cordoned=self.cordoned,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            resource_version=self.resource_version,
            taints=self.taints,
            deleting=self.deleting,
            engine=self.engine,
        )


@dataclass(slots=True, eq=False)
class PodState:
    id: int
    uid: str
    spec: PodSpec
    ip: str
    phase: PodPhase
    created_at: datetime
    node_id: int | None = None
    decision: Decision | None = None
    reason: str = ""
    containers: dict[str, ContainerStatus] = field(default_factory=dict)
    last_report: datetime | None = None
    resource_version: int = 0
    ready_since: datetime | None = None  # stored: availability (minReadySeconds) counts from it
    # kubelet's <NAME>_SERVICE_HOST/_PORT… for the Services of its namespace that existed when
    # it was created, fixed for its life; never stored (re-derived at load from the Services
    # older than it).
    service_env: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    def reported_ready(self) -> bool:
        """Running, and every container of its spec running and passing its readiness probe."""
        if self.phase is not PodPhase.RUNNING or self.node_id is None:
            return False
        for c in self.spec.containers:
            status = self.containers.get(c.name)
            if status is None or not status.is_ready:
                return False
        return True

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def labels(self) -> Mapping[str, str]:
        return self.spec.labels

    @property
    def interpod(self) -> InterPodRules | None:
        return self.spec.interpod

    @property
    def request(self) -> Resources:
        return self.spec.request

    @property
    def priority(self) -> int:
        return self.spec.priority

    def ref(self) -> ObjectRef:
        return ObjectRef("Pod", self.id, self.uid, self.spec.name, self.spec.namespace)

    def view(self, node_name: str | None) -> PodView:
        statuses = tuple(
            self.containers.get(c.name) or ContainerStatus(c.name) for c in self.spec.containers
        )
        return PodView(
            id=self.id,
            uid=self.uid,
            name=self.spec.name,
            spec=self.spec,
            node_id=self.node_id,
            node_name=node_name,
            phase=self.phase,
            ip=self.ip,
            containers=statuses,
            decision=self.decision,
            created_at=self.created_at,
            reason=self.reason,
            last_report=self.last_report,
            resource_version=self.resource_version,
            ready_since=self.ready_since,
        )


@dataclass(slots=True, eq=False)
class NamespaceState:
    id: int
    uid: str
    name: str
    created_at: datetime
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    resource_version: int = 0

    def ref(self) -> ObjectRef:
        return ObjectRef("Namespace", self.id, self.uid, self.name)

    def view(self, pod_count: int) -> NamespaceView:
        return NamespaceView(
            self.id, self.uid, self.name, dict(self.labels), dict(self.annotations),
            self.created_at, self.resource_version, pod_count,
        )  # fmt: skip


@dataclass(slots=True, eq=False)
class ReplicaSetState:
    id: int
    uid: str
    spec: ReplicaSetSpec
    created_at: datetime
    owner: ObjectRef | None = None  # its Deployment, if any
    revision: int = 0
    template_hash: str = ""
    generation: int = 1
    resource_version: int = 0
    pod_ids: set[int] = field(default_factory=set)  # the pods it owns (derived from theirs)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    def ref(self) -> ObjectRef:
        return ObjectRef("ReplicaSet", self.id, self.uid, self.spec.name, self.spec.namespace)


@dataclass(slots=True, eq=False)
class DeploymentState:
    id: int
    uid: str
    spec: DeploymentSpec
    created_at: datetime
    status: DeploymentStatus = field(default_factory=DeploymentStatus)
    revision: int = 0
    generation: int = 1
    collision_count: int = 0
    resource_version: int = 0
    replicaset_ids: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    def ref(self) -> ObjectRef:
        return ObjectRef("Deployment", self.id, self.uid, self.spec.name, self.spec.namespace)


@dataclass(slots=True, eq=False)
class ServiceState:
    id: int
    uid: str
    spec: ServiceSpec
    cluster_ip: str
    created_at: datetime
    resource_version: int = 0
    # Derived, never stored: kept in step by every commit that touches its pods or their
    # nodes (cluster/services.py sync_endpoints); pod id -> endpoint.
    endpoints: dict[int, Endpoint] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    def ref(self) -> ObjectRef:
        return ObjectRef("Service", self.id, self.uid, self.spec.name, self.spec.namespace)


@dataclass(slots=True)
class OpenIncident:
    """A node's incident that has not ended yet (the record is stored; see cluster/incidents)."""

    id: int
    mode: str
    awaiting_detection: bool = False


class ClusterState:
    """Nodes, pods, the scheduling index, the pending queue and the IP pool, kept consistent."""

    def __init__(self) -> None:
        self.nodes: dict[int, NodeState] = {}
        self.node_ids: dict[str, int] = {}
        self.pods: dict[int, PodState] = {}
        self.pod_ids: dict[tuple[str, str], int] = {}  # (namespace, name) -> id
        self.namespaces: dict[str, NamespaceState] = {}
        self.namespace_pods: dict[str, set[int]] = {}
        self.open_incidents: dict[int, OpenIncident] = {}  # node id -> its open incident
        self.replicasets: dict[int, ReplicaSetState] = {}
        self.replicaset_ids: dict[tuple[str, str], int] = {}
        self.deployments: dict[int, DeploymentState] = {}
        self.deployment_ids: dict[tuple[str, str], int] = {}
        self.services: dict[int, ServiceState] = {}
        self.service_ids: dict[tuple[str, str], int] = {}
        self.namespace_services: dict[str, set[int]] = {}
        self.cluster_ips = ClusterIpPool()
        self.node_ports = NodePorts()
        # The node statuses endpoints were last synced with (cluster/services.sync_endpoints).
        self.endpoint_node_status: dict[int, NodeStatus] = {}
        self.pending: dict[int, None] = {}  # insertion-ordered set of pod ids waiting for a node
        # Every eligible node, by taint set; ``index`` is its untainted part (the hot path).
        self.indexes = SchedulingIndexes()
        self.index = self.indexes.plain
        # Matching pods per node and per topology domain (pod affinity, anti-affinity, spread)
        self.topology = PodTopology(self.pods, self.nodes)
        self.ips = IpPool()
        # PriorityClasses by name: the built-in system ones, then the stored ones
        self.priority_classes: dict[str, PriorityClassView] = {
            c.name: PriorityClassView(0, f"builtin-{c.name}", c, None, 0, builtin=True)
            for c in BUILTIN_PRIORITY_CLASSES
        }

    # ---- nodes -------------------------------------------------------------------------

    def add_node(self, node: NodeState) -> None:
        self.nodes[node.id] = node
        self.node_ids[node.name] = node.id
        self.reindex(node)

    def remove_node(self, node: NodeState) -> None:
        if node.pod_ids:
            raise RuntimeError(f"node {node.name} still has pods bound")  # a bug, never input
        self.indexes.discard(node)
        del self.nodes[node.id]
        del self.node_ids[node.name]

    def reindex(self, node: NodeState) -> None:
        """Keep the scheduling indexes in step with a node's eligibility, taints and room."""
        self.indexes.put(node)

    def node_by_name(self, name: str) -> NodeState | None:
        node_id = self.node_ids.get(name)
        return None if node_id is None else self.nodes[node_id]

    # ---- pods --------------------------------------------------------------------------

    def add_pod(self, pod: PodState) -> None:
        self.pods[pod.id] = pod
        self.pod_ids[(pod.spec.namespace, pod.spec.name)] = pod.id
        self.namespace_pods.setdefault(pod.spec.namespace, set()).add(pod.id)
        owner = self.owner_of(pod)
        if owner is not None:
            owner.pod_ids.add(pod.id)
        self.ips.reserve(pod.ip)
        if pod.node_id is not None:
            self._attach(pod, self.nodes[pod.node_id])
        else:
            self.pending[pod.id] = None

    def remove_pod(self, pod: PodState) -> None:
        if pod.node_id is not None:
            self.unbind(pod)
        self.pending.pop(pod.id, None)
        del self.pods[pod.id]
        del self.pod_ids[(pod.spec.namespace, pod.spec.name)]
        self.namespace_pods.get(pod.spec.namespace, set()).discard(pod.id)
        owner = self.owner_of(pod)
        if owner is not None:
            owner.pod_ids.discard(pod.id)
        self.ips.release(pod.ip)

    def bind(self, pod: PodState, node: NodeState) -> None:
        if pod.node_id is not None:
            self.unbind(pod)
        self.pending.pop(pod.id, None)
        pod.node_id = node.id
        self._attach(pod, node)

    def unbind(self, pod: PodState) -> NodeState | None:
        """Detach a pod from its node (books and generation); it becomes pending."""
        if pod.node_id is None:
            return None
        node = self.nodes[pod.node_id]
        self.topology.unbound(pod, node)
        node.pod_ids.discard(pod.id)
        node.allocated = node.allocated - pod.request
        node.generation += 1
        pod.node_id = None
        pod.containers = {}
        self.pending[pod.id] = None
        self.reindex(node)
        return node

    def _attach(self, pod: PodState, node: NodeState) -> None:
        self.topology.bound(pod, node)
        node.pod_ids.add(pod.id)
        node.allocated = node.allocated + pod.request
        node.generation += 1
        self.reindex(node)

    def pods_of(self, node: NodeState) -> list[PodState]:
        return [self.pods[p] for p in node.pod_ids]

    def node_name(self, node_id: int | None) -> str | None:
        if node_id is None:
            return None
        node = self.nodes.get(node_id)
        return node.name if node else None

    def pod_view(self, pod: PodState) -> PodView:
        return pod.view(self.node_name(pod.node_id))

    def pending_pods(self) -> Iterable[PodState]:
        return (self.pods[p] for p in self.pending)

    def pod_by_name(self, namespace: str, name: str) -> PodState | None:
        pod_id = self.pod_ids.get((namespace, name))
        return None if pod_id is None else self.pods[pod_id]

    def owner_of(self, pod: PodState) -> ReplicaSetState | None:
        owner = pod.spec.owner
        if owner is None or owner.kind != "ReplicaSet":
            return None
        return self.replicasets.get(owner.id)

    # ---- workloads ---------------------------------------------------------------------

    def add_replicaset(self, rs: ReplicaSetState) -> None:
        self.replicasets[rs.id] = rs
        self.replicaset_ids[(rs.namespace, rs.name)] = rs.id
        if rs.owner is not None and rs.owner.id in self.deployments:
            self.deployments[rs.owner.id].replicaset_ids.add(rs.id)

    def remove_replicaset(self, rs: ReplicaSetState) -> None:
        if rs.pod_ids:
            raise RuntimeError(f"replicaset {rs.name} still owns pods")  # a bug, never input
        del self.replicasets[rs.id]
        del self.replicaset_ids[(rs.namespace, rs.name)]
        if rs.owner is not None and rs.owner.id in self.deployments:
            self.deployments[rs.owner.id].replicaset_ids.discard(rs.id)

    def add_deployment(self, d: DeploymentState) -> None:
        self.deployments[d.id] = d
        self.deployment_ids[(d.namespace, d.name)] = d.id

    def remove_deployment(self, d: DeploymentState) -> None:
        if d.replicaset_ids:
            raise RuntimeError(f"deployment {d.name} still owns replicasets")
        del self.deployments[d.id]
        del self.deployment_ids[(d.namespace, d.name)]

    # ---- services ----------------------------------------------------------------------

    def add_service(self, svc: ServiceState) -> None:
        """Index a Service whose address and node ports are already reserved."""
        self.services[svc.id] = svc
        self.service_ids[(svc.namespace, svc.name)] = svc.id
        self.namespace_services.setdefault(svc.namespace, set()).add(svc.id)

    def remove_service(self, svc: ServiceState) -> None:
        del self.services[svc.id]
        del self.service_ids[(svc.namespace, svc.name)]
        self.namespace_services.get(svc.namespace, set()).discard(svc.id)

    def service_env(
        self, namespace: str, created_by: datetime | None = None
    ) -> tuple[tuple[str, str], ...]:
        """The service variables of a pod of ``namespace`` (only Services created by
        ``created_by`` when given: a pod loaded again gets those older than itself)."""
        found = [
            (svc.spec, svc.cluster_ip) for svc in self.services_in(namespace)
            if created_by is None or svc.created_at <= created_by
        ]  # fmt: skip
        return service_env(found) if found else ()

    def services_in(self, namespace: str) -> list[ServiceState]:
        return [self.services[s] for s in sorted(self.namespace_services.get(namespace, ()))]

    def endpoint(self, svc: ServiceState, pod: PodState) -> Endpoint | None:
        """The pod's endpoint in the Service now (services.endpoint_of's rule)."""
        node = self.nodes.get(pod.node_id) if pod.node_id is not None else None
        return endpoint_of(
            svc.spec, pod.spec, pod_id=pod.id, ip=pod.ip, phase=pod.phase,
            pod_ready=pod.reported_ready(), node_id=pod.node_id,
            node_name=node.name if node is not None else None,
            node_status=node.status if node is not None else None,
        )  # fmt: skip

    def derive_endpoints(self, svc: ServiceState) -> dict[int, Endpoint]:
        """Every endpoint of the Service, from a scan of its namespace's pods."""
        out = {}
        for pod in self.pods_in(svc.namespace):
            ep = self.endpoint(svc, pod)
            if ep is not None:
                out[pod.id] = ep
        return out

    def pods_in(self, namespace: str) -> list[PodState]:
        return [self.pods[p] for p in sorted(self.namespace_pods.get(namespace, ()))]
