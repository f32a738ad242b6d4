"""Kubernetes objects read into the Kube-9 API's request bodies (specs.py, workload_specs.py,
service_specs.py), so a ``kubectl apply`` is checked by the very models the Kube-9 API and
the window use.

Strict: every field is either read, accepted because Kubernetes clients always send it (server
fields of ``metadata``, ``status``, defaults such as ``restartPolicy: Always``), or refused. A
field Kubernetes has but this cluster does not model is an Invalid cause naming it; a field
Kubernetes does not have is "unknown field", as Kubernetes' strict field validation says.
What Kube-9 models differently (one environment and one mount path per volume for the whole
pod; limits only as requests) is refused where it would lose meaning (docs/kubernetes.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.engine.k8s.openapi import Schemas, schemas
from kube9_desktop.engine.k8s.status import BadRequest, Invalid
from kube9_desktop.engine.quantity import QuantityError, parse_quantity

Obj = dict[str, Any]
Check = Callable[[Any], bool]


def _is(*values: Any) -> Check:
    return lambda v: v in values


def _empty(v: Any) -> bool:
    return v in (None, {}, [], "", False)


def _anything(v: Any) -> bool:
    return True


# Fields a client sends (or reads back from this server and sends again) that carry nothing
# Kube-9 would keep: accepted when they say what Kubernetes' default says.
META_SERVER = {
    "uid": _anything, "resourceVersion": _anything, "creationTimestamp": _anything,
    "generation": _anything, "managedFields": _anything, "selfLink": _anything,
    "finalizers": _empty, "deletionTimestamp": _empty, "deletionGracePeriodSeconds": _empty,
}  # fmt: skip
POD_DEFAULTS = {
    "restartPolicy": _is("Always"), "dnsPolicy": _is("ClusterFirst"),
    "schedulerName": _is("default-scheduler"), "securityContext": _empty,
    "serviceAccountName": _is("default"), "serviceAccount": _is("default"),
    "enableServiceLinks": _is(True),
    # both follow the pod's PriorityClass when it is created (what a get gives back is read)
    "priority": _anything, "preemptionPolicy": _is("PreemptLowerPriority", "Never"),
    "imagePullSecrets": _empty,
    "automountServiceAccountToken": _anything, "hostname": _empty, "subdomain": _empty,
}  # fmt: skip
CONTAINER_DEFAULTS = {
    "imagePullPolicy": _is("Always", "IfNotPresent", "Never"),
    "terminationMessagePath": _is("/dev/termination-log"),
    "terminationMessagePolicy": _is("File"), "securityContext": _empty, "stdin": _is(False),
    "tty": _is(False), "stdinOnce": _is(False),
}  # fmt: skip
SERVICE_DEFAULTS = {
    "ipFamilies": _is(["IPv4"]), "ipFamilyPolicy": _is("SingleStack"),
    "internalTrafficPolicy": _is("Cluster"), "externalTrafficPolicy": _is("Cluster"),
    "publishNotReadyAddresses": _is(False),
}  # fmt: skip
# A pod that requests no CPU gets this per container: the scheduler places by requests, and
# the Kube-9 models require one (docs/kubernetes.md).
DEFAULT_CPU = "100m"
REVISION = "deployment.kubernetes.io/revision"  # the controller's, never the user's
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class Decoded:
    """A Kube-9 request body from a Kubernetes object, and what the engine keeps elsewhere."""

    body: Obj
    name: str
    namespace: str | None
    resource_version: str | None = None
    uid: str | None = None
    extra: Obj = field(default_factory=dict)  # nodeName, clusterIP: fields set by the cluster


class Decoder:
    """Reads one object, collecting every problem; ``done`` raises them all at once."""

    def __init__(self, kind: str, name: str, schemas: Schemas, root: Obj | None) -> None:
        self.kind, self.name = kind, name
        self.schemas = schemas
        self.root = root
        self.causes: list[Obj] = []
        self.unknown: list[str] = []
        self.owners: list[Any] = []

    def bad(self, where: str, message: str, reason: str = "FieldValueInvalid") -> None:
        if len(self.causes) < 100:
            self.causes.append({"reason": reason, "message": message, "field": where})

    def done(self) -> None:
        if self.unknown:
            shown = ", ".join(f'unknown field "{u}"' for u in self.unknown[:20])
            raise BadRequest(f"{self.kind} in version: strict decoding error: {shown}")
        if self.causes:
            text = "; ".join(f"{c['field']}: {c['message']}" for c in self.causes[:10])
            raise Invalid(
                f'{self.kind} "{self.name}" is invalid: {text}',
                details={"name": self.name, "kind": self.kind, "causes": self.causes},
            )

    def mapping(self, value: Any, where: str) -> Obj:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(where, "must be an object")
            return {}
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(where, "must be a list")
            return []
        return value

    def rest(
        self, value: Obj, used: set[str], where: str, schema: Obj | None,
        tolerated: Mapping[str, Check] | None = None,
    ) -> None:  # fmt: skip
        """Every key of ``value`` not read: tolerated at its default, or refused."""
        known = (self.schemas.resolve(schema) or {}).get("properties", {})
        for key, item in value.items():
            if key in used:
                continue
            if tolerated and key in tolerated and tolerated[key](item):
                continue
            at = f"{where}.{key}" if where else str(key)
            if known and key not in known:
                self.unknown.append(at[:200])
            else:
                self.bad(at, "Kube-9 Desktop does not model this field (docs/kubernetes.md)",
                         "FieldValueNotSupported")  # fmt: skip

    def sub(self, schema: Obj | None, *keys: str) -> Obj | None:
        for key in keys:
            schema = self.schemas.field(schema, key)[1]
        return schema

    def item(self, schema: Obj | None, key: str) -> Obj | None:
        return self.schemas.items(self.schemas.field(schema, key)[0])


def _memory(value: Any) -> Any:
    """A bare number is bytes in a manifest (MB in the Kube-9 API)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return f"{max(1, math.ceil(value / 1024))}Ki"
    return value


