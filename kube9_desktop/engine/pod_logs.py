"""Container logs: where a container's output lies on its node, read through the runtime.

The agent writes ``pods/<id>-<name>/logs/<container>.log`` in the node's work directory and
rotates it (agent/containers.py): ``.log.1`` holds the older part of the same run,
``.previous.log`` (and its ``.1``) the run before. The engine reads those files through the
runtime (``read_node_file``: a plain read on the process runtime, ``docker exec`` on Docker);
virtual nodes run no processes, so their logs are empty with a note saying so.

Only what the process itself wrote is served: the files hold its stdout and stderr, nothing
the agent or the engine adds (never an environment value).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kube9_desktop.engine.errors import Conflict, NotFound, UserError
from kube9_desktop.engine.model import PodView

MAX_FILE_READ = 16 * 1024 * 1024  # more than a rotated file can hold (4 MiB cap + one check)
FOLLOW_CHUNK = 256 * 1024
FOLLOW_POLL_S = 0.25
VIRTUAL_NOTE = "virtual node: no container output"


@runtime_checkable
class NodeFiles(Protocol):
    """A runtime that can read files of a node's work directory."""

    async def read_node_file(
        self, node_id: int, relative: str, start: int, limit: int
    ) -> tuple[bytes, int] | None: ...


@dataclass(frozen=True, slots=True)
class LogTarget:
    """One container's log on one node; ``files`` is None on a runtime without files."""

    pod_id: int
    node_id: int
    container: str
    path: str  # relative to the node's work directory
    files: NodeFiles | None

    @property
    def note(self) -> str | None:
        return VIRTUAL_NOTE if self.files is None else None


def log_path(pod: PodView, container: str, previous: bool = False) -> str:
    suffix = ".previous.log" if previous else ".log"
    return f"pods/{pod.id}-{pod.name}/logs/{container}{suffix}"


def container_of(pod: PodView, container: str | None) -> str:
    """The container named (or the pod's only one); kubectl's 400 when it is ambiguous."""
    names = [c.name for c in pod.spec.containers]
    if not container:
        if len(names) == 1:
            return names[0]
        raise UserError(
            f"a container name must be specified for pod {pod.name}, "
            f"choose one of: [{' '.join(names)}]",
            field="container",
        )
    if container not in names:
        raise UserError(
            f"container {container} is not valid for pod {pod.name}: "
            f"choose one of: [{' '.join(names)}]",
            field="container",
        )
    return container


class PodLogs:
    """Reads pods' container logs from their nodes (what ``GET /pods/{id}/logs`` serves)."""

    def __init__(self, pod: Callable[[int], PodView], runtime: object) -> None:
        self._pod = pod
        self._files = runtime if isinstance(runtime, NodeFiles) else None

    def target(self, pod_id: int, container: str | None, previous: bool = False) -> LogTarget:
        pod = self._pod(pod_id)
        name = container_of(pod, container)
        if pod.node_id is None:
            raise Conflict(f"Pod {pod.name} is not on a node yet: its container has no output")
        return LogTarget(pod.id, pod.node_id, name, log_path(pod, name, previous), self._files)

    async def read(self, target: LogTarget, tail: int | None = None) -> tuple[bytes, int]:
        """The log (older generation first) or its last ``tail`` lines, and the offset in the
        current file where following it would go on."""
        if target.files is None:
            return b"", 0
        current = await target.files.read_node_file(target.node_id, target.path, 0, MAX_FILE_READ)
        data, size = current if current is not None else (b"", 0)
        if tail is None or data.count(b"\n") < tail:
            older = await target.files.read_node_file(
                target.node_id, target.path + ".1", 0, MAX_FILE_READ
            )
            if older is not None:
                data = older[0] + data
        if target.path.endswith(".previous.log") and current is None and not data:
            raise NotFound(f"previous terminated container {target.container} not found")
        return last_lines(data, tail), size

    async def follow(self, target: LogTarget, offset: int) -> AsyncIterator[bytes]:
        """New output after ``offset``, as it comes, until the pod is gone. A file shorter than
        the offset was rotated (its old part is ``.1``) or its container restarted."""
        files = target.files
        while True:
            await asyncio.sleep(FOLLOW_POLL_S)
            try:
                self._pod(target.pod_id)
            except NotFound:
                return
            if files is None:
                continue
            found = await files.read_node_file(target.node_id, target.path, offset, FOLLOW_CHUNK)
            if found is None:
                continue
            data, size = found
            if size < offset:
                older = await files.read_node_file(
                    target.node_id, target.path + ".1", offset, MAX_FILE_READ
                )
                if older is not None and older[1] >= offset:
                    yield older[0]
                offset = 0
                continue
            if data:
                offset += len(data)
                yield data


def last_lines(data: bytes, tail: int | None) -> bytes:
    """The last ``tail`` lines of ``data`` (a final line without newline counts)."""
    if tail is None:
        return data
    if tail == 0:
        return b""
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-tail:])
