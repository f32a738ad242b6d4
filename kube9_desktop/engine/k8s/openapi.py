"""``/openapi/v3``: one OpenAPI 3 document per group-version, for ``kubectl explain`` and for
``kubectl apply``'s check that the server validates fields itself (``fieldValidation``).

The schemas are Kubernetes' own for the kinds served (``resources/k8s-schemas.json``, made by
``scripts/gen_k8s_schemas.py``), so ``explain`` shows Kubernetes' documentation; fields this
cluster does not model are refused by the decoder (decode.py) with an Invalid naming them. The
paths are made here from the served resources, each operation tagged with its kind
(``x-kubernetes-group-version-kind``) as kubectl looks them up. ``Schemas`` also gives
strategic merge patches (patch.py) their merge keys and strategies.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from kube9_desktop.engine.k8s.resources import GROUP_VERSIONS, Resource
from kube9_desktop.resources import resource_path

Obj = dict[str, Any]
SCHEMAS_FILE = "k8s-schemas.json"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
# The group of each kind's schema name (io.k8s.api.<package>.<version>.<Kind>).
PACKAGES = {"": "core", "apps": "apps", "coordination.k8s.io": "coordination",
            "discovery.k8s.io": "discovery"}  # fmt: skip
META = "io.k8s.apimachinery.pkg.apis.meta.v1."


class Schemas:
    """Kubernetes' schemas by name, and by kind."""

    def __init__(self, schemas: Mapping[str, Obj]) -> None:
        self.by_name = dict(schemas)
        self.by_kind: dict[tuple[str, str, str], str] = {}
        for name, schema in self.by_name.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                self.by_kind[(gvk["group"], gvk["version"], gvk["kind"])] = name

    def resolve(self, schema: Obj | None) -> Obj | None:
        """A schema with its ``$ref`` (or ``allOf: [$ref]``) followed."""
        while schema is not None:
            ref = schema.get("$ref") or next(
                (x["$ref"] for x in schema.get("allOf", ()) if "$ref" in x), None
            )
            if ref is None:
                return schema
            schema = self.by_name.get(ref.rsplit("/", 1)[-1])
        return None

    def kind(self, group: str, version: str, kind: str) -> Obj | None:
        name = self.by_kind.get((group, version, kind))
        return self.by_name.get(name) if name else None

    def field(self, schema: Obj | None, key: str) -> tuple[Obj | None, Obj | None]:
        """(the property's own schema with its patch extensions, its resolved type)."""
        resolved = self.resolve(schema)
        if resolved is None:
            return None, None
        prop = resolved.get("properties", {}).get(key)
        if prop is None and isinstance(resolved.get("additionalProperties"), dict):
            prop = resolved["additionalProperties"]
        return prop, self.resolve(prop)

    def items(self, schema: Obj | None) -> Obj | None:
        resolved = self.resolve(schema)
        return self.resolve(resolved.get("items")) if resolved else None


@functools.cache
def schemas() -> Schemas:
    path = resource_path(SCHEMAS_FILE)
    if path is None:
        raise RuntimeError(f"resources/{SCHEMAS_FILE} is missing from this installation")
    return Schemas(json.loads(path.read_text(encoding="utf-8"))["schemas"])


def _gvk(r: Resource) -> Obj:
    return {"group": r.group, "version": r.version, "kind": r.kind}


def _ref(name: str) -> Obj:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_name(r: Resource, suffix: str = "") -> str | None:
    name = schemas().by_kind.get((r.group, r.version, r.kind))
    if name is None:
        return None
    return name + suffix if (name + suffix) in schemas().by_name else None


def _query(name: str, description: str) -> Obj:
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "string"}, "uniqueItems": True}  # fmt: skip


WRITE_PARAMS = (
    _query("dryRun", "When present (All), the change is checked but not made."),
    _query("fieldManager", "The name of the actor making the change."),
    _query("fieldValidation", "Ignore, Warn or Strict: how unknown or unmodelled fields are "
           "treated (Kube-9 Desktop refuses them, as Strict)."),
)  # fmt: skip


def _body(name: str | None, types: tuple[str, ...] = ("application/json",)) -> Obj:
    schema = _ref(name) if name else {"type": "object"}
    return {"content": {t: {"schema": schema} for t in types}, "required": True}


