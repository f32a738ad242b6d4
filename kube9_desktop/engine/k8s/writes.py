"""The Kubernetes API's first writes: ``delete`` (``kubectl delete``) and the ``scale``
subresource (``kubectl scale``), each through the engine's own operation, so the window, the
Kube-9 API and every watch see the change in the same commit.

``delete`` takes DeleteOptions from the body or the query: ``propagationPolicy`` (``Orphan``
keeps a Deployment's or ReplicaSet's pods; a Deployment's ReplicaSets go with it even then,
where Kubernetes would keep them; ``Foreground`` and ``Background`` both delete everything
now: the engine has no finalizers to wait on), ``dryRun=All`` (nothing
changes; the object is answered), ``preconditions`` (``uid``, ``resourceVersion``: a
mismatch is a 409 Conflict). ``scale`` reads and writes ``autoscaling/v1`` Scale objects
(``GET``, ``PUT``, and ``PATCH`` as merge, strategic merge or JSON patch of
``spec.replicas``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from kube9_desktop.engine.api.app import json_response
from kube9_desktop.engine.api.app import read_json as read_kube9_json
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.k8s.resources import DELETABLE, Resource
from kube9_desktop.engine.k8s.status import (
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    K8sError,
    MethodNotAllowed,
    UnsupportedMediaType,
    not_found,
    status_error,
)
from kube9_desktop.engine.meta import SYSTEM_NAMESPACES
from kube9_desktop.engine.workload_specs import ScaleIn

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

Obj = dict[str, Any]
PROPAGATION = ("Orphan", "Background", "Foreground")
SCALABLE = frozenset({"deployments", "replicasets"})
PATCH_TYPES = (
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
)


BODY_TYPES = ("application/json", "application/octet-stream", "")  # the client's, and none


async def read_json(request: web.Request, limit: int | None = None) -> Any:
    """A body as JSON, by the Kube-9 API's reader (size, depth and number limits), for the
    media types Kubernetes clients send: JSON, a patch type, or (the official Python client,
    for some calls) application/octet-stream."""
    ctype = request.content_type if request.headers.get("Content-Type") else ""
    if ctype in BODY_TYPES[1:]:
        # (aiohttp's reader insists on a JSON type: pretend the client said so)
        request = request.clone(headers={**request.headers, "Content-Type": "application/json"})
    return await (read_kube9_json(request) if limit is None else read_kube9_json(request, limit))


def engine_refusal(exc: Kube9Error) -> K8sError:
    """An engine refusal as the Status Kubernetes would answer (anything but a conflict, a
    missing object, a refusal or an invalid field is the client's bad request)."""
    return status_error(exc.status if exc.status in (403, 404, 409, 422) else 400, exc.message)


async def _options(request: web.Request) -> Obj:
    """DeleteOptions from the body (kubectl sends one) merged over the query's."""
    q = request.query
    options: Obj = {}
    if "propagationPolicy" in q:
        options["propagationPolicy"] = q["propagationPolicy"]
    if "dryRun" in q:
        options["dryRun"] = q.getall("dryRun")
    body = await read_json(request)
    if body is not None:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a DeleteOptions object")
        options.update(body)
    return options


def _dry_run(value: Any) -> bool:
    if value in (None, [], ""):
        return False
    values = value if isinstance(value, list) else [value]
    if values != ["All"]:
        raise BadRequest(f"dryRun: the only value is All (got {str(values)[:60]})")
    return True


def _check_preconditions(options: Obj, obj: Obj, what: str) -> None:
    pre = options.get("preconditions")
    if pre is None:
        return
    if not isinstance(pre, dict):
        raise BadRequest("preconditions: must be an object with uid and/or resourceVersion")
    meta = obj["metadata"]
    for key in ("uid", "resourceVersion"):
        wanted = pre.get(key)
        if wanted is not None and str(wanted) != str(meta.get(key)):
            raise Conflict(
                f"Operation cannot be fulfilled on {what}: Precondition failed: {key}: "
                f"{str(wanted)[:80]}, {key} in object meta: {meta.get(key)}"
            )


async def delete_object(
    request: web.Request, engine: Engine, found: Resource, namespace: str, name: str
) -> web.Response:
    if found.plural not in DELETABLE:
        raise _not_writable(found, "delete")
    view = found.find(engine, namespace, name)
    if view is None:
        raise not_found(found.plural, name, found.group)
    obj = found.to_object(view)
    options = await _options(request)
    policy = options.get("propagationPolicy") or "Background"
    if policy not in PROPAGATION:
        raise BadRequest(f"propagationPolicy: must be one of {', '.join(PROPAGATION)} "
                         f"(got {str(policy)[:40]!r})")  # fmt: skip
    what = f'{found.plural} "{name}"'
    if found.plural == "namespaces" and name in SYSTEM_NAMESPACES:
        raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                        details={"name": name, "kind": "namespaces"})  # fmt: skip
    _check_preconditions(options, obj, what)
    if _dry_run(options.get("dryRun")):
        return json_response(obj)
    await _delete(engine, found, view, name, cascade=policy != "Orphan")
    if found.plural == "pods":  # the API server answers a pod's delete with the pod
        return json_response(obj)
    details = {"name": name, "kind": found.plural, "uid": obj["metadata"].get("uid", "")}
    if found.group:
        details["group"] = found.group
    done = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}  # fmt: skip
    return json_response(done)


