"""``GET /export/kubernetes`` on the Kubernetes API: the running cluster exported for a real
Kubernetes (``export.py``), so the export works while the engine runs, with the kubeconfig a
user already has: ``kubectl get --raw /export/kubernetes | kubectl apply -f -`` (against the
other cluster's context).

Answers a YAML stream of the manifests (what was left out as comments at its top), or with
``?format=json`` the export folder's files and the list of what was left out. ``kindName``
names the kind cluster (default ``kube9``). An unknown or repeated parameter is a 400 naming it.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from kube9_desktop.engine.api.app import json_response
from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.k8s.export import ClusterReads, Snapshot, export_cluster
from kube9_desktop.engine.k8s.status import BadRequest, Invalid, MethodNotAllowed

PATH = "/export/kubernetes"
PARAMS = ("format", "kindName")
FORMATS = ("yaml", "json")


async def export_kubernetes(request: web.Request, reads: ClusterReads) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(
            f"the server does not allow this method on the requested resource: "
            f"{request.method} on {PATH} (it is read with GET)"
        )
    for key in request.query:
        if key not in PARAMS:
            raise BadRequest(f"unknown query parameter {key[:40]!r} for {PATH} (it takes "
                             "format=yaml|json and kindName)")  # fmt: skip
        if len(request.query.getall(key)) > 1:
            raise BadRequest(f"query parameter {key!r} given more than once")
    fmt = request.query.get("format", "yaml")
    if fmt not in FORMATS:
        raise BadRequest(f"format must be yaml or json (got {fmt[:20]!r})")
    snapshot = Snapshot.of(reads)  # on the loop; the rest off it
    try:
        export = await asyncio.to_thread(
            export_cluster, snapshot, request.query.get("kindName", "kube9")
        )
    except UserError as exc:
        raise Invalid(exc.message) from None
    if fmt == "json":
        return json_response(export.to_json())
    return web.Response(text=export.stream(), content_type="application/yaml")