def _answer(name: str | None) -> Obj:
    schema = _ref(name) if name else {"type": "object"}
    return {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def _operations(r: Resource, prefix: str) -> dict[str, Obj]:
    """This resource's paths: the collection (all namespaces and one) and one object; the
    write options are the operations' own parameters, where kubectl looks for
    ``fieldValidation``."""
    kind = _schema_name(r)
    listed = _schema_name(r, "List")
    ext = {"x-kubernetes-group-version-kind": _gvk(r)}
    paths: dict[str, Obj] = {}
    base = (
        f"{prefix}/namespaces/{{namespace}}/{r.plural}"
        if r.namespaced
        else (f"{prefix}/{r.plural}")
    )
    ns_param = [{"name": "namespace", "in": "path", "required": True,
                 "schema": {"type": "string"}}] if r.namespaced else []  # fmt: skip
    collection: Obj = {"parameters": ns_param}
    collection["get"] = {"operationId": f"list{r.kind}", "responses": _answer(listed),
                         "x-kubernetes-action": "list", **ext}  # fmt: skip
    if "create" in r.verbs:
        collection["post"] = {"operationId": f"create{r.kind}", "requestBody": _body(kind),
                              "responses": _answer(kind), "x-kubernetes-action": "post",
                              "parameters": list(WRITE_PARAMS), **ext}  # fmt: skip
    paths[base] = collection
    if r.namespaced:
        paths[f"{prefix}/{r.plural}"] = {"get": {
            "operationId": f"list{r.kind}ForAllNamespaces", "responses": _answer(listed),
            "x-kubernetes-action": "list", **ext}}  # fmt: skip
    one: Obj = {"parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}, *ns_param]}  # fmt: skip
    one["get"] = {"operationId": f"read{r.kind}", "responses": _answer(kind),
                  "x-kubernetes-action": "get", **ext}  # fmt: skip
    if "update" in r.verbs:
        one["put"] = {"operationId": f"replace{r.kind}", "requestBody": _body(kind),
                      "responses": _answer(kind), "x-kubernetes-action": "put",
                      "parameters": list(WRITE_PARAMS), **ext}  # fmt: skip
    if "patch" in r.verbs:
        one["patch"] = {"operationId": f"patch{r.kind}", "requestBody": _body(META + "Patch",
                        PATCH_TYPES), "responses": _answer(kind),
                        "x-kubernetes-action": "patch", "parameters": list(WRITE_PARAMS),
                        **ext}  # fmt: skip
    if "delete" in r.verbs:
        one["delete"] = {"operationId": f"delete{r.kind}", "responses": _answer(META + "Status"),
                         "requestBody": {"content": {"application/json": {
                             "schema": _ref(META + "DeleteOptions")}}},
                         "x-kubernetes-action": "delete", **ext}  # fmt: skip
    paths[f"{base}/{{name}}"] = one
    return paths


def _reachable(names: set[str]) -> dict[str, Obj]:
    by_name = schemas().by_name
    todo, kept = sorted(names), {}
    while todo:
        name = todo.pop()
        if name in kept or name not in by_name:
            continue
        kept[name] = by_name[name]
        todo.extend(_refs(by_name[name]))
    return dict(sorted(kept.items()))


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.append(value.rsplit("/", 1)[-1])
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for x in node:
            found.extend(_refs(x))
    return found


@functools.cache
def document(gv: str) -> bytes:
    """The OpenAPI 3 document of one group-version (``v1``, ``apps/v1``), as JSON bytes."""
    prefix = "/api/v1" if gv == "v1" else f"/apis/{gv}"
    paths: dict[str, Obj] = {}
    for r in GROUP_VERSIONS.get(gv, ()):
        if _schema_name(r) is not None:
            paths.update(_operations(r, prefix))
    names = set(_refs(paths)) | {META + "Status", META + "DeleteOptions", META + "WatchEvent"}
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (Kube-9 Desktop)", "version": _k8s_version()},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": _reachable(names)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _k8s_version() -> str:
    path = resource_path(SCHEMAS_FILE)
    return json.loads(path.read_text())["kubernetes"] if path else "unknown"


def served_group_versions() -> list[str]:
    return [gv for gv, rs in GROUP_VERSIONS.items() if any(_schema_name(r) for r in rs)]


@functools.cache
def root() -> bytes:
    """``/openapi/v3``: each group-version's document, by a URL carrying its hash."""
    paths = {}
    for gv in served_group_versions():
        key = "api/v1" if gv == "v1" else f"apis/{gv}"
        digest = hashlib.sha512(document(gv)).hexdigest()[:128].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


def document_for_path(path: str) -> bytes | None:
    """The document at ``/openapi/v3/<path>`` (``api/v1``, ``apis/apps/v1``), or None."""
    if path == "api/v1":
        gv = "v1"
    elif path.startswith("apis/") and path.count("/") == 2:
        gv = path.removeprefix("apis/")
    else:
        return None
    return document(gv) if gv in served_group_versions() else None