def _gibibytes(value: Any) -> int | None:
    """An emptyDir's ``sizeLimit`` (a quantity; a bare number is bytes) in the whole GiB
    Kube-9 keeps, rounded up as the pod form's manifest reader does: ``2Gi`` -> 2,
    ``3000000000`` -> 3 (2.79 GiB), ``500Mi`` -> 1; None when it is no positive quantity."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        size = parse_quantity(str(value))
    except QuantityError:
        return None
    if not size.is_finite() or size <= 0 or size > 1_000_000 << 30:
        return None
    return math.ceil(size / (1 << 30))


def decode_metadata(
    d: Decoder, obj: Obj, namespace: str | None, *, namespaced: bool = True
) -> tuple[str, str | None, Obj]:
    meta = d.mapping(obj.get("metadata"), "metadata")
    schema = d.sub(d.root, "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        d.bad("metadata.name", "name or generateName is required" if name is None
              else "must be a string", "FieldValueRequired")  # fmt: skip
        name = ""
    ns = meta.get("namespace")
    if namespaced:
        if ns is not None and namespace is not None and ns != namespace:
            d.bad("metadata.namespace", f"the namespace of the provided object ({str(ns)[:63]}) "
                  f"does not match the namespace sent on the request ({namespace})")  # fmt: skip
        ns = namespace if namespace is not None else (ns or "default")
    elif ns not in (None, ""):
        d.bad("metadata.namespace", "not allowed on a cluster-scoped object")
    out: Obj = {}
    for key in ("labels", "annotations"):
        if meta.get(key) is not None:
            out[key] = dict(d.mapping(meta[key], f"metadata.{key}"))
    out.get("annotations", {}).pop(REVISION, None)
    if meta.get("ownerReferences"):  # the controllers' (compared on update, refused on create)
        d.owners = d.sequence(meta["ownerReferences"], "metadata.ownerReferences")
    used = {"name", "namespace", "labels", "annotations", "ownerReferences"}
    d.rest(meta, used, "metadata", schema, META_SERVER)
    return name, ns if namespaced else None, out


def _top(d: Decoder, obj: Obj, used: tuple[str, ...] = ("spec",)) -> None:
    d.rest(obj, {"apiVersion", "kind", "metadata", "status", *used}, "", d.root)


# ---- pods and templates ------------------------------------------------------------------------


def decode_pod_spec(d: Decoder, spec: Obj, where: str, schema: Obj | None) -> Obj:
    """A core/v1 PodSpec as the Kube-9 API's pod fields (PodFields)."""
    out: Obj = {}
    mounts: dict[str, str] = {}
    env: dict[str, Obj] = {}
    res = d.mapping(spec.get("resources"), f"{where}.resources")
    if res:
        requests = d.mapping(res.get("requests"), f"{where}.resources.requests")
        if "cpu" in requests:
            out["cpu_cores_req"] = requests["cpu"]
        d.rest(requests, {"cpu"}, f"{where}.resources.requests", None)
        d.rest(res, {"requests"}, f"{where}.resources", d.sub(schema, "resources"))
    containers = d.sequence(spec.get("containers"), f"{where}.containers")
    c_schema = d.item(schema, "containers")
    out["containers"] = [
        _container(d, d.mapping(c, f"{where}.containers[{i}]"), f"{where}.containers[{i}]",
                   c_schema, mounts, env)
        for i, c in enumerate(containers)
    ]  # fmt: skip
    if "cpu_cores_req" not in out and not any("cpu_req" in c for c in out["containers"]):
        for c in out["containers"]:  # (Kubernetes would run it with none, as BestEffort)
            c["cpu_req"] = DEFAULT_CPU
    if env:
        out["config"] = [
            {"name": _config_name(key, i), **item} for i, (key, item) in enumerate(env.items())
        ]
    volumes = []
    v_schema = d.item(schema, "volumes")
    for i, v in enumerate(d.sequence(spec.get("volumes"), f"{where}.volumes")):
        vol = _volume(d, d.mapping(v, f"{where}.volumes[{i}]"), f"{where}.volumes[{i}]",
                      v_schema, mounts)  # fmt: skip
        if vol is not None:
            volumes.append(vol)
    for name in mounts.keys() - {v["name"] for v in volumes}:
        d.bad(f"{where}.containers", f'volumeMounts: volume "{name[:63]}" is not in '
              f"{where}.volumes", "FieldValueNotFound")  # fmt: skip
    if volumes:
        out["volumes"] = volumes
    if spec.get("terminationGracePeriodSeconds") is not None:
        out["termination_grace_period_s"] = spec["terminationGracePeriodSeconds"]
    if spec.get("nodeSelector") is not None:
        out["node_selector"] = d.mapping(spec["nodeSelector"], f"{where}.nodeSelector")
    tolerations = []
    for i, t in enumerate(d.sequence(spec.get("tolerations"), f"{where}.tolerations")):
        t = d.mapping(t, f"{where}.tolerations[{i}]")
        keys = ("key", "operator", "value", "effect", "tolerationSeconds")
        tolerations.append({_snake(k): v for k, v in t.items() if k in keys})
        d.rest(t, set(keys), f"{where}.tolerations[{i}]", d.item(schema, "tolerations"))
    if tolerations:
        out["tolerations"] = tolerations
    affinity = d.mapping(spec.get("affinity"), f"{where}.affinity")
    if affinity:
        node_affinity = _node_affinity(d, d.mapping(affinity.get("nodeAffinity"),
                                       f"{where}.affinity.nodeAffinity"),
                                       f"{where}.affinity.nodeAffinity")  # fmt: skip
        if node_affinity:
            out["node_affinity"] = node_affinity
        for key, target in (("podAffinity", "pod_affinity"),
                            ("podAntiAffinity", "pod_anti_affinity")):  # fmt: skip
            if affinity.get(key) is not None:
                out[target] = _pod_affinity(d, d.mapping(affinity[key], f"{where}.affinity.{key}"),
                                            f"{where}.affinity.{key}")  # fmt: skip
        d.rest(affinity, {"nodeAffinity", "podAffinity", "podAntiAffinity"}, f"{where}.affinity",
               d.sub(schema, "affinity"))  # fmt: skip
    spread = []
    for i, c in enumerate(d.sequence(spec.get("topologySpreadConstraints"),
                                     f"{where}.topologySpreadConstraints")):  # fmt: skip
        at = f"{where}.topologySpreadConstraints[{i}]"
        c = d.mapping(c, at)
        item: Obj = {}
        for key, target in (("maxSkew", "max_skew"), ("topologyKey", "topology_key"),
                            ("whenUnsatisfiable", "when_unsatisfiable"),
                            ("nodeTaintsPolicy", "node_taints_policy")):  # fmt: skip
            if c.get(key) is not None:
                item[target] = c[key]
        if c.get("labelSelector") is not None:
            item["label_selector"] = _pod_selector(d, c["labelSelector"], f"{at}.labelSelector")
        spread.append(item)
        d.rest(c, {"maxSkew", "topologyKey", "whenUnsatisfiable", "nodeTaintsPolicy",
                   "labelSelector"}, at, d.item(schema, "topologySpreadConstraints"),
               {"nodeAffinityPolicy": _is("Honor")})  # fmt: skip
    if spread:
        out["topology_spread_constraints"] = spread
    if spec.get("priorityClassName") not in (None, ""):
        out["priority_class_name"] = spec["priorityClassName"]
    used = {"containers", "volumes", "resources", "terminationGracePeriodSeconds",
            "nodeSelector", "tolerations", "affinity", "nodeName",
            "topologySpreadConstraints", "priorityClassName"}  # fmt: skip
    d.rest(spec, used, where, schema, POD_DEFAULTS)
    return out


