"""The Service vocabulary (core/v1 Service, discovery/v1 EndpointSlice): specs, views, the
address books (cluster IPs, node ports) and the endpoint rule, as pure functions.

Cluster IPs come from 127.96.0.0/16: Kubernetes' default service range is 10.96.0.0/12, but
a loopback address is one the engine's proxy (a later slice) can bind without root and that
every pod and the user's own shell reach, as pod IPs (127.244.0.0/14, state.py) already are.
A Service keeps its address for life (stored); an address is handed out again only after the
pointer has gone through the whole range once.

The endpoint rule (``endpoint_of``), as the EndpointSlice controller's: a pod of the Service's
namespace whose labels carry every selector pair (an empty selector selects nothing), bound
to a node that is not failed, with an IP, not finished (failed/succeeded) and not being
deleted, is an endpoint; it is *ready* when it runs with every container running and passing
its readiness probe on a node that is healthy (a NotReady node's pods are not ready, as the
node lifecycle controller marks them). Each service port resolves per pod: a number is
itself, a name is the pod's container port of that name; a pod that declares no such name is
no endpoint for that port, and a pod that resolves none of the ports is no endpoint at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kube9_desktop.engine.model import NodeStatus, PodPhase, PodSpec

CLUSTER_IP = "ClusterIP"
NODE_PORT = "NodePort"
SERVICE_TYPES = (CLUSTER_IP, NODE_PORT)
AFFINITY_NONE = "None"
AFFINITY_CLIENT_IP = "ClientIP"
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767  # Kubernetes' default --service-node-port-range
SERVICE_NETWORK = (127 << 24) | (96 << 16)  # 127.96.0.0/16
SERVICE_NETWORK_SIZE = 1 << 16
SERVICE_RANGE = "127.96.0.0/16"
SERVICE_NAME_MAX = 63  # a DNS-1035 label
PORTS_MAX = 100
PROBES_MAX = 64  # addresses skipped at most because another program holds them
# Phases whose pods may still serve: finished pods never do (terminal), and a deleted pod is
# gone from the books at once, so it leaves its endpoints at the start of its termination.
_SERVING_PHASES = frozenset({PodPhase.SCHEDULED, PodPhase.RUNNING, PodPhase.PENDING})


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str  # a number, or the name of a container port
    name: str = ""
    protocol: str = "TCP"
    node_port: int | None = None  # NodePort Services: allocated when not given

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "port": self.port, "target_port": self.target_port,
                "protocol": self.protocol, "node_port": self.node_port}  # fmt: skip

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ServicePort:
        target = data["target_port"]
        return ServicePort(
            int(data["port"]), target if isinstance(target, str) else int(target),
            str(data.get("name", "")), str(data.get("protocol", "TCP")),
            int(data["node_port"]) if data.get("node_port") is not None else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    namespace: str
    ports: tuple[ServicePort, ...]
    selector: Mapping[str, str] = field(default_factory=dict)
    type: str = CLUSTER_IP
    session_affinity: str = AFFINITY_NONE
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def node_ports(self) -> set[int]:
        return {p.node_port for p in self.ports if p.node_port is not None}


@dataclass(frozen=True, slots=True)
class EndpointPort:
    name: str  # the service port's name
    port: int  # the resolved target port on the pod


@dataclass(frozen=True, slots=True)
class Endpoint:
    pod_id: int
    pod_name: str
    node_id: int
    node_name: str
    ip: str
    ready: bool
    ports: tuple[EndpointPort, ...]


@dataclass(frozen=True, slots=True)
class ServiceView:
    id: int
    uid: str
    name: str
    namespace: str
    spec: ServiceSpec
    cluster_ip: str
    created_at: datetime
    resource_version: int
    endpoints: tuple[Endpoint, ...]  # by pod id

    @property
    def labels(self) -> Mapping[str, str]:
        return self.spec.labels

    @property
    def ready_endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(e for e in self.endpoints if e.ready)


# ---- the endpoint rule --------------------------------------------------------------------


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Equality on every pair; an empty selector selects nothing (no endpoints, as core/v1)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def resolve_target_port(target: int | str, pod: PodSpec) -> int | None:
    """A number is itself; a name is the first container port of that name (None: none).

    >>> resolve_target_port(8080, spec)  # 8080
    >>> resolve_target_port("http", spec)  # the container_port named "http", or None
    """
    if isinstance(target, int):
        return target
    for c in pod.containers:
        for p in c.ports:
            if p.name == target:
                return p.container_port
    return None


def endpoint_of(
    spec: ServiceSpec,
    pod: PodSpec,
    *,
    pod_id: int,
    ip: str,
    phase: PodPhase,
    pod_ready: bool,
    node_id: int | None,
    node_name: str | None,
    node_status: NodeStatus | None,
) -> Endpoint | None:
    """The pod's endpoint in the Service, or None when it is none (module docstring)."""
    if pod.namespace != spec.namespace or not selects(spec.selector, pod.labels):
        return None
    if node_id is None or node_name is None or node_status is None or not ip:
        return None
    if node_status is NodeStatus.FAILED or phase not in _SERVING_PHASES:
        return None
    ports = []
    for sp in spec.ports:
        resolved = resolve_target_port(sp.target_port, pod)
        if resolved is not None:
            ports.append(EndpointPort(sp.name, resolved))
    if not ports:
        return None
    ready = pod_ready and phase is PodPhase.RUNNING and node_status is NodeStatus.HEALTHY
    return Endpoint(pod_id, pod.name, node_id, node_name, ip, ready, tuple(ports))


