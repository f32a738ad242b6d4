"""The reply shapes of the Service routes, as wire.py does for the rest: closed TypedDicts
shown in the OpenAPI document and held to the replies by mypy and the API tests."""

from __future__ import annotations

from typing import Annotated

from typing_extensions import TypedDict

from kube9_desktop.engine.api.wire import Labels
from kube9_desktop.engine.jsontypes import Digits, Timestamp, closed, one_of


@closed
class ServicePortJson(TypedDict):
    name: str
    port: int
    target_port: int | str  # a number, or a container port's name (resolved per pod)
    protocol: Annotated[str, one_of("TCP")]
    node_port: int | None  # NodePort Services: the port on 127.0.0.1 (null otherwise)


@closed
class EndpointPortJson(TypedDict):
    name: str  # the service port's name
    port: int  # the target port resolved on this pod


@closed
class EndpointJson(TypedDict):
    """One pod behind the Service (EndpointSlice's endpoint, with its ready condition)."""

    pod_id: int
    pod_name: str
    node_id: int
    node_name: str
    ip: str
    ready: bool
    ports: list[EndpointPortJson]


@closed
class ServiceJson(TypedDict):
    id: int
    uid: str
    name: str
    namespace: str
    labels: Labels
    annotations: Labels
    selector: Labels
    type: Annotated[str, one_of("ClusterIP", "NodePort")]
    cluster_ip: str
    ports: list[ServicePortJson]
    session_affinity: Annotated[str, one_of("None", "ClientIP")]
    endpoints: list[EndpointJson]
    ready_endpoints: int
    creation_timestamp: Timestamp
    resource_version: Digits


@closed
class ServiceChangedJson(ServiceJson):
    message: str  # what the change did ("nothing changed" when nothing did)


@closed
class ServiceDeletedJson(TypedDict):
    message: str


@closed
class TrafficErrorsJson(TypedDict):
    refused: int  # the connection was refused (no endpoint took it)
    reset: int  # the connection broke mid-request
    timeout: int  # no answer within 2 s
    http_5xx: int


@closed
class LatencyJson(TypedDict):
    p50: float | None  # milliseconds (the upper edge of a 5 % bucket); null: no requests
    p90: float | None
    p99: float | None


@closed
class TrafficTotalsJson(TypedDict):
    requests: int
    ok: int
    retried: int  # GETs sent again after a kept-alive connection closed unanswered (not errors)
    errors: TrafficErrorsJson
    by_endpoint: dict[str, int]  # requests per endpoint pod ("unknown": not attributed)
    latency_ms: LatencyJson


@closed
class TrafficSecondJson(TypedDict):
    second: int  # since the start
    ok: int
    errors: TrafficErrorsJson
    by_endpoint: dict[str, int]
    p50_ms: float | None
    p99_ms: float | None


@closed
class TrafficJson(TypedDict):
    service_id: int
    service: str
    target: str  # cluster IP:port the requests go to
    state: Annotated[str, one_of("running", "finished", "stopped")]
    rate: float
    duration_s: float
    path: str
    concurrency: int
    requests_per_connection: int
    started_at: float  # Unix seconds
    elapsed_s: float
    totals: TrafficTotalsJson
    series: list[TrafficSecondJson]


@closed
class ServiceDetailJson(ServiceJson):
    """``GET /services/{id}``: the Service with its latest traffic run's totals."""

    traffic: TrafficTotalsJson | None  # null: no traffic has run through it
