"""Request models for workloads: Deployments and ReplicaSets, their scale, patch and rollback.

Validation as everywhere: one 400 naming the field (negative replicas, a selector that does not
match the template's labels, max_surge and max_unavailable both zero, a name too long to leave
room for the pods' generated names).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE
from kube9_desktop.engine.specs import (
    Annotations,
    Labels,
    Namespace,
    PodFields,
    Strict,
    dns_label,
)
from kube9_desktop.engine.workloads import (
    DEPLOYMENT_NAME_MAX,
    POD_TEMPLATE_HASH,
    RECREATE,
    REPLICASET_NAME_MAX,
    ROLLING_UPDATE,
    DeploymentSpec,
    LabelSelector,
    PodTemplate,
    ReplicaSetSpec,
    Strategy,
    surge_and_unavailable,
)

REPLICAS_MAX = 10_000  # per Deployment or ReplicaSet: what one laptop engine makes in seconds
_INT_OR_PERCENT = re.compile(r"^[0-9]{1,9}%?$")


def _int_or_percent(value: object) -> int | str:
    """5 or "25%": an integer (0 or more) or a percentage of the desired replicas."""
    if isinstance(value, bool):
        raise ValueError("must be an integer or a percentage like '25%'")
    if isinstance(value, int):
        if value < 0 or value > REPLICAS_MAX:
            raise ValueError(f"must be between 0 and {REPLICAS_MAX}")
        return value
    if isinstance(value, str) and _INT_OR_PERCENT.match(value):
        if value.endswith("%"):
            if int(value[:-1]) > 100:
                raise ValueError("a percentage must be at most 100%")
            return value
        return int(value)
    raise ValueError("must be an integer or a percentage like '25%'")


IntOrPercent = Annotated[
    int | str,
    Field(json_schema_extra={"anyOf": [
        {"type": "integer", "minimum": 0, "maximum": REPLICAS_MAX},
        {"type": "string", "pattern": "^[0-9]{1,3}%$"},
    ]}),
]  # fmt: skip
Replicas = Annotated[int, Field(ge=0, le=REPLICAS_MAX)]


class TemplateIn(PodFields):
    """A pod template: a pod's fields without its name (labels select it)."""

    def to_template(self, where: str = "template.") -> PodTemplate:
        request, containers, volumes, config = self.parts(where)
        if POD_TEMPLATE_HASH in self.labels:
            raise UserError(
                f"{where}labels['{POD_TEMPLATE_HASH}']: set by the engine, not by you",
                field=f"{where}labels",
            )
        tolerations, node_selector, affinity = self.constraint_parts()
        return PodTemplate(
            request, containers, volumes, config, dict(self.labels), dict(self.annotations),
            self.termination_grace_period_s, tolerations, node_selector, affinity,
            self.interpod(where), self.priority_class_name,
        )  # fmt: skip


class StrategyIn(Strict):
    type: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    max_surge: IntOrPercent | None = None
    max_unavailable: IntOrPercent | None = None

    @field_validator("max_surge", "max_unavailable", mode="before")
    @classmethod
    def _value(cls, v: object) -> object:
        return None if v is None else _int_or_percent(v)

    def to_strategy(self) -> Strategy:
        if self.type == RECREATE:
            if self.max_surge is not None or self.max_unavailable is not None:
                raise UserError(
                    "strategy: max_surge and max_unavailable go with RollingUpdate, not Recreate",
                    field="strategy",
                )
            return Strategy(RECREATE)
        strategy = Strategy(
            ROLLING_UPDATE,
            "25%" if self.max_surge is None else self.max_surge,
            "25%" if self.max_unavailable is None else self.max_unavailable,
        )
        if strategy.max_surge in (0, "0%") and strategy.max_unavailable in (0, "0%"):
            raise UserError(
                "strategy: max_surge and max_unavailable may not both be zero (the rollout "
                "could never start)",
                field="strategy.max_unavailable",
            )
        return strategy


def _selector(raw: dict[str, str] | None, template: PodTemplate, what: str) -> LabelSelector:
    """The selector given (default: the template's labels); it must select the template."""
    labels = template.labels if raw is None else raw
    if not labels:
        raise UserError(
            f"{what}: needs labels to select its pods; give template.labels (and selector)",
            field="selector" if raw is not None else "template.labels",
        )
    selector = LabelSelector(dict(labels))
    if not selector.selector().matches(template.labels):
        raise UserError(
            f"selector: {dict(labels)} does not select the template's labels "
            f"{dict(template.labels)}: its pods would be orphans",
            field="selector",
        )
    return selector


def _name(value: object, limit: int) -> str:
    try:
        return dns_label(value, limit)
    except ValueError as exc:
        raise ValueError(
            f"{exc} (room is left for the generated names of its pods)"
            if "at most" in str(exc) else str(exc)
        ) from None  # fmt: skip


