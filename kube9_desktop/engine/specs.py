"""Request specs: one pydantic model per request body, strict, turned into engine specs.

They belong to the engine (the window's forms validate with them too); the HTTP layer only
hands them the decoded JSON.

Unknown fields are refused so typos surface; numbers accept cores/MB (the original API) and
Kubernetes quantity strings. The same models validate the desktop forms, and generate the
OpenAPI document.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from kube9_desktop.engine.constraints import (
    AFFINITY_TERMS_MAX,
    EXPRESSIONS_MAX,
    TAINTS_MAX,
    TOLERATION_SECONDS_MAX,
    TOLERATIONS_MAX,
    VALUES_MAX,
    NodeAffinity,
    NodeSelectorTerm,
    Taint,
    TaintEffect,
    Toleration,
    TolerationOperator,
)
from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.heartbeat import ContainerReport, HeartbeatReport, PodReport
from kube9_desktop.engine.interpod import (
    MAX_SKEW_MAX,
    NAMESPACES_MAX,
    POD_TERMS_MAX,
    SPREAD_MAX,
    InterPodRules,
    PodAffinity,
    PodAffinityTerm,
    PodSelector,
    SpreadConstraint,
    TaintsPolicy,
    WhenUnsatisfiable,
)
from kube9_desktop.engine.jsontypes import TextChecked
from kube9_desktop.engine.meta import (
    DEFAULT_NAMESPACE,
    DNS_LABEL,
    LABEL_VALUE_PATTERN,
    LABELS_MAX,
    NAME_MAX,
    QUALIFIED_NAME_MAX,
    QUALIFIED_NAME_PATTERN,
    label_value_problem,
    namespace_problem,
    qualified_name_problem,
    validate_annotations,
    validate_labels,
)
from kube9_desktop.engine.model import (
    MASTER_COMPONENTS,
    POD_LIMIT_ANNOTATION,
    POD_LIMIT_MAX,
    TERMINATION_GRACE_MAX_S,
    TERMINATION_GRACE_S,
    WORKER_COMPONENTS,
    ConfigItem,
    ContainerPort,
    ContainerSpec,
    NodeSpec,
    NodeType,
    PodSpec,
    Probe,
    Resources,
    VolumeSpec,
)
from kube9_desktop.engine.priority import PreemptionPolicy, PriorityClassSpec, check_new
from kube9_desktop.engine.quantity import (
    MAX_CPU_M,
    MAX_MEM_MI,
    QUANTITY_MAX_LEN,
    QUANTITY_PATTERN,
    QuantityError,
    parse_cpu,
    parse_memory,
)
from kube9_desktop.engine.selectors import Requirement
from kube9_desktop.engine.usage import PodUsage

# Patterns are written ^...$ for the JSON schema and used with fullmatch here: Python's $ also
# matches before a trailing newline, so .match would let "worker-1\n" through.
COMPONENT_NAME = re.compile(r"[a-z_]{1,40}")
# Names every agent reports, which COMPONENT_NAME matches: no regex run for them per heartbeat.
_COMPONENT_NAMES = frozenset(MASTER_COMPONENTS + WORKER_COMPONENTS)
INTEGER = re.compile(r"-?[0-9]{1,18}")  # fullmatch: Gt/Lt's value
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
NODE_NAME_MAX = 40
M = TypeVar("M", bound="BaseModel")
POD_NAME_MAX = NAME_MAX
ID_MAX = 2**53  # as the API's path ids: no object gets a larger id
INT64_MAX = 2**63 - 1  # counters the store may keep
INT32_MAX = 2**31 - 1  # a PostgreSQL integer column


def dns_label(value: object, max_len: int = POD_NAME_MAX) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not value:
        raise ValueError("must not be empty")
    if len(value) > max_len:
        raise ValueError(f"must be at most {max_len} characters (got {len(value)})")
    if not DNS_LABEL.fullmatch(value):
        raise ValueError(
            "must be a DNS label: lowercase letters, digits and '-', starting and ending "
            "with a letter or digit (e.g. 'worker-1')"
        )
    return value


def _cpu(value: object) -> int:
    try:
        return parse_cpu(value)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None


def _mem(value: object) -> int:
    try:
        return parse_memory(value)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None


def _mem_or_zero(value: object) -> int:
    try:
        return parse_memory(value, allow_zero=True)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None


def check_text(value: str) -> str:
    """A string a process, an environment and the database can all carry: no NUL, and only
    real characters (a JSON "\\udcff" escape decodes to a lone surrogate, which UTF-8 cannot
    encode, so neither exec nor the store could take it)."""
    if "\x00" in value:
        raise ValueError(
            "must not contain NUL characters (no process argument, environment value or "
            "database text can hold one)"
        )
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(
            "must be valid Unicode text (it holds a lone surrogate such as \\udcff)"
        ) from None
    return value


def _text_ok(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def all_text_ok(data: Any) -> bool:
    """Whether every string in ``data`` (keys too, at any depth) passes check_text, with one
    walk of the input: validation then need not call a check per field when nothing is wrong."""
    if type(data) is TextChecked:
        return True
    try:
        # Encoded in C: control characters (NUL among them) come out escaped, a lone surrogate
        # raw, which the UTF-8 encode then refuses. A string that spells a backslash and
        # "u0000" only sends this input the slow way.
        text = json.dumps(data, ensure_ascii=False, check_circular=False)
    except (TypeError, ValueError):  # not JSON data (the UI's own objects): walk it instead
        return _walk_text_ok(data)
    if "\\u0000" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _walk_text_ok(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str:
            if not _text_ok(value):
                return False
        elif kind is dict:
            for key, item in value.items():
                if type(key) is str and not _text_ok(key):
                    return False
                if type(item) in _NESTED:
                    stack.append(item)
                elif type(item) is str and not _text_ok(item):
                    return False
        elif kind is list or kind is tuple:
            for item in value:
                if type(item) in _NESTED:
                    stack.append(item)
                elif type(item) is str and not _text_ok(item):
                    return False
    return True


_NESTED = frozenset({dict, list, tuple})
# The validation context that says all_text_ok already passed (the per-field check is skipped).
_TEXT_CHECKED = {"text_checked": True}


def _texts(value: Any) -> Any:
    """check_text for every string a validated field holds directly (lists, dict keys and
    values); nested models check their own fields."""
    if isinstance(value, str):
        return check_text(value)
    items: list[Any] = []
    if isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, dict):
        items = [*value, *value.values()]
    for item in items:
        if isinstance(item, str):
            check_text(item)
    return value


def _argv(value: object) -> tuple[str, ...]:
    """A command or args as argv: a list of strings as is, a string split like a shell would."""
    if value is None:
        return ()
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:
            raise ValueError(f"cannot be split into arguments: {exc}") from None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if any("\x00" in v for v in value):
            raise ValueError("must not contain NUL characters")
        return tuple(value)
    raise ValueError("must be a string or a list of strings")


def _size(value: object) -> object:
    """A volume size: an integer, or one spelled in ASCII digits (the pod form sends text)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return value  # the strict int check refuses the rest


