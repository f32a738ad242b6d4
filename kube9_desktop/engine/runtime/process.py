"""Nodes as local agent processes: the runtime for machines without Docker.

Each node is ``python -m kube9_desktop.agent`` (the frozen app's ``agent`` command) leading
its own session, so the node's process group holds the agent and every pod process it runs:
kill, pause and resume act on that whole group, as Docker acts on a container.

Agents never outlive the app: each is spawned with PR_SET_PDEATHSIG=SIGKILL (Linux; the
standard-library helper is shared with the agent, which gives its pods the same flag).
PDEATHSIG fires when the *thread* that spawned the child ends, so agents are spawned on the
event-loop thread, never in an executor. Hence ``discover()`` finds nothing (a previous run's
agents died with it; the engine brings stored nodes back with ``start``) and ``adopt()``
simply restarts the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import kube9_desktop
from kube9_desktop.agent.processes import die_with_parent_hook, read_stat
from kube9_desktop.engine.errors import RuntimeUnavailable, UserError
from kube9_desktop.engine.runtime.base import (
    ExitFn,
    FoundNode,
    NodeHandle,
    NodeHome,
    NodeLaunch,
    RuntimeState,
)

log = logging.getLogger(__name__)

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STOP_TIMEOUT_S = 5.0
KILL_WAIT_S = 5.0
STATE_WAIT_S = 1.0
POLL_S = 0.02
CONSOLE_LOG = "agent-console.log"
MAX_CONSOLE_BYTES = 1024 * 1024


@dataclass(slots=True)
class _Agent:
    launch: NodeLaunch
    process: subprocess.Popen[bytes]
    work_dir: Path
    expected_exit: bool = False  # the engine stopped, replaced or removed it: no news
    watcher: asyncio.Task[None] | None = None


class ProcessRuntime:
    """Runs each node as a local agent subprocess in its own process group."""

    name = "process"

    def __init__(self, data_dir: Path, cluster: str = "default") -> None:
        self.data_dir = Path(data_dir)
        self.cluster = cluster
        self._agents: dict[int, _Agent] = {}
        self._on_exit: ExitFn | None = None

    def watch_exits(self, on_exit: ExitFn) -> None:
        """Report an agent's exit the moment it happens: a pidfd (Linux 5.3+) becomes
        readable when the process ends, so nothing polls; elsewhere a poll every 20 ms."""
        self._on_exit = on_exit
        for agent in self._agents.values():
            self._watch(agent)

    def _watch(self, agent: _Agent) -> None:
        if self._on_exit is not None and agent.watcher is None:
            agent.watcher = asyncio.create_task(
                self._await_exit(agent), name=f"agent-exit-{agent.launch.name}"
            )

    async def _await_exit(self, agent: _Agent) -> None:
        await _exited(agent.process)
        on_exit = self._on_exit
        if (
            agent.expected_exit
            or on_exit is None
            or self._agents.get(agent.launch.node_id) is not agent
        ):
            return
        on_exit(agent.launch.node_id, f"its agent process exited ({_describe_exit(agent.process)})")

    def work_dir(self, launch: NodeLaunch) -> Path:
        """``<data_dir>/nodes/<id>-<name>/``: the agent's pods, volumes and logs."""
        return self._dir_of(launch.node_id, launch.name)

    def _dir_of(self, node_id: int, name: str) -> Path:
        segment = f"{node_id}-{name}"
        if "/" in segment or "\0" in segment or name in ("", ".", ".."):
            raise UserError(f"Node name {name!r} cannot be used as a directory name.")
        return self.data_dir / "nodes" / segment

    def node_home(self, node_id: int, name: str) -> NodeHome:
        """The node's work directory on this machine (a shell there sees its pods' files)."""
        return NodeHome(str(self._dir_of(node_id, name)))

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        """Spawn the node's agent; an agent still running for that node is replaced."""
        old = self._agents.get(launch.node_id)
        if old is not None:
            old.expected_exit = True
            await self._kill_group(old)
        return self._spawn(launch)

    async def stop(self, node_id: int) -> None:
        """SIGTERM the agent (it stops its pods), then SIGKILL the group after a few seconds."""
        agent = self._agents.get(node_id)
        if agent is None:
            return
        agent.expected_exit = True
        if agent.process.poll() is None:
            with contextlib.suppress(OSError):
                agent.process.send_signal(signal.SIGTERM)
            _signal_group(agent.process.pid, signal.SIGCONT)
            if not await _wait_exit(agent.process, STOP_TIMEOUT_S):
                log.warning("node %s did not stop within %gs; killing it", node_id, STOP_TIMEOUT_S)
        await self._kill_group(agent)

    async def kill(self, node_id: int) -> None:
        """SIGKILL the node's whole process group (agent and pods) and reap the agent."""
        agent = self._agents.get(node_id)
        if agent is not None:
            await self._kill_group(agent)

    async def pause(self, node_id: int) -> None:
        """SIGSTOP the group: agent and pods stay alive but say nothing."""
        agent = self._agents.get(node_id)
        if agent is not None and agent.process.poll() is None:
            _signal_group(agent.process.pid, signal.SIGSTOP)
            await _wait_state(agent.process, stopped=True)

    async def resume(self, node_id: int) -> None:
        agent = self._agents.get(node_id)
        if agent is not None and agent.process.poll() is None:
            _signal_group(agent.process.pid, signal.SIGCONT)
            await _wait_state(agent.process, stopped=False)

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        """Kill whatever is left (running, paused or exited) and spawn a fresh agent."""
        return await self.start(launch)

    async def remove(self, node_id: int) -> None:
        """Kill the node and delete its work directory (with its pods' volumes and logs)."""
        agent = self._agents.pop(node_id, None)
        directories = set(self._node_dirs(node_id))
        if agent is not None:
            agent.expected_exit = True
            await self._kill_group(agent)
            directories.add(agent.work_dir)
        for directory in directories:
            await asyncio.to_thread(shutil.rmtree, directory, ignore_errors=True)

    async def status(self, node_id: int) -> RuntimeState:
        agent = self._agents.get(node_id)
        if agent is None:
            return RuntimeState.MISSING
        if agent.process.poll() is not None:
            return RuntimeState.EXITED
        return RuntimeState.PAUSED if _is_stopped(agent.process.pid) else RuntimeState.RUNNING

    async def discover(self) -> list[FoundNode]:
        """Nothing to find: agents of a previous run died with it (PR_SET_PDEATHSIG)."""
        return []

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        """Processes cannot be taken over across app runs, so the node is restarted instead."""
        return await self.restart(launch)

    async def close(self) -> None:
        """Kill every agent this runtime started (they would die with the app anyway)."""
        self._on_exit = None
        agents = list(self._agents.values())
        for agent in agents:
            agent.expected_exit = True
        await asyncio.gather(*(self._kill_group(agent) for agent in agents))
        for agent in agents:
            if agent.watcher is not None:
                agent.watcher.cancel()

    async def read_node_file(
        self, node_id: int, relative: str, start: int, limit: int
    ) -> tuple[bytes, int] | None:
        """Up to ``limit`` bytes from ``start`` of a file in the node's work directory and the
        file's size; None if there is no such file (the agent writes it, the engine reads it)."""
        agent = self._agents.get(node_id)
        roots = [agent.work_dir] if agent is not None else self._node_dirs(node_id)
        if not roots:
            return None
        return await asyncio.to_thread(read_slice, roots[0] / relative, start, limit)

    def pid(self, node_id: int) -> int | None:
        """The agent's pid (also its process group id), or None if never started."""
        agent = self._agents.get(node_id)
        return None if agent is None else agent.process.pid

    def _spawn(self, launch: NodeLaunch) -> NodeHandle:
        work_dir = self.work_dir(launch)
        try:
            work_dir.mkdir(parents=True, exist_ok=True)
            console = work_dir / CONSOLE_LOG
            _cap_file(console)
            with open(console, "ab") as output:
                process = subprocess.Popen(
                    agent_command(),
                    env=agent_environment(launch, work_dir),
                    cwd=work_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    close_fds=True,
                    start_new_session=True,
                    preexec_fn=die_with_parent_hook(),
                )
        except OSError as exc:
            raise RuntimeUnavailable(
                f"Cannot start the agent process for node {launch.name}: {exc}. "
                "Check that the data directory is writable and Python can run."
            ) from exc
        agent = self._agents[launch.node_id] = _Agent(launch, process, work_dir)
        self._watch(agent)
        log.info("node %s: agent started as pid %d", launch.name, process.pid)
        return NodeHandle(
            node_id=launch.node_id,
            name=launch.name,
            handle=str(process.pid),
            detail={"pid": process.pid, "work_dir": str(work_dir), "cluster": self.cluster},
        )

    async def _kill_group(self, agent: _Agent) -> None:
        _signal_group(agent.process.pid, signal.SIGKILL)
        if not await _wait_exit(agent.process, KILL_WAIT_S):
            log.error("agent pid %d survived SIGKILL for %gs", agent.process.pid, KILL_WAIT_S)

    def _node_dirs(self, node_id: int) -> list[Path]:
        with contextlib.suppress(OSError):
            return [p for p in (self.data_dir / "nodes").glob(f"{node_id}-*") if p.is_dir()]
        return []


