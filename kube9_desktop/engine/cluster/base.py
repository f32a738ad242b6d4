"""The cluster's shared parts: the working copy, the store, the scheduler's choice, views, load.

Operations live beside this file, one file per kind of object (``nodes.py``, ``pods.py``,
``namespaces.py``) plus ``placement.py`` for moving pods; each is a function of an open
``Txn`` so that operations compose into one commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kube9_desktop.engine.clock import Clock
from kube9_desktop.engine.cluster import services as service_ops
from kube9_desktop.engine.cluster.txn import Txn, run_transaction
from kube9_desktop.engine.constraints import NO_CONSTRAINTS, PodConstraints
from kube9_desktop.engine.errors import NotFound
from kube9_desktop.engine.events import EventBus
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE, ObjectRef
from kube9_desktop.engine.model import (
    ContainerStatus,
    Decision,
    NodeStatus,
    NodeType,
    NodeView,
    PodPhase,
    PodView,
    Resources,
    StaleCopy,
)
from kube9_desktop.engine.priority import PreemptionPolicy, PriorityClassSpec, PriorityClassView
from kube9_desktop.engine.scheduler import STRATEGIES, candidate, schedule
from kube9_desktop.engine.scheduler.topology import topology_check
from kube9_desktop.engine.services import ServicePort, ServiceSpec
from kube9_desktop.engine.state import (
    ClusterState,
    DeploymentState,
    NamespaceState,
    NodeState,
    OpenIncident,
    PodState,
    ReplicaSetState,
    ServiceState,
)
from kube9_desktop.engine.store.store import Loaded, Store
from kube9_desktop.engine.workloads import (
    DeploymentSpec,
    DeploymentStatus,
    LabelSelector,
    PodTemplate,
    ReplicaSetSpec,
    Strategy,
)


def epoch_generation() -> int:
    """Generations start from the clock so they never repeat across engine restarts."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class ClusterConfig:
    scheduler: str = "best-fit"
    explain_limit: int = 64  # explain every node in clusters up to this size
    runtime: str = "virtual"


