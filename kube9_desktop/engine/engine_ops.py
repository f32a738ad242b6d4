"""The Engine's Docker engines (a mixin, as node_ops.py): which engine a new node goes to, each
engine's state for ``GET /engines`` and the window, and the probe that notices an engine
coming back. One runtime of one kind (virtual, process, one Docker engine) is the engine
``local``; several Docker engines are runtime/engines.py's ``DockerEngines``."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kube9_desktop.engine.errors import RuntimeUnavailable, UserError
from kube9_desktop.engine.model import NodeSpec

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster import Cluster
    from kube9_desktop.engine.runtime.base import NodeRuntime
    from kube9_desktop.engine.runtime.engines import DockerEngines
    from kube9_desktop.engine.supervisor import NodeSupervisor

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """One engine as ``GET /engines`` and the window show it."""

    name: str
    url: str
    state: str  # up | down | unknown (never asked yet)
    nodes: int
    error: str
    agent_url: str  # the API's address as its agents reach it ("" : not known)
    since_s: float  # seconds in this state


def docker_engines(runtime: NodeRuntime) -> DockerEngines | None:
    """``runtime`` when it is several Docker engines, else None (imported only then)."""
    if type(runtime).__name__ != "DockerEngines":
        return None
    from kube9_desktop.engine.runtime.engines import DockerEngines

    return runtime if isinstance(runtime, DockerEngines) else None


class EngineHosts:
    cluster: Cluster
    runtime: NodeRuntime
    supervisor: NodeSupervisor
    api_url: str

    def bind_engines(self) -> None:
        """Let the runtime find a node's engine, and its news of an engine reach the books."""
        engines = docker_engines(self.runtime)
        if engines is None:
            return
        state = self.cluster.state
        engines.locate = lambda node_id: n.engine if (n := state.nodes.get(node_id)) else None

        def changed(name: str, up: bool, why: str) -> None:
            if up:
                self.supervisor.mark_available(name)
            else:
                self.supervisor.mark_unavailable(why, name)

        engines.on_change = changed
        self.supervisor.several_engines = True
        for name, status in engines.engines.items():  # probed before the books were open
            if status.up is False:
                self.supervisor.mark_unavailable(status.error, name)

    def node_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.cluster.state.nodes.values():
            counts[node.engine] = counts.get(node.engine, 0) + 1
        return counts

    def engines(self) -> list[EngineInfo]:
        """Every engine the cluster may use, ``local`` first."""
        counts = self.node_counts()
        engines = docker_engines(self.runtime)
        now = time.monotonic()
        if engines is None:
            problem = self.supervisor.engine_problems.get(LOCAL, "")
            return [
                EngineInfo(LOCAL, self.runtime.name, "down" if problem else "up",
                           counts.get(LOCAL, 0), problem, self.api_url, 0.0)
            ]  # fmt: skip
        found: list[EngineInfo] = []
        for name, status in engines.engines.items():
            state = "unknown" if status.up is None else "up" if status.up else "down"
            url = engines.agent_url(name, self.api_url) if self.api_url else ""
            found.append(
                EngineInfo(name, status.spec.shown_url, state, counts.get(name, 0),
                           status.error, url, round(now - status.since, 1))
            )  # fmt: skip
        return found

    async def place(self, spec: NodeSpec) -> NodeSpec:
        """The spec with its engine: the one asked for (unknown: 400; down: 503 with its
        cause), else the spread rule's choice among those that answer."""
        engines = docker_engines(self.runtime)
        if engines is None:
            if spec.engine not in (None, LOCAL):
                raise UserError(
                    f"engine: there is no Docker engine named {spec.engine!r}; this cluster "
                    f"runs its nodes on 'local' only ({self.runtime.name} runtime; add "
                    "engines with --docker-engine NAME=URL)",
                    field="engine",
                )
            if not self.supervisor.runtime_available:
                problem = self.supervisor.runtime_problem or "the runtime is down"
                raise RuntimeUnavailable(f"Cannot start new nodes: {problem}", engine=LOCAL)
            return replace(spec, engine=LOCAL)
        if spec.engine is not None:
            if spec.engine not in engines.engines:
                raise UserError(
                    f"engine: there is no Docker engine named {spec.engine!r} (this cluster "
                    f"has {', '.join(engines.names)})",
                    field="engine",
                )
            why = await engines.probe(spec.engine)
            if why:
                raise RuntimeUnavailable(f"Cannot start node {spec.name}: {why}",
                                         engine=spec.engine)  # fmt: skip
            return spec
        # The spread rule: the fewest nodes among the engines that answer, ties by name. One
        # known to be down is not asked here (the runtime-watch loop asks it every 2 s).
        counts = self.node_counts()
        for name in sorted(engines.names, key=lambda n: (counts.get(n, 0), n)):
            if engines.is_up(name) and not await engines.probe(name):
                return replace(spec, engine=name)
        causes = "; ".join(engines.engines[n].error for n in engines.names)
        raise RuntimeUnavailable(
            f"Cannot start node {spec.name}: no Docker engine answers ({causes})",
            engine=engines.names[0],
        )

    async def probe_engines(self) -> None:
        """Ping every engine (the runtime-watch loop): one that went away is marked down
        before recovery would try its nodes, one that is back is marked up."""
        engines = docker_engines(self.runtime)
        if engines is not None:
            await engines.probe_all()