async def _delete(engine: Engine, found: Resource, view: Any, name: str, *, cascade: bool) -> None:
    """One object's delete through the engine's operation for its kind."""
    try:
        if found.plural == "pods":
            await engine.delete_pod(view.id)
        elif found.plural == "deployments":
            await engine.delete_deployment(view.id, cascade=cascade)
        elif found.plural == "replicasets":
            await engine.delete_replicaset(view.id, cascade=cascade)
        elif found.plural == "services":
            await engine.delete_service(view.id)
        elif found.plural == "namespaces":
            await engine.delete_namespace(name)
        elif found.plural == "priorityclasses":
            await engine.delete_priority_class(name)
        else:
            await engine.delete_node(view.id)
    except Kube9Error as exc:
        raise engine_refusal(exc) from None


COLLECTIONS = frozenset({"pods", "deployments", "replicasets", "services"})


async def delete_collection(
    request: web.Request, engine: Engine, found: Resource, items: list[Obj]
) -> web.Response:
    """``deletecollection``: every object the list's selectors match, one by one through the
    engine (as the API server does; an object gone meanwhile is skipped), answered with the
    list of what was deleted."""
    if found.plural not in COLLECTIONS:
        raise _not_writable(found, "deletecollection")
    options = await _options(request)
    policy = options.get("propagationPolicy") or "Background"
    if policy not in PROPAGATION:
        raise BadRequest(f"propagationPolicy: must be one of {', '.join(PROPAGATION)} "
                         f"(got {str(policy)[:40]!r})")  # fmt: skip
    deleted = []
    for obj in items:
        meta = obj["metadata"]
        view = found.find(engine, meta.get("namespace", ""), meta["name"])
        if view is None or view.uid != meta["uid"]:
            continue
        if not _dry_run(options.get("dryRun")):
            await _delete(engine, found, view, meta["name"], cascade=policy != "Orphan")
        deleted.append(obj)
    return json_response({"kind": f"{found.kind}List", "apiVersion": found.api_version,
                          "metadata": {"resourceVersion": str(engine.resource_version())},
                          "items": deleted})  # fmt: skip


def _not_writable(found: Resource, verb: str) -> K8sError:
    return MethodNotAllowed(
        f"the server does not allow this method on the requested resource: {verb} on "
        f"{found.plural} is not served by Kube-9 Desktop's Kubernetes API"
    )


# ---- scale -----------------------------------------------------------------------------------


def scale_object(found: Resource, obj: Obj) -> Obj:
    meta = obj["metadata"]
    status = obj.get("status", {})
    selector = obj["spec"].get("selector", {}).get("matchLabels", {})
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": obj["spec"].get("replicas", 0)},
        "status": {
            "replicas": status.get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
        },
    }


