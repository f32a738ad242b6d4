"""Workload routes: Deployments and ReplicaSets in the original Kube-9 style (ids, JSON).

Registered through ``WORKLOAD_ROUTES``, which routes.py appends to its table; the OpenAPI
document comes from the same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import _id, _namespace_query, _selector
from kube9_desktop.engine.api.serialize_workloads import (
    deployment_json,
    replicaset_json,
    revision_json,
)
from kube9_desktop.engine.errors import UserError
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
    from kube9_desktop.engine.api.routes import Route


def _cascade(request: web.Request) -> bool:
    raw = request.query.get("cascade", "")
    if raw in ("", "true", "foreground", "background"):
        return True
    if raw == "orphan":
        return False
    raise UserError("cascade: must be orphan (keep the pods) or true", field="cascade")


async def list_deployments(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    views = engine.deployments(_namespace_query(request), _selector(request))
    return json_response([deployment_json(v) for v in views])


def _with_replicasets(request: web.Request, view: DeploymentView) -> dict[str, Any]:
    engine = request.app[ENGINE]
    return deployment_json(view, [engine.replicaset(i) for i in view.replicaset_ids])


async def create_deployment(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    body = parse_body(DeploymentCreate, await read_json(request))
    done = await engine.create_deployment(body.to_spec())
    return json_response(_with_replicasets(request, done.view), 201)


async def get_deployment(request: web.Request) -> web.StreamResponse:
    view = request.app[ENGINE].deployment(_id(request))
    return json_response(_with_replicasets(request, view))


async def patch_deployment(request: web.Request) -> web.StreamResponse:
    engine = request.app[ENGINE]
    patch = parse_body(DeploymentPatch, await read_json(request))
    done = await engine.update_deployment(_id(request), patch)
    return json_response({**_with_replicasets(request, done.view), "message": done.message})


async def scale_deployment(request: web.Request) -> web.StreamResponse:
    body = parse_body(ScaleIn, await read_json(request))
    done = await request.app[ENGINE].scale_deployment(_id(request), body.replicas)
    return json_response({**_with_replicasets(request, done.view), "message": done.message})


async def rollback_deployment(request: web.Request) -> web.StreamResponse:
    body = parse_body(RollbackIn, await read_json(request))
    done = await request.app[ENGINE].rollback_deployment(_id(request), body.revision)
    return json_response({**_with_replicasets(request, done.view), "message": done.message})


async def pause_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].pause_deployment(_id(request), True)
    return json_response({**_with_replicasets(request, done.view), "message": done.message})


async def resume_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].pause_deployment(_id(request), False)
    return json_response({**_with_replicasets(request, done.view), "message": done.message})


async def deployment_history(request: web.Request) -> web.StreamResponse:
    history = request.app[ENGINE].deployment_history(_id(request))
    return json_response([revision_json(r) for r in history])


async def delete_deployment(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_deployment(_id(request), cascade=_cascade(request))
    return json_response({
        "message": f"Deployment '{done.view.name}' deleted"
        + (f" with {done.pods_deleted} pod(s)" if done.pods_deleted else "")
        + ("" if _cascade(request) else "; its pods were kept"),
        "pods_deleted": done.pods_deleted,
    })  # fmt: skip


async def list_replicasets(request: web.Request) -> web.StreamResponse:
    views = request.app[ENGINE].replicasets(_namespace_query(request), _selector(request))
    return json_response([replicaset_json(v) for v in views])


async def create_replicaset(request: web.Request) -> web.StreamResponse:
    body = parse_body(ReplicaSetCreate, await read_json(request))
    done = await request.app[ENGINE].create_replicaset(body.to_spec())
    return json_response(replicaset_json(done.view), 201)


async def get_replicaset(request: web.Request) -> web.StreamResponse:
    return json_response(replicaset_json(request.app[ENGINE].replicaset(_id(request))))


async def scale_replicaset(request: web.Request) -> web.StreamResponse:
    body = parse_body(ScaleIn, await read_json(request))
    done = await request.app[ENGINE].scale_replicaset(_id(request), body.replicas)
    return json_response(replicaset_json(done.view))


async def delete_replicaset(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_replicaset(_id(request), cascade=_cascade(request))
    return json_response({
        "message": f"ReplicaSet '{done.view.name}' deleted"
        + (f" with {done.pods_deleted} pod(s)" if done.pods_deleted else ""),
        "pods_deleted": done.pods_deleted,
    })  # fmt: skip


def workload_routes(R: type[Route], ID: str, NS_Q: tuple[str, str, str],
                    SEL: tuple[str, str, str]) -> tuple[Route, ...]:  # fmt: skip
    cascade = (("cascade", "string", "orphan: keep the pods (default: delete them too)"),)
    gone = {404: "unknown deployment"}
    return (
        R("GET", ("/deployments/", "/deployments"), list_deployments, "List Deployments",
          query=(NS_Q, SEL)),
        R("POST", ("/deployments/", "/deployments"), create_deployment,
          "Create a Deployment (its ReplicaSet and pods follow)", body=DeploymentCreate,
          responses={201: "created", 404: "unknown namespace", 409: "name taken"}),
        R("GET", (f"/deployments/{ID}",), get_deployment,
          "One Deployment with its counts, conditions and ReplicaSets", responses=gone),
        R("PATCH", (f"/deployments/{ID}",), patch_deployment,
          "Change replicas, template (a rollout), strategy…", body=DeploymentPatch,
          responses=gone),
        R("POST", (f"/deployments/{ID}/scale",), scale_deployment, "Scale a Deployment",
          body=ScaleIn, responses=gone),
        R("POST", (f"/deployments/{ID}/rollback",), rollback_deployment,
          "Roll back to a kept revision (default: the previous one)", body=RollbackIn,
          responses={**gone, 409: "no earlier revision, or already at it"}),
        R("POST", (f"/deployments/{ID}/pause",), pause_deployment, "Pause its rollout",
          responses={**gone, 409: "already paused"}),
        R("POST", (f"/deployments/{ID}/resume",), resume_deployment, "Resume its rollout",
          responses={**gone, 409: "not paused"}),
        R("GET", (f"/deployments/{ID}/history",), deployment_history,
          "Its kept revisions, oldest first", responses=gone),
        R("DELETE", (f"/deployments/{ID}",), delete_deployment,
          "Delete a Deployment, its ReplicaSets and (unless ?cascade=orphan) their pods",
          query=cascade, responses=gone),
        R("GET", ("/replicasets/", "/replicasets"), list_replicasets, "List ReplicaSets",
          query=(NS_Q, SEL)),
        R("POST", ("/replicasets/", "/replicasets"), create_replicaset,
          "Create a bare ReplicaSet", body=ReplicaSetCreate,
          responses={201: "created", 404: "unknown namespace", 409: "name taken"}),
        R("GET", (f"/replicasets/{ID}",), get_replicaset, "One ReplicaSet",
          responses={404: "unknown replicaset"}),
        R("POST", (f"/replicasets/{ID}/scale",), scale_replicaset, "Scale a bare ReplicaSet",
          body=ScaleIn, responses={404: "unknown replicaset", 409: "owned by a Deployment"}),
        R("DELETE", (f"/replicasets/{ID}",), delete_replicaset,
          "Delete a ReplicaSet and (unless ?cascade=orphan) its pods", query=cascade,
          responses={404: "unknown replicaset"}),
    )  # fmt: skip