class DeploymentCreate(Strict):
    name: str = Field(description=f"A DNS label of at most {DEPLOYMENT_NAME_MAX} characters.")
    namespace: Namespace = DEFAULT_NAMESPACE
    replicas: Replicas = 1
    selector: Labels | None = Field(
        default=None, description="Labels its pods carry; default: the template's labels."
    )
    template: TemplateIn
    strategy: StrategyIn | None = None
    min_ready_seconds: Annotated[int, Field(ge=0, le=86_400)] = 0
    progress_deadline_seconds: Annotated[int, Field(ge=1, le=86_400 * 30)] = 600
    revision_history_limit: Annotated[int, Field(ge=0, le=1000)] = 10
    paused: bool = False
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: object) -> str:
        return _name(v, DEPLOYMENT_NAME_MAX)

    @model_validator(mode="after")
    def _deadline(self) -> DeploymentCreate:
        if self.progress_deadline_seconds <= self.min_ready_seconds:
            raise ValueError("progress_deadline_seconds: must be longer than min_ready_seconds")
        return self

    def to_spec(self) -> DeploymentSpec:
        template = self.template.to_template()
        strategy = (self.strategy or StrategyIn()).to_strategy()
        surge_and_unavailable(strategy, self.replicas)  # the percentages resolve
        return DeploymentSpec(
            name=self.name,
            namespace=self.namespace,
            replicas=self.replicas,
            selector=_selector(self.selector, template, "selector"),
            template=template,
            strategy=strategy,
            min_ready_seconds=self.min_ready_seconds,
            progress_deadline_seconds=self.progress_deadline_seconds,
            revision_history_limit=self.revision_history_limit,
            paused=self.paused,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
        )


class DeploymentPatch(Strict):
    """Any of these; a changed template starts a rollout. The selector cannot change."""

    replicas: Replicas | None = None
    template: TemplateIn | None = None
    strategy: StrategyIn | None = None
    min_ready_seconds: Annotated[int, Field(ge=0, le=86_400)] | None = None
    progress_deadline_seconds: Annotated[int, Field(ge=1, le=86_400 * 30)] | None = None
    revision_history_limit: Annotated[int, Field(ge=0, le=1000)] | None = None
    paused: bool | None = None
    labels: Labels | None = None
    annotations: Annotations | None = None
    selector: Labels | None = Field(default=None, description="Must equal the current one.")

    def apply(self, spec: DeploymentSpec) -> DeploymentSpec:
        """The spec after this patch, checked as a whole."""
        changes: dict[str, Any] = {}
        for name in ("replicas", "min_ready_seconds", "progress_deadline_seconds",
                     "revision_history_limit", "paused"):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        if self.labels is not None:
            changes["labels"] = dict(self.labels)
        if self.annotations is not None:
            changes["annotations"] = dict(self.annotations)
        if self.strategy is not None:
            changes["strategy"] = self.strategy.to_strategy()
        if self.selector is not None and dict(self.selector) != dict(spec.selector.match_labels):
            raise UserError(
                "selector: cannot be changed once the Deployment exists (as in apps/v1); "
                "create a new Deployment instead",
                field="selector",
            )
        template = spec.template if self.template is None else self.template.to_template()
        changes["template"] = template
        if not spec.selector.selector().matches(template.labels):
            raise UserError(
                f"template.labels: {dict(template.labels)} no longer match the selector "
                f"{dict(spec.selector.match_labels)}",
                field="template.labels",
            )
        new = _replace(spec, changes)
        if new.progress_deadline_seconds <= new.min_ready_seconds:
            raise UserError(
                "progress_deadline_seconds: must be longer than min_ready_seconds",
                field="progress_deadline_seconds",
            )
        return new


def _replace(spec: DeploymentSpec, changes: dict[str, Any]) -> DeploymentSpec:
    return replace(spec, **changes)


class ScaleIn(Strict):
    replicas: Replicas


class RollbackIn(Strict):
    revision: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        default=None, description="The revision to go back to; default: the previous one."
    )


class ReplicaSetCreate(Strict):
    name: str = Field(description=f"A DNS label of at most {REPLICASET_NAME_MAX} characters.")
    namespace: Namespace = DEFAULT_NAMESPACE
    replicas: Replicas = 1
    selector: Labels | None = None
    template: TemplateIn
    min_ready_seconds: Annotated[int, Field(ge=0, le=86_400)] = 0
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: object) -> str:
        return _name(v, REPLICASET_NAME_MAX)

    def to_spec(self) -> ReplicaSetSpec:
        template = self.template.to_template()
        return ReplicaSetSpec(
            name=self.name,
            namespace=self.namespace,
            replicas=self.replicas,
            selector=_selector(self.selector, template, "selector"),
            template=template,
            min_ready_seconds=self.min_ready_seconds,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
        )
