"""Service names in Docker nodes: ``<svc>.<ns>.svc.cluster.local`` (and ``<svc>.<ns>.svc``,
``<svc>.<ns>``) resolve to the cluster IP inside every Docker node, where the pods run.

There is no cluster DNS server: the pods of a node share its container's /etc/hosts (host
networking), so this controller writes the Services there, between markers, with ``docker
exec`` (``DockerRuntime.write_hosts``). It rewrites every healthy node's file when a Service
is created or deleted, and one node's when it turns healthy (a new or restarted container
starts from Docker's own file). A bare ``<svc>`` is not written: one file serves every
namespace's pods, and Kubernetes resolves it through the pod's own namespace's search path.
A failed write is logged and tried again at the next change; it never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.model import NodeStatus

log = logging.getLogger(__name__)
DOMAIN = "svc.cluster.local"


def hosts_block(services: Iterable[tuple[str, str, str]]) -> str:
    """``/etc/hosts`` lines for (name, namespace, cluster IP), sorted by name and namespace.

    >>> hosts_block([("web", "default", "127.96.0.1")])
    '127.96.0.1 web.default.svc.cluster.local web.default.svc web.default\\n'
    """
    return "".join(
        f"{ip} {name}.{ns}.{DOMAIN} {name}.{ns}.svc {name}.{ns}\n"
        for name, ns, ip in sorted(services)
    )


@runtime_checkable
class HostsWriter(Protocol):
    """A runtime whose pods share a hosts file per node (DockerRuntime); not imported here,
    so the engine never loads the Docker SDK for other runtimes."""

    async def write_hosts(self, node_id: int, block: str) -> None: ...


class ServiceDns:
    def __init__(self, cluster: Cluster, runtime: HostsWriter) -> None:
        self.cluster = cluster
        self.runtime = runtime
        self._healthy: set[int] = set()  # nodes seen healthy (a turn to healthy rewrites)
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._healthy = {
            n.id for n in self.cluster.state.nodes.values() if n.status is NodeStatus.HEALTHY
        }
        self._dirty = set(self._healthy)  # adopted containers may hold an older list
        self._task = asyncio.create_task(self._loop(), name="service-dns")
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def on_changes(self, changes: Changes) -> None:
        nodes = self.cluster.state.nodes
        for node_id in changes.ids(Kind.NODE):
            node = nodes.get(node_id)
            healthy = node is not None and node.status is NodeStatus.HEALTHY
            if healthy and node_id not in self._healthy:
                self._dirty.add(node_id)
            if healthy:
                self._healthy.add(node_id)
            else:
                self._healthy.discard(node_id)
        if Kind.SERVICE in changes.added or Kind.SERVICE in changes.removed:
            self._dirty |= self._healthy
        if self._dirty:
            self._wake.set()

    def block(self) -> str:
        return hosts_block(
            (s.name, s.namespace, s.cluster_ip) for s in self.cluster.state.services.values()
        )

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            targets, self._dirty = self._dirty, set()
            block = self.block()
            for node_id in sorted(targets):
                if node_id not in self.cluster.state.nodes:
                    continue
                try:
                    await self.runtime.write_hosts(node_id, block)
                except Kube9Error as exc:
                    log.warning("Service names not written on node %d: %s", node_id, exc)
                except Exception:
                    log.exception("writing Service names on node %d failed", node_id)