def _config_name(key: str, i: int) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:50] or "env"
    return f"{base}-{i}" if not NAME.match(base) else base


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _container(
    d: Decoder, c: Obj, where: str, schema: Obj | None, mounts: dict[str, str],
    env: dict[str, Obj],
) -> Obj:  # fmt: skip
    out: Obj = {"name": c.get("name"), "image": c.get("image")}
    for key in ("command", "args"):
        if c.get(key) is not None:
            out[key] = c[key]
    res = d.mapping(c.get("resources"), f"{where}.resources")
    requests = d.mapping(res.get("requests"), f"{where}.resources.requests")
    limits = d.mapping(res.get("limits"), f"{where}.resources.limits")
    for resource, target, conv in (("cpu", "cpu_req", None), ("memory", "memory_req", _memory)):
        value = requests.get(resource, limits.get(resource))
        if value is not None:
            out[target] = conv(value) if conv else value
        if resource in limits and resource in requests and limits[resource] != requests[resource]:
            d.bad(f"{where}.resources.limits.{resource}", "Kube-9 Desktop has no limits apart "
                  "from requests: leave limits out or set them equal to the requests",
                  "FieldValueNotSupported")  # fmt: skip
    for part, value in (("requests", requests), ("limits", limits)):
        d.rest(value, {"cpu", "memory"}, f"{where}.resources.{part}", None)
    d.rest(res, {"requests", "limits"}, f"{where}.resources", d.sub(schema, "resources"))
    ports = []
    for i, p in enumerate(d.sequence(c.get("ports"), f"{where}.ports")):
        p = d.mapping(p, f"{where}.ports[{i}]")
        port: Obj = {"container_port": p.get("containerPort")}
        for key in ("name", "protocol"):
            if p.get(key) is not None:
                port[key] = p[key]
        ports.append(port)
        d.rest(p, {"containerPort", "name", "protocol"}, f"{where}.ports[{i}]",
               d.item(schema, "ports"))  # fmt: skip
    if ports:
        out["ports"] = ports
    for key, target in (("readinessProbe", "readiness_probe"), ("livenessProbe", "liveness_probe")):
        if c.get(key) is not None:
            out[target] = _probe(d, d.mapping(c[key], f"{where}.{key}"), f"{where}.{key}",
                                 d.sub(schema, key))  # fmt: skip
    for i, e in enumerate(d.sequence(c.get("env"), f"{where}.env")):
        at = f"{where}.env[{i}]"
        e = d.mapping(e, at)
        name, value = e.get("name"), e.get("value", "")
        if not isinstance(name, str) or not isinstance(value, str):
            d.bad(at, "name and value must be strings")
            continue
        item: Obj = {"type": "env", "key": name, "value": value}
        source = d.mapping(e.get("valueFrom"), f"{at}.valueFrom")
        if source:
            ref = d.mapping(source.get("secretKeyRef"), f"{at}.valueFrom.secretKeyRef")
            # A Kube-9 secret: its value is the engine's (typed in the window), never shown.
            item = {"type": "secret", "key": name, "value": "", "name": ref.get("name")}
            d.rest(ref, {"name", "key"}, f"{at}.valueFrom.secretKeyRef", None)
            if not ref:
                d.bad(f"{at}.valueFrom", "Kube-9 Desktop has no ConfigMaps or downward API to "
                      "read from: give the value", "FieldValueNotSupported")  # fmt: skip
            d.rest(source, {"secretKeyRef"}, f"{at}.valueFrom", None)
        if name in env and env[name] != item:
            d.bad(f"{at}.value", f"{name[:63]} has another value in another container: a "
                  "Kube-9 pod has one environment for all its containers",
                  "FieldValueNotSupported")  # fmt: skip
        env[name] = item
        d.rest(e, {"name", "value", "valueFrom"}, at, d.item(schema, "env"))
    for i, m in enumerate(d.sequence(c.get("volumeMounts"), f"{where}.volumeMounts")):
        m = d.mapping(m, f"{where}.volumeMounts[{i}]")
        name, path = m.get("name"), m.get("mountPath")
        if not isinstance(name, str) or not isinstance(path, str):
            d.bad(f"{where}.volumeMounts[{i}]", "name and mountPath must be strings")
            continue
        if mounts.get(name, path) != path:
            d.bad(f"{where}.volumeMounts[{i}].mountPath", f"volume {name[:63]} is mounted at "
                  f"{mounts[name][:100]} in another container: a Kube-9 volume has one mount "
                  "path in the whole pod", "FieldValueNotSupported")  # fmt: skip
        mounts[name] = path
        d.rest(m, {"name", "mountPath"}, f"{where}.volumeMounts[{i}]",
               d.item(schema, "volumeMounts"))  # fmt: skip
    used = {"name", "image", "command", "args", "resources", "ports", "readinessProbe",
            "livenessProbe", "env", "volumeMounts"}  # fmt: skip
    d.rest(c, used, where, schema, CONTAINER_DEFAULTS)
    return out


