"""create, update, patch and server-side apply (``kubectl create``, ``apply``, ``replace``,
``patch``, ``edit``, ``diff``, ``rollout undo``, the official client's CRUD).

Each write reads the Kubernetes object into the Kube-9 API's request body (decode.py), so the
Kube-9 models check it, then runs the engine's own operation: the window, the Kube-9 API and
every watch see it in the same commit. An update or patch is worked out on the object as this
API shows it (the current object, patched), then read again and compared with the current
object read the same way, so only what really changed reaches the engine (a patch that
changes nothing starts no rollout). ``dryRun=All`` checks everything and changes nothing.

What each kind takes: Pods, Deployments, ReplicaSets, Services and Namespaces are created;
Deployments and Services change in full (a template change is a rollout, as in apps/v1);
a ReplicaSet's replicas change; a Pod or Namespace answers its current object when nothing
changes and refuses a change (Kube-9 cannot relabel a pod in place yet; Kubernetes allows
metadata and image changes on a pod). Server-side apply is a strategic merge of the applied
configuration (created when missing); field ownership is not tracked (docs/kubernetes.md).
"""

from __future__ import annotations

import copy
import datetime
import math
import re
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from kube9_desktop.engine.api.app import json_response
from kube9_desktop.engine.errors import Kube9Error, UserError
from kube9_desktop.engine.k8s.decode import Decoded, decode
from kube9_desktop.engine.k8s.managed import Recorder, recorder
from kube9_desktop.engine.k8s.openapi import schemas
from kube9_desktop.engine.k8s.patch import (
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from kube9_desktop.engine.k8s.resources import Resource
from kube9_desktop.engine.k8s.status import (
    BadRequest,
    Conflict,
    Invalid,
    K8sError,
    UnsupportedMediaType,
    not_found,
    status_error,
)
from kube9_desktop.engine.k8s.writes import engine_refusal, read_json
from kube9_desktop.engine.service_specs import ServiceCreate, ServicePatch
from kube9_desktop.engine.specs import PriorityClassCreate, parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch, ReplicaSetCreate

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

Obj = dict[str, Any]
CREATABLE = frozenset(
    {"pods", "deployments", "replicasets", "services", "namespaces", "priorityclasses"}
)
UPDATABLE = CREATABLE  # (a PriorityClass: a re-apply that changes nothing; a change is refused)
BODY_LIMIT = 1024 * 1024  # a write's body: a pod of 32 containers with its last-applied copy fits
DEPTH_MAX = 64  # levels of nesting in a body (a Deployment has about 12)
VALIDATION = ("", "Ignore", "Warn", "Strict")


class AlreadyExists(K8sError):
    code = 409
    reason = "AlreadyExists"


# The Kube-9 models' field names, as the Kubernetes object spells them (for Invalid causes).
FIELD_NAMES = (
    ("cpu_cores_req", "resources.requests.cpu"), ("cpu_req", "resources.requests.cpu"),
    ("memory_req", "resources.requests.memory"), ("container_port", "containerPort"),
    ("readiness_probe", "readinessProbe"), ("liveness_probe", "livenessProbe"),
    ("tcp_socket", "tcpSocket"), ("http_get", "httpGet"), ("target_port", "targetPort"),
    ("node_port", "nodePort"), ("session_affinity", "sessionAffinity"),
    ("termination_grace_period_s", "terminationGracePeriodSeconds"),
    ("node_selector", "nodeSelector"), ("node_affinity", "affinity.nodeAffinity"),
    ("min_ready_seconds", "minReadySeconds"), ("revision_history_limit", "revisionHistoryLimit"),
    ("progress_deadline_seconds", "progressDeadlineSeconds"),
    ("max_surge", "rollingUpdate.maxSurge"), ("max_unavailable", "rollingUpdate.maxUnavailable"),
    ("toleration_seconds", "tolerationSeconds"),
    ("initial_delay_s", "initialDelaySeconds"), ("period_s", "periodSeconds"),
    ("timeout_s", "timeoutSeconds"), ("failure_threshold", "failureThreshold"),
    ("success_threshold", "successThreshold"), ("config", "containers[*].env"),
)  # fmt: skip


def k8s_field(plural: str, path: str) -> str:
    """``template.containers[0].cpu_req`` -> ``spec.template.spec.containers[0].resources...``"""
    for ours, theirs in FIELD_NAMES:
        path = re.sub(rf"(?<![A-Za-z_]){ours}(?![A-Za-z_])", theirs, path)
    head = path.split(".", 1)[0].split("[", 1)[0]
    if head in ("name", "namespace", "labels", "annotations"):
        return f"metadata.{path}"
    if plural in ("deployments", "replicasets") and path.startswith("template."):
        rest = path.removeprefix("template.")
        if rest.split(".", 1)[0].split("[", 1)[0] in ("labels", "annotations"):
            return f"spec.template.metadata.{rest}"
        return f"spec.template.spec.{rest}"
    return path if path.startswith(("spec.", "metadata.")) or plural == "namespaces" else (
        f"spec.{path}")  # fmt: skip


def invalid(found: Resource, name: str, exc: UserError) -> Invalid:
    """A Kube-9 model's refusal of a field as Kubernetes' Invalid, its causes named as the
    object spells them."""
    errors = exc.extra.get("errors") or [{"field": exc.field or "", "message": exc.message}]
    causes = []
    for e in errors[:100]:
        where = k8s_field(found.plural, str(e.get("field") or ""))
        message = str(e.get("message", "invalid"))
        causes.append({"reason": "FieldValueInvalid", "message": message, "field": where})
    text = "; ".join(f"{c['field']}: {c['message']}" for c in causes[:10])
    return Invalid(f'{found.kind} "{name}" is invalid: {text}',
                   details={"name": name, "kind": found.kind, "causes": causes})  # fmt: skip


def _refusal(found: Resource, name: str, exc: Kube9Error) -> K8sError:
    """An engine refusal of a write: a bad field as Invalid naming it, the rest by code."""
    if isinstance(exc, UserError) and exc.status == 400:
        return invalid(found, name, exc)
    return engine_refusal(exc)


def _what(found: Resource, name: str) -> str:
    return f"{found.plural}.{found.group}" if found.group else found.plural


def _options(request: web.Request) -> bool:
    """The write's query options; True for a dry run."""
    q = request.query
    dry = q.getall("dryRun", [])
    if any(v != "All" for v in dry):
        raise BadRequest(f"dryRun: the only value is All (got {dry[0][:40]!r})")
    validation = q.get("fieldValidation", "")
    if validation not in VALIDATION:
        raise BadRequest(
            f'fieldValidation: invalid field validation directive: "{validation[:40]}" '
            "(Ignore, Warn or Strict)"
        )
    manager = q.get("fieldManager", "")
    if len(manager) > 128 or not manager.isprintable():
        raise BadRequest("fieldManager: at most 128 printable characters")
    return bool(dry)


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML without aliases: ``*name`` would let a few bytes stand for a huge object."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases (*name) are not accepted in a request body")
        return super().compose_node(parent, index)


