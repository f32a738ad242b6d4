"""PriorityClass routes (scheduling.k8s.io/v1 PriorityClass in the original Kube-9 style).

Registered through ``priority_routes``, which routes.py appends to its table; the OpenAPI
document comes from the same table. Classes are named, not numbered: ``/priorityclasses/{name}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from kube9_desktop.engine.api.app import ENGINE, json_response, read_json
from kube9_desktop.engine.api.params import NS
from kube9_desktop.engine.api.wire_priority import PriorityClassDeletedJson, PriorityClassJson
from kube9_desktop.engine.priority import PriorityClassView
from kube9_desktop.engine.specs import PriorityClassCreate, parse_body

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Link, Route


def priority_class_json(c: PriorityClassView) -> PriorityClassJson:
    return {
        "id": c.id, "uid": c.uid, "name": c.name, "value": c.value,
        "preemption_policy": str(c.spec.preemption_policy),
        "global_default": c.spec.global_default, "description": c.spec.description,
        "builtin": c.builtin,
        "created_at": c.created_at.isoformat() if c.created_at else None,
        "resource_version": str(c.resource_version),
    }  # fmt: skip


async def list_priority_classes(request: web.Request) -> web.StreamResponse:
    reply = [priority_class_json(c) for c in request.app[ENGINE].priority_classes()]
    return json_response(reply)


async def create_priority_class(request: web.Request) -> web.StreamResponse:
    body = parse_body(PriorityClassCreate, await read_json(request))
    done = await request.app[ENGINE].create_priority_class(body.to_spec())
    return json_response(priority_class_json(done.view), 201)


async def get_priority_class(request: web.Request) -> web.StreamResponse:
    view = request.app[ENGINE].priority_class(request.match_info["name"][:253])
    return json_response(priority_class_json(view))


async def delete_priority_class(request: web.Request) -> web.StreamResponse:
    done = await request.app[ENGINE].delete_priority_class(request.match_info["name"][:253])
    reply: PriorityClassDeletedJson = {
        "message": f"PriorityClass '{done.view.name}' deleted (its pods keep their priority)"
    }
    return json_response(reply)


def priority_routes(R: type[Route], L: type[Link]) -> tuple[Route, ...]:
    """The routes' table entries; routes.py passes its Route and Link."""
    return (
        R("GET", ("/priorityclasses/", "/priorityclasses"), list_priority_classes,
          "List PriorityClasses (the built-in system ones included)", list[PriorityClassJson]),
        R("POST", ("/priorityclasses/", "/priorityclasses"), create_priority_class,
          "Create a PriorityClass (pods name it in priority_class_name)", PriorityClassJson,
          201, PriorityClassCreate, store="writes",
          errors={409: "a class of that name exists, or another is the global default"},
          link=L("get_priority_class", "name", "/name")),
        R("GET", (f"/priorityclasses/{NS}",), get_priority_class, "One PriorityClass",
          PriorityClassJson),
        R("DELETE", (f"/priorityclasses/{NS}",), delete_priority_class,
          "Delete a PriorityClass (pods created with it keep their priority)",
          PriorityClassDeletedJson, store="writes",
          errors={400: "a built-in system class"}),
    )  # fmt: skip