PROBE_TIMINGS = {
    "initialDelaySeconds": "initial_delay_s", "periodSeconds": "period_s",
    "timeoutSeconds": "timeout_s", "failureThreshold": "failure_threshold",
    "successThreshold": "success_threshold",
}  # fmt: skip


def _probe(d: Decoder, p: Obj, where: str, schema: Obj | None) -> Obj:
    out: Obj = {}
    handlers = (("exec", "exec", ("command",)), ("tcpSocket", "tcp_socket", ("port",)),
                ("httpGet", "http_get", ("path", "port")))  # fmt: skip
    for source, target, keys in handlers:
        if p.get(source) is None:
            continue
        body = d.mapping(p[source], f"{where}.{source}")
        out[target] = {k: body[k] for k in keys if k in body}
        tolerated = {"scheme": _is("HTTP")} if source == "httpGet" else None
        d.rest(body, set(keys), f"{where}.{source}", d.sub(schema, source), tolerated)
    for source, target in PROBE_TIMINGS.items():
        if p.get(source) is not None:
            out[target] = p[source]
    d.rest(p, {"exec", "tcpSocket", "httpGet", *PROBE_TIMINGS}, where, schema,
           {"terminationGracePeriodSeconds": _empty})  # fmt: skip
    return out


def _volume(
    d: Decoder, v: Obj, where: str, schema: Obj | None, mounts: dict[str, str]
) -> Obj | None:
    kinds = [k for k in ("emptyDir", "configMap", "hostPath", "secret") if k in v]
    if len(kinds) != 1:
        d.rest(v, {"name"}, where, schema)
        if not kinds:
            d.bad(where, "needs one volume source Kube-9 Desktop models: emptyDir, configMap, "
                  "hostPath or secret", "FieldValueRequired")  # fmt: skip
        return None
    kind = kinds[0]
    name = v.get("name")
    out: Obj = {"name": name, "type": kind}
    source = d.mapping(v[kind], f"{where}.{kind}")
    if kind == "emptyDir":
        if source.get("sizeLimit") is not None:
            size = _gibibytes(source["sizeLimit"])
            if size is None:
                d.bad(f"{where}.emptyDir.sizeLimit", "must be a quantity of at most "
                      "1000000Gi, such as 1Gi")  # fmt: skip
            else:
                out["size"] = size
        d.rest(source, {"sizeLimit"}, f"{where}.emptyDir", d.sub(schema, kind),
               {"medium": _is("")})  # fmt: skip
    elif kind == "hostPath":
        d.rest(source, {"path"}, f"{where}.hostPath", d.sub(schema, kind), {"type": _is("")})
    elif kind == "configMap":
        d.rest(source, {"name"}, f"{where}.configMap", d.sub(schema, kind),
               {"defaultMode": _is(420), "optional": _empty})  # fmt: skip
    else:
        d.rest(source, {"secretName"}, f"{where}.secret", d.sub(schema, kind),
               {"defaultMode": _is(420), "optional": _empty})  # fmt: skip
    path = mounts.get(name) if isinstance(name, str) else None
    if path is None and kind == "hostPath" and isinstance(source.get("path"), str):
        path = source["path"] or None
    if path:
        out["path"] = path
    d.rest(v, {"name", kind}, where, schema)
    return out