def _checked(obj: Any) -> Any:
    """A body as JSON would carry it: string keys, finite numbers, YAML's dates as the text
    they were, at most ``DEPTH_MAX`` levels deep; anything else a 400. No recursion."""
    root: list[Any] = [obj]
    todo: list[tuple[Any, Any, int]] = [(root, 0, 1)]
    while todo:
        parent, key, level = todo.pop()
        node = parent[key]
        if isinstance(node, dict | list):
            if level > DEPTH_MAX:
                raise BadRequest(f"the body nests more than {DEPTH_MAX} levels of lists or "
                                 "objects; no Kubernetes object this API serves does")  # fmt: skip
            if isinstance(node, dict):
                for k in node:
                    if not isinstance(k, str):
                        raise BadRequest(f"the body has a key that is not a string "
                                         f"({str(k)[:40]!r}); quote it")  # fmt: skip
                todo.extend((node, k, level + 1) for k in node)
            else:
                todo.extend((node, i, level + 1) for i in range(len(node)))
        elif isinstance(node, datetime.date):  # (YAML reads an unquoted date as one)
            parent[key] = node.isoformat().replace("+00:00", "Z")
        elif isinstance(node, float) and not math.isfinite(node):
            raise BadRequest("the body holds a number that is not finite (.nan, .inf)")
        elif node is not None and not isinstance(node, str | int | float):
            raise BadRequest(f"the body holds a value JSON cannot ({type(node).__name__})")
    return root[0]


