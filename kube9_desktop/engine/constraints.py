"""Scheduling constraints: node taints, pod tolerations and node selectors (Kubernetes' rules).

A toleration tolerates a taint when its effect is empty or the same, its key is empty or the
same, and with ``Equal`` (the default) its value equals the taint's, with ``Exists`` any value:
``{operator: Exists}`` with no key tolerates every taint. ``NoSchedule`` and ``NoExecute`` taints
a pod does not tolerate keep it off the node; ``PreferNoSchedule`` ones only rank the node
lower (scheduler/__init__.py says how that combines with the strategy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from typing_extensions import TypedDict

from kube9_desktop.engine.interpod import InterPodRules
from kube9_desktop.engine.jsontypes import closed, one_of
from kube9_desktop.engine.selectors import OPERATORS, Requirement


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class TolerationOperator(StrEnum):
    EQUAL = "Equal"
    EXISTS = "Exists"


HARD_EFFECTS = frozenset({TaintEffect.NO_SCHEDULE, TaintEffect.NO_EXECUTE})
TAINTS_MAX = 64
TOLERATIONS_MAX = 64
TOLERATION_SECONDS_MAX = 10**9  # ~31 years; Kubernetes takes any int64, nothing useful is larger


@closed
class TaintJson(TypedDict):
    key: str
    value: str
    effect: Annotated[str, one_of(TaintEffect)]


@closed
class TolerationJson(TypedDict):
    key: str  # empty: every key (operator Exists)
    operator: Annotated[str, one_of(TolerationOperator)]
    value: str
    effect: Annotated[str, one_of("", TaintEffect)]  # empty: every effect
    toleration_seconds: int | None


@dataclass(frozen=True, slots=True, order=True)
class Taint:
    key: str
    value: str = ""
    effect: TaintEffect = TaintEffect.NO_SCHEDULE

    @property
    def hard(self) -> bool:
        """It keeps untolerating pods off (NoSchedule, NoExecute), not only ranks the node."""
        return self.effect in HARD_EFFECTS

    def __str__(self) -> str:
        """kubectl's spelling: ``key=value:Effect`` (``key:Effect`` with no value)."""
        return f"{self.key}{'=' + self.value if self.value else ''}:{self.effect}"

    def to_json(self) -> TaintJson:
        return {"key": self.key, "value": self.value, "effect": str(self.effect)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Taint:
        return Taint(str(data["key"]), str(data.get("value", "")), TaintEffect(data["effect"]))


# kubeadm's taint on control-plane nodes; masters get it unless created with other taints.
CONTROL_PLANE_TAINT = Taint("node-role.kubernetes.io/control-plane", "", TaintEffect.NO_SCHEDULE)


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str = ""  # empty: every key (operator Exists)
    operator: TolerationOperator = TolerationOperator.EQUAL
    value: str = ""
    effect: TaintEffect | None = None  # None: every effect
    toleration_seconds: int | None = None  # NoExecute only: how long it stays once tainted

    def tolerates(self, taint: Taint) -> bool:
        if self.effect is not None and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.operator is TolerationOperator.EXISTS or self.value == taint.value

    def to_json(self) -> TolerationJson:
        return {
            "key": self.key, "operator": str(self.operator), "value": self.value,
            "effect": str(self.effect) if self.effect else "",
            "toleration_seconds": self.toleration_seconds,
        }  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Toleration:
        effect, seconds = data.get("effect") or None, data.get("toleration_seconds")
        return Toleration(
            str(data.get("key", "")), TolerationOperator(data.get("operator") or "Equal"),
            str(data.get("value", "")), TaintEffect(effect) if effect else None,
            None if seconds is None else int(seconds),
        )  # fmt: skip


def tolerated(taint: Taint, tolerations: Iterable[Toleration]) -> bool:
    return any(t.tolerates(taint) for t in tolerations)


def untolerated(taints: Iterable[Taint], tolerations: tuple[Toleration, ...]) -> list[Taint]:
    """The hard taints (NoSchedule, NoExecute) none of ``tolerations`` tolerates."""
    return [t for t in taints if t.hard and not tolerated(t, tolerations)]


def prefer_penalty(taints: Iterable[Taint], tolerations: tuple[Toleration, ...]) -> int:
    """How many PreferNoSchedule taints are not tolerated: the node ranks lower for each."""
    return sum(
        1
        for t in taints
        if t.effect is TaintEffect.PREFER_NO_SCHEDULE and not tolerated(t, tolerations)
    )


# ---- node affinity ----------------------------------------------------------------------

AFFINITY_TERMS_MAX = 32
EXPRESSIONS_MAX = 32
VALUES_MAX = 64


@closed
class RequirementJson(TypedDict):
    key: str
    operator: Annotated[str, one_of(*OPERATORS)]
    values: list[str]


@closed
class TermJson(TypedDict):
    match_expressions: list[RequirementJson]


@closed
class PreferredTermJson(TypedDict):
    weight: int
    preference: TermJson


@closed
class NodeAffinityJson(TypedDict):
    required: list[TermJson]  # ORed; empty: no requirement
    preferred: list[PreferredTermJson]


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """Expressions ANDed (a term with none matches no node, as Kubernetes)."""

    match_expressions: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return bool(self.match_expressions) and all(
            r.matches(labels) for r in self.match_expressions
        )

    def to_json(self) -> TermJson:
        return {"match_expressions": [
            {"key": r.key, "operator": r.operator, "values": list(r.values)}
            for r in self.match_expressions
        ]}  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> NodeSelectorTerm:
        return NodeSelectorTerm(tuple(
            Requirement(str(r["key"]), str(r["operator"]), tuple(r.get("values", ())))
            for r in data.get("match_expressions", ())
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class NodeAffinity:
    """requiredDuringSchedulingIgnoredDuringExecution (terms ORed) and
    preferredDuringSchedulingIgnoredDuringExecution ((weight 1-100, term) pairs)."""

    required: tuple[NodeSelectorTerm, ...] = ()
    preferred: tuple[tuple[int, NodeSelectorTerm], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.required or self.preferred)

    def requires(self, labels: Mapping[str, str]) -> bool:
        return not self.required or any(t.matches(labels) for t in self.required)

    def score(self, labels: Mapping[str, str]) -> int:
        """The weights of the preferred terms the node matches, added up."""
        return sum(w for w, t in self.preferred if t.matches(labels))

    def to_json(self) -> NodeAffinityJson:
        return {
            "required": [t.to_json() for t in self.required],
            "preferred": [{"weight": w, "preference": t.to_json()} for w, t in self.preferred],
        }

    @staticmethod
    def from_json(data: object) -> NodeAffinity | None:
        """Stored affinity ({} or null: none)."""
        if not isinstance(data, Mapping):
            return None
        affinity = NodeAffinity(
            tuple(NodeSelectorTerm.from_json(t) for t in data.get("required", ())),
            tuple((int(p["weight"]), NodeSelectorTerm.from_json(p["preference"]))
                  for p in data.get("preferred", ())),
        )  # fmt: skip
        return affinity or None


@dataclass(frozen=True, slots=True)
class PodConstraints:
    """What a pod asks of its node beyond room: tolerations, a node selector, node affinity,
    and of the pods around it (``interpod``: pod affinity, anti-affinity, topology spread)."""

    tolerations: tuple[Toleration, ...] = ()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    affinity: NodeAffinity | None = None
    interpod: InterPodRules | None = None

    def __bool__(self) -> bool:
        return bool(self.tolerations or self.node_selector or self.affinity or self.interpod)

    def selects(self, labels: Mapping[str, str]) -> bool:
        """The node selector and the required node affinity both match."""
        if not all(labels.get(k) == v for k, v in self.node_selector.items()):
            return False
        return self.affinity is None or self.affinity.requires(labels)

    def preference(self, labels: Mapping[str, str]) -> int:
        return 0 if self.affinity is None else self.affinity.score(labels)


NO_CONSTRAINTS = PodConstraints()


def taints_json(taints: Iterable[Taint]) -> list[TaintJson]:
    return [t.to_json() for t in taints]


def taints_from_json(data: object) -> tuple[Taint, ...]:
    """Stored taints (a JSON list; None in rows older than schema v6 is read as none)."""
    if not isinstance(data, list):
        return ()
    return tuple(Taint.from_json(t) for t in data)


def tolerations_from_json(data: object) -> tuple[Toleration, ...]:
    if not isinstance(data, list):
        return ()
    return tuple(Toleration.from_json(t) for t in data)
