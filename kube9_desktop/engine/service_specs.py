"""Request models for Services: create and patch, validated as core/v1 does, one 400 naming
the field (a port out of range, two ports of one name, a node port outside 30000-32767 or on
a ClusterIP Service, a change of the cluster IP).

A named ``target_port`` that no pod declares is accepted, as Kubernetes accepts it: such pods
are simply no endpoints for that port (services.py). Taken names and node ports are 409s,
decided by the cluster inside the transaction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.meta import DEFAULT_NAMESPACE
from kube9_desktop.engine.services import (
    NODE_PORT,
    NODE_PORT_MAX,
    NODE_PORT_MIN,
    PORTS_MAX,
    SERVICE_NAME_MAX,
    ServicePort,
    ServiceSpec,
)
from kube9_desktop.engine.specs import (
    IANA_SVC_NAME,
    Annotations,
    Labels,
    Namespace,
    PortNumber,
    PortRef,
    Strict,
)
from kube9_desktop.engine.traffic import (
    CONCURRENCY_MAX,
    DURATION_MAX_S,
    PATH_MAX,
    RATE_MAX,
    TrafficSpec,
)

DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def dns_1035_label(value: object) -> str:
    """A Service name: a DNS-1035 label (starts with a letter), at most 63 characters."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not value:
        raise ValueError("must not be empty")
    if len(value) > SERVICE_NAME_MAX:
        raise ValueError(f"must be at most {SERVICE_NAME_MAX} characters (got {len(value)})")
    if not DNS_1035.fullmatch(value):
        raise ValueError(
            "must be a DNS-1035 label: lowercase letters, digits and '-', starting with a "
            "letter and ending with a letter or digit (e.g. 'web')"
        )
    return value


ServiceName = Annotated[
    str,
    BeforeValidator(dns_1035_label),
    WithJsonSchema({
        "type": "string", "minLength": 1, "maxLength": SERVICE_NAME_MAX,
        "pattern": DNS_1035.pattern,
        "description": "A DNS-1035 label: starts with a letter (e.g. 'web').",
    }),
]  # fmt: skip
NodePortNumber = Annotated[int, Field(ge=NODE_PORT_MIN, le=NODE_PORT_MAX)]


class ServicePortIn(Strict):
    port: PortNumber
    target_port: PortRef | None = Field(
        default=None,
        description="A number, or the name of a container port; default: the same as port.",
    )
    name: str = Field(default="", max_length=15)
    protocol: Literal["TCP"] = "TCP"
    node_port: NodePortNumber | None = Field(
        default=None, description="NodePort Services only; allocated when not given."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v and (not IANA_SVC_NAME.match(v) or "--" in v):
            raise ValueError(
                "must be a port name: lowercase letters, digits and '-', at most 15, with a letter"
            )
        return v

    def to_port(self) -> ServicePort:
        target = self.port if self.target_port is None else self.target_port
        return ServicePort(self.port, target, self.name, self.protocol, self.node_port)


def _check_ports(ports: list[ServicePortIn], service_type: str) -> None:
    """What core/v1 checks across ports: names given and unique when there are several,
    no port number twice, node ports only on NodePort Services and not twice."""
    if not ports:
        raise UserError("ports: a Service needs at least one port", field="ports")
    if len(ports) > 1:
        for i, p in enumerate(ports):
            if not p.name:
                raise UserError(
                    f"ports[{i}].name: required when a Service has more than one port",
                    field=f"ports[{i}].name",
                )
    seen_names: set[str] = set()
    seen_ports: set[int] = set()
    seen_node_ports: set[int] = set()
    for i, p in enumerate(ports):
        if p.name and p.name in seen_names:
            raise UserError(f"ports[{i}].name: '{p.name}' is used twice", field=f"ports[{i}].name")
        if p.port in seen_ports:
            raise UserError(f"ports[{i}].port: {p.port} is given twice", field=f"ports[{i}].port")
        if p.node_port is not None:
            if service_type != NODE_PORT:
                raise UserError(
                    f"ports[{i}].node_port: only a NodePort Service has node ports "
                    f"(type is {service_type})",
                    field=f"ports[{i}].node_port",
                )
            if p.node_port in seen_node_ports:
                raise UserError(
                    f"ports[{i}].node_port: {p.node_port} is given twice",
                    field=f"ports[{i}].node_port",
                )
            seen_node_ports.add(p.node_port)
        seen_names.add(p.name)
        seen_ports.add(p.port)


Selector = Annotated[
    Labels,
    Field(description="Labels its pods carry (equality on each); empty: no endpoints."),
]
ServiceType = Literal["ClusterIP", "NodePort"]
Affinity = Literal["None", "ClientIP"]
Ports = Annotated[list[ServicePortIn], Field(max_length=PORTS_MAX)]


class ServiceCreate(Strict):
    name: ServiceName
    namespace: Namespace = DEFAULT_NAMESPACE
    selector: Selector = Field(default_factory=dict)
    ports: Ports
    type: ServiceType = "ClusterIP"
    session_affinity: Affinity = "None"
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)

    def to_spec(self) -> ServiceSpec:
        _check_ports(self.ports, self.type)
        return ServiceSpec(
            name=self.name,
            namespace=self.namespace,
            ports=tuple(p.to_port() for p in self.ports),
            selector=dict(self.selector),
            type=self.type,
            session_affinity=self.session_affinity,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
        )