class ClusterBase:
    def __init__(
        self, store: Store, clock: Clock, bus: EventBus, config: ClusterConfig | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus
        self.config = config or ClusterConfig()
        self.state = ClusterState()
        self.resource_version = 0
        self.open_txn: Txn | None = None
        self.tokens: dict[int, str] = {}  # plaintext node tokens issued by this process
        self.deleted_token_hashes: dict[int, str] = {}  # so deleted nodes' agents hear "stop"
        # Heartbeat times, written in batches by flush(); everything else commits at once.
        self.dirty_heartbeats: dict[int, datetime] = {}
        # Wired by the engine to the fault injector's own books (shown on node views).
        self.fault_labels: Callable[[int], tuple[str, ...]] = lambda _node_id: ()
        # Is (address, ports) held by another program on this machine (another engine's
        # Service)? A new Service's cluster IP skips such addresses. Set by the engine.
        self.address_taken: Callable[[str, tuple[int, ...]], bool] = lambda _ip, _ports: False
        self.fault_components: Callable[[int], Mapping[str, str]] = lambda _node_id: {}
        # And to the split-brain books: copies an unreachable node still runs.
        self.stale_copies: Callable[[int], tuple[StaleCopy, ...]] = lambda _node_id: ()
        # Run by every transaction after its steps, before its commit: what derives from the
        # steps' changes (a Service's endpoints follow its pods in the same commit).
        self.last_steps: tuple[Callable[[Txn], None], ...] = (service_ops.sync_endpoints,)

    def transaction(self) -> AbstractContextManager[Txn]:
        """Open (or join) the transaction an operation's steps run in; commits once at the end."""
        return run_transaction(self)

    # ---- lookups -----------------------------------------------------------------------

    def node(self, node_id: int) -> NodeState:
        node = self.state.nodes.get(node_id)
        if node is None:
            raise NotFound(f"Node {node_id} not found", node_id=node_id)
        return node

    def pod(self, pod_id: int) -> PodState:
        pod = self.state.pods.get(pod_id)
        if pod is None:
            raise NotFound(f"Pod {pod_id} not found", pod_id=pod_id)
        return pod

    def namespace(self, name: str) -> NamespaceState:
        ns = self.state.namespaces.get(name)
        if ns is None:
            raise NotFound(
                f"Namespace '{name}' not found: create it first (POST /namespaces/)",
                field="namespace",
            )
        return ns

    # ---- views -------------------------------------------------------------------------

    def node_view(self, node: NodeState, now: datetime | None = None) -> NodeView:
        view = node.view(
            now or self.clock.now(), self.fault_labels(node.id), self.fault_components(node.id)
        )
        stale = self.stale_copies(node.id)
        return replace(view, stale_pods=stale) if stale else view

    def node_views(self) -> list[NodeView]:
        now = self.clock.now()
        return [self.node_view(n, now) for n in self.state.nodes.values()]

    def pod_view(self, pod: PodState) -> PodView:
        return self.state.pod_view(pod)

    def pod_views(self) -> list[PodView]:
        return [self.state.pod_view(p) for p in self.state.pods.values()]

    # ---- scheduling --------------------------------------------------------------------

    def decide(
        self,
        request: Resources,
        constraints: PodConstraints = NO_CONSTRAINTS,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        labels: Mapping[str, str] | None = None,
    ) -> Decision:
        """The strategy's choice from the indexes, explained by a scan in small clusters.

        ``namespace`` and ``labels`` are the pod's: its own inter-pod rules and the existing
        pods' anti-affinity are checked against them (``scheduler/topology.py``).
        """
        strategy = self.config.scheduler
        at = self.clock.now()
        state = self.state
        check = None
        if constraints.interpod is not None or state.topology.has_anti:
            check = topology_check(
                namespace, labels or {}, constraints, state.topology, state.nodes
            )
        nodes = list(state.nodes.values())
        if len(nodes) <= self.config.explain_limit:
            # A small cluster is scanned anyway, to explain every node; the scan chooses as
            # the index would (tests/engine hold the two to agreement), so it alone decides.
            return schedule(request, nodes, strategy, constraints=constraints, check=check, at=at)
        chosen = state.indexes.pick(STRATEGIES[strategy], request, constraints, state.nodes, check)
        if chosen is None:
            return schedule(request, nodes, strategy, constraints=constraints, check=check, at=at)
        node = state.nodes[chosen]
        return Decision(
            strategy=strategy,
            node_id=chosen,
            node_name=node.name,
            candidates=(candidate(node, request, constraints, check),),
            omitted=len(nodes) - 1,
            at=at,
        )

    def set_scheduler(self, strategy: str) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown scheduler {strategy!r}")
        self.config = replace(self.config, scheduler=strategy)

    # ---- loading -----------------------------------------------------------------------

    def load(self) -> Loaded:
        """Fill memory from the store (once, at start): every object comes back."""
        loaded = self.store.load()
        gen = epoch_generation()
        for ns in loaded.namespaces:
            self.state.namespaces[ns.name] = NamespaceState(
                ns.id, ns.uid, ns.name, ns.created_at, dict(ns.labels), dict(ns.annotations),
                ns.resource_version,
            )  # fmt: skip
        for row in loaded.nodes:
            status = NodeStatus(row.status)
            if status is NodeStatus.RECOVERING:
                status = NodeStatus.UNHEALTHY  # the restart under way died with the old engine
            self.state.add_node(
                NodeState(
                    id=row.id,
                    uid=row.uid,
                    name=row.name,
                    node_type=NodeType(row.node_type),
                    capacity=Resources(row.cpu_m, row.mem_mi),
                    status=status,
                    token_hash=row.token_hash,
                    created_at=row.created_at,
                    runtime=row.runtime,
                    status_reason=row.status_reason,
                    components=dict(row.components),
                    runtime_handle=row.runtime_handle,
                    labels=dict(row.labels),
                    annotations=dict(row.annotations),
                    cordoned=row.unschedulable,
                    taints=row.taints,
                    recovery_attempts=row.recovery_attempts,
                    resource_version=row.resource_version,
                    generation=gen,
                    last_heartbeat_at=row.last_heartbeat,
                    engine=row.engine,
                )
            )
        for drow in loaded.deployments:
            self.state.add_deployment(deployment_record(drow))
        for rsrow in loaded.replicasets:
            self.state.add_replicaset(replicaset_record(rsrow))
        for prow in loaded.pods:
            pod = PodState(
                id=prow.id,
                uid=prow.uid,
                spec=prow.spec,
                ip=prow.ip,
                phase=PodPhase(prow.phase),
                created_at=prow.created_at,
                node_id=prow.node_id if prow.node_id in self.state.nodes else None,
                decision=Decision.from_json(prow.decision) if prow.decision else None,
                reason=prow.reason,
                last_report=prow.last_report,
                resource_version=prow.resource_version,
                ready_since=prow.ready_since,
            )
            if pod.node_id is None and pod.phase is not PodPhase.PENDING:
                pod.phase = PodPhase.PENDING  # its node is gone: it waits for room
            for c in prow.report or ():
                container = container_status(c)
                pod.containers[container.name] = container
            self.state.add_pod(pod)
        for srow in loaded.services:
            svc = service_record(srow)
            self.state.cluster_ips.reserve(svc.cluster_ip)
            self.state.node_ports.used.update(svc.spec.node_ports())
            self.state.add_service(svc)
        for svc in self.state.services.values():
            svc.endpoints = self.state.derive_endpoints(svc)
        if self.state.services:
            for pod in self.state.pods.values():
                pod.service_env = self.state.service_env(pod.namespace, pod.created_at)
        for crow in loaded.priority_classes:
            cspec = PriorityClassSpec(
                crow["name"], int(crow["value"]), PreemptionPolicy(crow["preemption_policy"]),
                bool(crow["global_default"]), crow["description"] or "",
            )  # fmt: skip
            self.state.priority_classes[cspec.name] = PriorityClassView(
                crow["id"], crow["uid"], cspec, crow["created_at"], crow["resource_version"] or 0
            )
        for inc in loaded.open_incidents:
            if inc.node_id in self.state.nodes:
                self.state.open_incidents[inc.node_id] = OpenIncident(inc.id, inc.mode)
        self.resource_version = loaded.resource_version
        return loaded


def container_status(c: object) -> ContainerStatus:
    """A stored or reported container status (a JSON object) as a ContainerStatus."""
    get = c.get if isinstance(c, dict) else (lambda _k, d=None: d)
    exit_code = get("exit_code")
    backoff, since = get("backoff_s"), get("backoff_since")
    timed = isinstance(backoff, int | float) and isinstance(since, int | float)
    backoff_s = float(backoff) if isinstance(backoff, int | float) and timed else None
    backoff_since = (
        datetime.fromtimestamp(since, UTC) if isinstance(since, int | float) and timed else None
    )
    return ContainerStatus(
        name=str(get("name", "")),
        state=str(get("state", "unknown")),
        exit_code=exit_code if isinstance(exit_code, int) else None,
        restarts=int(get("restarts", 0) or 0),
        reason=str(get("reason", "") or ""),
        ready=get("ready") if isinstance(get("ready"), bool) else None,
        last_reason=str(get("last_reason", "") or ""),
        backoff_s=backoff_s,
        backoff_since=backoff_since,
    )


def replicaset_record(row: Mapping[str, Any]) -> ReplicaSetState:
    owner = (
        ObjectRef("Deployment", row["owner_id"], row["owner_uid"] or "", row["owner_name"] or "",
                  row["namespace"])
        if row["owner_id"] is not None else None
    )  # fmt: skip
    return ReplicaSetState(
        id=row["id"],
        uid=row["uid"],
        spec=ReplicaSetSpec(
            name=row["name"],
            namespace=row["namespace"],
            replicas=row["replicas"],
            selector=LabelSelector.from_json(row["selector"]),
            template=PodTemplate.from_json(row["template"]),
            min_ready_seconds=row["min_ready_seconds"],
            labels=dict(row["labels"] or {}),
            annotations=dict(row["annotations"] or {}),
        ),
        created_at=row["created_at"],
        owner=owner,
        revision=row["revision"],
        template_hash=row["template_hash"],
        generation=row["generation"],
        resource_version=row["resource_version"] or 0,
    )


def service_record(row: Mapping[str, Any]) -> ServiceState:
    return ServiceState(
        id=row["id"],
        uid=row["uid"],
        spec=ServiceSpec(
            name=row["name"],
            namespace=row["namespace"],
            ports=tuple(ServicePort.from_json(p) for p in row["ports"] or ()),
            selector=dict(row["selector"] or {}),
            type=row["type"],
            session_affinity=row["session_affinity"],
            labels=dict(row["labels"] or {}),
            annotations=dict(row["annotations"] or {}),
        ),
        cluster_ip=row["cluster_ip"],
        created_at=row["created_at"],
        resource_version=row["resource_version"] or 0,
    )


def deployment_record(row: Mapping[str, Any]) -> DeploymentState:
    return DeploymentState(
        id=row["id"],
        uid=row["uid"],
        spec=DeploymentSpec(
            name=row["name"],
            namespace=row["namespace"],
            replicas=row["replicas"],
            selector=LabelSelector.from_json(row["selector"]),
            template=PodTemplate.from_json(row["template"]),
            strategy=Strategy.from_json(row["strategy"]),
            min_ready_seconds=row["min_ready_seconds"],
            progress_deadline_seconds=row["progress_deadline_seconds"],
            revision_history_limit=row["revision_history_limit"],
            paused=bool(row["paused"]),
            labels=dict(row["labels"] or {}),
            annotations=dict(row["annotations"] or {}),
        ),
        created_at=row["created_at"],
        status=DeploymentStatus.from_json(row["status"] or {}),
        revision=row["revision"],
        generation=row["generation"],
        collision_count=row["collision_count"],
        resource_version=row["resource_version"] or 0,
    )