async def _body(request: web.Request) -> Any:
    ctype = request.content_type if request.headers.get("Content-Type") else ""
    if ctype == "application/apply-patch+yaml" or ctype in ("application/yaml", "text/yaml"):
        raw = await request.content.read(BODY_LIMIT + 1)
        if len(raw) > BODY_LIMIT:
            raise status_error(413, f"Request body too large (limit {BODY_LIMIT // 1024} KiB)")
        try:
            body = yaml.load(raw, Loader=_YamlLoader)  # (a SafeLoader)
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            text = str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"
            raise BadRequest(f"the body is not YAML or JSON: {text}") from None
    else:
        body = await read_json(request, BODY_LIMIT)
    return _checked(body)


def _view(engine: Engine, found: Resource, namespace: str, name: str) -> Any:
    view = found.find(engine, namespace, name)
    if view is None:
        raise not_found(found.plural, name, found.group)
    return view


def _conflict(found: Resource, name: str) -> Conflict:
    return Conflict(
        f'Operation cannot be fulfilled on {_what(found, name)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        details={"name": name, "kind": found.plural, **({"group": found.group} if found.group
                 else {})},
    )  # fmt: skip


# ---- create -----------------------------------------------------------------------------------


async def create(
    request: web.Request, engine: Engine, found: Resource, namespace: str | None
) -> web.Response:
    if found.plural not in CREATABLE:
        raise K8sError("unreachable")  # app.py sends only what is creatable
    dry = _options(request)
    obj = await _body(request)
    rec = _recorder(request, engine, found, obj, "Update")
    return await _create(engine, found, namespace, obj, dry, rec)


def _recorder(
    request: web.Request, engine: Engine, found: Resource, body: Any, operation: str
) -> Recorder:
    return recorder(request, found.group, found.version, found.kind, body, operation,
                    engine.clock.now())  # fmt: skip


async def _create(
    engine: Engine, found: Resource, namespace: str | None, obj: Any, dry: bool, rec: Recorder
) -> web.Response:
    decoded = decode(found.kind, obj, namespace if found.namespaced else None)
    name = decoded.name
    if found.find(engine, decoded.namespace or "", name) is not None:
        raise AlreadyExists(
            f'{_what(found, name)} "{name}" already exists',
            details={"name": name, "kind": found.plural, **({"group": found.group}
                     if found.group else {})},
        )  # fmt: skip
    for key, field, message in CLUSTER_SET:
        if decoded.extra.get(key):
            raise _invalid_field(found, name, field, message, "FieldValueNotSupported")
    try:
        if dry:
            _check(found, decoded)
            return json_response(_dry_object(found, obj, decoded), 201)
        await _run_create(engine, found, decoded)
    except Kube9Error as exc:
        raise _refusal(found, name, exc) from None
    view = _view(engine, found, decoded.namespace or "", name)
    return json_response(rec.written(found.to_object(view)), 201)


