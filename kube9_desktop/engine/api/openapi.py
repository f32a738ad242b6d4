"""The OpenAPI 3.1 document, generated from the route table and the body models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kube9_desktop import __version__

if TYPE_CHECKING:
    from kube9_desktop.engine.api.routes import Route

_ERROR = {"$ref": "#/components/schemas/Error"}


def _path(route_path: str) -> str:
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route_path)


def build_openapi(routes: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "field": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}},
                "reasons": {"type": "object"},
            },
        }
    }
    for route in routes:
        for raw in route.paths:
            path = _path(raw)
            op: dict[str, Any] = {
                "summary": route.summary,
                "operationId": f"{route.method.lower()}_{route.handler.__name__}"
                + ("_slash" if raw.endswith("/") and raw != "/" else ""),
                "responses": {},
            }
            params = [
                {"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
                for n in re.findall(r"\{(\w+)", raw)
            ]
            params += [
                {"name": n, "in": "query", "required": False, "schema": {"type": t},
                 "description": d}
                for n, t, d in route.query
            ]  # fmt: skip
            if params:
                op["parameters"] = params
            if route.body is not None:
                name = route.body.__name__
                schemas[name] = route.body.model_json_schema(
                    ref_template="#/components/schemas/{model}"
                )
                for sub_name, sub in schemas[name].pop("$defs", {}).items():
                    schemas[sub_name] = sub
                op["requestBody"] = {
                    "required": route.method == "POST"
                    and route.body.__name__ in ("NodeCreate", "PodCreate"),
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                }
            ok = 201 if 201 in route.responses else 200
            media = "text/plain" if route.text else "application/json"
            op["responses"][str(ok)] = {
                "description": route.responses.get(ok, "OK"),
                "content": {media: {"schema": {"type": "string"} if route.text else {}}},
            }
            for code, text in route.responses.items():
                if code >= 400:
                    op["responses"][str(code)] = {
                        "description": text,
                        "content": {"application/json": {"schema": _ERROR}},
                    }
            if route.auth != "none":
                op["responses"]["401"] = {
                    "description": "missing or wrong token",
                    "content": {"application/json": {"schema": _ERROR}},
                }
            if route.body is not None:
                for code, text in (
                    (400, "validation error"),
                    (413, "body too large"),
                    (415, "not JSON"),
                ):
                    op["responses"].setdefault(str(code), {
                        "description": text,
                        "content": {"application/json": {"schema": _ERROR}},
                    })  # fmt: skip
            if route.auth == "none":
                op["security"] = []
            paths.setdefault(path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kube-9 Desktop API",
            "version": __version__,
            "description": "The original Kube-9 routes and field names, with bearer-token auth.",
        },
        "servers": [{"url": "http://127.0.0.1:5000"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
