"""Field managers: who wrote an object through this API, how and when (``metadata.managedFields``).

Each write through the Kubernetes API records its manager (``fieldManager``, or the client's
User-Agent product as the API server takes it), the operation (``Apply`` for server-side
apply, ``Update`` for the rest), the time, and the fields its body set (``FieldsV1``, a
list's items by their merge key as Kubernetes writes them). One entry per manager and
operation, the newest kept. They are shown in ``metadata.managedFields`` of a get, a list and
a write's answer (``kubectl get -o yaml --show-managed-fields``).

Differences (docs/kubernetes.md): the books live in the serving process (a restart forgets
them), watch events do not carry them, and they decide nothing — server-side apply merges
without conflicts between managers.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from kube9_desktop.engine.k8s.openapi import Schemas, schemas
from kube9_desktop.engine.manifests import timestamp

Obj = dict[str, Any]
OBJECTS_MAX = 100_000  # objects whose managers are kept (the oldest written go first)


class ManagedFields:
    """The managers of each object written through this API, by uid."""

    def __init__(self) -> None:
        self.by_uid: OrderedDict[str, list[Obj]] = OrderedDict()

    def record(self, uid: str, entry: Obj) -> None:
        same = (entry["manager"], entry["operation"])
        entries = [e for e in self.by_uid.pop(uid, []) if (e["manager"], e["operation"]) != same]
        self.by_uid[uid] = [*entries, entry]
        while len(self.by_uid) > OBJECTS_MAX:
            self.by_uid.popitem(last=False)

    def attach(self, obj: Obj) -> Obj:
        """``obj`` with its managers (a copy of its metadata; the object is shared)."""
        entries = self.by_uid.get(obj.get("metadata", {}).get("uid", ""))
        if not entries:
            return obj
        return {**obj, "metadata": {**obj["metadata"], "managedFields": entries}}


MANAGED = web.AppKey("k8s_managed_fields", ManagedFields)


def books(app: web.Application) -> ManagedFields:
    return app[MANAGED]


def manager_of(request: web.Request) -> str:
    """``fieldManager``, else the User-Agent's product (``kubectl``, ``OpenAPI-Generator``)."""
    given = request.query.get("fieldManager", "")
    if given:
        return given
    agent = request.headers.get("User-Agent", "").split("/", 1)[0].strip()
    return agent[:128] if agent.isprintable() and agent else "unknown"


def fields_v1(body: Any, s: Schemas, schema: Obj | None) -> Obj:
    """The fields ``body`` sets, as FieldsV1: ``f:<name>`` per field, a merged list's items
    as ``k:{"<key>":<value>}`` (atomic lists are one field)."""
    if not isinstance(body, dict):
        return {}
    out: Obj = {}
    for key, value in body.items():
        if not isinstance(key, str) or key.startswith("$") or key in ("apiVersion", "kind",
                                                                     "status"):  # fmt: skip
            continue
        prop, sub = s.field(schema, key)
        if isinstance(value, dict):
            out[f"f:{key}"] = fields_v1(value, s, sub)
        elif isinstance(value, list) and (prop or {}).get("x-kubernetes-patch-merge-key"):
            merge_key = prop["x-kubernetes-patch-merge-key"]  # type: ignore[index]
            items: Obj = {".": {}}
            for item in value:
                if isinstance(item, dict) and merge_key in item:
                    ident = json.dumps({merge_key: item[merge_key]}, separators=(",", ":"))
                    items[f"k:{ident}"] = {".": {}, **fields_v1(item, s, s.items(prop))}
            out[f"f:{key}"] = items
        else:
            out[f"f:{key}"] = {}
    return out


@dataclass
class Recorder:
    """One write's entry, recorded when (and only when) the write happens."""

    books: ManagedFields
    manager: str
    operation: str  # Apply or Update
    api_version: str
    fields: Obj
    now: datetime

    def written(self, obj: Obj) -> Obj:
        uid = obj.get("metadata", {}).get("uid")
        if uid:
            self.books.record(uid, {
                "manager": self.manager, "operation": self.operation,
                "apiVersion": self.api_version, "time": timestamp(self.now),
                "fieldsType": "FieldsV1", "fieldsV1": self.fields,
            })  # fmt: skip
        return self.books.attach(obj)

    def shown(self, obj: Obj) -> Obj:
        return self.books.attach(obj)


def recorder(
    request: web.Request, group: str, version: str, kind: str, body: Any, operation: str,
    now: datetime,
) -> Recorder:  # fmt: skip
    s = schemas()
    fields = fields_v1(body, s, s.kind(group, version, kind)) if isinstance(body, dict) else {}
    api_version = f"{group}/{version}" if group else version
    return Recorder(books(request.app), manager_of(request), operation, api_version, fields, now)
