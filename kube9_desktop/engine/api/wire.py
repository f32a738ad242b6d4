"""The API's reply shapes, in the original Kube-9 field names: one TypedDict each.

serialize.py and the routes build them (mypy checks the keys and types); the OpenAPI document
shows them as response schemas (``Route.reply``); tests/api/test_responses.py validates real
replies against the served schemas. Shapes the engine itself builds live next to their
``to_json`` (EventJson, DecisionJson, IncidentJson). The heartbeat reply and the desired-pods
page are built by engine/heartbeat.py as plain dicts (the virtual runtime reads them as such);
their shapes here are held to them by those tests only.
"""

from __future__ import annotations

from typing import Annotated, NotRequired

from typing_extensions import TypedDict

from kube9_desktop.engine.constraints import NodeAffinityJson, TaintJson, TolerationJson
from kube9_desktop.engine.events import EventJson
from kube9_desktop.engine.interpod import InterPodRules, PodAffinityJson, SpreadConstraintJson
from kube9_desktop.engine.jsontypes import Cores, Digits, JsonObject, Timestamp, closed, one_of
from kube9_desktop.engine.meta import ObjectRefJson
from kube9_desktop.engine.model import (
    DecisionJson,
    NodeStatus,
    NodeType,
    PodPhase,
    PortJson,
    ProbeJson,
)
from kube9_desktop.engine.priority import PreemptionPolicy
from kube9_desktop.engine.timeline import IncidentDetailJson, IncidentJson
from kube9_desktop.engine.usage import UsageJson

__all__ = [
    "DecisionJson", "EventJson", "IncidentDetailJson", "IncidentJson", "JsonObject", "PortJson",
    "ProbeJson",
]  # fmt: skip

Labels = dict[str, str]
NodeStatusName = Annotated[str, one_of(NodeStatus)]
NodeTypeName = Annotated[str, one_of(NodeType)]
PhaseName = Annotated[str, one_of(PodPhase)]
PodType = Annotated[str, one_of("single-container", "multi-container")]
PreemptionPolicyName = Annotated[str, one_of(PreemptionPolicy)]

# ---- errors and plain replies ----------------------------------------------------------


@closed
class FieldErrorJson(TypedDict):
    field: str
    message: str


@closed
class ErrorJson(TypedDict):
    """Every error: ``error`` says what went wrong and what to do; the rest as it applies."""

    error: str
    field: NotRequired[str]  # the body field or query parameter at fault
    errors: NotRequired[list[FieldErrorJson]]  # every bad field of a body
    reasons: NotRequired[dict[str, list[str]]]  # why each node cannot take the pod
    node_id: NotRequired[int]
    pod_id: NotRequired[int]
    node: NotRequired[str]
    generation: NotRequired[int]  # the current one, when a stale one was asked for
    pods: NotRequired[list[str]]  # the pods in the way of a node's deletion
    should_stop_heartbeat: NotRequired[bool]  # a heartbeat for a node that is gone


@closed
class MessageJson(TypedDict):
    message: str


@closed
class HealthzJson(TypedDict):
    status: Annotated[str, one_of("ok")]


# ---- nodes -----------------------------------------------------------------------------


@closed
class NodeJson(TypedDict):
    id: int
    name: str
    node_type: NodeTypeName
    cpu_cores_total: Cores
    cpu_cores_avail: Cores
    memory_mb_total: int
    memory_mb_avail: int
    health_status: NodeStatusName
    status_reason: str
    components: dict[str, str]
    hosted_pods: int
    pod_ids: list[int]
    last_heartbeat: Timestamp | None
    seconds_since_heartbeat: float | None
    recovery_attempts: int
    runtime: str
    engine: str  # the Docker engine it runs on ("local": this machine's)
    container_id: str | None
    faults: list[str]
    schedulable: bool
    unschedulable: bool
    uid: str
    labels: Labels
    annotations: Labels
    creation_timestamp: Timestamp
    resource_version: Digits
    usage: UsageJson | None  # live usage its agent reports (null until it does)
    pod_limit: int  # most pods it may hold: kube9.io/max-pods, else 110 as Kubernetes
    stale_pods: list[StalePodJson]  # partitioned: copies it still runs, moved or replaced
    taints: list[TaintJson]  # a master has node-role.kubernetes.io/control-plane:NoSchedule


@closed
class NodeCordonJson(TypedDict):
    message: str
    changed: bool  # false: it already was so (nothing was written)
    node: NodeJson


@closed
class StalePodJson(TypedDict):
    pod_id: int  # the copy's pod (a bare pod that moved: the same id as its replacement)
    name: str
    namespace: str
    since: Timestamp  # when its node was found silent
    replaced_by: int | None  # the pod that took its place (null: none yet, or deleted)
    replaced_by_name: str | None
    replaced_by_node: str | None  # null: the replacement is pending