_DIGITS = re.compile(r"[0-9]{1,7}")
STR_MAX = 4096  # every string a body holds (Strict.str_max_length)


def _quantity(number: dict[str, Any], what: str) -> WithJsonSchema:
    """Schema of a CPU or memory amount: a number in the API's unit, or a quantity string."""
    string = {"type": "string", "maxLength": QUANTITY_MAX_LEN, "pattern": QUANTITY_PATTERN}
    return WithJsonSchema({"anyOf": [{"type": "number", **number}, string], "description": what})


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# Schema-visible types: what a client may send, with the schema of exactly that (the OpenAPI
# document shows these); the validators turn it into engine units.
Cpu = Annotated[
    int,
    BeforeValidator(_cpu),
    _quantity(
        {"exclusiveMinimum": 0, "maximum": MAX_CPU_M // 1000},
        "Cores (a number) or a Kubernetes quantity string ('500m', '2').",
    ),
]
Mem = Annotated[
    int,
    BeforeValidator(_mem),
    _quantity(
        {"exclusiveMinimum": 0, "maximum": MAX_MEM_MI},
        "MB (a number; a string without a unit is MB too) or a quantity ('256Mi', '1Gi').",
    ),
]
MemOrZero = Annotated[
    int,
    BeforeValidator(_mem_or_zero),
    _quantity(
        {"minimum": 0, "maximum": MAX_MEM_MI},
        "MB (a number; a string without a unit is MB too) or a quantity ('256Mi', '1Gi').",
    ),
]
Argv = Annotated[
    tuple[str, ...],
    BeforeValidator(_argv),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "split into words as a shell would"},
                {"type": "array", "items": {"type": "string", "maxLength": STR_MAX}},
                {"type": "null"},
            ]
        }
    ),
]


def _dns_label_schema(max_len: int, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": max_len,
            "pattern": DNS_LABEL.pattern,
            "description": f"Lowercase DNS label of at most {max_len} characters "
            f"(e.g. '{example}').",
        }
    )


NodeName = Annotated[
    str,
    BeforeValidator(partial(dns_label, max_len=NODE_NAME_MAX)),
    _dns_label_schema(NODE_NAME_MAX, "worker-1"),
]
ObjectName = Annotated[
    str, BeforeValidator(partial(dns_label, max_len=POD_NAME_MAX)), _dns_label_schema(63, "web")
]
Size = Annotated[
    int,
    BeforeValidator(_size),
    Field(ge=0, le=1_000_000),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                {"type": "string", "pattern": f"^{_DIGITS.pattern}$"},
            ],
            "description": "Size in GB (informational).",
        }
    ),
]


def _labels(value: object) -> dict[str, str]:
    try:
        return validate_labels(value, "")
    except UserError as exc:  # "['-bad']: key name must …" (parse_body puts the key in place)
        raise ValueError(exc.message.removeprefix(": ")) from None


def _annotations(value: object) -> dict[str, str]:
    try:
        return validate_annotations(value, "")
    except UserError as exc:
        raise ValueError(exc.message.removeprefix(": ")) from None


def _namespace(value: object) -> str:
    problem = namespace_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


MountPath = Annotated[
    str,
    Field(max_length=255),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 255,
            "pattern": "^/",
            "description": "Mount path: absolute, no '..' segment (e.g. '/data').",
        }
    ),
]
_KEYS = {"maxLength": QUALIFIED_NAME_MAX, "pattern": QUALIFIED_NAME_PATTERN}
Labels = Annotated[
    dict[str, str],
    BeforeValidator(_labels),
    WithJsonSchema(
        _nullable(
            {
                "type": "object",
                "maxProperties": LABELS_MAX,
                "propertyNames": _KEYS,
                "additionalProperties": {
                    "type": "string",
                    "maxLength": NAME_MAX,
                    "pattern": LABEL_VALUE_PATTERN,
                },
                "description": "Kubernetes labels: qualified-name keys ('app', "
                "'example.com/tier'), values empty or at most 63 alphanumerics, '-', '_', '.'",
            }
        )
    ),
]
Annotations = Annotated[
    dict[str, str],
    BeforeValidator(_annotations),
    WithJsonSchema(
        _nullable(
            {
                "type": "object",
                "propertyNames": _KEYS,
                "additionalProperties": {"type": "string", "maxLength": STR_MAX},
                "description": "Kubernetes annotations: qualified-name keys, any text "
                "(no NUL), 256 KiB in all",
            }
        )
    ),
]
Namespace = Annotated[
    str,
    BeforeValidator(_namespace),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME_MAX,
            "pattern": DNS_LABEL.pattern,
            "description": "A namespace: lowercase DNS label (e.g. 'team-a').",
        }
    ),
]


