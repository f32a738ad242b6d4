"""The reply shapes of the workload routes (Deployments, ReplicaSets, revisions), as wire.py
does for the rest: one closed TypedDict each, shown in the OpenAPI document and held to the
replies by mypy and tests/api/test_responses.py."""

from __future__ import annotations

from typing import Annotated, NotRequired

from typing_extensions import TypedDict

from kube9_desktop.engine.api.wire import (
    ConfigItemJson,
    Labels,
    PortJson,
    ProbeJson,
    VolumeJson,
)
from kube9_desktop.engine.constraints import NodeAffinityJson, TolerationJson
from kube9_desktop.engine.interpod import PodAffinityJson, SpreadConstraintJson
from kube9_desktop.engine.jsontypes import Cores, Digits, Timestamp, closed, one_of
from kube9_desktop.engine.meta import ObjectRefJson
from kube9_desktop.engine.workloads import DeploymentStatusJson


@closed
class TemplateContainerJson(TypedDict):
    """A container of a pod template, in the request's field names."""

    name: str
    image: str
    cpu_req: Cores
    memory_req: int
    command: list[str]
    args: list[str]
    ports: NotRequired[list[PortJson]]
    readiness_probe: NotRequired[ProbeJson]
    liveness_probe: NotRequired[ProbeJson]


@closed
class TemplateJson(TypedDict):
    labels: Labels
    annotations: Labels
    cpu_cores_req: Cores
    memory_mb_req: int
    containers: list[TemplateContainerJson]
    volumes: list[VolumeJson]
    config: list[ConfigItemJson]  # a secret's value is "******"
    termination_grace_period_s: float
    tolerations: list[TolerationJson]
    node_selector: Labels
    node_affinity: NodeAffinityJson | None
    pod_affinity: PodAffinityJson | None
    pod_anti_affinity: PodAffinityJson | None
    topology_spread_constraints: list[SpreadConstraintJson]
    priority_class_name: str  # its pods' PriorityClass ("" = the default, if any)


@closed
class ReplicaSetStatusJson(TypedDict):
    replicas: int
    fully_labeled_replicas: int
    ready: int
    available: int
    observed_generation: int


@closed
class ReplicaSetJson(TypedDict):
    id: int
    uid: str
    name: str
    namespace: str
    labels: Labels
    annotations: Labels
    owner: ObjectRefJson | None  # its Deployment, if any
    replicas: int
    selector: Labels  # matchLabels
    template: TemplateJson
    min_ready_seconds: int
    revision: int
    pod_template_hash: str
    status: ReplicaSetStatusJson
    pod_ids: list[int]
    generation: int
    creation_timestamp: Timestamp
    resource_version: Digits


@closed
class StrategyJson(TypedDict):
    type: Annotated[str, one_of("RollingUpdate", "Recreate")]
    max_surge: NotRequired[int | str]  # RollingUpdate only: a count or a percentage
    max_unavailable: NotRequired[int | str]


@closed
class ResolvedStrategyJson(TypedDict):
    max_surge: int
    max_unavailable: int


@closed
class OwnedReplicaSetJson(TypedDict):
    id: int
    name: str
    revision: int
    replicas: int
    ready: int
    available: int
    current: bool


@closed
class DeploymentJson(TypedDict):
    id: int
    uid: str
    name: str
    namespace: str
    labels: Labels
    annotations: Labels
    replicas: int
    selector: Labels  # matchLabels
    template: TemplateJson
    strategy: StrategyJson
    strategy_resolved: ResolvedStrategyJson
    min_ready_seconds: int
    progress_deadline_seconds: int
    revision_history_limit: int
    paused: bool
    revision: int
    generation: int
    status: DeploymentStatusJson
    ready: str  # "2/3", as kubectl's READY column
    up_to_date: int
    available: int
    replicaset_ids: list[int]
    collision_count: int
    creation_timestamp: Timestamp
    resource_version: Digits
    replicasets: NotRequired[list[OwnedReplicaSetJson]]  # one Deployment's reply


@closed
class DeploymentChangedJson(DeploymentJson):
    message: str  # what the change does: "starts a rollout", "scaled 3→5"…


@closed
class RevisionJson(TypedDict):
    revision: int
    replicaset: str
    replicaset_id: int
    change_cause: str
    images: list[str]
    template: TemplateJson
    replicas: int
    current: bool
    creation_timestamp: Timestamp


@closed
class WorkloadDeletedJson(TypedDict):
    message: str
    pods_deleted: int
