"""The Kubernetes API's aiohttp application: middlewares (Status errors, Host check, bearer auth),
discovery, version and health, and the read verbs of every resource in ``resources.py``.

Every refusal is a ``Status``; every resource answer is JSON, a ``meta.k8s.io`` Table when the
``Accept`` header asks for one (kubectl's ``get``), the object or its ``<Kind>List`` otherwise.
Verbs not served yet (writes) are a 405 naming the verb, never a silent no-op; watches are
watch.py's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kube9_desktop.engine.api.app import json_response
from kube9_desktop.engine.api.auth import bearer, host_allowed
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.errors import Unauthorized as EngineUnauthorized
from kube9_desktop.engine.k8s import discovery, export_route, mutate, openapi
from kube9_desktop.engine.k8s.listing import (
    FieldRequirement,
    page,
    parse_continue,
    parse_field_selector,
    parse_label_selector,
    parse_limit,
)
from kube9_desktop.engine.k8s.managed import MANAGED, ManagedFields
from kube9_desktop.engine.k8s.resources import BY_PATH, GROUP_VERSIONS, Resource
from kube9_desktop.engine.k8s.status import (
    BadRequest,
    Forbidden,
    K8sError,
    MethodNotAllowed,
    Unauthorized,
    no_route,
    not_found,
    status_error,
    status_object,
)
from kube9_desktop.engine.k8s.tables import INCLUDE_OBJECT, table
from kube9_desktop.engine.k8s.watch import (
    WatchHub,
    WatchRequest,
    parse_resource_version,
    parse_timeout,
    serve_watch,
)
from kube9_desktop.engine.k8s.writes import (
    delete_collection,
    delete_object,
    evict,
    patch_node,
    scale,
)

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

log = logging.getLogger(__name__)

ENGINE: web.AppKey[Engine] = web.AppKey("k8s_engine")
ALLOWED_HOSTS: web.AppKey[frozenset[str]] = web.AppKey("k8s_allowed_hosts")
HUB: web.AppKey[dict[str, WatchHub]] = web.AppKey("k8s_watch_hub")
FOLLOWING: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("k8s_following")  # logs -f
# Readable without a token, as Kubernetes' system:public-info-viewer role allows.
PUBLIC_PATHS = frozenset({"/version", "/version/", "/healthz", "/readyz", "/livez"})
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# Subresources Kubernetes has (kubectl logs, exec, scale, drain...): a 405 naming them, not a
# 404 that reads as a typo in the path. Any other name after an object is a 404.
SUBRESOURCES = frozenset({
    "attach", "binding", "ephemeralcontainers", "eviction", "exec", "finalize", "log",
    "portforward", "proxy", "resize", "scale", "status",
})  # fmt: skip

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Obj = dict[str, Any]


def status_response(error: K8sError) -> web.Response:
    return json_response(error.status(), error.code)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except K8sError as exc:
        return status_response(exc)
    except Kube9Error as exc:  # the engine's own refusals (a bad selector): the client's fault
        return status_response(status_error(exc.status if exc.status < 500 else 500, exc.message))
    except web.HTTPException as exc:
        if exc.status == 404:
            return status_response(no_route())
        if exc.status == 405:
            return status_response(_not_served(request.method, "this path"))
        if exc.status < 400:
            raise
        return json_response(status_object(exc.status, "BadRequest", exc.reason), exc.status)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        message = "Internal error: the engine hit a bug. Details are in the log file."
        return json_response(status_object(500, "InternalError", message), 500)


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not host_allowed(request.headers.get("Host"), request.app[ALLOWED_HOSTS]):
        raise BadRequest(
            "Host header not allowed: this API answers only to localhost names "
            "(DNS-rebinding protection); add the name with --allowed-host if you mean it"
        )
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The engine's admin token as bearer; a node token is no user of this API. Health and
    version are public, but a token that is sent must be right (as Kubernetes authenticates
    before it authorizes)."""
    header = request.headers.get("Authorization")
    if header is None and request.path in PUBLIC_PATHS:
        return await handler(request)
    try:
        who = request.app[ENGINE].auth.identify(bearer(header))
    except EngineUnauthorized:
        raise Unauthorized("Unauthorized") from None
    if not who.admin:
        raise Forbidden("forbidden: a node's token cannot use the Kubernetes API (the admin "
                        "token can: kube9-desktop kubeconfig)")  # fmt: skip
    return await handler(request)


def _not_served(method: str, what: str, verb: str | None = None) -> MethodNotAllowed:
    verb = verb or WRITE_VERBS.get(method, method.lower())
    advice = (
        "make changes in the window or through the Kube-9 API"
        if method in WRITE_VERBS
        else "see docs/kubernetes.md for what is served"
    )
    return MethodNotAllowed(
        f"the server does not allow this method on the requested resource: {verb} on {what} "
        f"is not served by Kube-9 Desktop's Kubernetes API ({advice})"
    )