# ---- the pods' environment ---------------------------------------------------------------


def env_prefix(name: str) -> str:
    """``my-web`` -> ``MY_WEB``: a Service or port name as kubelet spells it in variables."""
    return name.upper().replace("-", "_")


def service_env(services: Iterable[tuple[ServiceSpec, str]]) -> tuple[tuple[str, str], ...]:
    """kubelet's variables for these Services (spec, cluster IP), by Service name.

    Worked example, ``web`` at 127.96.0.1 with ports http 80 and metrics 9090::

        WEB_SERVICE_HOST=127.96.0.1  WEB_SERVICE_PORT=80  WEB_SERVICE_PORT_HTTP=80
        WEB_SERVICE_PORT_METRICS=9090  WEB_PORT=tcp://127.96.0.1:80
        WEB_PORT_80_TCP=tcp://127.96.0.1:80  WEB_PORT_80_TCP_PROTO=tcp
        WEB_PORT_80_TCP_PORT=80  WEB_PORT_80_TCP_ADDR=127.96.0.1  (and the same for 9090)
    """
    out: list[tuple[str, str]] = []
    for spec, ip in sorted(services, key=lambda s: s[0].name):
        if not spec.ports:
            continue
        n, first = env_prefix(spec.name), spec.ports[0]
        out += [(f"{n}_SERVICE_HOST", ip), (f"{n}_SERVICE_PORT", str(first.port))]
        out += [
            (f"{n}_SERVICE_PORT_{env_prefix(p.name)}", str(p.port)) for p in spec.ports if p.name
        ]
        out.append((f"{n}_PORT", f"tcp://{ip}:{first.port}"))
        for p in spec.ports:
            proto, at = p.protocol.lower(), f"{n}_PORT_{p.port}_{p.protocol.upper()}"
            out += [(at, f"{proto}://{ip}:{p.port}"), (f"{at}_PROTO", proto),
                    (f"{at}_PORT", str(p.port)), (f"{at}_ADDR", ip)]  # fmt: skip
    return tuple(out)


# ---- address books --------------------------------------------------------------------------


def _ip(offset: int) -> str:
    value = SERVICE_NETWORK + offset
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _offset(ip: str) -> int:
    a, b, c, d = (int(x) for x in ip.split("."))
    return ((a << 24) | (b << 16) | (c << 8) | d) - SERVICE_NETWORK


class ClusterIpPool:
    """Cluster IPs in 127.96.0.0/16 (.0.1 up to .255.254): a bump pointer, then freed ones,
    oldest first, so an address deleted a moment ago (clients may still hold it) comes back
    as late as possible."""

    def __init__(self) -> None:
        self._next = 1
        self._used: set[int] = set()
        self._free: deque[int] = deque()
        self._wrapped = False

    def reserve(self, ip: str) -> None:
        off = _offset(ip)
        if 0 < off < SERVICE_NETWORK_SIZE - 1:
            self._used.add(off)
            self._next = max(self._next, off + 1)

    def allocate(self, taken: Callable[[str], bool] | None = None) -> str | None:
        """A free address, or None when the range is full. ``taken(ip)``: held outside this
        cluster (another engine on this machine); skipped, at most ``PROBES_MAX`` times."""
        for _ in range(PROBES_MAX):
            ip = self._allocate()
            if ip is None or taken is None or not taken(ip):
                return ip
        return self._allocate()

    def _allocate(self) -> str | None:
        if self._next < SERVICE_NETWORK_SIZE - 1:
            off = self._next
            self._next += 1
            self._used.add(off)
            return _ip(off)
        if not self._wrapped:
            self._wrapped = True
            self._free = deque(o for o in range(1, SERVICE_NETWORK_SIZE - 1) if o not in self._used)
        while self._free:
            off = self._free.popleft()
            if off not in self._used:
                self._used.add(off)
                return _ip(off)
        return None

    def unallocate(self, ip: str) -> None:
        """Take back an allocation whose transaction failed: the next Service gets it."""
        off = _offset(ip)
        self._used.discard(off)
        if not self._wrapped and off == self._next - 1:
            self._next = off
        elif self._wrapped:
            self._free.appendleft(off)

    def release(self, ip: str) -> None:
        off = _offset(ip)
        if off in self._used:
            self._used.discard(off)
            if self._wrapped:
                self._free.append(off)


class NodePorts:
    """Node ports in use across every namespace; a free one is the lowest (deterministic,
    unlike Kubernetes' random pick: a learner's second NodePort Service gets 30001)."""

    def __init__(self) -> None:
        self.used: set[int] = set()

    def lowest_free(self, taken: Set[int] = frozenset()) -> int | None:
        for port in range(NODE_PORT_MIN, NODE_PORT_MAX + 1):
            if port not in self.used and port not in taken:
                return port
        return None