# Fields the cluster sets, refused on create: (extra key, field, why).
CLUSTER_SET = (
    ("nodeName", "spec.nodeName", "Kube-9 Desktop's scheduler places every pod (leave "
     "nodeName out; a nodeSelector picks a node by its labels)"),
    ("ownerReferences", "metadata.ownerReferences", "Kube-9 Desktop's controllers own what "
     "they create; an object cannot be given an owner"),
    ("clusterIP", "spec.clusterIP", "Kube-9 Desktop gives every Service its address (leave "
     "clusterIP out)"),
)  # fmt: skip


def _invalid_field(
    found: Resource, name: str, field: str, message: str, reason: str, kind: str = ""
) -> Invalid:
    """Kubernetes' Invalid for one field: the message names it (and the kind of refusal,
    ``Forbidden: ``), the one cause carries it."""
    return Invalid(
        f'{found.kind} "{name}" is invalid: {field}: {kind}{message}',
        details={"name": name, "kind": found.kind,
                 "causes": [{"reason": reason, "field": field, "message": message}]},
    )  # fmt: skip


def _check(found: Resource, d: Decoded) -> None:
    """The Kube-9 model's checks of a create body (what a dry run may answer)."""
    if found.plural == "deployments":
        parse_body(DeploymentCreate, d.body).to_spec()
    elif found.plural == "replicasets":
        parse_body(ReplicaSetCreate, d.body).to_spec()
    elif found.plural == "services":
        parse_body(ServiceCreate, d.body).to_spec()
    elif found.plural == "pods":
        from kube9_desktop.engine.specs import PodCreate

        parse_body(PodCreate, d.body).to_spec()
    elif found.plural == "priorityclasses":
        parse_body(PriorityClassCreate, d.body).to_spec()
    else:
        from kube9_desktop.engine.meta import validate_annotations, validate_labels

        validate_labels(d.body.get("labels"))
        validate_annotations(d.body.get("annotations"))


async def _run_create(engine: Engine, found: Resource, d: Decoded) -> None:
    if found.plural == "pods":
        await engine.create_pod_from_json(d.body)
    elif found.plural == "deployments":
        await engine.create_deployment(parse_body(DeploymentCreate, d.body).to_spec())
    elif found.plural == "replicasets":
        await engine.create_replicaset(parse_body(ReplicaSetCreate, d.body).to_spec())
    elif found.plural == "services":
        await engine.create_service(parse_body(ServiceCreate, d.body).to_spec())
    elif found.plural == "priorityclasses":
        await engine.create_priority_class(parse_body(PriorityClassCreate, d.body).to_spec())
    else:
        await engine.create_namespace(d.name, d.body.get("labels"), d.body.get("annotations"))


def _dry_object(found: Resource, obj: Obj, d: Decoded) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"], out["kind"] = found.api_version, found.kind
    meta = out.setdefault("metadata", {})
    if d.namespace is not None:
        meta["namespace"] = d.namespace
    meta.pop("resourceVersion", None)
    return out


# ---- update and patch ---------------------------------------------------------------------------


async def update(
    request: web.Request, engine: Engine, found: Resource, namespace: str, name: str
) -> web.Response:
    dry = _options(request)
    obj = await _body(request)
    if not isinstance(obj, dict):
        raise BadRequest(f"the body must be a {found.kind} object")
    view = _view(engine, found, namespace, name)
    current = found.to_object(view)
    meta = _meta(obj)
    if meta.get("name") not in (None, name):
        raise BadRequest(f"the name of the object ({str(meta['name'])[:63]}) does not match "
                         f"the name on the URL ({name})")  # fmt: skip
    rec = _recorder(request, engine, found, obj, "Update")
    return await _change(engine, found, view, current, obj, dry, rec)


