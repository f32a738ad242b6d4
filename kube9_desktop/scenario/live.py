"""Live mode: a scenario in real time on a real runtime (local processes or Docker).

The same Driver as the simulated runs, on an engine whose clock is the real one: its nodes
are created as the file says, t0 is the moment they are all healthy, ``at`` and ``after``
steps run on wall time since then, faults are the engine's own (a crash kills the node's
processes or container, a partition drops its heartbeats), and the report has the same
layout with ``mode: live`` (not byte-identical from run to run: real time is not exact).

``play_live(engine, scenario)`` plays on an engine that already runs (the window's, say) and
leaves its cluster as it is; ``run_live`` makes a fresh engine with a temporary data
directory, serves its APIs so the run can be watched, and removes its nodes at the end or
when cancelled (Ctrl+C).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.scenario.driver import Driver, scenario_header, scenario_settings
from kube9_desktop.scenario.format import Scenario
from kube9_desktop.serve import start_engine

log = logging.getLogger(__name__)
LIVE_RUNTIMES = ("auto", "process", "docker")


@dataclass(frozen=True)
class LiveCluster:
    """What a live run's watcher needs: the APIs' URLs, the token, a kubeconfig file."""

    engine: Engine
    api_url: str
    k8s_url: str
    token: str
    kubeconfig: Path | None
    runtime: str


def watch_lines(cluster: LiveCluster) -> list[str]:
    """Where and how to watch a live run (the window cannot attach to another process's
    engine: it runs its own)."""
    lines = [
        f"live on the {cluster.runtime} runtime; Kube-9 API {cluster.api_url} "
        f"(Authorization: Bearer {cluster.token})",
        f"  watch: curl -H 'Authorization: Bearer {cluster.token}' {cluster.api_url}/pods/",
    ]
    if cluster.kubeconfig is not None:
        lines.append(f"  Kubernetes API {cluster.k8s_url}; kubeconfig {cluster.kubeconfig}")
        lines.append(f"  watch: KUBECONFIG={cluster.kubeconfig} kubectl get pods -o wide -w")
    lines.append("  Ctrl+C stops the run (its nodes are removed)")
    return lines


async def play_live(
    engine: Engine, scenario: Scenario, strategy: str | None = None
) -> dict[str, Any]:
    """Play ``scenario`` on ``engine``, which runs on the real clock; one strategy's run.

    The scenario's priority classes and nodes are added to whatever the engine has; t0 is
    when its own nodes are healthy. The engine schedules with its own strategy: ``strategy``
    only names the run in the report (default: the engine's). Nothing is removed after.
    """
    name = strategy or engine.settings.scheduler
    return await Driver(scenario, name, engine, mode="live").play()


async def remove_nodes(engine: Engine) -> None:
    """Delete every node (with force: their pods go too), so no process or container stays."""
    for node in engine.nodes():
        try:
            await engine.delete_node(node.id, force=True)
        except Kube9Error as exc:
            log.warning("removing node %s after the live run: %s", node.name, exc.message)


def _write_kubeconfig(engine: Engine, folder: Path) -> Path | None:
    if not engine.k8s_url:
        return None
    from kube9_desktop.engine.k8s.kubeconfig import served_kubeconfig_text, write_kubeconfig

    path = folder / "kubeconfig"
    text = served_kubeconfig_text(engine.k8s_url, engine.settings.data_dir, engine.admin_token)
    write_kubeconfig(text, path)
    return path


async def run_live(
    scenario: Scenario,
    strategy: str,
    runtime: str = "auto",
    *,
    on_ready: Callable[[LiveCluster], None] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A fresh engine on ``runtime`` (auto: Docker where it answers, else processes) with a
    temporary data directory and free ports, the scenario played on it, its nodes removed
    and the engine stopped (also when cancelled). ``on_ready`` hears where to watch it as
    soon as the APIs are up; ``settings`` overrides the engine's (tests: a port)."""
    with tempfile.TemporaryDirectory(prefix="kube9-live-") as tmp:
        folder = Path(tmp)
        more: dict[str, Any] = {
            "runtime": runtime,
            "db_url": None,  # SQLite in the temporary data directory
            "api_token": None,  # made there, printed for the watcher
            "cluster_name": f"scenario-{os.getpid()}",
            "port": 0,
            **settings,
        }
        engine = Engine(scenario_settings(scenario, strategy, folder / "data", **more))
        await start_engine(engine, demo=False)
        try:
            if on_ready is not None:
                on_ready(LiveCluster(
                    engine, engine.api_url, engine.k8s_url, engine.admin_token,
                    _write_kubeconfig(engine, folder), engine.runtime.name,
                ))  # fmt: skip
            return await play_live(engine, scenario, strategy)
        finally:
            # Shielded: a second Ctrl+C must not leave node processes behind half-way.
            cleanup = asyncio.ensure_future(_stop(engine))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(cleanup)
            if not cleanup.done():
                await cleanup


async def _stop(engine: Engine) -> None:
    try:
        await remove_nodes(engine)
    finally:
        await engine.stop()


def run_live_strategies(
    scenario: Scenario,
    strategies: list[str],
    runtime: str = "auto",
    *,
    on_ready: Callable[[LiveCluster], None] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Each strategy live, one after another (a fresh engine each), as one combined report.

    SIGINT and SIGTERM cancel the run: nodes are removed and the engine stopped before
    ``KeyboardInterrupt`` reaches the caller.
    """
    from kube9_desktop.scenario.report import REPORT_FORMAT

    async def main() -> dict[str, Any]:
        import signal

        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        runs: dict[str, Any] = {}
        header: dict[str, Any] = scenario_header(scenario, "live")

        def ready(cluster: LiveCluster) -> None:
            header["runtime"] = cluster.runtime
            if on_ready is not None:
                on_ready(cluster)

        for strategy in strategies:
            runs[strategy] = await run_live(scenario, strategy, runtime, on_ready=ready, **settings)
        return {"format": REPORT_FORMAT, "scenario": header, "strategies": runs}

    try:
        result: dict[str, Any] = asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    return result