def _qualified_name(value: object) -> str:
    problem = qualified_name_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


def _label_value(value: object) -> str:
    problem = label_value_problem(value)
    if problem:
        raise ValueError(problem)
    assert isinstance(value, str)
    return value


def _optional_qualified_name(value: object) -> str:
    return value if value == "" else _qualified_name(value)


_LABEL_VALUE_SCHEMA = {"type": "string", "maxLength": NAME_MAX, "pattern": LABEL_VALUE_PATTERN}
QualifiedName = Annotated[
    str,
    BeforeValidator(_qualified_name),
    WithJsonSchema({"type": "string", **_KEYS, "description": "A label key ('dedicated', "
                    "'node-role.kubernetes.io/control-plane')."}),
]  # fmt: skip
OptionalQualifiedName = Annotated[
    str,
    BeforeValidator(_optional_qualified_name),
    WithJsonSchema({"type": "string", "maxLength": QUALIFIED_NAME_MAX,
                    "pattern": f"^(?:{QUALIFIED_NAME_PATTERN[1:-1]})?$",
                    "description": "A label key, or empty (with Exists: every key)."}),
]  # fmt: skip
LabelValue = Annotated[
    str,
    BeforeValidator(_label_value),
    WithJsonSchema({**_LABEL_VALUE_SCHEMA, "description": "A label value (may be empty)."}),
]
NodeSelector = Annotated[
    dict[str, str],
    BeforeValidator(_labels),
    WithJsonSchema(
        _nullable(
            {
                "type": "object",
                "maxProperties": LABELS_MAX,
                "propertyNames": _KEYS,
                "additionalProperties": _LABEL_VALUE_SCHEMA,
                "description": "Node labels the pod's node must carry, each with this value "
                "(Kubernetes' nodeSelector): {'disktype': 'ssd'}.",
            }
        )
    ),
]


class Strict(BaseModel):
    """Unknown fields refused, and no coercion: "2" is not a number, 2.0 not an integer, as
    the JSON schema says (Cpu, Mem and Size take their strings on purpose)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, str_max_length=STR_MAX, defer_build=True
    )

    @model_validator(mode="after")
    def _no_unrunnable_text(self, info: ValidationInfo) -> Strict:
        """Every field's text (a string, or those a list or dict of it holds) checked, once the
        fields are valid; nested models check their own. One call per model, not per field:
        a 10,000-pod heartbeat holds tens of thousands of fields."""
        if info.context is _TEXT_CHECKED:
            return self  # parse_body walked the input and found every string fine
        for name in type(self).model_fields:
            try:
                _texts(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None  # parse_body names the field
        return self


EffectName = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class TaintIn(Strict):
    key: QualifiedName
    value: LabelValue = ""
    effect: EffectName = Field(
        description="NoSchedule: pods that do not tolerate it stay off; PreferNoSchedule: the "
        "node ranks lower for them; NoExecute: as NoSchedule, and the pods on it that do not "
        "tolerate it are evicted."
    )

    def to_taint(self) -> Taint:
        return Taint(self.key, self.value, TaintEffect(self.effect))


def check_taints(taints: Sequence[TaintIn], where: str = "taints") -> tuple[Taint, ...]:
    """Kubernetes refuses two taints with the same key and effect."""
    seen: set[tuple[str, str]] = set()
    for i, t in enumerate(taints):
        if (t.key, t.effect) in seen:
            raise UserError(
                f"{where}[{i}]: the taint '{t.key}:{t.effect}' is given twice",
                field=f"{where}[{i}]",
            )
        seen.add((t.key, t.effect))
    return tuple(t.to_taint() for t in taints)


class TaintsIn(Strict):
    """PUT /nodes/{id}/taints: the node's whole new list ([] removes them all)."""

    taints: list[TaintIn] = Field(max_length=TAINTS_MAX)