async def patch(
    request: web.Request, engine: Engine, found: Resource, namespace: str, name: str
) -> web.Response:
    dry = _options(request)
    ctype = request.content_type if request.headers.get("Content-Type") else ""
    kinds = ("application/merge-patch+json", "application/strategic-merge-patch+json",
             "application/json-patch+json", "application/apply-patch+yaml")  # fmt: skip
    if ctype not in kinds:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(kinds)} (got {ctype[:60]!r})"
        )
    body = await _body(request)
    view = found.find(engine, namespace, name)
    applying = ctype == "application/apply-patch+yaml"
    if applying and not request.query.get("fieldManager"):
        raise BadRequest("PATCH requests with apply content type must have a fieldManager")
    fields = body if ctype != "application/json-patch+json" else _json_patch_fields(body)
    rec = _recorder(request, engine, found, fields, "Apply" if applying else "Update")
    if applying:
        if not isinstance(body, dict):
            raise BadRequest("an apply configuration is an object")
        if view is None:  # server-side apply creates
            ns = namespace if found.namespaced else None
            return await _create(engine, found, ns, body, dry, rec)
    if view is None:
        raise not_found(found.plural, name, found.group)
    current = found.to_object(view)
    try:
        if ctype == "application/json-patch+json":
            new = json_patch(current, body)
        elif ctype == "application/merge-patch+json":
            new = merge_patch(current, body)
        else:
            s = schemas()
            new = strategic_merge_patch(current, body, s, s.kind(found.group, found.version,
                                                                 found.kind))  # fmt: skip
    except PatchError as exc:
        raise Invalid(f"the patch does not apply: {exc}") from None
    if not isinstance(new, dict):
        raise BadRequest(f"the patched object is not a {found.kind} object")
    return await _change(engine, found, view, current, new, dry, rec)


def _json_patch_fields(ops: Any) -> Obj:
    """The fields a JSON patch's operations write, as an object of them (for its record)."""
    out: Obj = {}
    for op in ops if isinstance(ops, list) else ():
        path = op.get("path") if isinstance(op, dict) else None
        if not isinstance(path, str) or op.get("op") == "test":
            continue
        node = out
        for part in [p for p in path.split("/")[1:] if not p.isdigit() and p != "-"]:
            node = node.setdefault(part.replace("~1", "/").replace("~0", "~"), {})
    return out


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


async def _change(
    engine: Engine, found: Resource, view: Any, current: Obj, new: Obj, dry: bool,
    rec: Recorder,
) -> web.Response:  # fmt: skip
    name = current["metadata"]["name"]
    namespace = current["metadata"].get("namespace")
    new_meta = _meta(new)
    rv = new_meta.get("resourceVersion")
    if rv not in (None, "") and str(rv) != current["metadata"]["resourceVersion"]:
        raise _conflict(found, name)
    if new_meta.get("uid") not in (None, "", current["metadata"]["uid"]):
        raise Conflict(f'Precondition failed: UID in precondition: {str(new_meta["uid"])[:40]}, '
                       f'UID in object meta: {current["metadata"]["uid"]}')  # fmt: skip
    for key, value in (("name", name), ("namespace", namespace)):
        if new_meta.get(key) not in (None, value):
            raise Invalid(f'{found.kind} "{name}" is invalid: metadata.{key}: Invalid value: '
                          f'"{str(new_meta[key])[:63]}": field is immutable',
                          details={"name": name, "kind": found.kind, "causes": [{
                              "reason": "FieldValueInvalid", "field": f"metadata.{key}",
                              "message": "field is immutable"}]})  # fmt: skip
    before = decode(found.kind, current, namespace)
    after = decode(found.kind, new, namespace)
    if before.body == after.body and before.extra == after.extra:
        return json_response(rec.shown(current))  # nothing changes: no write, no new version
    try:
        await _apply(engine, found, view, before, after, dry)
    except Kube9Error as exc:
        raise _refusal(found, name, exc) from None
    if dry:
        out = copy.deepcopy(new)
        out["metadata"] = {**current["metadata"], **{k: v for k, v in new_meta.items()
                           if k in ("labels", "annotations")}}  # fmt: skip
        return json_response(out)
    return json_response(rec.written(found.to_object(_view(engine, found, namespace or "", name))))