@closed
class NodeContainerJson(TypedDict):
    id: str | None
    status: str
    ip: str
    port: int | None


@closed
class NodePodJson(TypedDict):
    id: int
    name: str
    namespace: str
    health_status: PhaseName


@closed
class NodeDetailJson(NodeJson):
    container: NodeContainerJson
    pods: list[NodePodJson]
    events: list[EventJson]


@closed
class NodeHealthJson(TypedDict):
    node_id: int
    node_name: str
    node_type: NodeTypeName
    health_status: NodeStatusName
    status_reason: str
    component_status: dict[str, str]
    pods_count: int
    last_heartbeat: Timestamp | None
    seconds_since_heartbeat: float | None
    faults: list[str]


@closed
class NodeCreatedJson(TypedDict):
    id: int
    uid: str
    name: str
    node_type: NodeTypeName
    cpu_cores: Cores
    memory_mb: int
    status: NodeStatusName
    container_id: str | None
    node_ip: str
    runtime: str
    engine: str  # the Docker engine it runs on ("local": this machine's)
    labels: Labels
    annotations: Labels
    taints: list[TaintJson]
    resource_version: Digits
    message: str


@closed
class ReboundJson(TypedDict):
    pod: str
    node: str


@closed
class NodeDeletedJson(TypedDict):
    message: str
    rescheduled: list[ReboundJson]
    pending: list[str]
    pods_changed: list[int]


@closed
class FaultInjectedJson(TypedDict):
    message: str
    mode: str
    node: str
    injected_at: Timestamp
    incident_id: int


# ---- heartbeats (built by engine/heartbeat.py) -------------------------------------------


@closed
class DesiredContainerJson(TypedDict):
    name: str
    image: str
    command: list[str]
    args: list[str]
    cpu_req: Cores
    memory_req: int
    # Probes and ports, as the engine stores them, when the container has any.
    readiness: NotRequired[ProbeJson | None]
    liveness: NotRequired[ProbeJson | None]
    ports: NotRequired[list[PortJson]]


@closed
class DesiredEnvJson(TypedDict):
    name: str
    value: str
    secret: bool


@closed
class VolumeJson(TypedDict):
    name: str
    type: Annotated[str, one_of("emptyDir", "configMap", "hostPath", "secret")]
    size: int | None
    path: str | None


@closed
class DesiredPodJson(TypedDict):
    id: int
    name: str
    namespace: str
    ip: str  # the pod's address (POD_IP): the agent binds probes and processes to it
    cpu_req: Cores
    memory_req: int
    termination_grace_s: float  # SIGTERM to SIGKILL when the pod stops
    containers: list[DesiredContainerJson]
    env: list[DesiredEnvJson]
    volumes: list[VolumeJson]


@closed
class KillJson(TypedDict):
    pod_id: int
    container: str | None


@closed
class HeartbeatReplyJson(TypedDict):
    message: str
    node_status: NodeStatusName
    should_stop_heartbeat: bool
    heartbeat_interval_s: float
    generation: int
    max_report_bytes: int
    report_all: NotRequired[bool]  # a new session: report everything
    desired_pods: NotRequired[list[DesiredPodJson]]  # when the agent's generation is stale
    desired_pods_url: NotRequired[str]  # instead of desired_pods, when they are too many
    desired_pods_count: NotRequired[int]
    component_faults: dict[str, str]
    kill: NotRequired[list[KillJson]]


@closed
class DesiredPageJson(TypedDict):
    generation: int
    total: int
    offset: int
    pods: list[DesiredPodJson]
    next_offset: int | None


# ---- pods ------------------------------------------------------------------------------


@closed
class PodNodeJson(TypedDict):
    id: int
    name: str | None
    type: NodeTypeName


@closed
class ContainerJson(TypedDict):
    id: int
    name: str
    image: str
    cpu: Cores
    memory: int
    command: list[str]
    args: list[str]
    status: str
    restarts: int
    exit_code: int | None
    ready: bool  # running and its readiness probe (if any) passes
    reason: str  # CrashLoopBackOff while it waits out a restart back-off, else the agent's word
    last_reason: str | None  # how its last run ended: Error, Completed, OOMKilled
    backoff_s: float | None  # the delay of the back-off it waits out
    next_restart_at: Timestamp | None  # when that back-off ends (within a heartbeat)
    ports: NotRequired[list[PortJson]]
    readiness_probe: NotRequired[ProbeJson]
    liveness_probe: NotRequired[ProbeJson]


