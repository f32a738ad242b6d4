"""Route handlers, declared once in ``ROUTES``: the app registers them and the OpenAPI document
is generated from the same table, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from kube9_desktop.engine.api.app import (
    ENGINE,
    HEARTBEAT_BODY_LIMIT,
    json_response,
    read_json,
)
from kube9_desktop.engine.api.auth import bearer
from kube9_desktop.engine.api.params import (
    MAX_ID,
    _bool_query,
    _id,
    _int_query,
    _kinds_query,
    _namespace_query,
    _selector,
)
from kube9_desktop.engine.api.serialize import (
    namespace_json,
    node_health_json,
    node_json,
    pod_health_json,
    pod_json,
    summary_json,
)
from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.errors import NotFound, StoreUnavailable
from kube9_desktop.engine.meta import namespace_problem
from kube9_desktop.engine.model import cores
from kube9_desktop.engine.specs import (
    FaultIn,
    HeartbeatIn,
    NamespaceCreate,
    NodeCreate,
    PodCreate,
    PodFaultIn,
    parse_body,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    paths: tuple[str, ...]
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    responses: dict[int, str] = field(default_factory=dict)
    auth: str = "admin"  # admin | node-or-admin | none
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    text: bool = False


# ---- cluster ---------------------------------------------------------------------------


async def root(request: web.Request) -> web.StreamResponse:
    return web.Response(text="Kube_9 API is running!")


async def healthz(request: web.Request) -> web.StreamResponse:
    return json_response({"status": "ok"})


async def test_db(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    try:
        engine.ping_store()
    except StoreUnavailable as exc:
        return web.Response(text=f"Database unavailable: {exc.message}", status=503)
    return web.Response(text="Database Connected!")


async def openapi(request: web.Request) -> web.StreamResponse:
    from kube9_desktop.engine.api.openapi import build_openapi

    return json_response(build_openapi(ROUTES))


async def cluster_summary(request: web.Request) -> web.StreamResponse:
    return json_response(summary_json(request.app[ENGINE].summary()))


async def events(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    since = _int_query(request, "since", 0, 0, 2**62)
    limit = _int_query(request, "limit", 200, 1, 5000)
    node_id = request.query.get("node_id")
    pod_id = request.query.get("pod_id")
    rows = engine.events(
        since=since,
        limit=limit,
        node_id=_int_query(request, "node_id", 0, 1, MAX_ID) if node_id else None,
        pod_id=_int_query(request, "pod_id", 0, 1, MAX_ID) if pod_id else None,
        kinds=_kinds_query(request),
    )
    return json_response([e.to_json() for e in rows])


async def incidents(request: web.Request) -> web.StreamResponse:
    limit = _int_query(request, "limit", 50, 1, 1000)
    return json_response([t.to_json() for t in request.app[ENGINE].incidents(limit)])


async def incident(request: web.Request) -> web.StreamResponse:
    found = request.app[ENGINE].incident(_id(request))
    return json_response(found.to_json(with_events=True))


# ---- namespaces ------------------------------------------------------------------------


async def list_namespaces(request: web.Request) -> web.StreamResponse:
    selector = _selector(request)
    views = request.app[ENGINE].namespaces()
    return json_response([namespace_json(v) for v in views if selector.matches(v.labels)])


async def create_namespace(request: web.Request) -> web.StreamResponse:
    body = parse_body(NamespaceCreate, await read_json(request))
    done = await request.app[ENGINE].create_namespace(body.name, body.labels, body.annotations)
    return json_response(namespace_json(done.view), 201)


def _namespace_name(request: web.Request) -> str:
    name = request.match_info["name"]
    problem = namespace_problem(name)
    if problem:
        raise NotFound(f"Namespace '{name[:63]}' not found")
    return name


async def get_namespace(request: web.Request) -> web.StreamResponse:
    return json_response(namespace_json(request.app[ENGINE].namespace(_namespace_name(request))))


async def delete_namespace(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_namespace(_namespace_name(request))
    return json_response(
        {
            "message": f"Namespace '{done.view.name}' deleted"
            + (f" with {len(done.pods_deleted)} pod(s)" if done.pods_deleted else ""),
            "pods_deleted": list(done.pods_deleted),
        }
    )


# ---- nodes -----------------------------------------------------------------------------


async def list_nodes(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].nodes(_selector(request))
    return json_response([node_json(v) for v in views])


async def create_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(NodeCreate, await read_json(request))
    created = await engine.create_node(body.to_spec())
    v = created.view
    return json_response(
        {
            "id": v.id,
            "uid": v.uid,
            "name": v.name,
            "node_type": str(v.node_type),
            "cpu_cores": cores(v.capacity.cpu_m),
            "memory_mb": v.capacity.mem_mi,
            "status": str(v.status),
            "container_id": v.runtime_handle,
            "node_ip": "127.0.0.1",
            "runtime": v.runtime,
            "labels": dict(v.labels),
            "annotations": dict(v.annotations),
            "resource_version": str(created.changes.resource_version),
            "message": f"Node '{v.name}' created; it becomes healthy on its first heartbeat",
        },
        201,
    )


async def nodes_health(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].nodes(_selector(request))
    return json_response([node_health_json(v) for v in views])


async def get_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.node(_id(request))
    data = node_json(view)
    data["container"] = {
        "id": view.runtime_handle,
        "status": str(await engine.runtime.status(view.id)) if engine.started else "unknown",
        "ip": "127.0.0.1",
        "port": None,
    }
    data["pods"] = [
        {"id": p.id, "name": p.name, "namespace": p.namespace, "health_status": str(p.phase)}
        for p in engine.pods_on(view.id)
    ]
    data["events"] = [e.to_json() for e in engine.events(node_id=view.id, limit=50)]
    return json_response(data)


async def delete_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    force = _bool_query(request, "force")
    deleted = await engine.delete_node(_id(request), force=force)
    return json_response(
        {
            "message": f"Node '{deleted.name}' deleted",
            "rescheduled": [{"pod": p, "node": n} for p, n in deleted.rebound],
            "pending": list(deleted.pending),
            "pods_changed": sorted(deleted.changes.changed.get(Kind.POD, ())),
        }
    )


async def heartbeat(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    node_id = _id(request)
    token = bearer(request.headers.get("Authorization"))  # checked by the auth middleware
    payload = await read_json(
        request, max(HEARTBEAT_BODY_LIMIT, engine.heartbeat_body_limit(node_id))
    )
    status, reply = await engine.node_heartbeat(node_id, token, payload)
    return json_response(reply, status)


async def desired_pods(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    page = await engine.desired_pods_page(
        _id(request),
        bearer(request.headers.get("Authorization")),
        _int_query(request, "generation", 0, 0, 2**62),
        _int_query(request, "offset", 0, 0, 2**31),
        _int_query(request, "limit", 500, 1, 2000),
    )
    return json_response(page)


async def simulate_node_failure(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(FaultIn, await read_json(request))
    done = await engine.inject_fault(
        _id(request), body.mode, component=body.component, duration_s=body.duration_s
    )
    return json_response(
        {
            "message": done.message,
            "mode": done.mode,
            "node": done.node,
            "injected_at": utc_iso(done.at),
            "incident_id": done.incident_id,
        }
    )


async def recover_node(request: web.Request) -> web.StreamResponse:
    message = await request.app[ENGINE].recover_node(_id(request))
    return json_response({"message": message})


# ---- pods ------------------------------------------------------------------------------


async def list_pods(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    views = engine.pods(_namespace_query(request), _selector(request))
    return json_response([pod_json(v, engine.node_type_of(v.node_id)) for v in views])


async def create_pod(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(PodCreate, await read_json(request))
    created = await engine.create_pod(body.to_spec())
    v, d = created.view, created.decision
    reply: dict[str, Any] = {
        "message": f"Pod '{v.name}' assigned to node '{v.node_name}' successfully!",
        "pod_details": {
            "id": v.id,
            "uid": v.uid,
            "name": v.name,
            "namespace": v.namespace,
            "node": v.node_name,
            "node_id": v.node_id,
            "status": str(v.phase),
            "type": v.spec.kind,
            "containers_count": len(v.spec.containers),
            "ip_address": v.ip,
            "labels": dict(v.labels),
            "resource_version": str(created.changes.resource_version),
        },
    }
    if created.decision_text is not None:  # the stored encoding, not a second one
        return json_response(reply, 201, encoded={"scheduling": created.decision_text})
    return json_response({**reply, "scheduling": d.to_json()}, 201)


async def get_pod(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.pod(_id(request))
    data = pod_json(view, engine.node_type_of(view.node_id))
    data["scheduling"] = view.decision.to_json() if view.decision else None
    return json_response(data)


async def pod_health(request: web.Request) -> web.StreamResponse:
    return json_response(pod_health_json(request.app[ENGINE].pod(_id(request))))


async def delete_pod(request: web.Request) -> web.StreamResponse:
    deleted = await request.app[ENGINE].delete_pod(_id(request))
    return json_response({"message": f"Pod '{deleted.view.name}' deleted; its resources are free"})


async def simulate_pod_failure(request: web.Request) -> web.StreamResponse:
    body = parse_body(PodFaultIn, await read_json(request))
    message = await request.app[ENGINE].kill_pod(_id(request), body.container)
    return json_response({"message": message})


R = Route
ID = r"{id:[0-9]+}"  # not \d, which matches "١" and "２" too
NS = r"{name:[^/]+}"
SELECTOR = ("labelSelector", "string", "Kubernetes label selector, e.g. app=web,tier!=db")
ROUTES: tuple[Route, ...] = (
    R("GET", ("/",), root, "Liveness text kept from the original API", text=True),
    R("GET", ("/healthz",), healthz, "Liveness probe (no auth)", auth="none"),
    R("GET", ("/test_db",), test_db, "Check the database answers", text=True,
      responses={503: "database unavailable"}),
    R("GET", ("/openapi.json",), openapi, "This document"),
    R("GET", ("/cluster/summary",), cluster_summary, "Counts, capacity and allocation"),
    R("GET", ("/events",), events, "The event log, newest last",
      query=(("since", "integer", "only events with a larger id"),
             ("limit", "integer", "at most this many (1-5000, default 200)"),
             ("node_id", "integer", "only events about this node or its pods"),
             ("pod_id", "integer", "only this pod's events"),
             ("kind", "string", "comma-separated event kinds"))),
    R("GET", ("/incidents",), incidents, "Failure timelines, newest first",
      query=(("limit", "integer", "at most this many (default 50)"),)),
    R("GET", (f"/incidents/{ID}",), incident, "One failure's timeline with its events",
      responses={404: "unknown incident"}),
    R("GET", ("/namespaces/", "/namespaces"), list_namespaces, "List namespaces",
      query=(SELECTOR,)),
    R("POST", ("/namespaces/", "/namespaces"), create_namespace, "Create a namespace",
      body=NamespaceCreate, responses={201: "created", 409: "name taken"}),
    R("GET", (f"/namespaces/{NS}",), get_namespace, "One namespace",
      responses={404: "unknown namespace"}),
    R("DELETE", (f"/namespaces/{NS}",), delete_namespace,
      "Delete a namespace and every pod in it (system namespaces stay)",
      responses={404: "unknown namespace", 409: "a system namespace"}),
    R("GET", ("/nodes/", "/nodes"), list_nodes, "List nodes", query=(SELECTOR,)),
    R("POST", ("/nodes/", "/nodes"), create_node, "Create a node", body=NodeCreate,
      responses={201: "created", 400: "validation error", 409: "name taken",
                 503: "runtime unavailable"}),
    R("GET", ("/nodes/health",), nodes_health, "Health of every node", query=(SELECTOR,)),
    R("GET", (f"/nodes/{ID}",), get_node, "One node with its container, pods and events",
      responses={404: "unknown node"}),
    R("DELETE", (f"/nodes/{ID}",), delete_node, "Delete a node (?force=true evicts its pods)",
      query=(("force", "boolean", "evict running pods first"),),
      responses={404: "unknown node", 409: "node has running pods"}),
    R("POST", (f"/nodes/{ID}/heartbeat",), heartbeat, "Heartbeat from the node's agent",
      body=HeartbeatIn, auth="node-or-admin",
      responses={403: "token of another node", 404: "unknown node (stop heartbeating)",
                 409: "by hand, for a node whose instance is not running",
                 503: "node partitioned"}),
    R("GET", (f"/nodes/{ID}/desired",), desired_pods,
      "A page of the node's desired pods (for sets too large for a heartbeat reply)",
      auth="node-or-admin",
      query=(("generation", "integer", "the generation the heartbeat reply named"),
             ("offset", "integer", "first pod of the page (default 0)"),
             ("limit", "integer", "pods per page (1-2000, default 500)")),
      responses={403: "token of another node", 404: "unknown node",
                 409: "stale generation"}),
    R("POST", (f"/nodes/{ID}/simulate/failure",), simulate_node_failure, "Inject a fault",
      body=FaultIn, responses={404: "unknown node", 409: "node not running"}),
    R("POST", (f"/nodes/{ID}/recover",), recover_node, "Heal faults and restart now",
      responses={404: "unknown node", 409: "already restarting"}),
    R("GET", ("/pods/", "/pods"), list_pods, "List pods",
      query=(("namespace", "string", "only pods of this namespace (default: all)"), SELECTOR)),
    R("POST", ("/pods/", "/pods"), create_pod, "Create and schedule a pod", body=PodCreate,
      responses={201: "created", 400: "validation error or no node fits",
                 404: "unknown namespace", 409: "name taken"}),
    R("GET", (f"/pods/{ID}",), get_pod, "One pod with its scheduling decision",
      responses={404: "unknown pod"}),
    R("GET", (f"/pods/{ID}/health",), pod_health, "What the node's agent last reported",
      responses={404: "unknown pod"}),
    R("DELETE", (f"/pods/{ID}",), delete_pod, "Delete a pod", responses={404: "unknown pod"}),
    R("POST", (f"/pods/{ID}/simulate/failure",), simulate_pod_failure,
      "Kill a pod's process (the agent restarts it)", body=PodFaultIn,
      responses={404: "unknown pod", 409: "pod not running"}),
)  # fmt: skip


# Workloads live in their own module; they join the one table here (and so the OpenAPI).
from kube9_desktop.engine.api.routes_workloads import workload_routes  # noqa: E402

NS_QUERY = ("namespace", "string", "only this namespace (default: all)")
ROUTES = ROUTES + workload_routes(Route, ID, NS_QUERY, SELECTOR)