class TolerationIn(Strict):
    key: OptionalQualifiedName = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: LabelValue = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="", description="Empty: every effect."
    )
    toleration_seconds: int | None = Field(
        default=None, ge=0, le=TOLERATION_SECONDS_MAX,
        description="NoExecute only: how long the pod may stay once the taint appears "
        "(or once it arrives, if later); then it is evicted. Absent: forever.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _consistent(self) -> TolerationIn:
        if self.operator == "Exists" and self.value:
            raise ValueError("value: must be empty when operator is Exists")
        if not self.key and self.operator != "Exists":
            raise ValueError("operator: must be Exists when key is empty")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("toleration_seconds: only allowed when effect is NoExecute")
        return self

    def to_toleration(self) -> Toleration:
        effect = TaintEffect(self.effect) if self.effect else None
        return Toleration(
            self.key, TolerationOperator(self.operator), self.value, effect,
            self.toleration_seconds,
        )  # fmt: skip


class RequirementIn(Strict):
    key: QualifiedName
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[LabelValue] = Field(default_factory=list, max_length=VALUES_MAX)

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> RequirementIn:
        op, values = self.operator, self.values
        if op in ("In", "NotIn") and not values:
            raise ValueError(f"values: {op} needs at least one value")
        if op in ("Exists", "DoesNotExist") and values:
            raise ValueError(f"values: {op} takes no values")
        if op in ("Gt", "Lt") and (len(values) != 1 or not INTEGER.fullmatch(values[0])):
            raise ValueError(f"values: {op} takes exactly one integer")
        return self

    def to_requirement(self) -> Requirement:
        return Requirement(self.key, self.operator, tuple(self.values))


class NodeSelectorTermIn(Strict):
    match_expressions: list[RequirementIn] = Field(min_length=1, max_length=EXPRESSIONS_MAX)

    def to_term(self) -> NodeSelectorTerm:
        return NodeSelectorTerm(tuple(r.to_requirement() for r in self.match_expressions))


class PreferredTermIn(Strict):
    weight: int = Field(ge=1, le=100)
    preference: NodeSelectorTermIn


class NodeAffinityIn(Strict):
    """Kubernetes' affinity.nodeAffinity: ``required`` is requiredDuringScheduling…'s
    nodeSelectorTerms (ORed), ``preferred`` preferredDuringScheduling… (weights added)."""

    required: list[NodeSelectorTermIn] = Field(default_factory=list, max_length=AFFINITY_TERMS_MAX)
    preferred: list[PreferredTermIn] = Field(default_factory=list, max_length=AFFINITY_TERMS_MAX)

    def to_affinity(self) -> NodeAffinity | None:
        affinity = NodeAffinity(
            tuple(t.to_term() for t in self.required),
            tuple((p.weight, p.preference.to_term()) for p in self.preferred),
        )
        return affinity or None


class ExpressionIn(Strict):
    """A pod selector's matchExpressions entry (no Gt/Lt: those are for node labels)."""

    key: QualifiedName
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[LabelValue] = Field(default_factory=list, max_length=VALUES_MAX)

    @model_validator(mode="after")
    def _values_fit_the_operator(self) -> ExpressionIn:
        op, values = self.operator, self.values
        if op in ("In", "NotIn") and not values:
            raise ValueError(f"values: {op} needs at least one value")
        if op in ("Exists", "DoesNotExist") and values:
            raise ValueError(f"values: {op} takes no values")
        return self


class PodSelectorIn(Strict):
    """Which pods a term counts: matchLabels and matchExpressions, ANDed ({}: every pod)."""

    match_labels: NodeSelector = Field(default_factory=dict)
    match_expressions: list[ExpressionIn] = Field(default_factory=list, max_length=EXPRESSIONS_MAX)

    def to_selector(self) -> PodSelector:
        return PodSelector(
            tuple(sorted(self.match_labels.items())),
            tuple(Requirement(e.key, e.operator, tuple(e.values)) for e in self.match_expressions),
        )


class PodAffinityTermIn(Strict):
    label_selector: PodSelectorIn | None = Field(
        default=None, description="The pods it names; null names none (as Kubernetes)."
    )
    namespaces: list[Namespace] = Field(
        default_factory=list, max_length=NAMESPACES_MAX,
        description="Where those pods are; empty: the pod's own namespace.",
    )  # fmt: skip
    topology_key: QualifiedName = Field(
        description="The node label whose value is the domain: kubernetes.io/hostname (one "
        "node), topology.kubernetes.io/zone, ..."
    )

    def to_term(self) -> PodAffinityTerm:
        selector = self.label_selector.to_selector() if self.label_selector else None
        return PodAffinityTerm(selector, self.topology_key, tuple(dict.fromkeys(self.namespaces)))


class WeightedPodAffinityTermIn(Strict):
    weight: int = Field(ge=1, le=100)
    pod_affinity_term: PodAffinityTermIn


class PodAffinityIn(Strict):
    """Kubernetes' podAffinity / podAntiAffinity: ``required`` is requiredDuringScheduling…
    (every term holds), ``preferred`` preferredDuringScheduling… (weighted)."""

    required: list[PodAffinityTermIn] = Field(default_factory=list, max_length=POD_TERMS_MAX)
    preferred: list[WeightedPodAffinityTermIn] = Field(
        default_factory=list, max_length=POD_TERMS_MAX
    )

    def to_affinity(self) -> PodAffinity | None:
        out = PodAffinity(
            tuple(t.to_term() for t in self.required),
            tuple((p.weight, p.pod_affinity_term.to_term()) for p in self.preferred),
        )
        return out or None


class SpreadConstraintIn(Strict):
    """A topologySpreadConstraint (minDomains, matchLabelKeys and nodeAffinityPolicy are not
    taken: the last is always Honor)."""

    max_skew: int = Field(ge=1, le=MAX_SKEW_MAX)
    topology_key: QualifiedName
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = "DoNotSchedule"
    label_selector: PodSelectorIn | None = None
    node_taints_policy: Literal["Ignore", "Honor"] = "Ignore"

    def to_constraint(self) -> SpreadConstraint:
        selector = self.label_selector.to_selector() if self.label_selector else None
        return SpreadConstraint(
            self.max_skew, self.topology_key, WhenUnsatisfiable(self.when_unsatisfiable),
            selector, TaintsPolicy(self.node_taints_policy),
        )  # fmt: skip


def interpod_rules(
    affinity: PodAffinityIn | None,
    anti_affinity: PodAffinityIn | None,
    spread: Sequence[SpreadConstraintIn],
    where: str = "",
) -> InterPodRules | None:
    """The checked inter-pod rules; a spread constraint per (topology key, when) at most, as
    Kubernetes."""
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(spread):
        pair = (c.topology_key, c.when_unsatisfiable)
        if pair in seen:
            at = f"{where}topology_spread_constraints[{i}]"
            raise UserError(
                f"{at}: a second constraint for topology_key '{c.topology_key}' and "
                f"when_unsatisfiable {c.when_unsatisfiable}", field=at,
            )  # fmt: skip
        seen.add(pair)
    rules = InterPodRules(
        affinity.to_affinity() if affinity else None,
        anti_affinity.to_affinity() if anti_affinity else None,
        tuple(c.to_constraint() for c in spread),
    )
    return rules or None


class NodeCreate(Strict):
    name: NodeName
    cpu_cores_avail: Cpu = Field(description="CPU capacity in cores, or a quantity like '500m'.")
    node_type: Literal["worker", "master"] = "worker"
    memory_mb: Mem | None = Field(
        default=None, description="Memory capacity in MB or a quantity; default 2048 per core."
    )
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    taints: list[TaintIn] | None = Field(
        default=None, max_length=TAINTS_MAX,
        description="Omitted: a master gets node-role.kubernetes.io/control-plane:NoSchedule, "
        "a worker none; a list (even []) is used as given.",
    )  # fmt: skip

    max_pods: int | None = Field(
        default=None, ge=1, le=POD_LIMIT_MAX,
        description="The most pods it may hold (a kubelet's --max-pods; default 110), kept "
        f"as its {POD_LIMIT_ANNOTATION} annotation; the scheduler refuses more ('Too many "
        "pods').",
    )  # fmt: skip
    engine: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$",
        description="The Docker engine to run it on (GET /engines names them); omitted: "
        "the engine with the fewest nodes among those up, ties by name.",
    )  # fmt: skip

    def to_spec(self) -> NodeSpec:
        annotations = dict(self.annotations)
        if self.max_pods is not None:
            given = annotations.get(POD_LIMIT_ANNOTATION)
            if given is not None and given != str(self.max_pods):
                raise UserError(
                    f"max_pods: {self.max_pods}, but annotations['{POD_LIMIT_ANNOTATION}'] "
                    f"says {given!r}: give one of them", field="max_pods",
                )  # fmt: skip
            annotations[POD_LIMIT_ANNOTATION] = str(self.max_pods)
        return NodeSpec(
            self.name,
            NodeType(self.node_type),
            Resources(self.cpu_cores_avail, self.memory_mb or 0),
            labels=dict(self.labels),
            annotations=annotations,
            taints=None if self.taints is None else check_taints(self.taints),
            engine=self.engine,
        )