class ServicePatch(Strict):
    """Any of these. ``ports`` replaces the list: a port given without a node port keeps the
    one its port of the same name (or, unnamed, number) had. The cluster IP is immutable."""

    selector: Selector | None = None
    ports: Ports | None = None
    type: ServiceType | None = None
    session_affinity: Affinity | None = None
    labels: Labels | None = None
    annotations: Annotations | None = None
    cluster_ip: str | None = Field(
        default=None, max_length=15, description="Immutable: only its current value is accepted."
    )

    def apply(self, spec: ServiceSpec, cluster_ip: str) -> ServiceSpec:
        """The spec after this patch, checked as a whole."""
        if self.cluster_ip is not None and self.cluster_ip != cluster_ip:
            raise UserError(
                f"cluster_ip: is immutable (it is {cluster_ip}); delete and create the Service "
                "for another address",
                field="cluster_ip",
            )
        new_type = self.type or spec.type
        if self.ports is not None:
            _check_ports(self.ports, new_type)
            old_by_key = {(p.name or p.port): p for p in spec.ports}
            ports = []
            for p in self.ports:
                port = p.to_port()
                before = old_by_key.get(port.name or port.port)
                if port.node_port is None and before is not None and new_type == NODE_PORT:
                    port = replace(port, node_port=before.node_port)
                ports.append(port)
        else:
            ports = list(spec.ports)
        if new_type != NODE_PORT:
            ports = [replace(p, node_port=None) for p in ports]  # a ClusterIP frees them
        return replace(
            spec,
            selector=dict(self.selector) if self.selector is not None else spec.selector,
            ports=tuple(ports),
            type=new_type,
            session_affinity=self.session_affinity or spec.session_affinity,
            labels=dict(self.labels) if self.labels is not None else spec.labels,
            annotations=dict(self.annotations) if self.annotations is not None
            else spec.annotations,
        )  # fmt: skip


TRAFFIC_PATH = re.compile(r"^/[\x21-\x7e]*$")  # visible ASCII: nothing to split a header with


class TrafficCreate(Strict):
    """``POST /services/{id}/traffic``: HTTP GETs through the Service (engine/traffic.py)."""

    rate: float = Field(gt=0, le=RATE_MAX, description="Requests per second, all workers.")
    duration_s: float = Field(gt=0, le=DURATION_MAX_S)
    path: str = Field(default="/", max_length=PATH_MAX)
    concurrency: int = Field(default=8, ge=1, le=CONCURRENCY_MAX, description="Connections.")
    requests_per_connection: int = Field(
        default=100, ge=1, le=1_000_000,
        description="Requests before a connection is opened anew (new endpoints get a share).",
    )  # fmt: skip
    port: PortRef | None = Field(
        default=None, description="A port of the Service, by number or name; default: its first."
    )

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not TRAFFIC_PATH.fullmatch(v):
            raise ValueError(
                "must start with '/' and hold only visible ASCII (percent-encode the rest)"
            )
        return v

    def to_spec(self) -> TrafficSpec:
        return TrafficSpec(
            self.rate, self.duration_s, self.path, self.concurrency, self.requests_per_connection
        )
