"""The reply shapes of the PriorityClass routes, as wire.py does for the rest."""

from __future__ import annotations

from typing_extensions import TypedDict

from kube9_desktop.engine.api.wire import PreemptionPolicyName
from kube9_desktop.engine.jsontypes import Digits, Timestamp, closed


@closed
class PriorityClassJson(TypedDict):
    id: int  # 0 for the built-in system classes
    uid: str
    name: str
    value: int
    preemption_policy: PreemptionPolicyName
    global_default: bool
    description: str
    builtin: bool  # system-cluster-critical, system-node-critical: never changed or deleted
    created_at: Timestamp | None  # null for the built-ins
    resource_version: Digits


@closed
class PriorityClassDeletedJson(TypedDict):
    message: str
