"""What operations return: the object as it now is, and the change set of their commit.

They live below the cluster's operations so that the window and the API can name them without
importing the operations themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kube9_desktop.engine.changes import Changes
from kube9_desktop.engine.model import Decision, NamespaceView, NodeView, PodView


@dataclass(frozen=True)
class CreatedNode:
    view: NodeView
    token: str
    changes: Changes


@dataclass(frozen=True)
class DeletedNode:
    name: str
    rebound: tuple[tuple[str, str], ...]  # (pod, new node)
    pending: tuple[str, ...]
    changes: Changes


@dataclass(frozen=True)
class CreatedPod:
    view: PodView
    decision: Decision
    changes: Changes
    decision_text: str | None = None  # json.dumps(decision.to_json()): stored, and sent back as is


@dataclass(frozen=True)
class DeletedPod:
    view: PodView
    changes: Changes


@dataclass(frozen=True)
class NamespaceOutcome:
    view: NamespaceView
    changes: Changes
    pods_deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrainStep:
    """What a drain did with one pod: moved (a bare pod, to ``to``), replaced (a ReplicaSet's,
    deleted for its ReplicaSet to make again elsewhere), or left (``reason``; ``reasons``: why
    each other node would not take it, the scheduler's words)."""

    pod: str
    pod_id: int
    action: str  # "moved" | "replaced" | "left"
    to: str | None = None
    reason: str = ""
    daemon_like: bool = False
    reasons: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Drained:
    node: str
    cordoned: bool  # this drain cordoned it (False: it already was)
    steps: tuple[DrainStep, ...]

    @property
    def left(self) -> tuple[DrainStep, ...]:
        return tuple(s for s in self.steps if s.action == "left")

    @property
    def evicted(self) -> tuple[DrainStep, ...]:
        return tuple(s for s in self.steps if s.action != "left")

    @property
    def message(self) -> str:
        gone, left = len(self.evicted), len(self.left)
        text = f"Node {self.node} drained: {gone} pod(s) evicted"
        if left:
            text += f", {left} could not move: " + "; ".join(
                f"{s.pod} ({s.reason})" for s in self.left
            )
        return text