def read_slice(path: Path, start: int, limit: int) -> tuple[bytes, int] | None:
    """``limit`` bytes of ``path`` from ``start`` and its size, or None if it is not a file."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            file.seek(start)
            return file.read(limit) if limit > 0 else b"", size
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise RuntimeUnavailable(f"Cannot read {path.name}: {exc}") from exc


def agent_command() -> list[str]:
    """The argv of an agent: the frozen app's ``agent`` command, or ``python -m``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "agent"]
    return [sys.executable, "-m", "kube9_desktop.agent"]


def agent_environment(launch: NodeLaunch, work_dir: Path) -> dict[str, str]:
    """A minimal environment (none of the app's secrets) plus the agent's KUBE9_* contract."""
    env = {
        "PATH": os.environ.get("PATH") or DEFAULT_PATH,
        "HOME": os.environ.get("HOME") or str(work_dir),
        "LANG": os.environ.get("LANG") or "C.UTF-8",
    }
    if getattr(sys, "frozen", False):
        original = os.environ.get("LD_LIBRARY_PATH_ORIG")
        if original:
            env["LD_LIBRARY_PATH"] = original
    else:
        env["PYTHONPATH"] = str(Path(kube9_desktop.__file__).resolve().parent.parent)
    env.update(launch.agent_env(str(work_dir)))
    return env


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _is_stopped(pid: int) -> bool:
    """True when /proc says the process is stopped (state ``T``/``t``)."""
    stat = read_stat(pid)
    return stat is not None and stat.state in ("T", "t")