@closed
class ConfigItemJson(TypedDict):
    name: str
    type: Annotated[str, one_of("env", "secret")]
    key: str
    value: str  # a secret's value is "******"


class InterPodJson(TypedDict):
    pod_affinity: PodAffinityJson | None
    pod_anti_affinity: PodAffinityJson | None
    topology_spread_constraints: list[SpreadConstraintJson]


def interpod_json(rules: InterPodRules | None) -> InterPodJson:
    """A pod's (or template's) inter-pod fields, each present (null or [] when unset)."""
    if rules is None:
        return {"pod_affinity": None, "pod_anti_affinity": None, "topology_spread_constraints": []}
    return {
        "pod_affinity": rules.affinity.to_json() if rules.affinity else None,
        "pod_anti_affinity": rules.anti_affinity.to_json() if rules.anti_affinity else None,
        "topology_spread_constraints": [c.to_json() for c in rules.spread],
    }


@closed
class PodJson(TypedDict):
    id: int
    uid: str
    name: str
    namespace: str
    labels: Labels
    annotations: Labels
    resource_version: Digits
    node: PodNodeJson | None
    health_status: PhaseName
    reason: str
    cpu_cores_req: Cores
    memory_mb_req: int
    ip_address: str
    type: PodType
    containers: list[ContainerJson]
    volumes: list[VolumeJson]
    config: list[ConfigItemJson]
    created_at: Timestamp
    creation_timestamp: Timestamp
    owner: ObjectRefJson | None  # the ReplicaSet that keeps it, if any
    ready: bool  # every container ready
    ready_since: Timestamp | None
    termination_grace_period_s: float  # SIGTERM to SIGKILL when it stops
    tolerations: list[TolerationJson]
    node_selector: Labels  # node labels its node must carry
    node_affinity: NodeAffinityJson | None  # required terms (ORed) and weighted preferred ones
    pod_affinity: PodAffinityJson | None  # near the pods its terms name (same domain)
    pod_anti_affinity: PodAffinityJson | None  # away from them
    topology_spread_constraints: list[SpreadConstraintJson]
    priority_class_name: str  # its PriorityClass ("" when none applied)
    priority: int  # resolved from the class when it was created, fixed since
    preemption_policy: PreemptionPolicyName
    nominated_node_name: str | None  # the node its preemption made room on
    usage: UsageJson | None  # live usage its node's agent reports (null until it does)


@closed
class PodDetailJson(PodJson):
    scheduling: DecisionJson | None


@closed
class PodHealthNodeJson(TypedDict):
    id: int
    name: str | None


@closed
class ContainerHealthJson(TypedDict):
    name: str
    status: str
    restarts: int
    exit_code: int | None


@closed
class PodHealthJson(TypedDict):
    pod_id: int
    pod_name: str
    overall_status: PhaseName
    reason: str
    node: PodHealthNodeJson | None
    containers: list[ContainerHealthJson]
    last_report: Timestamp | None


@closed
class PodDetailsJson(TypedDict):
    id: int
    uid: str
    name: str
    namespace: str
    node: str | None
    node_id: int | None
    status: PhaseName
    type: PodType
    containers_count: int
    ip_address: str
    labels: Labels
    resource_version: Digits


@closed
class PodCreatedHeadJson(TypedDict):
    message: str
    pod_details: PodDetailsJson


@closed
class PodCreatedJson(PodCreatedHeadJson):
    scheduling: DecisionJson


# ---- namespaces and the cluster ---------------------------------------------------------


@closed
class NamespaceJson(TypedDict):
    id: int
    uid: str
    name: str
    labels: Labels
    annotations: Labels
    creation_timestamp: Timestamp
    resource_version: Digits
    pods: int
    status: Annotated[str, one_of("Active")]


@closed
class NamespaceDeletedJson(TypedDict):
    message: str
    pods_deleted: list[str]


@closed
class CpuTotalsJson(TypedDict):
    capacity: Cores
    allocated: Cores


@closed
class MemoryTotalsJson(TypedDict):
    capacity: int
    allocated: int


@closed
class NodeCountsJson(TypedDict):
    total: int
    by_status: dict[str, int]


@closed
class PodCountsJson(TypedDict):
    total: int
    by_phase: dict[str, int]


@closed
class SummaryJson(TypedDict):
    nodes: NodeCountsJson
    pods: PodCountsJson
    cpu_cores: CpuTotalsJson
    memory_mb: MemoryTotalsJson
    runtime: str
    runtime_reason: str
    scheduler: str
    heartbeats_per_s: float
    evictions_paused: bool
    resource_version: Digits
    api_url: str | None
    runtime_available: bool
    runtime_problem: str | None
    grace_period_s: float
    heartbeat_interval_s: float
