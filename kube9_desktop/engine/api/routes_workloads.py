"""Workload routes: Deployments and ReplicaSets in the original Kube-9 style (ids, JSON).

Registered through ``WORKLOAD_ROUTES``, which routes.py appends to its table; the OpenAPI
document comes from the same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import (
    ChoiceQuery,
    NamespaceQuery,
    SelectorQuery,
    path_id,
)
from kube9_desktop.engine.api.serialize_workloads import (
    deployment_json,
    replicaset_json,
    revision_json,
)
from kube9_desktop.engine.api.wire_workloads import (
    DeploymentChangedJson,
    DeploymentJson,
    ReplicaSetJson,
    RevisionJson,
    WorkloadDeletedJson,
)
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.workload_specs import (
    DeploymentCreate,
    DeploymentPatch,
    ReplicaSetCreate,
    RollbackIn,
    ScaleIn,
)
from kube9_desktop.engine.workloads import DeploymentView

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Link, Route

NAMESPACE = NamespaceQuery("namespace", "only this namespace (default: all)")
SELECTOR = SelectorQuery()
CASCADE = ChoiceQuery(
    "cascade", ("true", "orphan", "foreground", "background"),
    "orphan: keep the pods (default: delete them too)",
)  # fmt: skip


def _cascade(request: web.Request) -> bool:
    return CASCADE.read(request) != "orphan"


def _changed(request: web.Request, view: DeploymentView, message: str) -> DeploymentChangedJson:
    return {**_with_replicasets(request, view), "message": message}


async def list_deployments(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    views = engine.deployments(NAMESPACE.read(request), SELECTOR.read(request))
    return json_response([deployment_json(v) for v in views])


def _with_replicasets(request: web.Request, view: DeploymentView) -> DeploymentJson:
    engine = request.app[ENGINE]
    return deployment_json(view, [engine.replicaset(i) for i in view.replicaset_ids])


async def create_deployment(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(DeploymentCreate, await read_json(request))
    done = await engine.create_deployment(body.to_spec())
    return json_response(_with_replicasets(request, done.view), 201)


async def get_deployment(request: web.Request) -> web.StreamResponse:
    view = request.app[ENGINE].deployment(path_id(request))
    return json_response(_with_replicasets(request, view))


async def patch_deployment(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    patch = parse_body(DeploymentPatch, await read_json(request))
    done = await engine.update_deployment(path_id(request), patch)
    return json_response(_changed(request, done.view, done.message))


async def scale_deployment(request: web.Request) -> web.StreamResponse:
    body = parse_body(ScaleIn, await read_json(request))
    done = await request.app[ENGINE].scale_deployment(path_id(request), body.replicas)
    return json_response(_changed(request, done.view, done.message))


async def rollback_deployment(request: web.Request) -> web.StreamResponse:
    body = parse_body(RollbackIn, await read_json(request))
    done = await request.app[ENGINE].rollback_deployment(path_id(request), body.revision)
    return json_response(_changed(request, done.view, done.message))


async def pause_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].pause_deployment(path_id(request), True)
    return json_response(_changed(request, done.view, done.message))


async def resume_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].pause_deployment(path_id(request), False)
    return json_response(_changed(request, done.view, done.message))


async def deployment_history(request: web.Request) -> web.StreamResponse:
    history = request.app[ENGINE].deployment_history(path_id(request))
    return json_response([revision_json(r) for r in history])


async def delete_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_deployment(path_id(request), cascade=_cascade(request))
    cascade = _cascade(request)
    reply: WorkloadDeletedJson = {
        "message": f"Deployment '{done.view.name}' deleted"
        + (f" with {done.pods_deleted} pod(s)" if done.pods_deleted else "")
        + ("" if cascade else "; its pods were kept"),
        "pods_deleted": done.pods_deleted,
    }
    return json_response(reply)


async def list_replicasets(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].replicasets(NAMESPACE.read(request), SELECTOR.read(request))
    return json_response([replicaset_json(v) for v in views])


async def create_replicaset(request: web.Request) -> web.StreamResponse:
    body = parse_body(ReplicaSetCreate, await read_json(request))
    done = await request.app[ENGINE].create_replicaset(body.to_spec())
    return json_response(replicaset_json(done.view), 201)


async def get_replicaset(request: web.Request) -> web.StreamResponse:
    return json_response(replicaset_json(request.app[ENGINE].replicaset(path_id(request))))


async def scale_replicaset(request: web.Request) -> web.StreamResponse:
    body = parse_body(ScaleIn, await read_json(request))
    done = await request.app[ENGINE].scale_replicaset(path_id(request), body.replicas)
    return json_response(replicaset_json(done.view))


async def delete_replicaset(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_replicaset(path_id(request), cascade=_cascade(request))
    reply: WorkloadDeletedJson = {
        "message": f"ReplicaSet '{done.view.name}' deleted"
        + (f" with {done.pods_deleted} pod(s)" if done.pods_deleted else ""),
        "pods_deleted": done.pods_deleted,
    }
    return json_response(reply)


def workload_routes(R: type[Route], L: type[Link], ID: str) -> tuple[Route, ...]:
    """The routes' table entries; routes.py passes its Route, Link and id pattern."""
    taken = {409: "a workload of that name exists in the namespace", 404: "unknown namespace"}
    return (
        R("GET", ("/deployments/", "/deployments"), list_deployments, "List Deployments",
          list[DeploymentJson], query=(NAMESPACE, SELECTOR)),
        R("POST", ("/deployments/", "/deployments"), create_deployment,
          "Create a Deployment (its ReplicaSet and pods follow)", DeploymentJson, 201,
          DeploymentCreate, store="writes", errors=taken,
          link=L("get_deployment", "id", "/id")),
        R("GET", (f"/deployments/{ID}",), get_deployment,
          "One Deployment with its counts, conditions and ReplicaSets", DeploymentJson),
        R("PATCH", (f"/deployments/{ID}",), patch_deployment,
          "Change replicas, template (a rollout), strategy…", DeploymentChangedJson,
          body=DeploymentPatch, store="writes"),
        R("POST", (f"/deployments/{ID}/scale",), scale_deployment, "Scale a Deployment",
          DeploymentChangedJson, body=ScaleIn, store="writes"),
        R("POST", (f"/deployments/{ID}/rollback",), rollback_deployment,
          "Roll back to a kept revision (default: the previous one)", DeploymentChangedJson,
          body=RollbackIn, store="writes",
          errors={409: "no earlier revision to go back to, or the Deployment is at it"}),
        R("POST", (f"/deployments/{ID}/pause",), pause_deployment, "Pause its rollout",
          DeploymentChangedJson, store="writes", errors={409: "already paused"}),
        R("POST", (f"/deployments/{ID}/resume",), resume_deployment, "Resume its rollout",
          DeploymentChangedJson, store="writes", errors={409: "not paused"}),
        R("GET", (f"/deployments/{ID}/history",), deployment_history,
          "Its kept revisions, oldest first", list[RevisionJson]),
        R("DELETE", (f"/deployments/{ID}",), delete_deployment,
          "Delete a Deployment, its ReplicaSets and (unless ?cascade=orphan) their pods",
          WorkloadDeletedJson, query=(CASCADE,), store="writes"),
        R("GET", ("/replicasets/", "/replicasets"), list_replicasets, "List ReplicaSets",
          list[ReplicaSetJson], query=(NAMESPACE, SELECTOR)),
        R("POST", ("/replicasets/", "/replicasets"), create_replicaset,
          "Create a bare ReplicaSet", ReplicaSetJson, 201, ReplicaSetCreate, store="writes",
          errors=taken, link=L("get_replicaset", "id", "/id")),
        R("GET", (f"/replicasets/{ID}",), get_replicaset, "One ReplicaSet", ReplicaSetJson),
        R("POST", (f"/replicasets/{ID}/scale",), scale_replicaset, "Scale a bare ReplicaSet",
          ReplicaSetJson, body=ScaleIn, store="writes",
          errors={409: "owned by a Deployment: scale the Deployment"}),
        R("DELETE", (f"/replicasets/{ID}",), delete_replicaset,
          "Delete a ReplicaSet and (unless ?cascade=orphan) its pods", WorkloadDeletedJson,
          query=(CASCADE,), store="writes"),
    )  # fmt: skip
