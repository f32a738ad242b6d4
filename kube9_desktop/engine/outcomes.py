"""What operations return: the object as it now is, and the change set of their commit.

They live below the cluster's operations so that the window and the API can name them without
importing the operations themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

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
