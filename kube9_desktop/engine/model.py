"""The cluster's vocabulary: enums and frozen views shared by the engine, the API and the UI.

Units inside the engine: CPU in integer millicores (``cpu_m``), memory in integer MiB (``mem_mi``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, NotRequired

from typing_extensions import TypedDict

from kube9_desktop.agent.config import MASTER_COMPONENTS as AGENT_MASTER_COMPONENTS
from kube9_desktop.agent.config import WORKER_COMPONENTS as AGENT_WORKER_COMPONENTS
from kube9_desktop.engine.constraints import (
    NO_CONSTRAINTS,
    NodeAffinity,
    PodConstraints,
    Taint,
    Toleration,
)
from kube9_desktop.engine.interpod import InterPodRules
from kube9_desktop.engine.jsontypes import Cores, Timestamp, closed, one_of
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE, ObjectRef
from kube9_desktop.engine.priority import PreemptionPolicy


class NodeType(StrEnum):
    WORKER = "worker"
    MASTER = "master"


class NodeStatus(StrEnum):
    INITIALIZING = "initializing"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    RECOVERING = "recovering"
    FAILED = "failed"


class PodPhase(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    TERMINATING = "terminating"


# Component names are wire vocabulary: the agent (which ships alone) owns them.
WORKER_COMPONENTS = AGENT_WORKER_COMPONENTS
MASTER_COMPONENTS = AGENT_MASTER_COMPONENTS
# A node whose kubelet or container runtime is down cannot run pods (it is NotReady).
REQUIRED_COMPONENTS: tuple[str, ...] = ("kubelet", "container_runtime")
COMPONENT_RUNNING = "running"

VOLUME_TYPES: tuple[str, ...] = ("emptyDir", "configMap", "hostPath", "secret")
CONFIG_TYPES: tuple[str, ...] = ("env", "secret")
SECRET_MASK = "******"
MIB_PER_CORE_DEFAULT = 2048


def components_for(node_type: NodeType) -> tuple[str, ...]:
    return MASTER_COMPONENTS if node_type is NodeType.MASTER else WORKER_COMPONENTS


TERMINATION_GRACE_S = 30.0  # Kubernetes' default terminationGracePeriodSeconds
TERMINATION_GRACE_MAX_S = 3600.0


@dataclass(frozen=True, slots=True)
class Resources:
    """An amount of CPU (millicores) and memory (MiB)."""

    cpu_m: int = 0
    mem_mi: int = 0

    def __add__(self, other: Resources) -> Resources:
        return _resources(self.cpu_m + other.cpu_m, self.mem_mi + other.mem_mi)

    def __sub__(self, other: Resources) -> Resources:
        return _resources(self.cpu_m - other.cpu_m, self.mem_mi - other.mem_mi)

    def covers(self, other: Resources) -> bool:
        return self.cpu_m >= other.cpu_m and self.mem_mi >= other.mem_mi


_SET_CPU = Resources.__dict__["cpu_m"].__set__
_SET_MEM = Resources.__dict__["mem_mi"].__set__


def _resources(cpu_m: int, mem_mi: int) -> Resources:
    """``Resources(cpu_m, mem_mi)`` without the frozen ``__init__``'s two ``object.__setattr__``
    calls: arithmetic runs on every bind and index move, and this halves its cost."""
    r = object.__new__(Resources)
    _SET_CPU(r, cpu_m)
    _SET_MEM(r, mem_mi)
    return r


def cores(cpu_m: int) -> float:
    """Millicores as the API's cores (4000 -> 4.0, 500 -> 0.5)."""
    if type(cpu_m) is int:
        return cpu_m / 1000  # already the float nearest the 3-decimal value: what round gives
    return round(cpu_m / 1000, 3)


def format_cpu(cpu_m: int) -> str:
    """Millicores for people: 2000 -> "2", 500 -> "0.5"."""
    return f"{cpu_m / 1000:g}"