IANA_SVC_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
PortNumber = Annotated[int, Field(ge=1, le=65535)]


def _port_ref(value: object) -> int | str:
    """A port number (1-65535) or the name of a container port (an IANA service name)."""
    if isinstance(value, bool):
        raise ValueError("must be a port number or a port name")
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            raise ValueError("must be between 1 and 65535")
        return value
    if isinstance(value, str) and IANA_SVC_NAME.match(value) and "--" not in value:
        return value
    raise ValueError("must be a port number (1-65535) or a port name like 'http'")


PortRef = Annotated[
    int | str,
    BeforeValidator(_port_ref),
    Field(json_schema_extra={"anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 65535},
        {"type": "string", "pattern": IANA_SVC_NAME.pattern, "maxLength": 15},
    ]}),
]  # fmt: skip


class ExecIn(Strict):
    command: Argv = Field(description="Run in the pod's directory with its environment.")

    @field_validator("command")
    @classmethod
    def _some(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("must name a program to run")
        return v


class TcpSocketIn(Strict):
    port: PortRef


class HttpGetIn(Strict):
    path: str = Field(default="/", max_length=1024, pattern=r"^/[^\s]*$")
    port: PortRef


class ProbeIn(Strict):
    """One of exec, tcp_socket or http_get, with Kubernetes' timing defaults."""

    exec: ExecIn | None = None
    tcp_socket: TcpSocketIn | None = None
    http_get: HttpGetIn | None = None
    initial_delay_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    period_s: Annotated[float, Field(ge=0.1, le=3600)] = 10.0
    timeout_s: Annotated[float, Field(ge=0.1, le=600)] = 1.0
    failure_threshold: Annotated[int, Field(ge=1, le=1000)] = 3
    success_threshold: Annotated[int, Field(ge=1, le=1000)] = 1

    @model_validator(mode="after")
    def _one_handler(self) -> ProbeIn:
        given = [k for k in ("exec", "tcp_socket", "http_get") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of exec, tcp_socket or http_get")
        return self

    def to_probe(self) -> Probe:
        if self.exec is not None:
            kind, command, port, path = "exec", self.exec.command, None, "/"
        elif self.tcp_socket is not None:
            kind, command, port, path = "tcp_socket", (), self.tcp_socket.port, "/"
        else:
            assert self.http_get is not None
            kind, command, port, path = "http_get", (), self.http_get.port, self.http_get.path
        return Probe(
            kind, command, port, path, self.initial_delay_s, self.period_s, self.timeout_s,
            self.failure_threshold, self.success_threshold,
        )  # fmt: skip


class PortIn(Strict):
    container_port: PortNumber
    name: str = Field(default="", max_length=15)
    protocol: Literal["TCP"] = "TCP"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v and (not IANA_SVC_NAME.match(v) or "--" in v):
            raise ValueError(
                "must be a port name: lowercase letters, digits and '-', at most 15, with a letter"
            )
        return v


class ContainerIn(Strict):
    name: ObjectName
    image: str = Field(max_length=255, json_schema_extra={"pattern": IMAGE.pattern})
    cpu_req: Cpu | None = None
    memory_req: MemOrZero | None = None
    command: Argv = ()
    args: Argv = ()
    ports: list[PortIn] = Field(default_factory=list, max_length=32)
    readiness_probe: ProbeIn | None = None
    liveness_probe: ProbeIn | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not IMAGE.fullmatch(v):
            raise ValueError("must be an image reference like 'nginx:latest' (no spaces)")
        return v

    @model_validator(mode="after")
    def _ports_known(self) -> ContainerIn:
        names = [p.name for p in self.ports if p.name]
        if len(names) != len(set(names)):
            raise ValueError("ports: a port name is used twice")
        numbers = [p.container_port for p in self.ports]
        if len(numbers) != len(set(numbers)):
            raise ValueError("ports: a container_port is given twice")
        for which in ("readiness_probe", "liveness_probe"):
            probe = getattr(self, which)
            handler = probe and (probe.tcp_socket or probe.http_get)
            if handler is not None and isinstance(handler.port, str) and handler.port not in names:
                raise ValueError(
                    f"{which}: port '{handler.port}' is not a port this container declares"
                    + (f" (it has {', '.join(names)})" if names else " (it declares none)")
                )
        if self.liveness_probe is not None and self.liveness_probe.success_threshold != 1:
            raise ValueError("liveness_probe.success_threshold: must be 1 (as in Kubernetes)")
        return self

    def to_spec(self) -> ContainerSpec:
        return ContainerSpec(
            self.name, self.image, self.cpu_req or 0, self.memory_req or 0, self.command,
            self.args,
            readiness=self.readiness_probe.to_probe() if self.readiness_probe else None,
            liveness=self.liveness_probe.to_probe() if self.liveness_probe else None,
            ports=tuple(ContainerPort(p.container_port, p.name, p.protocol) for p in self.ports),
        )  # fmt: skip


class VolumeIn(Strict):
    name: ObjectName
    type: Literal["emptyDir", "configMap", "hostPath", "secret"] = "emptyDir"
    size: Size | None = None
    path: MountPath | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith("/") or "\x00" in v or any(p == ".." for p in v.split("/")):
            raise ValueError("must be an absolute path without '..' (e.g. '/data')")
        return v


class ConfigIn(Strict):
    name: ObjectName
    type: Literal["env", "secret"] = "env"
    key: str = Field(max_length=255, json_schema_extra={"pattern": ENV_NAME.pattern})
    value: str

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not ENV_NAME.fullmatch(v):
            raise ValueError("must be an environment variable name like 'API_KEY'")
        return v

    @field_validator("value")
    @classmethod
    def _secret_value(cls, v: str, info: ValidationInfo) -> str:
        """A secret with no value is a secret typed elsewhere (into the key, say) or forgotten."""
        if info.data.get("type") == "secret" and not v:
            raise ValueError("a secret needs a value (the key is the variable's name)")
        return v


class PodFields(Strict):
    """What a pod and a pod template share: request, containers, volumes, config, metadata."""

    cpu_cores_req: Cpu | None = Field(
        default=None, description="Pod CPU request; default: the sum of the containers' cpu_req."
    )
    containers: list[ContainerIn] = Field(min_length=1, max_length=32)
    volumes: list[VolumeIn] = Field(default_factory=list, max_length=32)
    config: list[ConfigIn] = Field(default_factory=list, max_length=64)
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    termination_grace_period_s: float = Field(
        default=TERMINATION_GRACE_S, ge=0, le=TERMINATION_GRACE_MAX_S,
        description="Seconds from SIGTERM to SIGKILL when the pod stops (Kubernetes' "
        "terminationGracePeriodSeconds); it leaves its Services' endpoints before SIGTERM.",
    )  # fmt: skip
    tolerations: list[TolerationIn] = Field(default_factory=list, max_length=TOLERATIONS_MAX)
    node_selector: NodeSelector = Field(default_factory=dict)
    node_affinity: NodeAffinityIn | None = None
    pod_affinity: PodAffinityIn | None = None
    pod_anti_affinity: PodAffinityIn | None = None
    topology_spread_constraints: list[SpreadConstraintIn] = Field(
        default_factory=list, max_length=SPREAD_MAX
    )
    priority_class_name: str = Field(
        default="", max_length=253,
        description="Its PriorityClass (GET /priorityclasses/); empty: the class marked "
        "global_default, else priority 0. The pod's priority is fixed when it is created; "
        "an unknown class is a 400.",
    )  # fmt: skip

    def interpod(self, where: str = "") -> InterPodRules | None:
        return interpod_rules(
            self.pod_affinity, self.pod_anti_affinity, self.topology_spread_constraints, where
        )

    def constraint_parts(
        self,
    ) -> tuple[tuple[Toleration, ...], dict[str, str], NodeAffinity | None]:
        affinity = self.node_affinity.to_affinity() if self.node_affinity else None
        return (
            tuple(t.to_toleration() for t in self.tolerations),
            dict(self.node_selector),
            affinity,
        )

    def parts(
        self, where: str = ""
    ) -> tuple[
        Resources, tuple[ContainerSpec, ...], tuple[VolumeSpec, ...], tuple[ConfigItem, ...]
    ]:
        """The checked request and parts; ``where`` prefixes field names ("template.")."""
        groups: tuple[tuple[str, Sequence[ContainerIn | VolumeIn | ConfigIn]], ...] = (
            ("containers", self.containers),
            ("volumes", self.volumes),
            ("config", self.config),
        )
        for what, items in groups:
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    raise UserError(
                        f"{where}{what}[{i}].name: '{item.name}' is used twice in this pod",
                        field=f"{where}{what}[{i}].name",
                    )
                seen.add(item.name)
        # The pod's containers share its address: a port name or number is the pod's, once.
        port_names: set[str] = set()
        port_numbers: set[int] = set()
        for i, container in enumerate(self.containers):
            for j, port in enumerate(container.ports):
                at = f"{where}containers[{i}].ports[{j}]"
                if port.name and port.name in port_names:
                    raise UserError(
                        f"{at}.name: '{port.name}' is used twice in this pod", field=f"{at}.name"
                    )
                if port.container_port in port_numbers:
                    raise UserError(
                        f"{at}.container_port: {port.container_port} is declared twice in this "
                        "pod (its containers share one address)",
                        field=f"{at}.container_port",
                    )
                port_names.add(port.name)
                port_numbers.add(port.container_port)
        keys: set[str] = set()
        for i, c in enumerate(self.config):
            if c.key in keys:
                raise UserError(
                    f"{where}config[{i}].key: '{c.key}' is set twice",
                    field=f"{where}config[{i}].key",
                )
            keys.add(c.key)
        containers_cpu = sum(c.cpu_req or 0 for c in self.containers)
        cpu = self.cpu_cores_req
        if cpu is None:
            if containers_cpu <= 0:
                raise UserError(
                    f"{where}cpu_cores_req: required unless the containers carry cpu_req",
                    field=f"{where}cpu_cores_req",
                )
            cpu = containers_cpu
        elif containers_cpu > cpu:
            raise UserError(
                f"{where}cpu_cores_req: the containers request {containers_cpu / 1000:g} CPU in "
                f"total, more than the pod's {cpu / 1000:g}",
                field=f"{where}cpu_cores_req",
            )
        mem = sum(c.memory_req or 0 for c in self.containers)
        return (
            Resources(cpu, mem),
            tuple(c.to_spec() for c in self.containers),
            tuple(VolumeSpec(v.name, v.type, v.size, v.path) for v in self.volumes),
            tuple(ConfigItem(c.name, c.type, c.key, c.value) for c in self.config),
        )


class PodCreate(PodFields):
    name: ObjectName
    namespace: Namespace = DEFAULT_NAMESPACE

    def to_spec(self) -> PodSpec:
        request, containers, volumes, config = self.parts()
        tolerations, _, affinity = self.constraint_parts()  # once: it builds every part anew
        return PodSpec(
            name=self.name,
            request=request,
            containers=containers,
            volumes=volumes,
            config=config,
            namespace=self.namespace,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            termination_grace_s=self.termination_grace_period_s,
            tolerations=tolerations,
            node_selector=dict(self.node_selector),
            node_affinity=affinity,
            interpod=self.interpod(),
            priority_class_name=self.priority_class_name,
        )


class ContainerReportIn(Strict):
    name: str = Field(max_length=63)
    state: str = Field(default="unknown", max_length=32)
    exit_code: int | None = Field(default=None, ge=-255, le=255)
    restarts: int = Field(default=0, ge=0, le=INT32_MAX)
    reason: str = Field(default="", max_length=300)
    last_reason: str | None = Field(
        default=None,
        max_length=32,
        description="How its last run ended: Error, Completed, OOMKilled.",
    )
    backoff_s: float | None = Field(
        default=None, ge=0, le=86400, description="The delay of the restart back-off it waits out."
    )
    pid: int | None = Field(default=None, ge=0, le=2**32)
    ready: bool | None = Field(default=None, description="Its readiness probe passes.")


class PodReportIn(Strict):
    id: int = Field(ge=1, le=ID_MAX)
    phase: str = Field(default="running", max_length=32)
    containers: list[ContainerReportIn] = Field(default_factory=list, max_length=32)
    reason: str | None = Field(
        default=None, max_length=300, description="Why the pod is failed (the agent refused it)."
    )


class AgentInfo(Strict):
    version: str | None = Field(default=None, max_length=64)
    started_at: str | None = Field(default=None, max_length=64)
    seq: int | None = Field(default=None, ge=0, le=INT64_MAX)


# Usage figures: at most 100,000 cores and 64 TiB per pod or node; NaN and infinities refused.
USAGE_CPU_MAX = 100_000.0
USAGE_MEMORY_MB_MAX = 64 * 1024 * 1024.0


class UsageFiguresIn(Strict):
    cpu_cores: float = Field(
        ge=0, le=USAGE_CPU_MAX, allow_inf_nan=False,
        description="CPU used, in cores, averaged over the last heartbeat interval.",
    )  # fmt: skip
    memory_mb: float = Field(
        ge=0, le=USAGE_MEMORY_MB_MAX, allow_inf_nan=False,
        description="Resident memory (RSS, or the cgroup's memory.current), in MiB.",
    )  # fmt: skip


class PodUsageIn(UsageFiguresIn):
    id: int = Field(ge=1, le=ID_MAX)


class UsageIn(Strict):
    pods: list[PodUsageIn] = Field(default_factory=list, max_length=200_000)
    node: UsageFiguresIn | None = Field(
        default=None, description="The node's own figure (its cgroup); else the pods' sum."
    )


# Lists in a heartbeat are bounded by its body, whose cap grows with the pods the node holds
# (heartbeat.report_limit): a node with 10,000 pods may report all of them.
HEARTBEAT_LIST_MAX = 200_000


class HeartbeatIn(Strict):
    pod_ids: list[Annotated[int, Field(ge=1, le=ID_MAX)]] | None = Field(
        default=None, max_length=HEARTBEAT_LIST_MAX
    )
    pod_count: Annotated[int, Field(ge=0, le=2**31)] | None = Field(
        default=None, description="How many pods the agent runs (instead of pod_ids)."
    )
    pod_digest: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{16}$",
        description="sha256 of the sorted pod ids joined by ',', first 16 hex digits.",
    )
    cpu_cores_avail: Annotated[float, Field(ge=0, le=1_024_000)] | None = None
    health_status: str | None = Field(default=None, max_length=32)
    components: dict[str, Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=16
    )
    pods: list[PodReportIn] | None = Field(default=None, max_length=HEARTBEAT_LIST_MAX)
    generation: int | None = Field(default=None, ge=0, le=INT64_MAX)
    terminating: int | None = Field(
        default=None,
        ge=0,
        le=HEARTBEAT_LIST_MAX,
        description="Pods the agent has been told to stop whose processes have not all exited.",
    )
    agent: AgentInfo | None = None
    usage: UsageIn | None = Field(default=None, description="Live usage (docs/protocol.md).")

    @field_validator("components")
    @classmethod
    def _components(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is not None:
            for key in v:
                if key not in _COMPONENT_NAMES and not COMPONENT_NAME.fullmatch(key):
                    raise ValueError(f"unknown component name {key[:40]!r}")
        return v

    def to_report(self) -> HeartbeatReport:
        return HeartbeatReport(
            pod_ids=tuple(self.pod_ids) if self.pod_ids is not None else None,
            pod_count=self.pod_count,
            pod_digest=self.pod_digest,
            cpu_m_avail=round(self.cpu_cores_avail * 1000)
            if self.cpu_cores_avail is not None
            else None,
            health_status=self.health_status,
            components=self.components,
            pods=tuple(
                PodReport(
                    p.id,
                    p.phase,
                    tuple(
                        ContainerReport(
                            c.name,
                            c.state,
                            c.exit_code,
                            c.restarts,
                            c.reason,
                            c.ready,
                            c.last_reason or "",
                            c.backoff_s,
                        )
                        for c in p.containers
                    ),
                    p.reason or "",
                )
                for p in self.pods
            )
            if self.pods is not None
            else None,
            generation=self.generation,
            seq=self.agent.seq if self.agent else None,
            version=self.agent.version if self.agent else None,
            terminating=self.terminating,
            usage=tuple(PodUsage(u.id, u.cpu_cores, u.memory_mb) for u in self.usage.pods)
            if self.usage is not None
            else None,
            node_usage=(self.usage.node.cpu_cores, self.usage.node.memory_mb)
            if self.usage is not None and self.usage.node is not None
            else None,
        )


class FaultIn(Strict):
    mode: Literal["crash", "hang", "partition", "component"] = "crash"
    component: str | None = Field(
        default=None, description="For mode component: kubelet (default) or container_runtime…"
    )
    duration_s: Annotated[float, Field(gt=0, le=3600)] | None = Field(
        default=None, description="For mode partition: seconds until it heals (default 30)."
    )


class NamespaceCreate(Strict):
    name: Namespace
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)


class PriorityClassCreate(Strict):
    """A PriorityClass (scheduling.k8s.io/v1): pods naming it get its value as priority."""

    name: str = Field(min_length=1, max_length=253, description="Lowercase letters, digits, "
                      "'-' and '.'; the 'system-' prefix is reserved.")  # fmt: skip
    value: int = Field(
        ge=-(2**31), le=2**31 - 1,
        description="The priority of its pods; user classes at most 1000000000.",
    )  # fmt: skip
    preemption_policy: Literal["PreemptLowerPriority", "Never"] = Field(
        default="PreemptLowerPriority",
        description="Never: its pods wait for room instead of preempting lower-priority pods.",
    )
    global_default: bool = Field(
        default=False, description="Pods naming no class get this one (at most one class)."
    )
    description: str = Field(default="", max_length=1024)

    def to_spec(self) -> PriorityClassSpec:
        spec = PriorityClassSpec(
            self.name, self.value, PreemptionPolicy(self.preemption_policy),
            self.global_default, self.description,
        )  # fmt: skip
        check_new(spec)
        return spec


class PodFaultIn(Strict):
    container: str | None = Field(default=None, max_length=63)


def field_path(loc: tuple[int | str, ...]) -> str:
    """('containers', 0, 'cpu_req') -> 'containers[0].cpu_req'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-before", "function-after") or str(part).startswith(
            ("function-", "tagged-union", "constrained-")
        ):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind == "missing":
        return "is required"
    if len(msg) > 1 and msg[1].islower():
        msg = msg[0].lower() + msg[1:]
    return msg or "invalid"


_NAMED = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): (.+)$", re.S)


def parse_body(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model``; raise one UserError naming every bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError("The body must be a JSON object", field="(body)")
    try:
        # Text no process can carry is rare: walk the input once, and only where the walk
        # finds some let every field check its own (which names the field in the error).
        return model.model_validate(data, context=_TEXT_CHECKED if all_text_ok(data) else None)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            path = field_path(tuple(err.get("loc", ()))) or "(body)"
            message = _message(err)
            if message.startswith("["):  # a keyed problem: labels['-bad']: key name must …
                key, _, message = message.partition("]: ")
                path += key + "]"
            elif err.get("type") == "value_error" and (named := _NAMED.match(message)):
                # A model-level check that names its field ("progress_deadline_seconds: …").
                head, message = named.group(1), named.group(2)
                path = head if path == "(body)" else f"{path}.{head}"
            errors.append({"field": path, "message": message})
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(
            f"{first['field']}: {first['message']}{more}", field=first["field"], errors=errors
        ) from None