def _read_only(request: web.Request, what: str) -> None:
    if request.method not in ("GET", "HEAD"):
        raise _not_served(request.method, what)


# ---- discovery, version, health --------------------------------------------------------------


async def version(request: web.Request) -> web.Response:
    _read_only(request, "/version")
    return json_response(discovery.version_info())


async def health(request: web.Request) -> web.Response:
    _read_only(request, request.path)
    ready = request.app[ENGINE].started or request.path != "/readyz"
    text = "ok" if ready else "engine is not running"
    return web.Response(text=text, status=200 if ready else 500)


async def openapi_root(request: web.Request) -> web.Response:
    _read_only(request, request.path)
    return web.Response(body=openapi.root(), content_type="application/json")


async def openapi_document(request: web.Request) -> web.Response:
    _read_only(request, request.path)
    doc = openapi.document_for_path(request.match_info["path"])
    if doc is None:
        raise no_route()
    # (the URL carries the document's hash: clients may keep it as long as they like)
    return web.Response(body=doc, content_type="application/json",
                        headers={"Cache-Control": "public, immutable"})  # fmt: skip


async def root(request: web.Request) -> web.Response:
    _read_only(request, "/")
    paths = ["/api", "/api/v1", "/apis", *[f"/apis/{g}" for g in discovery.group_names()]]
    paths += [f"/apis/{gv}" for gv in GROUP_VERSIONS if "/" in gv]
    paths += ["/openapi/v3", *[f"/openapi/v3/{p}" for p in json.loads(openapi.root())["paths"]]]
    paths += [*sorted(PUBLIC_PATHS), export_route.PATH]
    return json_response({"paths": sorted(paths)})


async def api(request: web.Request) -> web.Response:
    _read_only(request, "/api")
    return json_response(discovery.api_versions(request.host))


async def apis(request: web.Request) -> web.Response:
    _read_only(request, "/apis")
    return json_response(discovery.api_group_list())


async def api_group(request: web.Request) -> web.Response:
    group = request.match_info["group"]
    if group not in discovery.group_names():
        raise no_route()
    _read_only(request, request.path)
    return json_response(discovery.api_group(group))


async def resource_list(request: web.Request) -> web.Response:
    gv = _group_version(request)
    if gv not in GROUP_VERSIONS:
        raise no_route()
    _read_only(request, request.path)
    return json_response(discovery.resource_list(gv))


def _group_version(request: web.Request) -> str:
    info = request.match_info
    return f"{info['group']}/{info['version']}" if "group" in info else "v1"


# ---- resources -------------------------------------------------------------------------------


def table_version(accept: str) -> str | None:
    """``v1`` (or ``v1beta1``) when ``Accept`` asks for a meta.k8s.io Table, else None."""
    for media in accept.split(","):
        params = {}
        for part in media.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            params[key.strip()] = value.strip()
        table = params.get("as") == "Table" and params.get("g") == "meta.k8s.io"
        if table and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
    return None


def _include_object(request: web.Request) -> str:
    value = request.query.get("includeObject", "") or "Metadata"
    if value not in INCLUDE_OBJECT:
        raise BadRequest(
            f"includeObject: must be one of {', '.join(INCLUDE_OBJECT)} (got {value[:40]!r})"
        )
    return value