def format_mem(mem_mi: int) -> str:
    """MiB for people: 512 -> "512Mi", 2048 -> "2Gi", 1536 -> "1.5Gi"."""
    if mem_mi >= 1024:
        return f"{mem_mi / 1024:g}Gi"
    return f"{mem_mi}Mi"


# ---- specs: what a user asked for (validated) ----------------------------------------------


PROBE_KINDS: tuple[str, ...] = ("exec", "tcp_socket", "http_get")


@closed
class PortJson(TypedDict):
    name: str
    container_port: int
    protocol: Annotated[str, one_of("TCP")]


@closed
class ExecActionJson(TypedDict):
    command: list[str]


@closed
class TcpSocketActionJson(TypedDict):
    port: int | str


@closed
class HttpGetActionJson(TypedDict):
    path: str
    port: int | str


@closed
class ProbeJson(TypedDict):
    """As the request gives it: one of exec, tcp_socket, http_get, with its timing."""

    initial_delay_s: float
    period_s: float
    timeout_s: float
    failure_threshold: int
    success_threshold: int
    exec: NotRequired[ExecActionJson]
    tcp_socket: NotRequired[TcpSocketActionJson]
    http_get: NotRequired[HttpGetActionJson]


@dataclass(frozen=True, slots=True)
class Probe:
    """A readiness or liveness check the node's agent runs, with Kubernetes' defaults.

    ``exec``: the command exits 0; ``tcp_socket``: a connection to the pod's address and
    ``port`` opens; ``http_get``: GET ``path`` on ``port`` answers 200-399. Checked every
    ``period_s`` after ``initial_delay_s``; ``failure_threshold`` failures in a row fail it,
    ``success_threshold`` successes pass it again.
    """

    kind: str
    command: tuple[str, ...] = ()
    port: int | str | None = None  # a number, or the name of a container port
    path: str = "/"
    initial_delay_s: float = 0.0
    period_s: float = 10.0
    timeout_s: float = 1.0
    failure_threshold: int = 3
    success_threshold: int = 1

    def to_json(self) -> ProbeJson:
        out: ProbeJson = {
            "initial_delay_s": self.initial_delay_s,
            "period_s": self.period_s,
            "timeout_s": self.timeout_s,
            "failure_threshold": self.failure_threshold,
            "success_threshold": self.success_threshold,
        }
        if self.kind == "exec":
            out["exec"] = {"command": list(self.command)}
            return out
        assert self.port is not None  # tcp_socket and http_get always name a port
        if self.kind == "tcp_socket":
            out["tcp_socket"] = {"port": self.port}
        else:
            out["http_get"] = {"path": self.path, "port": self.port}
        return out

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Probe:
        kind = next(k for k in PROBE_KINDS if k in data)
        body = data[kind] or {}
        return Probe(
            kind=kind,
            command=tuple(body.get("command", ())),
            port=body.get("port"),
            path=str(body.get("path", "/")),
            initial_delay_s=float(data.get("initial_delay_s", 0.0)),
            period_s=float(data.get("period_s", 10.0)),
            timeout_s=float(data.get("timeout_s", 1.0)),
            failure_threshold=int(data.get("failure_threshold", 3)),
            success_threshold=int(data.get("success_threshold", 1)),
        )


