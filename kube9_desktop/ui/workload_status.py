"""How a Deployment's rollout reads to people: one word with its colour, and why it is stuck.

No Qt here: the tree, the details page and the events dock all say the same thing, from the
Deployment's own conditions (the engine's words) and its new pods' scheduling reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kube9_desktop.engine.deployments import NEW_RS_AVAILABLE, PROGRESSING, TIMED_OUT
from kube9_desktop.engine.model import ContainerSpec, PodPhase, PodView
from kube9_desktop.engine.workloads import DeploymentView, ReplicaSetView

COMPLETE, PROGRESSING_WORD, STALLED, PAUSED = "complete", "progressing", "stalled", "paused"
# Each word's status colour (theme.STATUS_COLORS keys).
COLOR_OF = {
    COMPLETE: "running",
    PROGRESSING_WORD: "scheduled",
    STALLED: "unhealthy",
    PAUSED: "pending",
}


@dataclass(frozen=True, slots=True)
class RolloutState:
    """``word`` ("complete", "progressing", "stalled", "paused"), its colour, and the
    Progressing condition's reason and message behind it ("" when there is none)."""

    word: str
    color: str
    reason: str = ""
    message: str = ""


def rollout_state(d: DeploymentView) -> RolloutState:
    """The rollout in one word: paused wins, then ProgressDeadlineExceeded (stalled), then
    complete (NewReplicaSetAvailable with every replica updated and available)."""
    cond = d.status.condition(PROGRESSING)
    reason, message = (cond.reason, cond.message) if cond is not None else ("", "")
    if d.spec.paused:
        word = PAUSED
    elif reason == TIMED_OUT:
        word = STALLED
    elif (
        reason == NEW_RS_AVAILABLE
        and d.status.updated == d.spec.replicas
        and d.status.available == d.spec.replicas
        and d.status.replicas == d.spec.replicas
    ):
        word = COMPLETE
    else:
        word = PROGRESSING_WORD
    return RolloutState(word, COLOR_OF[word], reason, message)


def replicaset_word(rs: ReplicaSetView) -> tuple[str, str]:
    """A ReplicaSet's state and its colour: scaled down, scaling down, available, starting."""
    if rs.replicas == 0:
        if rs.status.replicas == 0:
            return "scaled down", "terminating"
        return "scaling down", "recovering"
    if rs.status.available >= rs.replicas and rs.status.replicas == rs.replicas:
        return "available", "running"
    return "starting", "scheduled"


def current_replicaset(d: DeploymentView, rss: Iterable[ReplicaSetView]) -> ReplicaSetView | None:
    """The ReplicaSet of the Deployment's current revision (its template), if there is one."""
    return next((r for r in rss if r.revision == d.revision), None)


def wait_reason(pod: PodView, nodes: int = 3) -> str:
    """Why one pod waits, from its scheduling decision: "no node fits (worker-1: insufficient
    cpu: requested 6, free 0.75; worker-2: …; and 2 more)"; its recorded reason otherwise."""
    why = pod.reason or "waiting for a node"
    decision = pod.decision
    if decision is None or decision.node_id is not None:
        return why
    misfits = [c for c in decision.candidates if not c.fits]
    if not misfits:
        return why
    shown = "; ".join(f"{c.node_name}: {', '.join(c.reasons) or 'does not fit'}"
                      for c in misfits[:nodes])  # fmt: skip
    more = len(misfits) - nodes + decision.omitted
    return f"{why} ({shown}{f'; and {more} more' if more > 0 else ''})"


def pending_reasons(pods: Iterable[PodView], limit: int = 3) -> list[str]:
    """Why pods wait, most common first: "2 pods: no node fits (w1: insufficient cpu …)".

    The scheduler's reasons for each pending pod (``wait_reason``); running pods are left out.
    """
    counts: dict[str, int] = {}
    for pod in pods:
        if pod.phase is not PodPhase.PENDING:
            continue
        why = wait_reason(pod)
        counts[why] = counts.get(why, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [f"{n} pod{'s' if n != 1 else ''}: {why}" for why, n in ranked]


def images(containers: Iterable[ContainerSpec]) -> str:
    """A template's images, comma-separated ("nginx:1.26, redis:7")."""
    return ", ".join(c.image for c in containers)