async def resource(request: web.Request) -> web.StreamResponse:
    info = request.match_info
    found = BY_PATH.get((_group_version(request), info["plural"]))
    namespace, name = info.get("namespace"), info.get("name")
    if found is None or (namespace is not None and not found.namespaced):
        raise no_route()
    if found.namespaced and namespace is None and name is not None:
        raise no_route()  # /api/v1/pods/web: a namespaced object needs its namespace
    what = found.plural if name is None else f"{found.plural} {name!r}"
    if sub := info.get("subresource"):
        if sub not in SUBRESOURCES:
            raise no_route()
        if (found.plural, sub, request.method) == ("pods", "log", "GET") and name is not None:
            return await pod_log(request, namespace or "", name)
        if (found.plural, sub, request.method) == ("pods", "eviction", "POST") and name:
            return await evict(request, request.app[ENGINE], found, namespace or "", name)
        if (
            sub == "status"
            and name is not None
            and request.method == "GET"
            and found.plural in discovery.STATUS_SERVED
            and found.group != "metrics.k8s.io"
        ):
            return json_response(_get(request.app[ENGINE], found, namespace or "", name))
        if sub == "scale" and name is not None and request.method in ("GET", "PUT", "PATCH"):
            return await scale(request, request.app[ENGINE], found, namespace or "", name)
        verb = WRITE_VERBS.get(request.method, "get")
        raise _not_served(request.method, repr(name), verb=f"{verb} {found.plural}/{sub}")
    if request.method == "GET" and request.query.get("watch") in ("true", "1"):
        if "watch" not in found.verbs:
            raise _not_served("GET", what, verb="watch")
        return await _watch(request, found, namespace, name)
    if request.method == "DELETE" and name is None:
        if "deletecollection" not in found.verbs:
            raise _not_served("DELETE", what, verb="deletecollection")
        items, _ = _list(request.app[ENGINE], found, namespace, request, paged=False)
        return await delete_collection(request, request.app[ENGINE], found, items)
    if request.method == "DELETE" and name is not None:
        return await delete_object(request, request.app[ENGINE], found, namespace or "", name)
    if request.method == "PATCH" and found.plural == "nodes" and not found.group and name:
        return await patch_node(request, request.app[ENGINE], found, name)
    if request.method == "POST" and name is None and "create" in found.verbs:
        if found.namespaced and namespace is None:
            raise BadRequest("a namespaced object is created in a namespace: POST to "
                             f".../namespaces/<namespace>/{found.plural}")  # fmt: skip
        return await mutate.create(request, request.app[ENGINE], found, namespace)
    if request.method == "PUT" and name is not None and "update" in found.verbs:
        return await mutate.update(request, request.app[ENGINE], found, namespace or "", name)
    if request.method == "PATCH" and name is not None and "patch" in found.verbs:
        return await mutate.patch(request, request.app[ENGINE], found, namespace or "", name)
    _read_only(request, what)
    engine = request.app[ENGINE]
    tv = table_version(request.headers.get("Accept", ""))
    include = _include_object(request)
    if name is not None:
        obj = _get(engine, found, namespace or "", name)
        if tv is not None:
            meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
            return json_response(
                table(found.kind, [obj], meta, engine.clock.now(), include=include, version=tv)
            )
        return json_response(request.app[MANAGED].attach(obj))
    items, meta = _list(engine, found, namespace, request)
    if tv is not None:
        return json_response(
            table(found.kind, items, meta, engine.clock.now(), include=include, version=tv)
        )
    return json_response(
        {
            "kind": f"{found.kind}List",
            "apiVersion": found.api_version,
            "metadata": meta,
            "items": [request.app[MANAGED].attach(o) for o in items],
        }
    )


def _flag(request: web.Request, key: str) -> bool:
    value = request.query.get(key, "false")
    if value not in ("true", "false", "1", "0", ""):
        raise BadRequest(f"{key}: must be true or false (got {value[:40]!r})")
    return value in ("true", "1")


def _count(request: web.Request, key: str) -> int | None:
    value = request.query.get(key)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        shown = value[:40] if value.isascii() and value.isprintable() else "(unprintable)"
        raise BadRequest(f"{key}: must be a whole number, 0 or more (got {shown!r})")
    return int(value)


async def pod_log(request: web.Request, namespace: str, name: str) -> web.StreamResponse:
    """``kubectl logs``: a container's output as text (``follow`` streams it until the pod is
    gone or the client leaves), ``tailLines``, ``previous``, ``limitBytes``, ``container``."""
    engine = request.app[ENGINE]
    view = engine.find_pod_named(namespace, name)
    if view is None:
        raise not_found("pods", name)
    container = request.query.get("container") or None
    if container is not None and (len(container) > 253 or not container.isprintable()):
        raise BadRequest("container: not a container name")
    tail, limit = _count(request, "tailLines"), _count(request, "limitBytes")
    previous, follow = _flag(request, "previous"), _flag(request, "follow")
    if limit == 0:
        raise BadRequest("limitBytes: must be greater than 0")
    try:
        target = engine.pod_logs.target(view.id, container, previous)
        data, offset = await engine.pod_logs.read(target, tail)
    except Kube9Error as exc:  # kubectl's words: a bad container, no node yet, no previous run
        raise BadRequest(exc.message) from None
    if limit is not None:
        data = data[:limit]
    if not follow:
        return web.Response(body=data, content_type="text/plain", charset="utf-8")
    response = web.StreamResponse()
    response.content_type, response.charset = "text/plain", "utf-8"
    response.enable_chunked_encoding()
    await response.prepare(request)
    sent = len(data)
    await response.write(data)
    task = asyncio.current_task()
    assert task is not None
    request.app[FOLLOWING].add(task)
    try:
        async for chunk in engine.pod_logs.follow(target, offset):
            if limit is not None:
                chunk = chunk[: max(0, limit - sent)]
            sent += len(chunk)
            await response.write(chunk)
            if limit is not None and sent >= limit:
                break
    except ConnectionError:
        return response  # the client left
    finally:
        request.app[FOLLOWING].discard(task)
    await response.write_eof()
    return response