def _group_stopped(pgid: int) -> bool:
    """True when every live member of the process group is stopped (a frozen node)."""
    try:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return _is_stopped(pgid)
    for pid in pids:
        stat = read_stat(pid)
        if stat is not None and stat.pgrp == pgid and stat.state not in ("T", "t", "Z", "X"):
            return False
    return True


async def _wait_exit(process: subprocess.Popen[bytes], within_s: float) -> bool:
    """Poll (never block the loop) until the process has exited and been reaped."""
    deadline = asyncio.get_running_loop().time() + within_s
    while process.poll() is None:
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True


async def _exited(process: subprocess.Popen[bytes]) -> None:
    """Return once the process has ended (not necessarily reaped: poll() reaps it).

    While poll() says it runs, the pid cannot be reused (an unreaped child stays a zombie),
    so the pidfd opened right after is this process's."""
    if process.poll() is not None:
        return
    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd (old kernel)
        await _wait_exit(process, math.inf)
        return
    ended = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    try:
        loop.add_reader(fd, readable)
        try:
            await ended
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)
    process.poll()


def _describe_exit(process: subprocess.Popen[bytes]) -> str:
    code = process.poll()
    if code is None:
        return "exit status unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


async def _wait_state(process: subprocess.Popen[bytes], *, stopped: bool) -> None:
    """Wait briefly until SIGSTOP froze the whole group (or SIGCONT woke the agent)."""
    deadline = asyncio.get_running_loop().time() + STATE_WAIT_S
    while process.poll() is None and not _settled(process.pid, stopped):
        if asyncio.get_running_loop().time() >= deadline:
            return
        await asyncio.sleep(POLL_S)


def _settled(pgid: int, stopped: bool) -> bool:
    return _group_stopped(pgid) if stopped else not _is_stopped(pgid)


def _cap_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > MAX_CONSOLE_BYTES:
            path.unlink()
