"""The OpenAPI 3.1 document, generated from the route table, the body models and the reply
shapes, with every status each route can answer derived from what the route does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from kube9_desktop import __version__
from kube9_desktop.engine.api.params import PATH_SCHEMAS
from kube9_desktop.engine.api.wire import ErrorJson

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Route

REF = "#/components/schemas/{model}"
_ERROR = {"$ref": REF.format(model="ErrorJson")}
DESCRIPTION = """\
The original Kube-9 routes and field names, with bearer-token auth.

Every error is JSON (ErrorJson). Each operation lists every status it can answer. Beyond
them: an unknown path is a 404; any other method on a documented path is a 405 whose Allow
header lists the methods documented for that path (without a valid token, 401 first, but
on /healthz, which needs none)."""


class _Schemas(GenerateJsonSchema):
    """Pydantic's schemas without a title on every property (the names say it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _path(route_path: str) -> str:
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route_path)


def operation_id(route: Route, raw_path: str) -> str:
    slash = "_slash" if raw_path.endswith("/") and raw_path != "/" else ""
    return f"{route.method.lower()}_{route.handler.__name__}{slash}"


def _noun(path: str) -> str:
    """'/nodes/{id}/heartbeat' -> 'node': what a path parameter names."""
    return path.strip("/").split("/")[0].removesuffix("s")


def _error(status: int, description: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ERROR}}
    if status == 400:  # the HTTP parser's own answer, before any route: aiohttp's plain text
        content["text/plain"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def error_statuses(route: Route, raw_path: str) -> dict[int, str]:
    """Every error status the route can answer, and why, from what it does."""
    why: dict[int, list[str]] = {}

    def add(status: int, text: str) -> None:
        why.setdefault(status, []).append(text)

    takes = ", ".join(q.name for q in route.query)
    add(
        400,
        f"a bad, repeated or unknown query parameter (it takes {takes})"
        if takes
        else "a query parameter, which it does not take",
    )
    if route.body is not None:
        add(400, "a body that is not valid (field and errors name what is wrong)")
    if 400 in route.errors:
        add(400, route.errors[400])
    add(
        400,
        "a malformed request: no Host header (JSON), or one the HTTP parser refuses "
        "before any route, such as a request line over 64 KiB (text/plain)",
    )
    if route.auth != "none":
        add(401, "no bearer token, or a wrong one")
    if route.auth == "node-or-admin":
        add(403, "the token of another node")
    params = re.findall(r"\{(\w+)", raw_path)
    if 404 in route.errors:
        add(404, route.errors[404])
    elif params:
        add(404, f"no such {_noun(raw_path)}")
    if 409 in route.errors:
        add(409, route.errors[409])
    if route.body is not None:
        add(413, "the body is too large")
        add(415, "the body is not JSON (Content-Type), or its Content-Encoding is unknown")
    add(421, "a Host header that is not a loopback name (DNS-rebinding protection)")
    if route.store:
        add(503, f"the database cannot be {'read' if route.store == 'reads' else 'written'}")
    if 503 in route.errors:
        add(503, route.errors[503])
    unknown = set(route.errors) - {400, 404, 409, 503}
    assert not unknown, f"{route.handler.__name__}: document {unknown} in error_statuses"
    return {status: "; ".join(texts) for status, texts in sorted(why.items())}


def _reply_schemas(routes: Sequence[Route]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each route's reply schema (by handler name) and the bodies', with their shared defs."""
    inputs: list[tuple[str, Any, TypeAdapter[Any]]] = [
        ("error", "validation", TypeAdapter(ErrorJson))
    ]
    for route in routes:
        if route.reply is not str:
            inputs.append((route.handler.__name__, "validation", TypeAdapter(route.reply)))
        if route.body is not None:
            inputs.append((f"body:{route.body.__name__}", "validation", TypeAdapter(route.body)))
    by_key, defs = TypeAdapter.json_schemas(inputs, ref_template=REF, schema_generator=_Schemas)
    return {key: schema for (key, _), schema in by_key.items()}, defs.get("$defs", {})


def build_openapi(routes: Sequence[Route]) -> dict[str, Any]:
    replies, schemas = _reply_schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    get_ids = {r.handler.__name__: operation_id(r, r.paths[0]) for r in routes if r.method == "GET"}
    for route in routes:
        for raw in route.paths:
            op: dict[str, Any] = {
                "summary": route.summary,
                "operationId": operation_id(route, raw),
                "responses": {},
            }
            params = [
                {"name": n, "in": "path", "required": True, "schema": PATH_SCHEMAS[n]}
                for n in re.findall(r"\{(\w+)", raw)
            ]
            for q in route.query:
                param = {"name": q.name, "in": "query", "required": False,
                         "schema": q.schema(), "description": q.description}  # fmt: skip
                if q.schema().get("type") == "integer":
                    param["allowEmptyValue"] = True  # ?limit= means the default
                params.append(param)
            if params:
                op["parameters"] = params
            if route.body is not None:
                model = route.body
                op["requestBody"] = {
                    "required": any(f.is_required() for f in model.model_fields.values()),
                    "content": {"application/json": {"schema": replies[f"body:{model.__name__}"]}},
                }
            if route.reply is str:
                content = {"text/plain": {"schema": {"type": "string"}}}
            else:
                content = {"application/json": {"schema": replies[route.handler.__name__]}}
            ok: dict[str, Any] = {
                "description": "created" if route.status == 201 else "OK",
                "content": content,
            }
            if route.link is not None:
                link = route.link
                ok["links"] = {
                    f"{link.operation}": {
                        "operationId": get_ids[link.operation],
                        "parameters": {link.parameter: f"$response.body#{link.pointer}"},
                    }
                }
            op["responses"][str(route.status)] = ok
            for status, text in error_statuses(route, raw).items():
                op["responses"][str(status)] = _error(status, text)
            if route.auth == "none":
                op["security"] = []
            paths.setdefault(_path(raw), {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kube-9 Desktop API",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "http://127.0.0.1:5000"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
