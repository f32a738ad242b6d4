"""Service routes (core/v1 Service in the original Kube-9 style: ids, JSON).

Registered through ``service_routes``, which routes.py appends to its table; the OpenAPI
document comes from the same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aiohttp import web

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import NamespaceQuery, SelectorQuery, path_id
from kube9_desktop.engine.api.serialize_services import service_json
from kube9_desktop.engine.api.wire_services import (
    ServiceChangedJson,
    ServiceDeletedJson,
    ServiceDetailJson,
    ServiceJson,
    TrafficJson,
    TrafficTotalsJson,
)
from kube9_desktop.engine.service_specs import ServiceCreate, ServicePatch, TrafficCreate
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.traffic import TrafficRun

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Link, Route

NAMESPACE = NamespaceQuery("namespace", "only Services of this namespace (default: all)")
SELECTOR = SelectorQuery()


async def list_services(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].services(NAMESPACE.read(request), SELECTOR.read(request))
    return json_response([service_json(v) for v in views])


async def create_service(request: web.Request) -> web.StreamResponse:
    body = parse_body(ServiceCreate, await read_json(request))
    done = await request.app[ENGINE].create_service(body.to_spec())
    return json_response(service_json(done.view), 201)


async def get_service(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.service(path_id(request))
    run = engine.latest_traffic(view.id)
    reply: ServiceDetailJson = {
        **service_json(view),
        "traffic": None if run is None else cast(TrafficTotalsJson, run.totals()),
    }
    return json_response(reply)


async def patch_service(request: web.Request) -> web.StreamResponse:
    patch = parse_body(ServicePatch, await read_json(request))
    done = await request.app[ENGINE].update_service(path_id(request), patch)
    reply: ServiceChangedJson = {**service_json(done.view), "message": done.message}
    return json_response(reply)


async def delete_service(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_service(path_id(request))
    reply: ServiceDeletedJson = {"message": done.message}
    return json_response(reply)


def traffic_json(run: TrafficRun) -> TrafficJson:
    return cast(TrafficJson, run.to_json())


async def start_traffic(request: web.Request) -> web.StreamResponse:
    body = parse_body(TrafficCreate, await read_json(request))
    run = await request.app[ENGINE].start_traffic(path_id(request), body.to_spec(), body.port)
    return json_response(traffic_json(run), 202)


async def get_traffic(request: web.Request) -> web.StreamResponse:
    return json_response(traffic_json(request.app[ENGINE].traffic(path_id(request))))


async def stop_traffic(request: web.Request) -> web.StreamResponse:
    return json_response(traffic_json(await request.app[ENGINE].stop_traffic(path_id(request))))


def service_routes(R: type[Route], L: type[Link], ID: str) -> tuple[Route, ...]:
    """The routes' table entries; routes.py passes its Route, Link and id pattern."""
    return (
        R("GET", ("/services/", "/services"), list_services, "List Services",
          list[ServiceJson], query=(NAMESPACE, SELECTOR)),
        R("POST", ("/services/", "/services"), create_service,
          "Create a Service (its cluster IP, node ports and endpoints follow)", ServiceJson,
          201, ServiceCreate, store="writes",
          errors={404: "unknown namespace",
                  409: "a Service of that name exists in the namespace, or a node port is "
                       "taken"},
          link=L("get_service", "id", "/id")),
        R("GET", (f"/services/{ID}",), get_service,
          "One Service with its cluster IP, ports, endpoints and its traffic's totals",
          ServiceDetailJson),
        R("PATCH", (f"/services/{ID}",), patch_service,
          "Change selector, ports, type, session affinity, labels… (not the cluster IP)",
          ServiceChangedJson, body=ServicePatch, store="writes",
          errors={409: "a node port is taken"}),
        R("DELETE", (f"/services/{ID}",), delete_service,
          "Delete a Service (its address and node ports are freed)", ServiceDeletedJson,
          store="writes"),
        R("POST", (f"/services/{ID}/traffic",), start_traffic,
          "Send HTTP requests through the Service at a rate, for a time (the engine's "
          "traffic generator)", TrafficJson, 202, TrafficCreate, store="writes",
          errors={409: "traffic is already running through this Service"}),
        R("GET", (f"/services/{ID}/traffic",), get_traffic,
          "The Service's latest traffic run: totals, per-endpoint counts, errors by kind and "
          "a per-second series", TrafficJson, errors={404: "no traffic has run yet"}),
        R("DELETE", (f"/services/{ID}/traffic",), stop_traffic,
          "Stop the Service's traffic run (its figures stay)", TrafficJson, store="writes",
          errors={404: "no traffic has run yet"}),
    )  # fmt: skip
