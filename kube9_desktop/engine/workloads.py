"""The workload vocabulary (apps/v1): pod templates, ReplicaSets, Deployments, rollout math.

Names follow Kubernetes. A ReplicaSet keeps ``replicas`` pods made from its template; a
Deployment keeps one ReplicaSet per template revision and moves pods between them by its
strategy. ``surge_and_unavailable`` is Kubernetes' ``ResolveFenceposts``: with 10 replicas and
the default 25 %/25 %, surge rounds up to 3 and unavailable rounds down to 2; both zero is
turned into unavailable 1 (validation refuses an explicit 0/0).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from typing_extensions import TypedDict

from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.constraints import NodeAffinity, Toleration, tolerations_from_json
from kube9_desktop.engine.interpod import InterPodRules
from kube9_desktop.engine.jsontypes import Timestamp, closed, one_of
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.model import (
    TERMINATION_GRACE_S,
    ConfigItem,
    ContainerSpec,
    PodSpec,
    Resources,
    VolumeSpec,
)
from kube9_desktop.engine.selectors import Selector

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"
# Kubernetes' safe alphabet for generated names: no vowels (no words), no 0/1/3 (no look-alikes).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_SUFFIX = 5  # <replicaset>-<5 random chars>
HASH_LEN = 10
# Pod names are DNS labels (63): a ReplicaSet name leaves room for "-xxxxx", a Deployment's
# for "-<hash>" too.
REPLICASET_NAME_MAX = 63 - 1 - POD_SUFFIX
DEPLOYMENT_NAME_MAX = REPLICASET_NAME_MAX - 1 - HASH_LEN
_PERCENT = re.compile(r"^([0-9]{1,3})%$")


def safe_encode(number: int, length: int) -> str:
    out = []
    for _ in range(length):
        number, digit = divmod(number, len(SAFE_ALPHABET))
        out.append(SAFE_ALPHABET[digit])
    return "".join(out)


# ---- templates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """A pod without a name: what a ReplicaSet stamps its pods from."""

    request: Resources
    containers: tuple[ContainerSpec, ...]
    volumes: tuple[VolumeSpec, ...] = ()
    config: tuple[ConfigItem, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    termination_grace_s: float = TERMINATION_GRACE_S
    tolerations: tuple[Toleration, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    node_affinity: NodeAffinity | None = None
    interpod: InterPodRules | None = None  # pod (anti-)affinity, topology spread
    priority_class_name: str = ""  # its pods' PriorityClass ("" = the default, if any)

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON (stored, hashed); secrets in clear: the API masks them. The grace
        period, tolerations and node selector appear only when they are not the default, so
        templates stored before they existed keep their hash (no rollout on upgrade)."""
        grace = (
            {} if self.termination_grace_s == TERMINATION_GRACE_S
            else {"termination_grace_s": self.termination_grace_s}
        )  # fmt: skip
        placement: dict[str, Any] = {}
        if self.tolerations:
            placement["tolerations"] = [t.to_json() for t in self.tolerations]
        if self.node_selector:
            placement["node_selector"] = dict(sorted(self.node_selector.items()))
        if self.node_affinity:
            placement["node_affinity"] = self.node_affinity.to_json()
        if self.interpod:
            placement.update(self.interpod.to_json())
        if self.priority_class_name:
            placement["priority_class_name"] = self.priority_class_name
        return {
            **grace,
            **placement,
            "labels": dict(sorted(self.labels.items())),
            "annotations": dict(sorted(self.annotations.items())),
            "cpu_m": self.request.cpu_m,
            "mem_mi": self.request.mem_mi,
            "containers": [
                {"name": c.name, "image": c.image, "cpu_m": c.cpu_m, "mem_mi": c.mem_mi,
                 "command": list(c.command), "args": list(c.args), "extra": c.extra_json()}
                for c in self.containers
            ],
            "volumes": [
                {"name": v.name, "type": v.type, "size": v.size, "path": v.path}
                for v in self.volumes
            ],
            "config": [
                {"name": i.name, "type": i.type, "key": i.key, "value": i.value}
                for i in self.config
            ],
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> PodTemplate:
        return PodTemplate(
            request=Resources(int(data["cpu_m"]), int(data["mem_mi"])),
            containers=tuple(
                ContainerSpec(
                    c["name"], c["image"], int(c["cpu_m"]), int(c["mem_mi"]),
                    tuple(c.get("command", ())), tuple(c.get("args", ())),
                ).with_extra(c.get("extra"))
                for c in data["containers"]
            ),
            volumes=tuple(
                VolumeSpec(v["name"], v["type"], v.get("size"), v.get("path"))
                for v in data.get("volumes", ())
            ),
            config=tuple(
                ConfigItem(i["name"], i["type"], i["key"], i["value"])
                for i in data.get("config", ())
            ),
            labels=dict(data.get("labels", {})),
            annotations=dict(data.get("annotations", {})),
            termination_grace_s=float(data.get("termination_grace_s", TERMINATION_GRACE_S)),
            tolerations=tolerations_from_json(data.get("tolerations")),
            node_selector=dict(data.get("node_selector", {})),
            node_affinity=NodeAffinity.from_json(data.get("node_affinity")),
            interpod=InterPodRules.from_json(data),
            priority_class_name=str(data.get("priority_class_name", "")),
        )  # fmt: skip

    def template_hash(self, collision_count: int = 0) -> str:
        """The pod-template-hash: a digest of the template (and the collision count)."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{text}|{collision_count}".encode()).digest()
        return safe_encode(int.from_bytes(digest[:8], "big"), HASH_LEN)

    def without_hash_label(self) -> PodTemplate:
        labels = {k: v for k, v in self.labels.items() if k != POD_TEMPLATE_HASH}
        return replace(self, labels=labels)

    def pod_spec(
        self, name: str, namespace: str, owner: ObjectRef, extra: Mapping[str, str]
    ) -> PodSpec:
        return PodSpec(
            name=name,
            request=self.request,
            containers=self.containers,
            volumes=self.volumes,
            config=self.config,
            namespace=namespace,
            labels={**self.labels, **extra},
            annotations=dict(self.annotations),
            owner=owner,
            termination_grace_s=self.termination_grace_s,
            tolerations=self.tolerations,
            node_selector=self.node_selector,
            node_affinity=self.node_affinity,
            interpod=self.interpod,
            priority_class_name=self.priority_class_name,
        )


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """``matchLabels`` and ``matchExpressions``, as objects write a selector."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[Mapping[str, Any], ...] = ()

    def selector(self) -> Selector:
        return Selector.from_expressions(self.match_labels, list(self.match_expressions))

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def to_json(self) -> dict[str, Any]:
        return {
            "match_labels": dict(sorted(self.match_labels.items())),
            "match_expressions": [dict(e) for e in self.match_expressions],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> LabelSelector:
        return LabelSelector(
            dict(data.get("match_labels", {})), tuple(data.get("match_expressions", ()))
        )


# ---- strategy ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Strategy:
    type: str = ROLLING_UPDATE
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"

    def to_json(self) -> dict[str, Any]:
        if self.type == RECREATE:
            return {"type": RECREATE}
        return {"type": ROLLING_UPDATE, "max_surge": self.max_surge,
                "max_unavailable": self.max_unavailable}  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Strategy:
        return Strategy(
            str(data.get("type", ROLLING_UPDATE)),
            data.get("max_surge", "25%"),
            data.get("max_unavailable", "25%"),
        )


def scaled_value(value: int | str, total: int, round_up: bool) -> int:
    """An int, or a percentage of ``total`` rounded as Kubernetes'
    GetScaledValueFromIntOrPercent does."""
    if isinstance(value, int):
        return value
    m = _PERCENT.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not an integer or a percentage like '25%'")
    exact = int(m.group(1)) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def surge_and_unavailable(strategy: Strategy, replicas: int) -> tuple[int, int]:
    """(max surge, max unavailable) in pods for a Deployment of ``replicas``.

    10 replicas, 25 %/25 %: (3, 2). 1 replica, 25 %/25 %: (1, 0). 0 %/0 %: (0, 1).
    Recreate: (0, 0) here; the Recreate rollout does not use them.
    """
    if strategy.type != ROLLING_UPDATE:
        return 0, 0
    surge = scaled_value(strategy.max_surge, replicas, round_up=True)
    unavailable = scaled_value(strategy.max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(strategy: Strategy, replicas: int) -> int:
    """Kubernetes' MaxUnavailable: 0 for Recreate or no replicas, at most ``replicas``."""
    if strategy.type != ROLLING_UPDATE or replicas == 0:
        return 0
    return min(replicas, surge_and_unavailable(strategy, replicas)[1])


def max_surge(strategy: Strategy, replicas: int) -> int:
    if strategy.type != ROLLING_UPDATE:
        return 0
    return surge_and_unavailable(strategy, replicas)[0]


def available(ready_since: datetime | None, min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` (0: ready is available)."""
    if ready_since is None:
        return False
    return min_ready_seconds <= 0 or ready_since + timedelta(seconds=min_ready_seconds) <= now


# ---- specs (what a user asks for) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplicaSetSpec:
    name: str
    namespace: str
    replicas: int
    selector: LabelSelector
    template: PodTemplate
    min_ready_seconds: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    name: str
    namespace: str
    replicas: int
    selector: LabelSelector
    template: PodTemplate
    strategy: Strategy = field(default_factory=Strategy)
    min_ready_seconds: int = 0
    progress_deadline_seconds: int = 600
    revision_history_limit: int = 10
    paused: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


# ---- status ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    last_update: datetime
    last_transition: datetime

    def to_json(self) -> ConditionJson:
        return {
            "type": self.type, "status": self.status, "reason": self.reason,
            "message": self.message, "last_update_time": utc_iso(self.last_update),
            "last_transition_time": utc_iso(self.last_transition),
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Condition:
        return Condition(
            data["type"], data["status"], data["reason"], data["message"],
            datetime.fromisoformat(data["last_update_time"]),
            datetime.fromisoformat(data["last_transition_time"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReplicaSetStatus:
    replicas: int = 0  # active pods it owns
    fully_labeled: int = 0
    ready: int = 0
    available: int = 0


@closed
class ConditionJson(TypedDict):
    type: Annotated[str, one_of("Available", "Progressing", "ReplicaFailure")]
    status: Annotated[str, one_of("True", "False", "Unknown")]
    reason: str
    message: str
    last_update_time: Timestamp
    last_transition_time: Timestamp


@closed
class DeploymentStatusJson(TypedDict):
    """Kubernetes' DeploymentStatus counts; ``terminating``: deleted pods still stopping."""

    replicas: int
    updated: int
    ready: int
    available: int
    unavailable: int
    terminating: int
    observed_generation: int
    conditions: list[ConditionJson]


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """The counts exactly as Kubernetes defines them (calculateStatus)."""

    replicas: int = 0  # pods of all its ReplicaSets
    updated: int = 0  # pods of the new ReplicaSet
    ready: int = 0
    available: int = 0
    unavailable: int = 0  # desired (spec) of all ReplicaSets minus available, at least 0
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()
    terminating: int = 0  # deleted pods whose processes are still stopping (terminatingReplicas)

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)

    def to_json(self) -> DeploymentStatusJson:
        return {
            "replicas": self.replicas, "updated": self.updated, "ready": self.ready,
            "available": self.available, "unavailable": self.unavailable,
            "terminating": self.terminating,
            "observed_generation": self.observed_generation,
            "conditions": [c.to_json() for c in self.conditions],
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DeploymentStatus:
        return DeploymentStatus(
            int(data.get("replicas", 0)), int(data.get("updated", 0)), int(data.get("ready", 0)),
            int(data.get("available", 0)), int(data.get("unavailable", 0)),
            int(data.get("observed_generation", 0)),
            tuple(Condition.from_json(c) for c in data.get("conditions", ())),
            int(data.get("terminating", 0)),
        )  # fmt: skip


# ---- views -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplicaSetView:
    id: int
    uid: str
    name: str
    namespace: str
    replicas: int
    selector: LabelSelector
    template: PodTemplate
    min_ready_seconds: int
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    owner: ObjectRef | None
    revision: int
    template_hash: str
    status: ReplicaSetStatus
    pod_ids: tuple[int, ...]
    created_at: datetime
    generation: int
    resource_version: int


@dataclass(frozen=True, slots=True)
class DeploymentView:
    id: int
    uid: str
    name: str
    namespace: str
    spec: DeploymentSpec
    revision: int
    generation: int
    status: DeploymentStatus
    replicaset_ids: tuple[int, ...]
    created_at: datetime
    resource_version: int
    collision_count: int = 0

    @property
    def labels(self) -> Mapping[str, str]:
        return self.spec.labels
