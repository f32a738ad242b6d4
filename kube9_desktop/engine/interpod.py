"""Inter-pod rules on a pod spec: pod affinity, pod anti-affinity, topology spread constraints.

They name other pods by a label selector (``matchLabels`` and ``matchExpressions``, ANDed) in
some namespaces (none listed: the pod's own) and a node label, the topology key, whose value is
the domain: ``kubernetes.io/hostname`` (each node its own domain; a node without that label is
its name, as a kubelet labels it) or a zone label such as ``topology.kubernetes.io/zone``. The
scheduler's books and rules live in ``scheduler/topology.py``; this is only the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from typing_extensions import TypedDict

from kube9_desktop.engine.jsontypes import closed, one_of
from kube9_desktop.engine.selectors import OPERATORS, Requirement

HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"
POD_TERMS_MAX = 16
SPREAD_MAX = 8
NAMESPACES_MAX = 16
MAX_SKEW_MAX = 10_000


class WhenUnsatisfiable(StrEnum):
    DO_NOT_SCHEDULE = "DoNotSchedule"
    SCHEDULE_ANYWAY = "ScheduleAnyway"


class TaintsPolicy(StrEnum):
    IGNORE = "Ignore"  # Kubernetes' default: tainted nodes' domains count
    HONOR = "Honor"  # only the nodes whose taints the pod tolerates


@closed
class ExpressionJson(TypedDict):
    key: str
    operator: Annotated[str, one_of(*OPERATORS[:4])]
    values: list[str]


@closed
class PodSelectorJson(TypedDict):
    match_labels: dict[str, str]
    match_expressions: list[ExpressionJson]


@closed
class PodAffinityTermJson(TypedDict):
    label_selector: PodSelectorJson | None  # null: matches no pod (as Kubernetes)
    namespaces: list[str]  # empty: the pod's own namespace
    topology_key: str


@closed
class WeightedPodAffinityTermJson(TypedDict):
    weight: int
    pod_affinity_term: PodAffinityTermJson


@closed
class PodAffinityJson(TypedDict):
    required: list[PodAffinityTermJson]  # every term must hold
    preferred: list[WeightedPodAffinityTermJson]


@closed
class SpreadConstraintJson(TypedDict):
    max_skew: int
    topology_key: str
    when_unsatisfiable: Annotated[str, one_of(WhenUnsatisfiable)]
    label_selector: PodSelectorJson | None
    node_taints_policy: Annotated[str, one_of(TaintsPolicy)]


@dataclass(frozen=True, slots=True)
class PodSelector:
    """matchLabels and matchExpressions, ANDed; empty matches every pod."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        for k, v in self.match_labels:
            if labels.get(k) != v:
                return False
        return all(r.matches(labels) for r in self.match_expressions)

    def to_json(self) -> PodSelectorJson:
        return {
            "match_labels": dict(self.match_labels),
            "match_expressions": [
                {"key": r.key, "operator": r.operator, "values": list(r.values)}
                for r in self.match_expressions
            ],
        }

    @staticmethod
    def from_json(data: object) -> PodSelector | None:
        if not isinstance(data, Mapping):
            return None
        return PodSelector(
            tuple(sorted((str(k), str(v)) for k, v in (data.get("match_labels") or {}).items())),
            tuple(
                Requirement(str(r["key"]), str(r["operator"]), tuple(r.get("values") or ()))
                for r in data.get("match_expressions") or ()
            ),
        )


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    selector: PodSelector | None  # None: matches no pod
    topology_key: str
    namespaces: tuple[str, ...] = ()  # empty: the namespace of the pod that carries the term

    def scope(self, own_namespace: str) -> frozenset[str]:
        return frozenset(self.namespaces) if self.namespaces else frozenset((own_namespace,))

    def to_json(self) -> PodAffinityTermJson:
        return {
            "label_selector": self.selector.to_json() if self.selector is not None else None,
            "namespaces": list(self.namespaces),
            "topology_key": self.topology_key,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> PodAffinityTerm:
        return PodAffinityTerm(
            PodSelector.from_json(data.get("label_selector")),
            str(data["topology_key"]),
            tuple(str(n) for n in data.get("namespaces") or ()),
        )


@dataclass(frozen=True, slots=True)
class PodAffinity:
    """requiredDuringSchedulingIgnoredDuringExecution (all terms hold) and
    preferredDuringSchedulingIgnoredDuringExecution ((weight 1-100, term) pairs)."""

    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[tuple[int, PodAffinityTerm], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.required or self.preferred)

    def to_json(self) -> PodAffinityJson:
        return {
            "required": [t.to_json() for t in self.required],
            "preferred": [
                {"weight": w, "pod_affinity_term": t.to_json()} for w, t in self.preferred
            ],
        }

    @staticmethod
    def from_json(data: object) -> PodAffinity | None:
        if not isinstance(data, Mapping):
            return None
        out = PodAffinity(
            tuple(PodAffinityTerm.from_json(t) for t in data.get("required") or ()),
            tuple(
                (int(p["weight"]), PodAffinityTerm.from_json(p["pod_affinity_term"]))
                for p in data.get("preferred") or ()
            ),
        )
        return out or None


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    """A topologySpreadConstraint: matching pods per domain may differ by at most max_skew."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: WhenUnsatisfiable = WhenUnsatisfiable.DO_NOT_SCHEDULE
    selector: PodSelector | None = None  # None: matches no pod (as Kubernetes)
    node_taints_policy: TaintsPolicy = TaintsPolicy.IGNORE

    @property
    def hard(self) -> bool:
        return self.when_unsatisfiable is WhenUnsatisfiable.DO_NOT_SCHEDULE

    def to_json(self) -> SpreadConstraintJson:
        return {
            "max_skew": self.max_skew,
            "topology_key": self.topology_key,
            "when_unsatisfiable": str(self.when_unsatisfiable),
            "label_selector": self.selector.to_json() if self.selector is not None else None,
            "node_taints_policy": str(self.node_taints_policy),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SpreadConstraint:
        return SpreadConstraint(
            int(data["max_skew"]),
            str(data["topology_key"]),
            WhenUnsatisfiable(data.get("when_unsatisfiable") or "DoNotSchedule"),
            PodSelector.from_json(data.get("label_selector")),
            TaintsPolicy(data.get("node_taints_policy") or "Ignore"),
        )


@dataclass(frozen=True, slots=True)
class InterPodRules:
    """What a pod asks of the pods around it."""

    affinity: PodAffinity | None = None
    anti_affinity: PodAffinity | None = None
    spread: tuple[SpreadConstraint, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.affinity or self.anti_affinity or self.spread)

    def to_json(self) -> dict[str, Any]:
        """As stored (and in a template's canonical JSON): only what is set."""
        out: dict[str, Any] = {}
        if self.affinity:
            out["pod_affinity"] = self.affinity.to_json()
        if self.anti_affinity:
            out["pod_anti_affinity"] = self.anti_affinity.to_json()
        if self.spread:
            out["topology_spread_constraints"] = [c.to_json() for c in self.spread]
        return out

    @staticmethod
    def from_json(data: object) -> InterPodRules | None:
        if not isinstance(data, Mapping):
            return None
        rules = InterPodRules(
            PodAffinity.from_json(data.get("pod_affinity")),
            PodAffinity.from_json(data.get("pod_anti_affinity")),
            tuple(
                SpreadConstraint.from_json(c) for c in data.get("topology_spread_constraints") or ()
            ),
        )
        return rules or None