def _replicas_of_patch(content_type: str, body: Any) -> int:
    if content_type == "application/json-patch+json":
        if not isinstance(body, list):
            raise BadRequest("a JSON patch is a list of operations")
        value = None
        for op in body:
            if not isinstance(op, dict) or op.get("path") != "/spec/replicas":
                raise Invalid("only /spec/replicas of a Scale can be patched")
            if op.get("op") not in ("replace", "add"):
                raise Invalid(f"op {str(op.get('op'))[:20]!r} on /spec/replicas is not served")
            value = op.get("value")
        return _replicas(value)
    if not isinstance(body, dict):
        raise BadRequest("the patch must be a JSON object")
    spec = body.get("spec")
    extra = set(body) - {"spec", "metadata", "kind", "apiVersion"}
    if extra or not isinstance(spec, dict) or set(spec) != {"replicas"}:
        raise Invalid("only spec.replicas of a Scale can be changed")
    return _replicas(spec["replicas"])


def _replicas(value: Any) -> int:
    try:
        return ScaleIn.model_validate({"replicas": value}).replicas
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"spec.replicas: {first['msg']} (got {json.dumps(value)[:40]})") from None


async def scale(
    request: web.Request, engine: Engine, found: Resource, namespace: str, name: str
) -> web.Response:
    if found.plural not in SCALABLE:
        raise _not_writable(found, f"{request.method.lower()} {found.plural}/scale")
    view = found.find(engine, namespace, name)
    if view is None:
        raise not_found(found.plural, name, found.group)
    obj = found.to_object(view)
    if request.method == "GET":
        return json_response(scale_object(found, obj))
    if request.method == "PUT":
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise BadRequest("the body must be a Scale object with spec.replicas")
        wanted = body.get("metadata", {}).get("resourceVersion") if isinstance(
            body.get("metadata"), dict) else None  # fmt: skip
        if wanted and str(wanted) != obj["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {found.plural}.{found.group} "{name}": the '
                "object has been modified; please apply your changes to the latest version "
                "and try again"
            )
        replicas = _replicas(body["spec"].get("replicas"))
    elif request.method == "PATCH":
        ctype = request.content_type
        if ctype not in PATCH_TYPES[:3]:
            raise UnsupportedMediaType(
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(PATCH_TYPES[:3])}"
            )
        replicas = _replicas_of_patch(ctype, await read_json(request))
    else:
        raise _not_writable(found, f"{request.method.lower()} {found.plural}/scale")
    if request.query.get("dryRun") == "All":
        return json_response({**scale_object(found, obj), "spec": {"replicas": replicas}})
    try:
        if found.plural == "deployments":
            done = await engine.scale_deployment(view.id, replicas)
        else:
            done = await engine.scale_replicaset(view.id, replicas)
    except Kube9Error as exc:  # not a version conflict: kubectl must not retry it
        raise (Invalid(exc.message) if exc.status == 409 else engine_refusal(exc)) from None
    return json_response(scale_object(found, found.to_object(done.view)))


# ---- eviction ---------------------------------------------------------------------------


async def evict(
    request: web.Request, engine: Engine, found: Resource, namespace: str, name: str
) -> web.Response:
    """``POST pods/{name}/eviction`` (``kubectl drain``): a policy/v1 Eviction deletes the pod
    through the engine (a ReplicaSet's pod is made again elsewhere). There are no
    PodDisruptionBudgets to refuse it, so an eviction is never a 429."""
    if found.plural != "pods":
        raise _not_writable(found, f"create {found.plural}/eviction")
    body = await read_json(request)
    if not isinstance(body, dict) or body.get("kind") != "Eviction":
        raise BadRequest("the body must be an Eviction (policy/v1) naming the pod")
    meta: Obj = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    if meta.get("name") not in (None, name):
        raise BadRequest(f"name in the body ({str(meta.get('name'))[:60]}) is not {name}")
    view = found.find(engine, namespace, name)
    if view is None:
        raise not_found(found.plural, name, found.group)
    options: Obj = body["deleteOptions"] if isinstance(body.get("deleteOptions"), dict) else {}
    _check_preconditions(options, found.to_object(view), f'pods "{name}"')
    if not _dry_run(options.get("dryRun") or request.query.getall("dryRun", [])):
        try:
            await engine.delete_pod(view.id)
        except Kube9Error as exc:
            raise engine_refusal(exc) from None
    done = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "code": 201}  # fmt: skip
    return json_response(done, 201)


