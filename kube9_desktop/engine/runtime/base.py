"""The NodeRuntime protocol: how the engine starts, breaks and stops the thing a node runs on.

A runtime turns a ``NodeLaunch`` into something that heartbeats (an asyncio task, a local agent
process, a Docker container). Every method is async; blocking work (docker SDK, waiting on a
process) runs in an executor so the event loop never stalls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from kube9_desktop.engine.errors import RuntimeUnavailable


class RuntimeState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    EXITED = "exited"  # stopped, killed or crashed; can be started again
    MISSING = "missing"  # no such container/process (removed, never started)
    UNKNOWN = "unknown"  # the runtime cannot tell right now (daemon down)


@dataclass(frozen=True, slots=True)
class NodeLaunch:
    """Everything a runtime needs to bring one node up.

    The agent reads these as environment variables (see ``agent_env``): the names are the
    agent's contract and must not change without changing the agent.
    """

    node_id: int
    name: str
    node_type: str
    cpu_m: int
    mem_mi: int
    token: str
    api_url: str
    heartbeat_interval: float
    cluster: str = "default"
    crash_backoff: float = 10.0  # seconds before a crashed container's first restart
    crash_backoff_cap: float = 300.0
    engine: str = "local"  # the Docker engine it runs on (engines.py); other runtimes: "local"
    ca_pem: str = ""  # the cluster CA certificate (PEM text), for an https:// api_url

    def agent_env(self, work_dir: str) -> dict[str, str]:
        return {
            "KUBE9_NODE_ID": str(self.node_id),
            "KUBE9_NODE_NAME": self.name,
            "KUBE9_NODE_TYPE": self.node_type,
            "KUBE9_API_URL": self.api_url,
            "KUBE9_NODE_TOKEN": self.token,
            "KUBE9_HEARTBEAT_INTERVAL": f"{self.heartbeat_interval:g}",
            "KUBE9_WORK_DIR": work_dir,
            "KUBE9_CPU_M": str(self.cpu_m),
            "KUBE9_MEM_MI": str(self.mem_mi),
            "KUBE9_CRASH_BACKOFF": f"{self.crash_backoff:g}",
            "KUBE9_CRASH_BACKOFF_CAP": f"{self.crash_backoff_cap:g}",
            **({"KUBE9_CA_PEM": self.ca_pem} if self.ca_pem else {}),
        }


@dataclass(frozen=True, slots=True)
class NodeHandle:
    """What the runtime gave back for a running node: container id, pid, or task name."""

    node_id: int
    name: str
    handle: str  # container id / pid / "virtual-<id>"
    ip: str = "127.0.0.1"
    port: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FoundNode:
    """A node the runtime found already running at start-up (for adoption or removal)."""

    node_id: int | None
    name: str
    handle: str
    state: RuntimeState
    engine: str = "local"


@dataclass(frozen=True, slots=True)
class NodeHome:
    """Where a node's processes live, for a person's shell: its work directory as they see it,
    and the Docker container holding it (None: a directory of this machine)."""

    directory: str
    container: str | None = None


ProgressFn = Callable[[str], None]
# (node id, what happened): a node's process or container ended without the engine asking,
# as the runtime saw it (a crash fault's kill counts: it stands for a power cut)
ExitFn = Callable[[int, str], None]


class NodeRuntime(Protocol):
    """How nodes are run. Implementations: virtual, process, docker."""

    name: str

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        """Bring the node up (build the image first if needed); return its handle."""
        ...

    async def stop(self, node_id: int) -> None:
        """Stop gracefully (SIGTERM / docker stop); keep what can be started again."""
        ...

    async def kill(self, node_id: int) -> None:
        """Kill at once, like a power cut: no goodbye heartbeat, pods die with it."""
        ...

    async def pause(self, node_id: int) -> None:
        """Freeze it: alive but silent (SIGSTOP / docker pause)."""
        ...

    async def resume(self, node_id: int) -> None: ...

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        """Bring it back whatever state it is in (killed, paused, exited, missing)."""
        ...

    async def remove(self, node_id: int) -> None:
        """Remove it and everything it owns (container, volume, work directory)."""
        ...

    async def status(self, node_id: int) -> RuntimeState: ...

    async def discover(self) -> list[FoundNode]:
        """Nodes of this cluster already running at start-up (adopted or removed by the engine)."""
        ...

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        """Take over a node found running, without restarting it."""
        ...

    def watch_exits(self, on_exit: ExitFn) -> None:
        """From now on, call ``on_exit`` on the event loop as soon as a node's process or
        container ends other than by ``stop``/``restart``/``remove``/``start`` (which replace
        it on the engine's word): the runtime's own news of a death, faster than a missed
        heartbeat (``--detect-from-runtime``)."""
        ...

    async def close(self) -> None:
        """Release the runtime's own resources (not the nodes); stops watching exits."""
        ...


__all__ = [
    "ExitFn",
    "FoundNode",
    "NodeHandle",
    "NodeLaunch",
    "NodeRuntime",
    "ProgressFn",
    "RuntimeState",
    "RuntimeUnavailable",
]