def _node_affinity(d: Decoder, a: Obj, where: str) -> Obj:
    def term(t: Any, at: str) -> Obj:
        t = d.mapping(t, at)
        exprs = []
        for i, e in enumerate(d.sequence(t.get("matchExpressions"), f"{at}.matchExpressions")):
            e = d.mapping(e, f"{at}.matchExpressions[{i}]")
            exprs.append({k: e[k] for k in ("key", "operator", "values") if k in e})
            d.rest(e, {"key", "operator", "values"}, f"{at}.matchExpressions[{i}]", None)
        d.rest(t, {"matchExpressions"}, at, None)
        return {"match_expressions": exprs}

    out: Obj = {}
    req_key = "requiredDuringSchedulingIgnoredDuringExecution"
    required = d.mapping(a.get(req_key), f"{where}.{req_key}")
    terms = d.sequence(required.get("nodeSelectorTerms"), f"{where}.{req_key}.nodeSelectorTerms")
    if terms:
        out["required"] = [term(t, f"{where}.{req_key}.nodeSelectorTerms[{i}]")
                           for i, t in enumerate(terms)]  # fmt: skip
    d.rest(required, {"nodeSelectorTerms"}, f"{where}.{req_key}", None)
    pref_key = "preferredDuringSchedulingIgnoredDuringExecution"
    preferred = []
    for i, p in enumerate(d.sequence(a.get(pref_key), f"{where}.{pref_key}")):
        p = d.mapping(p, f"{where}.{pref_key}[{i}]")
        preferred.append({"weight": p.get("weight"),
                          "preference": term(p.get("preference"),
                                             f"{where}.{pref_key}[{i}].preference")})  # fmt: skip
        d.rest(p, {"weight", "preference"}, f"{where}.{pref_key}[{i}]", None)
    if preferred:
        out["preferred"] = preferred
    d.rest(a, {req_key, pref_key}, where, None)
    return out