# ---- nodes: cordon, uncordon, taint --------------------------------------------------------


NODE_SPEC_FIELDS = frozenset({"unschedulable", "taints"})


def _node_patch(ctype: str, body: Any) -> dict[str, Any]:
    """The node fields a patch sets: ``unschedulable`` and/or ``taints`` (a whole list, as
    ``kubectl taint`` sends it); any other field is a 422 naming it."""
    if ctype == "application/json-patch+json":
        if not isinstance(body, list):
            raise BadRequest("a JSON patch is a list of operations")
        out: dict[str, Any] = {}
        for op in body:
            path = op.get("path") if isinstance(op, dict) else None
            field = str(path or "").removeprefix("/spec/")
            if field not in NODE_SPEC_FIELDS or op.get("op") not in ("add", "replace", "remove"):
                raise Invalid(f"{str(path)[:80]}: only /spec/unschedulable and /spec/taints of "
                              "a node can be patched here")  # fmt: skip
            out[field] = None if op["op"] == "remove" else op.get("value")
        return out
    if not isinstance(body, dict):
        raise BadRequest("the patch must be a JSON object")
    meta = body.get("metadata")
    if meta not in (None, {}) and (not isinstance(meta, dict) or set(meta) - {"resourceVersion"}):
        keys = ", ".join(f"metadata.{k}" for k in (meta if isinstance(meta, dict) else {}))
        raise Invalid(f"{keys or 'metadata'}: changing a node's metadata (labels, "
                      "annotations) is not served by Kube-9 Desktop; set them when the node "
                      "is created")  # fmt: skip
    extra = set(body) - {"spec", "metadata", "kind", "apiVersion"}
    if extra:
        raise Invalid(f"{sorted(extra)[0]}: only spec.unschedulable and spec.taints of a node "
                      "can be patched")  # fmt: skip
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise Invalid("spec: must be an object")
    for key in spec:
        if key not in NODE_SPEC_FIELDS:
            raise Invalid(f"spec.{str(key)[:60]}: only spec.unschedulable and spec.taints of a "
                          "node can be patched")  # fmt: skip
    return dict(spec)


def _taints(value: Any) -> tuple[Any, ...]:
    from kube9_desktop.engine.specs import TaintIn, check_taints

    if value is None:
        return ()
    if not isinstance(value, list):
        raise Invalid("spec.taints: must be a list")
    parsed = []
    for i, t in enumerate(value):
        if not isinstance(t, dict):
            raise Invalid(f"spec.taints[{i}]: must be an object with key, value and effect")
        fields = {k: v for k, v in t.items() if k != "timeAdded"}  # set by the server
        try:
            parsed.append(TaintIn.model_validate(fields))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise Invalid(f"spec.taints[{i}].{where}: {first['msg']}") from None
    try:
        return check_taints(parsed, "spec.taints")
    except Kube9Error as exc:
        raise Invalid(exc.message) from None


async def patch_node(
    request: web.Request, engine: Engine, found: Resource, name: str
) -> web.Response:
    """``kubectl cordon``, ``uncordon``, ``taint``: PATCH a node's ``spec.unschedulable`` or
    ``spec.taints``; everything is checked before anything changes."""
    ctype = request.content_type
    if ctype not in PATCH_TYPES[:3]:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types "
            f"include: {', '.join(PATCH_TYPES[:3])}"
        )
    view = found.find(engine, "", name)
    if view is None:
        raise not_found(found.plural, name)
    wanted = _node_patch(ctype, await read_json(request))
    taints = _taints(wanted["taints"]) if "taints" in wanted else None
    unschedulable = wanted.get("unschedulable")
    if "unschedulable" in wanted and unschedulable not in (None, True, False):
        raise Invalid("spec.unschedulable: must be true or false")
    if request.query.get("dryRun") == "All":
        return json_response(found.to_object(view))
    try:
        if "unschedulable" in wanted:
            view, _ = engine.set_node_cordoned(view.id, bool(unschedulable))
        if taints is not None:
            view = engine.set_node_taints(view.id, taints)
    except Kube9Error as exc:
        raise engine_refusal(exc) from None
    return json_response(found.to_object(view))