def watch_hub(app: web.Application) -> WatchHub:
    """The app's history of changes: made at start-up (so a watch may start from the version
    of any list served since), or at the first watch of an app that started before its engine
    (tests of the transport only)."""
    hub = app[HUB].get("hub")
    if hub is None:
        hub = app[HUB]["hub"] = WatchHub(app[ENGINE])
    return hub


async def _start_hub(app: web.Application) -> None:
    if getattr(app[ENGINE], "cluster", None) is not None:
        watch_hub(app)


async def _close_hub(app: web.Application) -> None:
    hub = app[HUB].get("hub")
    if hub is not None:
        hub.close()  # every watch ends now, so shutting down need not wait for them
    following: set[asyncio.Task[Any]] = app[FOLLOWING]
    for task in list(following):  # and every kubectl logs -f
        task.cancel()


async def _watch(
    request: web.Request, found: Resource, namespace: str | None, name: str | None
) -> web.StreamResponse:
    q = request.query
    fields = parse_field_selector(q.get("fieldSelector", ""), found)
    if name is not None:  # the old /watch-by-path form: the object of that name
        fields = (*fields, FieldRequirement("metadata.name", True, name))
    req = WatchRequest(
        resource=found,
        namespace=namespace if found.namespaced else None,
        labels=parse_label_selector(q.get("labelSelector", "")),
        fields=fields,
        table_version=table_version(request.headers.get("Accept", "")),
        include=_include_object(request),
        bookmarks=q.get("allowWatchBookmarks") in ("true", "1"),
        timeout_s=parse_timeout(q.get("timeoutSeconds")),
    )
    start_after = parse_resource_version(q.get("resourceVersion"))
    return await serve_watch(request, watch_hub(request.app), req, start_after)


def _get(engine: Engine, found: Resource, namespace: str, name: str) -> Obj:
    view = found.find(engine, namespace, name)
    if view is None:
        raise not_found(found.plural, name, found.group)
    return found.to_object(view)


def _list(
    engine: Engine, found: Resource, namespace: str | None, request: web.Request,
    *, paged: bool = True,
) -> tuple[list[Obj], Obj]:  # fmt: skip
    q = request.query
    labels = parse_label_selector(q.get("labelSelector", ""))
    fields = parse_field_selector(q.get("fieldSelector", ""), found)
    limit = parse_limit(q.get("limit")) if paged else 0
    after = parse_continue(q.get("continue"), found, namespace) if paged else None
    version = engine.resource_version()
    objects = []
    for view in found.views(engine, namespace if found.namespaced else None):
        obj = found.to_object(view)
        if not labels.empty and not labels.matches(obj["metadata"].get("labels", {})):
            continue
        if fields:
            values = found.fields(obj)
            if not all(f.matches(values) for f in fields):
                continue
        objects.append(obj)
    items, paging = page(objects, found, namespace, limit=limit, after=after)
    return items, {"resourceVersion": str(version), **paging}


async def export(request: web.Request) -> web.Response:
    return await export_route.export_kubernetes(request, request.app[ENGINE])


def create_app(engine: Engine, allowed_hosts: frozenset[str] = frozenset()) -> web.Application:
    app = web.Application(middlewares=[errors_middleware, host_middleware, auth_middleware])
    app[ENGINE] = engine
    app[ALLOWED_HOSTS] = allowed_hosts
    app[HUB] = {}
    app[FOLLOWING] = set[asyncio.Task[Any]]()
    app[MANAGED] = ManagedFields()
    app.on_startup.append(_start_hub)
    app.on_shutdown.append(_close_hub)
    add = app.router.add_route
    add("*", "/", root)
    add("*", "/openapi/v3", openapi_root)
    add("*", "/openapi/v3/{path:.+}", openapi_document)
    add("*", export_route.PATH, export)
    for path in ("/healthz", "/readyz", "/livez"):
        add("*", path, health)
    # with and without a trailing slash, as Kubernetes (the Python client asks /version/)
    for slash in ("", "/"):
        add("*", "/version" + slash, version)
        add("*", "/api" + slash, api)
        add("*", "/apis" + slash, apis)
        add("*", "/apis/{group}" + slash, api_group)
        add("*", "/api/v1" + slash, resource_list)
        add("*", "/apis/{group}/{version}" + slash, resource_list)
    for prefix in ("/api/v1", "/apis/{group}/{version}"):
        add("*", prefix + "/{plural}", resource)
        add("*", prefix + "/{plural}/{name}", resource)
        add("*", prefix + "/namespaces/{namespace}/{plural}", resource)
        add("*", prefix + "/namespaces/{namespace}/{plural}/{name}", resource)
        add("*", prefix + "/{plural}/{name}/{subresource}", resource)
        add("*", prefix + "/namespaces/{namespace}/{plural}/{name}/{subresource}", resource)
    return app