def _refuse(found: Resource, name: str, field: str, message: str) -> Invalid:
    return _invalid_field(found, name, field, message, "FieldValueForbidden", "Forbidden: ")


DEPLOYMENT_DEFAULTS = {
    "replicas": 1, "strategy": {"type": "RollingUpdate"}, "min_ready_seconds": 0,
    "progress_deadline_seconds": 600, "revision_history_limit": 10, "paused": False,
    "labels": {}, "annotations": {},
}  # fmt: skip
SERVICE_DEFAULTS = {"selector": {}, "type": "ClusterIP", "session_affinity": "None",
                    "labels": {}, "annotations": {}}  # fmt: skip


def _keep_config(template: Obj, current: Any) -> None:
    """Environment variables read from a manifest get made-up config names; the ones the
    engine already has keep theirs, so re-reading a template changes nothing. A secret's
    value is never in an object: the engine's stays (a new secret has none, and is refused)."""
    kept = {c.key: c for c in current.config}
    for item in template.get("config", ()):
        old = kept.get(item.get("key"))
        if old is None:
            continue
        if item.get("type") == "secret" and old.is_secret and item.get("name") == old.name:
            item["value"] = old.value
        item["name"] = old.name


PRIORITY_CLASS_FIELDS = {"global_default": "globalDefault",
                         "preemption_policy": "preemptionPolicy"}  # fmt: skip


async def _apply(
    engine: Engine, found: Resource, view: Any, before: Decoded, after: Decoded, dry: bool
) -> None:
    name = before.name
    if found.plural == "deployments":
        body = after.body
        if body.get("selector") != before.body.get("selector"):
            raise _refuse(found, name, "spec.selector", "field is immutable")
        patch = {k: body.get(k, default) for k, default in DEPLOYMENT_DEFAULTS.items()}
        patch["template"] = body.get("template")
        if isinstance(patch["template"], dict):
            _keep_config(patch["template"], view.spec.template)
        checked = parse_body(DeploymentPatch, patch)
        if dry:
            checked.apply(view.spec)
            return
        await engine.update_deployment(view.id, checked)
    elif found.plural == "services":
        body = after.body
        patch = {k: body.get(k, default) for k, default in SERVICE_DEFAULTS.items()}
        patch["ports"] = body.get("ports")
        if "clusterIP" in after.extra:
            patch["cluster_ip"] = after.extra["clusterIP"]
        checked_service = parse_body(ServicePatch, patch)
        if dry:
            checked_service.apply(view.spec, view.cluster_ip)
            return
        await engine.update_service(view.id, checked_service)
    elif found.plural == "replicasets":
        same = {k: v for k, v in after.body.items() if k != "replicas"}
        if same != {k: v for k, v in before.body.items() if k != "replicas"} or (
            before.extra != after.extra
        ):
            raise _refuse(found, name, "spec", "Kube-9 Desktop changes only a ReplicaSet's "
                          "replicas (change its Deployment's template instead)")  # fmt: skip
        replicas = after.body.get("replicas", 1)
        if not dry:
            await engine.scale_replicaset(view.id, replicas)
    elif found.plural == "priorityclasses":
        changed = sorted(k for k in {*before.body, *after.body}
                         if before.body.get(k) != after.body.get(k))  # fmt: skip
        field = PRIORITY_CLASS_FIELDS.get(changed[0], changed[0]) if changed else "value"
        raise _refuse(found, name, field, "Kube-9 Desktop does not change a PriorityClass "
                      "(its value is immutable in Kubernetes too): delete it and create it "
                      "again")  # fmt: skip
    elif found.plural == "pods":
        raise _refuse(found, name, "spec", "pod updates may not change fields in Kube-9 Desktop "
                      "(Kubernetes allows labels, annotations, image and a few more; delete "
                      "and create the pod, or change its Deployment)")  # fmt: skip
    else:
        raise _refuse(found, name, "metadata", "Kube-9 Desktop cannot change a namespace's "
                      "labels or annotations yet")  # fmt: skip
