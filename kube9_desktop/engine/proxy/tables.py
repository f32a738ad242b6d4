"""Routing tables: what the proxy thread needs of a Service, frozen, built on the engine loop.

A table is rebuilt from the ServiceView whenever a commit marks the Service changed (its
spec or its endpoints), so the thread never reads the engine's state. Each listening address
(the cluster IP and port, and for a NodePort Service 127.0.0.1 and its node port) maps to a
``PortTable`` whose backends are the ready endpoints of that service port, by pod id, less
those on nodes whose kube_proxy is faulted (docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import NamedTuple

from kube9_desktop.engine.services import AFFINITY_CLIENT_IP, NODE_PORT, ServiceView

NODE_PORT_HOST = "127.0.0.1"
AFFINITY_TIMEOUT_S = 10800.0  # Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds

Address = tuple[str, int]


class Backend(NamedTuple):
    """A NamedTuple, not a dataclass: a table of 5,000 endpoints is built in a few ms."""

    pod_id: int
    pod_name: str
    node_name: str
    ip: str
    port: int
    virtual: bool  # no process behind it: the proxy's own responder answers


@dataclass(frozen=True, slots=True)
class PortTable:
    service_id: int
    service: str  # "namespace/name", for messages
    port_name: str
    backends: tuple[Backend, ...]  # ready ones, by pod id
    affinity: bool = False
    affinity_timeout: float = AFFINITY_TIMEOUT_S
    by_pod: Mapping[int, Backend] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str]:
        return (self.service_id, self.port_name)


@dataclass(frozen=True, slots=True)
class ServiceTable:
    service_id: int
    listeners: Mapping[Address, PortTable]
    nodes: frozenset[int]  # nodes holding any of its endpoints (ready or not)
    pods: frozenset[int]  # every endpoint's pod: a virtual pod gone stops answering


def table_of(
    view: ServiceView,
    *,
    virtual: bool,
    blocked_nodes: Set[int],
    dead_nodes: Set[int] = frozenset(),
) -> ServiceTable:
    """The Service's listeners and their ready backends. ``dead_nodes``: virtual nodes that
    were killed or frozen, not yet detected: their pods take no connection and stop answering
    the open ones at once, as a dead process would (a refused turn is retried elsewhere).

    >>> # web: port 80 -> "http" (8080 on pod 7, ready), NodePort 30000
    >>> table_of(web, virtual=False, blocked_nodes=set()).listeners
    {("127.96.0.1", 80): PortTable(backends=(Backend(7, ..., "127.244.0.7", 8080),)),
     ("127.0.0.1", 30000): <the same PortTable>}
    """
    service = f"{view.namespace}/{view.name}"
    affinity = view.spec.session_affinity == AFFINITY_CLIENT_IP
    listeners: dict[Address, PortTable] = {}
    serving = [
        e for e in view.endpoints
        if e.ready and e.node_id not in blocked_nodes and e.node_id not in dead_nodes
    ]  # fmt: skip
    for sp in view.spec.ports:
        name, backends = sp.name, []
        for e in serving:
            for p in e.ports:
                if p.name == name:
                    backends.append(
                        Backend(e.pod_id, e.pod_name, e.node_name, e.ip, p.port, virtual)
                    )
                    break
        table = PortTable(
            view.id, service, sp.name, tuple(backends), affinity,
            by_pod={b.pod_id: b for b in backends},
        )  # fmt: skip
        listeners[(view.cluster_ip, sp.port)] = table
        if view.spec.type == NODE_PORT and sp.node_port is not None:
            listeners[(NODE_PORT_HOST, sp.node_port)] = table
    return ServiceTable(
        view.id,
        listeners,
        frozenset(e.node_id for e in view.endpoints),
        frozenset(e.pod_id for e in view.endpoints if e.node_id not in dead_nodes),
    )
