"""Priority classes (scheduling.k8s.io/v1): a pod's priority, fixed when it is created.

A class has a name, a value, a preemption policy and maybe ``global_default``. A pod names
its class (``priority_class_name``); its ``priority`` is that class's value, or the default
class's value when it names none, or 0 when there is no default, resolved once at creation as
Kubernetes' Priority admission plugin does (a later change to the classes leaves running pods
as they are). An unknown class is refused, naming it.

The two built-in classes cannot be created, changed or deleted; user classes may not exceed
1,000,000,000 (the range above is the system's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.meta import ObjectRef

USER_MAX = 1_000_000_000  # HighestUserDefinablePriority
INT32_MIN = -(2**31)
SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"
SYSTEM_NODE_CRITICAL = "system-node-critical"
SYSTEM_PREFIX = "system-"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class PreemptionPolicy(StrEnum):
    PREEMPT_LOWER = "PreemptLowerPriority"
    NEVER = "Never"


@dataclass(frozen=True, slots=True)
class PriorityClassSpec:
    name: str
    value: int
    preemption_policy: PreemptionPolicy = PreemptionPolicy.PREEMPT_LOWER
    global_default: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class PriorityClassView:
    id: int  # 0 for the built-ins (never stored)
    uid: str
    spec: PriorityClassSpec
    created_at: datetime | None
    resource_version: int = 0
    builtin: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def value(self) -> int:
        return self.spec.value

    def ref(self) -> ObjectRef:
        return ObjectRef("PriorityClass", self.id, self.uid, self.spec.name)


BUILTIN: tuple[PriorityClassSpec, ...] = (
    PriorityClassSpec(
        SYSTEM_CLUSTER_CRITICAL, 2_000_000_000,
        description="Used for system critical pods that must run in the cluster, "
        "but can be moved to another node if necessary.",
    ),
    PriorityClassSpec(
        SYSTEM_NODE_CRITICAL, 2_000_001_000,
        description="Used for system critical pods that must not be moved from their "
        "current node.",
    ),
)  # fmt: skip
BUILTIN_NAMES = frozenset(c.name for c in BUILTIN)


def check_new(spec: PriorityClassSpec) -> None:
    """What Kubernetes' validation refuses of a user class, each naming the field."""
    if not spec.name or len(spec.name) > 253 or not _NAME.match(spec.name):
        raise UserError(
            f"name: '{spec.name}' is not a valid name (lowercase letters, digits, '-' and "
            "'.', starting and ending with a letter or digit, at most 253 characters)",
            field="name",
        )
    if spec.name in BUILTIN_NAMES or spec.name.startswith(SYSTEM_PREFIX):
        raise UserError(
            f"name: '{spec.name}': the 'system-' prefix is reserved for the built-in classes",
            field="name",
        )
    if not INT32_MIN <= spec.value <= USER_MAX:
        raise UserError(
            f"value: {spec.value} is out of range: a user class's value is at most "
            f"{USER_MAX:,} (higher values are reserved for system classes)",
            field="value",
        )


@dataclass(frozen=True, slots=True)
class Resolved:
    class_name: str
    priority: int
    policy: PreemptionPolicy


def resolve(name: str, classes: dict[str, PriorityClassView]) -> Resolved:
    """A pod's class, priority and policy from its ``priority_class_name`` ("" = default)."""
    if name:
        found = classes.get(name)
        if found is None:
            raise UserError(
                f"priority_class_name: no PriorityClass with name {name} was found",
                field="priority_class_name",
            )
        return Resolved(name, found.value, found.spec.preemption_policy)
    for c in classes.values():
        if c.spec.global_default:
            return Resolved(c.name, c.value, c.spec.preemption_policy)
    return Resolved("", 0, PreemptionPolicy.PREEMPT_LOWER)
