"""Route handlers, declared once in ``ROUTES``: the app registers them and the OpenAPI document
is generated from the same table, so the two cannot drift apart.

Adding a route is one entry: its reply shape (a wire.py TypedDict), its body model, its query
parameters (params.py), and what the operation itself can refuse (``errors``); openapi.py
derives every other status (auth, bad input, unknown ids, the store's 503) from those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from kube9_desktop.engine.api.app import (
    ENGINE,
    HEARTBEAT_BODY_LIMIT,
    PRINCIPAL,
    json_response,
    read_json,
)
from kube9_desktop.engine.api.auth import bearer
from kube9_desktop.engine.api.params import (
    ID,
    MAX_ID,
    NS,
    BoolQuery,
    IntQuery,
    KindsQuery,
    NameQuery,
    NamespaceQuery,
    OptionalIntQuery,
    Query,
    SelectorQuery,
    path_id,
    path_namespace,
)
from kube9_desktop.engine.api.serialize import (
    namespace_json,
    node_health_json,
    node_json,
    pod_health_json,
    pod_json,
    summary_json,
)
from kube9_desktop.engine.api.wire import (
    DesiredPageJson,
    FaultInjectedJson,
    HealthzJson,
    HeartbeatReplyJson,
    IncidentDetailJson,
    IncidentJson,
    JsonObject,
    MessageJson,
    NamespaceDeletedJson,
    NamespaceJson,
    NodeCordonJson,
    NodeCreatedJson,
    NodeDeletedJson,
    NodeDetailJson,
    NodeHealthJson,
    NodeJson,
    PodCreatedHeadJson,
    PodCreatedJson,
    PodDetailJson,
    PodHealthJson,
    PodJson,
    SummaryJson,
)
from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.clock import utc_iso
from kube9_desktop.engine.constraints import taints_json
from kube9_desktop.engine.events import EventJson
from kube9_desktop.engine.model import cores
from kube9_desktop.engine.specs import (
    FaultIn,
    HeartbeatIn,
    NamespaceCreate,
    NodeCreate,
    PodCreate,
    PodFaultIn,
    TaintsIn,
    check_taints,
    parse_body,
)
from kube9_desktop.engine.usage import UsageHistoryJson

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Link:
    """From a create reply to the operation that reads what it created (OpenAPI ``links``)."""

    operation: str  # the handler of the GET route
    parameter: str  # its path parameter
    pointer: str  # where the reply holds the value: a JSON pointer


@dataclass(frozen=True)
class Route:
    """One operation, as served and as documented."""

    method: str
    paths: tuple[str, ...]
    handler: Handler
    summary: str
    reply: Any  # the success body: a wire.py TypedDict, list[...] of one, or str (text/plain)
    status: int = 200  # of success
    body: type[BaseModel] | None = None  # the request body's model
    auth: str = "admin"  # admin | node-or-admin | none
    query: tuple[Query, ...] = ()
    store: str = ""  # "reads" or "writes": a database that fails is a 503
    errors: Mapping[int, str] = field(default_factory=dict)  # what the operation refuses, why
    link: Link | None = None


SINCE = IntQuery("since", 0, 2**62, 0, "only events with a larger id")
EVENT_LIMIT = IntQuery("limit", 1, 5000, 200, "at most this many")
NODE_ID = IntQuery("node_id", 1, MAX_ID, 0, "only events about this node or its pods")
POD_ID = IntQuery("pod_id", 1, MAX_ID, 0, "only this pod's events")
KINDS = KindsQuery("kind", "comma-separated event kinds")
INCIDENT_LIMIT = IntQuery("limit", 1, 1000, 50, "at most this many")
SELECTOR = SelectorQuery()
FORCE = BoolQuery("force", "evict the node's pods first (they are rescheduled)")
GENERATION = IntQuery("generation", 0, 2**62, 0, "the generation the heartbeat reply named")
OFFSET = IntQuery("offset", 0, 2**31, 0, "first pod of the page")
PAGE_LIMIT = IntQuery("limit", 1, 2000, 500, "pods per page")
LOG_CONTAINER = NameQuery("container", "the container (optional when the pod has one)")
LOG_TAIL = OptionalIntQuery("tail", 0, 100_000, "only the last this many lines (absent: all)")
LOG_PREVIOUS = BoolQuery("previous", "the run before the current one (after a restart)")
LOG_FOLLOW = BoolQuery("follow", "keep the response open and stream new output")
NAMESPACE = NamespaceQuery("namespace", "only pods of this namespace (default: all)")


# ---- cluster ---------------------------------------------------------------------------


async def root(request: web.Request) -> web.StreamResponse:
    return web.Response(text="Kube_9 API is running!")


async def healthz(request: web.Request) -> web.StreamResponse:
    reply: HealthzJson = {"status": "ok"}
    return json_response(reply)


async def test_db(request: web.Request) -> web.StreamResponse:
    request.app[ENGINE].ping_store()  # StoreUnavailable: a 503 naming the reason, as JSON
    return web.Response(text="Database Connected!")


async def openapi(request: web.Request) -> web.StreamResponse:
    from kube9_desktop.engine.api.openapi import build_openapi

    return json_response(build_openapi(ROUTES))


async def cluster_summary(request: web.Request) -> web.StreamResponse:
    return json_response(summary_json(request.app[ENGINE].summary()))


async def events(request: web.Request) -> web.StreamResponse:
    rows = request.app[ENGINE].events(
        since=SINCE.read(request),
        limit=EVENT_LIMIT.read(request),
        node_id=NODE_ID.read(request) or None,
        pod_id=POD_ID.read(request) or None,
        kinds=KINDS.read(request),
    )
    reply: list[EventJson] = [e.to_json() for e in rows]
    return json_response(reply)


async def incidents(request: web.Request) -> web.StreamResponse:
    found = request.app[ENGINE].incidents(INCIDENT_LIMIT.read(request))
    reply: list[IncidentJson] = [t.to_json() for t in found]
    return json_response(reply)


async def incident(request: web.Request) -> web.StreamResponse:
    reply: IncidentDetailJson = request.app[ENGINE].incident(path_id(request)).to_json_with_events()
    return json_response(reply)


# ---- namespaces ------------------------------------------------------------------------


async def list_namespaces(request: web.Request) -> web.StreamResponse:
    selector = SELECTOR.read(request)
    views = request.app[ENGINE].namespaces()
    reply: list[NamespaceJson] = [namespace_json(v) for v in views if selector.matches(v.labels)]
    return json_response(reply)


async def create_namespace(request: web.Request) -> web.StreamResponse:
    body = parse_body(NamespaceCreate, await read_json(request))
    done = await request.app[ENGINE].create_namespace(body.name, body.labels, body.annotations)
    return json_response(namespace_json(done.view), 201)


async def get_namespace(request: web.Request) -> web.StreamResponse:
    return json_response(namespace_json(request.app[ENGINE].namespace(path_namespace(request))))


async def delete_namespace(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_namespace(path_namespace(request))
    reply: NamespaceDeletedJson = {
        "message": f"Namespace '{done.view.name}' deleted"
        + (f" with {len(done.pods_deleted)} pod(s)" if done.pods_deleted else ""),
        "pods_deleted": list(done.pods_deleted),
    }
    return json_response(reply)


# ---- nodes -----------------------------------------------------------------------------


async def list_nodes(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].nodes(SELECTOR.read(request))
    usage = request.app[ENGINE].heartbeats.usage
    reply: list[NodeJson] = [node_json(v, usage.node(v.id)) for v in views]
    return json_response(reply)


async def create_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(NodeCreate, await read_json(request))
    created = await engine.create_node(body.to_spec())
    v = created.view
    reply: NodeCreatedJson = {
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
        "engine": v.engine,
        "labels": dict(v.labels),
        "annotations": dict(v.annotations),
        "taints": taints_json(v.taints),
        "resource_version": str(created.changes.resource_version),
        "message": f"Node '{v.name}' created; it becomes healthy on its first heartbeat",
    }
    return json_response(reply, 201)


async def nodes_health(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].nodes(SELECTOR.read(request))
    reply: list[NodeHealthJson] = [node_health_json(v) for v in views]
    return json_response(reply)


async def get_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.node(path_id(request))
    reply: NodeDetailJson = {
        **node_json(view, engine.heartbeats.usage.node(view.id)),
        "container": {
            "id": view.runtime_handle,
            "status": str(await engine.runtime.status(view.id)) if engine.started else "unknown",
            "ip": "127.0.0.1",
            "port": None,
        },
        "pods": [
            {"id": p.id, "name": p.name, "namespace": p.namespace, "health_status": str(p.phase)}
            for p in engine.pods_on(view.id)
        ],
        "events": [e.to_json() for e in engine.events(node_id=view.id, limit=50)],
    }
    return json_response(reply)


async def delete_node(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    force = FORCE.read(request)
    deleted = await engine.delete_node(path_id(request), force=force)
    reply: NodeDeletedJson = {
        "message": f"Node '{deleted.name}' deleted",
        "rescheduled": [{"pod": p, "node": n} for p, n in deleted.rebound],
        "pending": list(deleted.pending),
        "pods_changed": sorted(deleted.changes.changed.get(Kind.POD, ())),
    }
    return json_response(reply)


async def heartbeat(request: web.Request) -> web.StreamResponse:
    """A HeartbeatReplyJson, or an ErrorJson (the engine answers both as a status and a dict)."""
    engine = request.app[ENGINE]
    node_id = path_id(request)
    token = bearer(request.headers.get("Authorization"))  # checked by the auth middleware
    payload = await read_json(
        request, max(HEARTBEAT_BODY_LIMIT, engine.heartbeat_body_limit(node_id))
    )
    status, reply = await engine.node_heartbeat(
        node_id, token, payload, principal=request.get(PRINCIPAL)
    )
    return json_response(reply, status)


async def desired_pods(request: web.Request) -> web.StreamResponse:
    """A DesiredPageJson."""
    engine = request.app[ENGINE]
    page = await engine.desired_pods_page(
        path_id(request),
        bearer(request.headers.get("Authorization")),
        GENERATION.read(request),
        OFFSET.read(request),
        PAGE_LIMIT.read(request),
    )
    return json_response(page)


async def simulate_node_failure(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(FaultIn, await read_json(request))
    done = await engine.inject_fault(
        path_id(request), body.mode, component=body.component, duration_s=body.duration_s
    )
    reply: FaultInjectedJson = {
        "message": done.message,
        "mode": done.mode,
        "node": done.node,
        "injected_at": utc_iso(done.at),
        "incident_id": done.incident_id,
    }
    return json_response(reply)


async def recover_node(request: web.Request) -> web.StreamResponse:
    reply: MessageJson = {"message": await request.app[ENGINE].recover_node(path_id(request))}
    return json_response(reply)


async def node_taints(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(TaintsIn, await read_json(request))
    view = engine.set_node_taints(path_id(request), check_taints(body.taints))
    reply: NodeJson = node_json(view, engine.heartbeats.usage.node(view.id))
    return json_response(reply)


async def _set_cordoned(request: web.Request, cordoned: bool) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view, changed = engine.set_node_cordoned(path_id(request), cordoned)
    word = "cordoned" if cordoned else "uncordoned"
    reply: NodeCordonJson = {
        "message": f"Node '{view.name}' {word}" if changed else f"Node '{view.name}' was "
        f"already {word}",
        "changed": changed,
        "node": node_json(view, engine.heartbeats.usage.node(view.id)),
    }  # fmt: skip
    return json_response(reply)


async def cordon_node(request: web.Request) -> web.StreamResponse:
    return await _set_cordoned(request, True)


async def uncordon_node(request: web.Request) -> web.StreamResponse:
    return await _set_cordoned(request, False)


# ---- pods ------------------------------------------------------------------------------


async def list_pods(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    views = engine.pods(NAMESPACE.read(request), SELECTOR.read(request))
    usage = engine.heartbeats.usage
    reply: list[PodJson] = [
        pod_json(v, engine.node_type_of(v.node_id), usage.pod(v.id)) for v in views
    ]
    return json_response(reply)


async def create_pod(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(PodCreate, await read_json(request))
    created = await engine.create_pod(body.to_spec())
    v, d = created.view, created.decision
    head: PodCreatedHeadJson = {
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
        return json_response(head, 201, encoded={"scheduling": created.decision_text})
    reply: PodCreatedJson = {**head, "scheduling": d.to_json()}
    return json_response(reply, 201)


async def get_pod(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.pod(path_id(request))
    reply: PodDetailJson = {
        **pod_json(view, engine.node_type_of(view.node_id), engine.heartbeats.usage.pod(view.id)),
        "scheduling": view.decision.to_json() if view.decision else None,
    }
    return json_response(reply)


async def pod_health(request: web.Request) -> web.StreamResponse:
    return json_response(pod_health_json(request.app[ENGINE].pod(path_id(request))))


async def pod_usage(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.pod(path_id(request))  # 404 for an unknown pod
    reply: UsageHistoryJson = engine.heartbeats.usage.pod_history(view.id, engine.clock.monotonic())
    return json_response(reply)


async def node_usage(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    view = engine.node(path_id(request))
    reply: UsageHistoryJson = engine.heartbeats.usage.node_history(
        view.id, engine.clock.monotonic()
    )
    return json_response(reply)


async def delete_pod(request: web.Request) -> web.StreamResponse:
    deleted = await request.app[ENGINE].delete_pod(path_id(request))
    reply: MessageJson = {"message": f"Pod '{deleted.view.name}' deleted; its resources are free"}
    return json_response(reply)


async def pod_logs(request: web.Request) -> web.StreamResponse:
    """A container's output as text; ``follow`` streams it (chunked) until the client leaves
    or the pod is deleted. Virtual nodes have none: an empty body and ``X-Kube9-Logs-Note``."""
    engine = request.app[ENGINE]
    pod_id = path_id(request)
    container, tail = LOG_CONTAINER.read(request), LOG_TAIL.read(request)
    previous, follow = LOG_PREVIOUS.read(request), LOG_FOLLOW.read(request)
    target = engine.pod_logs.target(pod_id, container, previous)
    data, offset = await engine.pod_logs.read(target, tail)
    headers = {"X-Kube9-Logs-Note": target.note} if target.note else {}
    if not follow:
        return web.Response(body=data, content_type="text/plain", charset="utf-8", headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_type, response.charset = "text/plain", "utf-8"
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(data)
    try:
        async for chunk in engine.pod_logs.follow(target, offset):
            await response.write(chunk)
    except (ConnectionResetError, ConnectionError):
        return response  # the client left
    await response.write_eof()
    return response


async def simulate_pod_failure(request: web.Request) -> web.StreamResponse:
    body = parse_body(PodFaultIn, await read_json(request))
    reply: MessageJson = {
        "message": await request.app[ENGINE].kill_pod(path_id(request), body.container)
    }
    return json_response(reply)


R = Route
ROUTES: tuple[Route, ...] = (
    R("GET", ("/",), root, "Liveness text kept from the original API", str),
    R("GET", ("/healthz",), healthz, "Liveness probe (no auth)", HealthzJson, auth="none"),
    R("GET", ("/test_db",), test_db, "Check the database answers", str, store="reads"),
    R("GET", ("/openapi.json",), openapi, "This document", JsonObject),
    R("GET", ("/cluster/summary",), cluster_summary, "Counts, capacity and allocation",
      SummaryJson),
    R("GET", ("/events",), events, "The event log, newest last", list[EventJson],
      query=(SINCE, EVENT_LIMIT, NODE_ID, POD_ID, KINDS), store="reads"),
    R("GET", ("/incidents",), incidents, "Failure timelines, newest first", list[IncidentJson],
      query=(INCIDENT_LIMIT,), store="reads"),
    R("GET", (f"/incidents/{ID}",), incident, "One failure's timeline with its events",
      IncidentDetailJson, store="reads"),
    R("GET", ("/namespaces/", "/namespaces"), list_namespaces, "List namespaces",
      list[NamespaceJson], query=(SELECTOR,)),
    R("POST", ("/namespaces/", "/namespaces"), create_namespace, "Create a namespace",
      NamespaceJson, 201, NamespaceCreate, store="writes",
      errors={409: "a namespace of that name exists"},
      link=Link("get_namespace", "name", "/name")),
    R("GET", (f"/namespaces/{NS}",), get_namespace, "One namespace", NamespaceJson),
    R("DELETE", (f"/namespaces/{NS}",), delete_namespace,
      "Delete a namespace and every pod in it (system namespaces stay)", NamespaceDeletedJson,
      store="writes", errors={409: "a system namespace"}),
    R("GET", ("/nodes/", "/nodes"), list_nodes, "List nodes", list[NodeJson], query=(SELECTOR,)),
    R("POST", ("/nodes/", "/nodes"), create_node, "Create a node", NodeCreatedJson, 201,
      NodeCreate, store="writes",
      errors={400: "no Docker engine of the name asked for", 409: "a node of that name exists",
              503: "the runtime, or the Docker engine asked for, is unavailable (named, with "
                   "its cause)"},
      link=Link("get_node", "id", "/id")),
    R("GET", ("/nodes/health",), nodes_health, "Health of every node", list[NodeHealthJson],
      query=(SELECTOR,)),
    R("GET", (f"/nodes/{ID}",), get_node, "One node with its container, pods and events",
      NodeDetailJson, store="reads"),
    R("DELETE", (f"/nodes/{ID}",), delete_node, "Delete a node (?force=true evicts its pods)",
      NodeDeletedJson, query=(FORCE,), store="writes",
      errors={409: "pods are bound to the healthy node (use ?force=true)"}),
    R("POST", (f"/nodes/{ID}/heartbeat",), heartbeat, "Heartbeat from the node's agent",
      HeartbeatReplyJson, body=HeartbeatIn, auth="node-or-admin", store="writes",
      errors={404: "unknown node: the agent should stop (should_stop_heartbeat)",
              409: "sent by hand for a node whose instance is not running",
              503: "the node is cut off by an injected partition"}),
    R("GET", (f"/nodes/{ID}/desired",), desired_pods,
      "A page of the node's desired pods (for sets too large for a heartbeat reply)",
      DesiredPageJson, auth="node-or-admin", query=(GENERATION, OFFSET, PAGE_LIMIT),
      errors={409: "the generation is stale: take the set from the next heartbeat"}),
    R("GET", (f"/nodes/{ID}/usage",), node_usage,
      "The node's live usage and its last 5 minutes (one sample per 5 s)", UsageHistoryJson),
    R("POST", (f"/nodes/{ID}/simulate/failure",), simulate_node_failure, "Inject a fault",
      FaultInjectedJson, body=FaultIn, store="writes",
      errors={409: "the node is not running, or already has that fault",
              503: "the runtime is unavailable"}),
    R("POST", (f"/nodes/{ID}/recover",), recover_node, "Heal faults and restart now",
      MessageJson, store="writes",
      errors={409: "already being restarted", 503: "the runtime is unavailable"}),
    R("PUT", (f"/nodes/{ID}/taints",), node_taints,
      "Replace the node's taints (pods not tolerating a NoExecute one are evicted; pending "
      "pods that now fit are placed)",
      NodeJson, body=TaintsIn, store="writes"),
    R("POST", (f"/nodes/{ID}/cordon",), cordon_node,
      "Cordon: no new pods on the node (spec.unschedulable; those on it stay)",
      NodeCordonJson, store="writes"),
    R("POST", (f"/nodes/{ID}/uncordon",), uncordon_node,
      "Uncordon: the node takes new pods again (pending pods that fit are placed)",
      NodeCordonJson, store="writes"),
    R("GET", ("/pods/", "/pods"), list_pods, "List pods", list[PodJson],
      query=(NAMESPACE, SELECTOR)),
    R("POST", ("/pods/", "/pods"), create_pod, "Create and schedule a pod", PodCreatedJson, 201,
      PodCreate, store="writes",
      errors={400: "no node fits (reasons names every node's)", 404: "unknown namespace",
              409: "a pod of that name exists in the namespace"},
      link=Link("get_pod", "id", "/pod_details/id")),
    R("GET", (f"/pods/{ID}",), get_pod, "One pod with its scheduling decision", PodDetailJson),
    R("GET", (f"/pods/{ID}/health",), pod_health, "What the node's agent last reported",
      PodHealthJson),
    R("GET", (f"/pods/{ID}/usage",), pod_usage,
      "The pod's live usage and its last 5 minutes (one sample per 5 s)", UsageHistoryJson),
    R("GET", (f"/pods/{ID}/logs",), pod_logs,
      "A container's output (text/plain; follow=true streams it until the pod is gone)", str,
      query=(LOG_CONTAINER, LOG_TAIL, LOG_PREVIOUS, LOG_FOLLOW),
      errors={400: "the pod has several containers and none is named, or the one named is "
                   "not in the pod (the message lists them)",
              404: "unknown pod; previous=true when the container has no previous run",
              409: "the pod is not on a node yet",
              503: "the node cannot be read now (its container is not running)"}),
    R("DELETE", (f"/pods/{ID}",), delete_pod, "Delete a pod", MessageJson, store="writes"),
    R("POST", (f"/pods/{ID}/simulate/failure",), simulate_pod_failure,
      "Kill a pod's process (the agent restarts it)", MessageJson, body=PodFaultIn,
      store="writes", errors={409: "the pod has no process to kill"}),
)  # fmt: skip


# Workloads live in their own module; they join the one table here (and so the OpenAPI).
from kube9_desktop.engine.api.routes_workloads import workload_routes  # noqa: E402

ROUTES = ROUTES + workload_routes(Route, Link, ID)

from kube9_desktop.engine.api.routes_services import service_routes  # noqa: E402

ROUTES = ROUTES + service_routes(Route, Link, ID)

from kube9_desktop.engine.api.routes_nodes import node_routes  # noqa: E402

ROUTES = ROUTES + node_routes(Route, Link, ID)

from kube9_desktop.engine.api.routes_priority import priority_routes  # noqa: E402

ROUTES = ROUTES + priority_routes(Route, Link)

from kube9_desktop.engine.api.routes_what_if import what_if_routes  # noqa: E402

ROUTES = ROUTES + what_if_routes(Route, Link, ID)