@dataclass(frozen=True, slots=True)
class ContainerPort:
    container_port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    image: str
    cpu_m: int = 0
    mem_mi: int = 0
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    readiness: Probe | None = None
    liveness: Probe | None = None
    ports: tuple[ContainerPort, ...] = ()

    def extra_json(self) -> dict[str, Any] | None:
        """Probes and ports as stored beside the container (None when it has none)."""
        if self.readiness is None and self.liveness is None and not self.ports:
            return None
        return {
            "readiness": self.readiness.to_json() if self.readiness else None,
            "liveness": self.liveness.to_json() if self.liveness else None,
            "ports": [
                {"name": p.name, "container_port": p.container_port, "protocol": p.protocol}
                for p in self.ports
            ],
        }

    def with_extra(self, extra: Mapping[str, Any] | None) -> ContainerSpec:
        """This container with the probes and ports of a stored ``extra_json``."""
        if not extra:
            return self
        return replace(
            self,
            readiness=Probe.from_json(extra["readiness"]) if extra.get("readiness") else None,
            liveness=Probe.from_json(extra["liveness"]) if extra.get("liveness") else None,
            ports=tuple(
                ContainerPort(int(p["container_port"]), str(p.get("name", "")),
                              str(p.get("protocol", "TCP")))
                for p in extra.get("ports") or ()
            ),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    type: str = "emptyDir"
    size: int | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ConfigItem:
    name: str
    type: str
    key: str
    value: str

    @property
    def is_secret(self) -> bool:
        return self.type == "secret"

    @property
    def shown_value(self) -> str:
        return SECRET_MASK if self.is_secret else self.value


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    node_type: NodeType
    capacity: Resources
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    # None: the default (a master gets the control-plane NoSchedule taint, a worker none)
    taints: tuple[Taint, ...] | None = None
    # The Docker engine it runs on (engines.py); None: chosen by the spread rule
    engine: str | None = None


@dataclass(frozen=True, slots=True)
class PodSpec:
    name: str
    request: Resources
    containers: tuple[ContainerSpec, ...]
    volumes: tuple[VolumeSpec, ...] = ()
    config: tuple[ConfigItem, ...] = ()
    namespace: str = DEFAULT_NAMESPACE
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner: ObjectRef | None = None  # the ReplicaSet that keeps it, if any
    # SIGTERM to SIGKILL when it stops (Kubernetes' terminationGracePeriodSeconds, default 30)
    termination_grace_s: float = TERMINATION_GRACE_S
    tolerations: tuple[Toleration, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)  # label -> value, all must match
    node_affinity: NodeAffinity | None = None
    interpod: InterPodRules | None = None  # pod (anti-)affinity and topology spread
    # Its PriorityClass ("" = the default class, if any); priority and policy are resolved
    # from it when the pod is created (engine/priority.py) and fixed for the pod's life.
    priority_class_name: str = ""
    priority: int = 0
    preemption_policy: PreemptionPolicy = PreemptionPolicy.PREEMPT_LOWER

    @property
    def constraints(self) -> PodConstraints:
        if (
            not self.tolerations and not self.node_selector and not self.node_affinity
            and not self.interpod
        ):  # fmt: skip
            return NO_CONSTRAINTS
        return PodConstraints(
            self.tolerations, self.node_selector, self.node_affinity, self.interpod
        )

    @property
    def kind(self) -> str:
        return "multi-container" if len(self.containers) > 1 else "single-container"


# ---- views: snapshots of live state, safe to hand to anyone ---------------------------------


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """What the node's agent last said about one container."""

    name: str
    state: str = "waiting"  # waiting | running | terminated | crashloop | unknown
    exit_code: int | None = None
    restarts: int = 0
    reason: str = ""
    ready: bool | None = None  # the readiness probe's verdict; None: no probe (running = ready)
    last_reason: str = ""  # how its last run ended: Error, Completed, OOMKilled
    backoff_s: float | None = None  # the restart back-off it waits out (None: not backing off)
    backoff_since: datetime | None = None  # when the engine first heard of that back-off

    @property
    def next_restart_at(self) -> datetime | None:
        if self.backoff_s is None or self.backoff_since is None:
            return None
        return self.backoff_since + timedelta(seconds=self.backoff_s)

    @property
    def crashing(self) -> bool:
        """Waiting out a restart back-off after its process exited: CrashLoopBackOff."""
        return self.state == "waiting" and self.backoff_s is not None

    @property
    def is_ready(self) -> bool:
        return self.state == "running" and self.ready is not False


@closed
class CandidateJson(TypedDict):
    node_id: int
    node: str
    fits: bool
    reasons: list[str]
    cpu_cores_free: Cores
    memory_mb_free: int
    # the ranking's parts that apply to the pod (scheduler.score_parts): taints, node and pod
    # affinity, topology spread
    scores: dict[str, int]


@closed
class VictimJson(TypedDict):
    pod_id: int
    pod: str  # namespace/name
    priority: int


@closed
class PreemptionNodeJson(TypedDict):
    node_id: int
    node: str
    # chosen | candidate (it would have needed ``victims``) | not_helpful | no_victims
    outcome: str
    victims: list[VictimJson]
    reasons: list[str]  # why preemption cannot help there (not_helpful, no_victims)


@closed
class PreemptionJson(TypedDict):
    priority: int  # the preemptor's
    node: str | None  # the node nominated (status.nominatedNodeName); None: nowhere
    node_id: int | None
    victims: list[VictimJson]
    nodes: list[PreemptionNodeJson]  # every node, the chosen one first


@closed
class DecisionJson(TypedDict):
    strategy: str
    node: str | None
    node_id: int | None
    candidates: list[CandidateJson]
    omitted: int
    at: Timestamp | None
    # present when the pod fitted nowhere and looked for lower-priority pods to preempt
    preemption: NotRequired[PreemptionJson]


@dataclass(frozen=True, slots=True)
class CandidateResult:
    """One node as the scheduler saw it for one pod."""

    node_id: int
    node_name: str
    fits: bool
    reasons: tuple[str, ...] = ()
    free_cpu_m: int = 0
    free_mem_mi: int = 0
    scores: tuple[tuple[str, int], ...] = ()  # (part, value): see scheduler.score_parts

    def to_json(self) -> CandidateJson:
        return {
            "node_id": self.node_id,
            "node": self.node_name,
            "fits": self.fits,
            "reasons": list(self.reasons),
            "cpu_cores_free": cores(self.free_cpu_m),
            "memory_mb_free": self.free_mem_mi,
            "scores": dict(self.scores),
        }


@dataclass(frozen=True, slots=True)
class Victim:
    pod_id: int
    pod: str  # namespace/name
    priority: int

    def to_json(self) -> VictimJson:
        return {"pod_id": self.pod_id, "pod": self.pod, "priority": self.priority}


@dataclass(frozen=True, slots=True)
class PreemptionNode:
    """One node as preemption saw it: chosen, a candidate that lost, or no help."""

    node_id: int
    node_name: str
    outcome: str  # chosen | candidate | not_helpful | no_victims
    victims: tuple[Victim, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_json(self) -> PreemptionNodeJson:
        return {
            "node_id": self.node_id, "node": self.node_name, "outcome": self.outcome,
            "victims": [v.to_json() for v in self.victims], "reasons": list(self.reasons),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Preemption:
    """What preemption found for a pod that fits nowhere: the node nominated, its victims,
    and every node's outcome (scheduler/preemption.py)."""

    priority: int
    node_id: int | None
    node_name: str | None
    victims: tuple[Victim, ...] = ()
    nodes: tuple[PreemptionNode, ...] = ()

    def to_json(self) -> PreemptionJson:
        return {
            "priority": self.priority, "node": self.node_name, "node_id": self.node_id,
            "victims": [v.to_json() for v in self.victims],
            "nodes": [n.to_json() for n in self.nodes],
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Preemption:
        def victims(items: Any) -> tuple[Victim, ...]:
            return tuple(
                Victim(int(v.get("pod_id", 0)), str(v.get("pod", "")), int(v.get("priority", 0)))
                for v in items or ()
            )

        return Preemption(
            priority=int(data.get("priority", 0)),
            node_id=data.get("node_id"),
            node_name=data.get("node"),
            victims=victims(data.get("victims")),
            nodes=tuple(
                PreemptionNode(
                    int(n.get("node_id", 0)), str(n.get("node", "")), str(n.get("outcome", "")),
                    victims(n.get("victims")), tuple(n.get("reasons") or ()),
                )
                for n in data.get("nodes") or ()
            ),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """The scheduler's answer: the chosen node, or why no node fits; always with the candidates.

    ``candidates`` lists the nodes it looked at (all of them in small clusters; the chosen one
    plus a sample in large ones, ``omitted`` counts the rest).
    """

    strategy: str
    node_id: int | None
    node_name: str | None
    candidates: tuple[CandidateResult, ...] = ()
    omitted: int = 0
    at: datetime | None = None
    preemption: Preemption | None = None

    @property
    def reasons(self) -> dict[str, list[str]]:
        return {c.node_name: list(c.reasons) for c in self.candidates if not c.fits}

    def to_json(self) -> DecisionJson:
        out: DecisionJson = {
            "strategy": self.strategy,
            "node": self.node_name,
            "node_id": self.node_id,
            "candidates": [c.to_json() for c in self.candidates],
            "omitted": self.omitted,
            "at": self.at.isoformat() if self.at else None,
        }
        if self.preemption is not None:
            out["preemption"] = self.preemption.to_json()
        return out

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Decision:
        cands = tuple(
            CandidateResult(
                node_id=int(c.get("node_id", 0)),
                node_name=str(c.get("node", "")),
                fits=bool(c.get("fits")),
                reasons=tuple(c.get("reasons", ())),
                free_cpu_m=round(float(c.get("cpu_cores_free", 0)) * 1000),
                free_mem_mi=int(c.get("memory_mb_free", 0)),
                scores=tuple((str(k), int(v)) for k, v in (c.get("scores") or {}).items()),
            )
            for c in data.get("candidates", ())
        )
        at = data.get("at")
        return Decision(
            strategy=str(data.get("strategy", "")),
            node_id=data.get("node_id"),
            node_name=data.get("node"),
            candidates=cands,
            omitted=int(data.get("omitted", 0)),
            at=datetime.fromisoformat(at) if at else None,
            preemption=Preemption.from_json(pre) if (pre := data.get("preemption")) else None,
        )


DEFAULT_POD_LIMIT = 110  # as a kubelet's --max-pods
POD_LIMIT_ANNOTATION = "kube9.io/max-pods"
POD_LIMIT_MAX = 100_000


def pod_limit_of(annotations: Mapping[str, str]) -> int:
    """The most pods a node may hold: its ``kube9.io/max-pods`` annotation (1..100000), else
    110 as a kubelet's ``--max-pods``."""
    raw = annotations.get(POD_LIMIT_ANNOTATION)
    return DEFAULT_POD_LIMIT if raw is None else _pod_limit(raw)


@functools.lru_cache(maxsize=256)
def _pod_limit(raw: str) -> int:
    """An annotation's value as a pod limit (the scheduler asks for every node it weighs)."""
    if len(raw) <= 6 and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= POD_LIMIT_MAX:
        return int(raw)
    return DEFAULT_POD_LIMIT


@dataclass(frozen=True, slots=True)
class StaleCopy:
    """A pod still running on an unreachable node after the engine moved or replaced it.

    ``replaced_by`` is the pod that took its place: the same id for a bare pod that moved,
    the ReplicaSet's new pod for an owned one (None while none exists yet or it was deleted).
    """

    pod_id: int
    name: str
    namespace: str
    node_id: int
    node_name: str
    since: datetime  # when the node was found silent (the copy's last report is before)
    replaced_by: int | None = None
    replaced_by_name: str | None = None
    replaced_by_node: str | None = None  # None: pending, or no replacement


@dataclass(frozen=True, slots=True)
class NodeGauge:
    """What the window's charts draw of a node, once a second for every node: a small part of
    its ``NodeView``, read without building the rest (pod ids, labels, components, faults)."""

    id: int
    name: str
    node_type: NodeType
    status: NodeStatus
    capacity: Resources
    allocated: Resources
    seconds_since_heartbeat: float | None

    @staticmethod
    def of(view: NodeView) -> NodeGauge:
        return NodeGauge(
            view.id, view.name, view.node_type, view.status, view.capacity, view.allocated,
            view.seconds_since_heartbeat,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NodeView:
    id: int
    uid: str
    name: str
    node_type: NodeType
    capacity: Resources
    allocated: Resources
    status: NodeStatus
    status_reason: str
    components: Mapping[str, str]
    pod_ids: tuple[int, ...]
    last_heartbeat: datetime | None
    seconds_since_heartbeat: float | None
    recovery_attempts: int
    runtime: str
    runtime_handle: str | None
    faults: tuple[str, ...]
    created_at: datetime
    schedulable: bool = False
    cordoned: bool = False  # spec.unschedulable: no new pods (cordoned, or being deleted)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    resource_version: int = 0
    taints: tuple[Taint, ...] = ()
    deleting: bool = False  # cordoned by its deletion (seen only inside that commit)
    stale_pods: tuple[StaleCopy, ...] = ()  # split brain: copies it still runs, out of reach
    # The fault injector's books: component -> "failed" (injected) or "ended" (healed, its
    # agent not yet reporting it running); engine/components.py merges them with the report.
    component_faults: Mapping[str, str] = field(default_factory=dict)
    engine: str = "local"  # the Docker engine it runs on ("local": this machine's)

    @property
    def free(self) -> Resources:
        return self.capacity - self.allocated

    @property
    def pod_limit(self) -> int:
        """The most pods it may hold (``pod_limit_of``); the scheduler checks it."""
        return pod_limit_of(self.annotations)


@dataclass(frozen=True, slots=True)
class PodView:
    id: int
    uid: str
    name: str
    spec: PodSpec
    node_id: int | None
    node_name: str | None
    phase: PodPhase
    ip: str
    containers: tuple[ContainerStatus, ...]
    decision: Decision | None
    created_at: datetime
    reason: str = ""
    last_report: datetime | None = None
    resource_version: int = 0
    ready_since: datetime | None = None  # when the pod last became ready (None: not ready)

    @property
    def request(self) -> Resources:
        return self.spec.request

    @property
    def nominated_node_name(self) -> str | None:
        """The node its preemption made room on (status.nominatedNodeName)."""
        d = self.decision
        return d.preemption.node_name if d is not None and d.preemption is not None else None

    @property
    def ready(self) -> bool:
        return self.ready_since is not None

    @property
    def status_reason(self) -> str:
        """What kubectl's STATUS column would add: the stored reason (a failed pod's), else
        CrashLoopBackOff while a container waits out its restart back-off."""
        if self.reason:
            return self.reason
        return "CrashLoopBackOff" if any(c.crashing for c in self.containers) else ""

    @property
    def in_trouble(self) -> bool:
        """Failed, or a container in a crash loop: shown in the failure colour."""
        return self.phase is PodPhase.FAILED or any(c.crashing for c in self.containers)

    @property
    def owner(self) -> ObjectRef | None:
        return self.spec.owner

    @property
    def namespace(self) -> str:
        return self.spec.namespace

    @property
    def labels(self) -> Mapping[str, str]:
        return self.spec.labels

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.spec.annotations


@dataclass(frozen=True, slots=True)
class NamespaceView:
    id: int
    uid: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    created_at: datetime
    resource_version: int
    pod_count: int


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    nodes_by_status: Mapping[str, int]
    pods_by_phase: Mapping[str, int]
    capacity: Resources
    allocated: Resources
    node_count: int
    pod_count: int
    runtime: str
    runtime_reason: str = ""
    scheduler: str = "best-fit"
    heartbeats_per_s: float = 0.0
    evictions_paused: bool = False
    resource_version: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
