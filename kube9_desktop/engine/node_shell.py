"""Where a person's shell for a node or a pod runs, as the runtime places it.

A process node's pods live in ``<work dir>/pods/<id>-<name>`` on this machine; a Docker node's
in the same place inside its container. A pod's shell gets the environment its processes get
(the agent's own rule, ``agent.spec.PodSpec.environment``) less its secret values: the command
is shown, copied and passed on a command line, where a secret would be read by anyone.
Virtual nodes run no processes, so there is nowhere to open a shell.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from kube9_desktop.agent.spec import EnvItem
from kube9_desktop.agent.spec import PodSpec as AgentPodSpec
from kube9_desktop.engine.errors import Conflict
from kube9_desktop.engine.model import NodeView, PodView
from kube9_desktop.engine.runtime.base import NodeHome

NO_PROCESSES = "virtual nodes run no processes"


@runtime_checkable
class NodeShells(Protocol):
    """A runtime whose nodes have a place a shell can go (process, Docker)."""

    def node_home(self, node_id: int, name: str) -> NodeHome: ...


@dataclass(frozen=True, slots=True)
class ShellPlace:
    """A shell's directory (inside ``container`` when set), its environment (None: the
    user's own, for a node), and the secret variables left out of it."""

    what: str  # "pod web-1" / "node w1", for messages
    directory: str
    container: str | None = None
    env: tuple[tuple[str, str], ...] | None = None
    secrets_left_out: tuple[str, ...] = ()


def shell_refusal(runtime: object, pod: PodView | None = None) -> str | None:
    """Why no shell can open there now (None: it can)."""
    if not isinstance(runtime, NodeShells):
        return NO_PROCESSES
    if pod is not None and pod.node_id is None:
        return f"pod {pod.name} is not on a node yet"
    return None


def shell_place(runtime: object, node: NodeView, pod: PodView | None = None) -> ShellPlace:
    """The node's work directory, or the pod's directory on it with the pod's environment."""
    refusal = shell_refusal(runtime, pod)
    if refusal is not None or not isinstance(runtime, NodeShells):
        raise Conflict(f"No shell can open here: {refusal}.")
    home = runtime.node_home(node.id, node.name)
    if pod is None:
        return ShellPlace(f"node {node.name}", home.directory, home.container)
    config = pod.spec.config
    agent_pod = AgentPodSpec(
        id=pod.id,
        name=pod.name,
        containers=(),
        env=tuple(EnvItem(i.key, i.value) for i in config if not i.is_secret),
        namespace=pod.namespace,
        ip=pod.ip or None,
    )
    directory = posixpath.join(home.directory, "pods", agent_pod.dir_name)
    env = agent_pod.environment(Path(directory))
    return ShellPlace(
        f"pod {pod.name}",
        directory,
        home.container,
        tuple(env.items()),
        tuple(i.key for i in config if i.is_secret),
    )