def _pod_selector(d: Decoder, value: Any, where: str) -> Obj:
    sel = d.mapping(value, where)
    out: Obj = {}
    if sel.get("matchLabels") is not None:
        out["match_labels"] = d.mapping(sel["matchLabels"], f"{where}.matchLabels")
    exprs = []
    for i, e in enumerate(d.sequence(sel.get("matchExpressions"), f"{where}.matchExpressions")):
        e = d.mapping(e, f"{where}.matchExpressions[{i}]")
        exprs.append({k: e[k] for k in ("key", "operator", "values") if k in e})
        d.rest(e, {"key", "operator", "values"}, f"{where}.matchExpressions[{i}]", None)
    if exprs:
        out["match_expressions"] = exprs
    d.rest(sel, {"matchLabels", "matchExpressions"}, where, None)
    return out


def _pod_term(d: Decoder, value: Any, where: str) -> Obj:
    t = d.mapping(value, where)
    out: Obj = {}
    if t.get("labelSelector") is not None:
        out["label_selector"] = _pod_selector(d, t["labelSelector"], f"{where}.labelSelector")
    if t.get("namespaces") is not None:
        out["namespaces"] = t["namespaces"]
    if t.get("topologyKey") is not None:
        out["topology_key"] = t["topologyKey"]
    d.rest(t, {"labelSelector", "namespaces", "topologyKey"}, where, None)
    return out


def _pod_affinity(d: Decoder, a: Obj, where: str) -> Obj:
    req_key = "requiredDuringSchedulingIgnoredDuringExecution"
    pref_key = "preferredDuringSchedulingIgnoredDuringExecution"
    out: Obj = {}
    required = d.sequence(a.get(req_key), f"{where}.{req_key}")
    if required:
        out["required"] = [_pod_term(d, t, f"{where}.{req_key}[{i}]")
                           for i, t in enumerate(required)]  # fmt: skip
    preferred = []
    for i, p in enumerate(d.sequence(a.get(pref_key), f"{where}.{pref_key}")):
        p = d.mapping(p, f"{where}.{pref_key}[{i}]")
        preferred.append({"weight": p.get("weight"), "pod_affinity_term": _pod_term(
            d, p.get("podAffinityTerm"), f"{where}.{pref_key}[{i}].podAffinityTerm")})  # fmt: skip
        d.rest(p, {"weight", "podAffinityTerm"}, f"{where}.{pref_key}[{i}]", None)
    if preferred:
        out["preferred"] = preferred
    d.rest(a, {req_key, pref_key}, where, None)
    return out


def _selector(d: Decoder, value: Any, where: str) -> dict[str, Any] | None:
    sel = d.mapping(value, where)
    if not sel:
        return None
    if sel.get("matchExpressions"):
        d.bad(f"{where}.matchExpressions", "Kube-9 Desktop selects a workload's pods by "
              "matchLabels only", "FieldValueNotSupported")  # fmt: skip
    d.rest(sel, {"matchLabels", "matchExpressions"}, where, None)
    return d.mapping(sel.get("matchLabels"), f"{where}.matchLabels")


def _template(d: Decoder, value: Any, where: str, schema: Obj | None) -> Obj:
    t = d.mapping(value, where)
    meta = d.mapping(t.get("metadata"), f"{where}.metadata")
    spec = decode_pod_spec(d, d.mapping(t.get("spec"), f"{where}.spec"), f"{where}.spec",
                           d.sub(schema, "spec"))  # fmt: skip
    for key in ("labels", "annotations"):
        if meta.get(key) is not None:
            spec[key] = d.mapping(meta[key], f"{where}.metadata.{key}")
    d.rest(meta, {"labels", "annotations"}, f"{where}.metadata", None,
           {"creationTimestamp": _anything, "name": _empty, "namespace": _empty})  # fmt: skip
    d.rest(t, {"metadata", "spec"}, where, schema)
    return spec


