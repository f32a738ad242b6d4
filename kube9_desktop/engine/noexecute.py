"""NoExecute taints as Kubernetes' node lifecycle and taint eviction controllers use them.

Pure rules, no state: which condition taints an unhealthy node carries
(``node.kubernetes.io/not-ready`` when its agent reports it not ready, ``.../unreachable`` when
its heartbeats stopped; each as NoSchedule and NoExecute), the tolerations Kubernetes'
DefaultTolerationSeconds admission gives a pod (both, NoExecute, 300 s), and ``verdict``: when a
pod on a node with NoExecute taints must go.

``verdict`` worked example: a pod tolerating ``unreachable:NoExecute`` for 60 s and
``example.com/maintenance:NoExecute`` for 300 s, on a node whose unreachable taint was added at
t=100 and whose maintenance taint at t=130, pod there since t=90: it stays until
min(100 + 60, 130 + 300) = 160. A pod that came after a taint counts from its arrival, so a
pod placed on a tainted node it tolerates for 60 s gets its 60 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from kube9_desktop.engine.constraints import (
    Taint,
    TaintEffect,
    Toleration,
    TolerationOperator,
)
from kube9_desktop.engine.model import NodeStatus

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
CONDITION_KEYS = frozenset({NOT_READY, UNREACHABLE})
DEFAULT_TOLERATION_SECONDS = 300  # kube-apiserver's --default-not-ready-toleration-seconds


def condition_taints(key: str) -> tuple[Taint, Taint]:
    return (Taint(key, "", TaintEffect.NO_SCHEDULE), Taint(key, "", TaintEffect.NO_EXECUTE))


def condition_key(status: NodeStatus, silent: bool, current: str | None) -> str | None:
    """The condition taint's key a node in ``status`` should carry (None: none).

    Healthy and initializing nodes carry none (Kubernetes taints a new node not-ready until its
    kubelet is ready; here a new node is not eligible until its first heartbeat anyway). An
    unhealthy, recovering or failed node is unreachable while its heartbeats are overdue
    (``silent``: Ready Unknown), else not-ready (its agent speaks and says not ready: Ready
    False). A recovering or failed node keeps what it had (a restart is not news of the node:
    a swap would restart its pods' toleration timers on every attempt).
    """
    if status in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING):
        return None
    if status in (NodeStatus.RECOVERING, NodeStatus.FAILED) and current is not None:
        return current
    return UNREACHABLE if silent else NOT_READY


def with_condition(taints: tuple[Taint, ...], key: str | None) -> tuple[Taint, ...]:
    """``taints`` with the condition taints replaced by ``key``'s (kept in their order, the
    condition taints last)."""
    kept = tuple(t for t in taints if t.key not in CONDITION_KEYS)
    return kept + (condition_taints(key) if key is not None else ())


def condition_of(taints: Iterable[Taint]) -> str | None:
    for t in taints:
        if t.key in CONDITION_KEYS:
            return t.key
    return None


def default_tolerations(seconds: int = DEFAULT_TOLERATION_SECONDS) -> tuple[Toleration, ...]:
    """What Kubernetes' DefaultTolerationSeconds admission plugin adds to every pod."""
    return tuple(
        Toleration(key, TolerationOperator.EXISTS, "", TaintEffect.NO_EXECUTE, seconds)
        for key in (NOT_READY, UNREACHABLE)
    )


def with_defaults(
    tolerations: tuple[Toleration, ...], defaults: tuple[Toleration, ...]
) -> tuple[Toleration, ...]:
    """The pod's tolerations plus each default whose taint the pod does not tolerate already
    (as the admission plugin: a pod's own toleration of not-ready wins over the default)."""
    extra = tuple(
        d for d in defaults
        if not any(t.tolerates(Taint(d.key, "", TaintEffect.NO_EXECUTE)) for t in tolerations)
    )  # fmt: skip
    return tolerations + extra


class Action(Enum):
    STAY = "stay"  # no NoExecute taint, or every one tolerated forever
    EVICT = "evict"  # a NoExecute taint is not tolerated (or toleration_seconds <= 0)
    EVICT_AT = "evict_at"  # tolerated for a while: goes at ``Verdict.at``


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    at: float | None = None  # EVICT_AT: when (monotonic seconds)
    taint: Taint | None = None  # the taint that decides it (the untolerated one, the soonest)


def verdict(
    taints_added: Mapping[Taint, float],
    tolerations: tuple[Toleration, ...],
    pod_since: float,
) -> Verdict:
    """When a pod must leave a node whose NoExecute taints were added at ``taints_added``.

    For each NoExecute taint, the tolerations that tolerate it: none is EVICT at once; with
    toleration_seconds (the smallest of them) the pod may stay that long after the later of
    the taint's addition and the pod's arrival (``pod_since``); without, forever. The verdict
    is the soonest over the taints.
    """
    soonest: Verdict | None = None
    for taint, added in sorted(taints_added.items(), key=lambda kv: (kv[1], kv[0])):
        if taint.effect is not TaintEffect.NO_EXECUTE:
            continue
        matching = [t for t in tolerations if t.tolerates(taint)]
        if not matching:
            return Verdict(Action.EVICT, None, taint)
        limited = [t.toleration_seconds for t in matching if t.toleration_seconds is not None]
        if not limited:
            continue  # tolerated forever
        seconds = min(limited)
        if seconds <= 0:
            return Verdict(Action.EVICT, None, taint)
        at = max(added, pod_since) + seconds
        if soonest is None or soonest.at is None or at < soonest.at:
            soonest = Verdict(Action.EVICT_AT, at, taint)
    return soonest or Verdict(Action.STAY)


def due(v: Verdict, now: float) -> bool:
    """Must the pod go now? (``at`` itself is due: exactly the toleration is up.)"""
    return v.action is Action.EVICT or (
        v.action is Action.EVICT_AT and v.at is not None and now >= v.at
    )