# ---- kinds -------------------------------------------------------------------------------------


def decode(kind: str, obj: Any, namespace: str | None) -> Decoded:
    """``obj`` (a Kubernetes object of ``kind``) as the Kube-9 create body, or a 400/422."""
    if not isinstance(obj, dict):
        raise BadRequest(f"the body must be a {kind} object")
    reader = READERS.get(kind)
    if reader is None:
        raise BadRequest(f"{kind} objects are not written through this API")
    s = schemas()
    meta: Obj = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    name: str = meta["name"] if isinstance(meta.get("name"), str) else ""
    group, _, version = str(_API_VERSIONS[kind]).rpartition("/")
    d = Decoder(kind, name[:253], s, s.kind(group, version, kind))
    if obj.get("kind") not in (None, kind):
        d.bad("kind", f"must be {kind} here (got {str(obj['kind'])[:40]!r})")
    if obj.get("apiVersion") not in (None, _API_VERSIONS[kind]):
        d.bad("apiVersion", f"must be {_API_VERSIONS[kind]} here "
              f"(got {str(obj['apiVersion'])[:40]!r})")  # fmt: skip
    out = reader(d, obj, namespace)
    if d.owners:
        out.extra["ownerReferences"] = [
            {k: o.get(k) for k in ("kind", "name", "uid")} if isinstance(o, dict) else o
            for o in d.owners
        ]
    out.resource_version = meta.get("resourceVersion") or None
    out.uid = meta.get("uid") or None
    d.done()
    return out


_API_VERSIONS = {"Pod": "v1", "Service": "v1", "Namespace": "v1", "Deployment": "apps/v1",
                 "ReplicaSet": "apps/v1", "PriorityClass": "scheduling.k8s.io/v1"}  # fmt: skip


def _pod(d: Decoder, obj: Obj, namespace: str | None) -> Decoded:
    name, ns, meta = decode_metadata(d, obj, namespace)
    spec = d.mapping(obj.get("spec"), "spec")
    body = decode_pod_spec(d, spec, "spec", d.sub(d.root, "spec"))
    _top(d, obj)
    extra = {"nodeName": spec["nodeName"]} if spec.get("nodeName") else {}
    return Decoded({"name": name, "namespace": ns, **meta, **body}, name, ns, extra=extra)


def _workload(d: Decoder, obj: Obj, namespace: str | None, *, deployment: bool) -> Decoded:
    name, ns, meta = decode_metadata(d, obj, namespace)
    spec = d.mapping(obj.get("spec"), "spec")
    schema = d.sub(d.root, "spec")
    body: Obj = {"name": name, "namespace": ns, **meta}
    if spec.get("replicas") is not None:
        body["replicas"] = spec["replicas"]
    selector = _selector(d, spec.get("selector"), "spec.selector")
    if selector is not None:
        body["selector"] = selector
    body["template"] = _template(
        d, spec.get("template"), "spec.template", d.sub(schema, "template")
    )
    if spec.get("minReadySeconds") is not None:
        body["min_ready_seconds"] = spec["minReadySeconds"]
    used = {"replicas", "selector", "template", "minReadySeconds"}
    if deployment:
        used |= {"strategy", "progressDeadlineSeconds", "revisionHistoryLimit", "paused"}
        for key, target in (("progressDeadlineSeconds", "progress_deadline_seconds"),
                            ("revisionHistoryLimit", "revision_history_limit"),
                            ("paused", "paused")):  # fmt: skip
            if spec.get(key) is not None:
                body[target] = spec[key]
        strategy = d.mapping(spec.get("strategy"), "spec.strategy")
        if strategy:
            out: Obj = {}
            if strategy.get("type") is not None:
                out["type"] = strategy["type"]
            rolling = d.mapping(strategy.get("rollingUpdate"), "spec.strategy.rollingUpdate")
            if rolling and strategy.get("type") == "Recreate":
                d.bad("spec.strategy.rollingUpdate", 'may not be specified when strategy '
                      '`type` is \'Recreate\'', "FieldValueForbidden")  # fmt: skip
            for key, target in (("maxSurge", "max_surge"), ("maxUnavailable", "max_unavailable")):
                if rolling.get(key) is not None:
                    out[target] = rolling[key]
            d.rest(rolling, {"maxSurge", "maxUnavailable"}, "spec.strategy.rollingUpdate", None)
            d.rest(strategy, {"type", "rollingUpdate"}, "spec.strategy", None)
            body["strategy"] = out
    d.rest(spec, used, "spec", schema)
    _top(d, obj)
    return Decoded(body, name, ns)


def _service(d: Decoder, obj: Obj, namespace: str | None) -> Decoded:
    name, ns, meta = decode_metadata(d, obj, namespace)
    spec = d.mapping(obj.get("spec"), "spec")
    schema = d.sub(d.root, "spec")
    body: Obj = {"name": name, "namespace": ns, **meta}
    if spec.get("type") is not None:
        body["type"] = spec["type"]
    if spec.get("selector") is not None:
        body["selector"] = d.mapping(spec["selector"], "spec.selector")
    if spec.get("sessionAffinity") is not None:
        body["session_affinity"] = spec["sessionAffinity"]
    ports = []
    for i, p in enumerate(d.sequence(spec.get("ports"), "spec.ports")):
        p = d.mapping(p, f"spec.ports[{i}]")
        port: Obj = {"port": p.get("port")}
        for key, target in (("targetPort", "target_port"), ("name", "name"),
                            ("protocol", "protocol"), ("nodePort", "node_port")):  # fmt: skip
            if p.get(key) is not None:
                port[target] = p[key]
        ports.append(port)
        d.rest(p, {"port", "targetPort", "name", "protocol", "nodePort"}, f"spec.ports[{i}]",
               d.item(schema, "ports"))  # fmt: skip
    body["ports"] = ports
    extra: Obj = {}
    ips = [spec.get("clusterIP"), *(d.sequence(spec.get("clusterIPs"), "spec.clusterIPs"))]
    ips = [ip for ip in ips if ip not in (None, "")]
    if "None" in ips:
        d.bad("spec.clusterIP", "headless Services (clusterIP: None) are not modelled",
              "FieldValueNotSupported")  # fmt: skip
    elif ips:
        extra["clusterIP"] = ips[0]
        if any(ip != ips[0] for ip in ips):
            d.bad("spec.clusterIPs", "must hold only spec.clusterIP (one IPv4 address)")
    used = {"type", "selector", "sessionAffinity", "ports", "clusterIP", "clusterIPs"}
    d.rest(spec, used, "spec", schema, SERVICE_DEFAULTS)
    _top(d, obj)
    return Decoded(body, name, ns, extra=extra)


def _namespace(d: Decoder, obj: Obj, namespace: str | None) -> Decoded:
    name, _, meta = decode_metadata(d, obj, None, namespaced=False)
    spec = d.mapping(obj.get("spec"), "spec")
    d.rest(spec, set(), "spec", d.sub(d.root, "spec"), {"finalizers": _is(["kubernetes"], [])})
    _top(d, obj)
    labels = dict(meta.get("labels", {}))
    labels.pop("kubernetes.io/metadata.name", None)  # the cluster's own label, given back
    return Decoded({"name": name, "labels": labels, "annotations": meta.get("annotations", {})},
                   name, None)  # fmt: skip


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _priority_class(d: Decoder, obj: Obj, namespace: str | None) -> Decoded:
    name, _, meta = decode_metadata(d, obj, None, namespaced=False)
    annotations = dict(meta.get("annotations", {}))
    annotations.pop(LAST_APPLIED, None)  # kubectl apply's own record: nothing to keep
    for key, found in (("labels", meta.get("labels")), ("annotations", annotations)):
        if found:
            d.bad(f"metadata.{key}", "Kube-9 Desktop does not keep a PriorityClass's labels or "
                  "annotations", "FieldValueNotSupported")  # fmt: skip
    body: Obj = {"name": name}
    for key, target in (("value", "value"), ("globalDefault", "global_default"),
                        ("description", "description"),
                        ("preemptionPolicy", "preemption_policy")):  # fmt: skip
        if obj.get(key) is not None:
            body[target] = obj[key]
    if "value" not in body:
        d.bad("value", "Required value", "FieldValueRequired")
    _top(d, obj, ("value", "globalDefault", "description", "preemptionPolicy"))
    return Decoded(body, name, None)


READERS: dict[str, Callable[[Decoder, Obj, str | None], Decoded]] = {
    "PriorityClass": _priority_class,
    "Pod": _pod,
    "Deployment": lambda d, o, ns: _workload(d, o, ns, deployment=True),
    "ReplicaSet": lambda d, o, ns: _workload(d, o, ns, deployment=False),
    "Service": _service,
    "Namespace": _namespace,
}
