"""Kubernetes Pod manifests (YAML) read into the pod form's rows; no Qt here.

Only what the cluster models is read: metadata.name, namespace, labels and annotations,
spec.terminationGracePeriodSeconds, each
container's name, image, command, args, resources.requests (or limits) cpu/memory, env
name/value, volumeMounts, ports and readiness/liveness probes (exec, tcpSocket, httpGet and
their timings), spec.volumes of type emptyDir, configMap, hostPath or secret, and where the
pod may run: spec.nodeSelector, spec.tolerations, spec.affinity (nodeAffinity, podAffinity,
podAntiAffinity) and spec.topologySpreadConstraints (``PodDraft.scheduling``, sent as the
request's fields for the engine to judge). Every
problem names the manifest key it is about (``spec.containers[0].resources.requests.cpu``);
every key not used is listed in ``ignored``. ``Reader.pod_spec`` reads a pod's spec wherever
it sits, so a Deployment's ``spec.template.spec`` is read by the same code.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from kube9_desktop.engine.model import TERMINATION_GRACE_MAX_S, VOLUME_TYPES
from kube9_desktop.engine.quantity import QuantityError, parse_memory

Row = dict[str, str]
CONTAINER_KEYS = frozenset(
    {"name", "image", "command", "args", "resources", "env", "volumeMounts", "ports",
     "readinessProbe", "livenessProbe"}
)  # fmt: skip
PROBE_TIMINGS = {
    "initialDelaySeconds": "initial_delay_s",
    "periodSeconds": "period_s",
    "timeoutSeconds": "timeout_s",
    "failureThreshold": "failure_threshold",
    "successThreshold": "success_threshold",
}
PROBE_HANDLERS = {"exec": "exec", "tcpSocket": "tcp_socket", "httpGet": "http_get"}
SCHEDULING_KEYS = ("nodeSelector", "tolerations", "affinity", "topologySpreadConstraints",
                   "priorityClassName")  # fmt: skip
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
TOLERATION_KEYS = {"key": "key", "operator": "operator", "value": "value", "effect": "effect",
                   "tolerationSeconds": "toleration_seconds"}  # fmt: skip
EXPRESSION_KEYS = {"key": "key", "operator": "operator", "values": "values"}
SPREAD_KEYS = {"maxSkew": "max_skew", "topologyKey": "topology_key",
               "whenUnsatisfiable": "when_unsatisfiable", "labelSelector": "label_selector",
               "nodeTaintsPolicy": "node_taints_policy"}  # fmt: skip


@dataclass
class PodDraft:
    """The form's contents as text, row by row, plus where each row came from."""

    name: str = ""
    namespace: str = ""  # "" when the manifest names none: the form keeps its choice
    cpu: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    containers: list[Row] = field(default_factory=list)
    # Per container row: what the form shows but does not edit (ports, probes), as request JSON.
    container_extras: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[Row] = field(default_factory=list)
    config: list[Row] = field(default_factory=list)
    # Form path ("containers[0].cpu", "config[1]") -> manifest key it was read from.
    origins: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    # Read, but the user must act before submitting (a secret's value is never in a manifest).
    notes: list[str] = field(default_factory=list)
    grace_s: float | None = None  # spec.terminationGracePeriodSeconds, sent as it is
    # Where it may run, as request fields (node_selector, tolerations, node_affinity,
    # pod_affinity, pod_anti_affinity, topology_spread_constraints), sent as they are
    scheduling: dict[str, Any] = field(default_factory=dict)

    def manifest_key(self, form_path: str) -> str:
        """The manifest key a form path came from ("containers[0].cpu" -> "...requests.cpu")."""
        if form_path in self.origins:
            return self.origins[form_path]
        head = form_path.split(".")[0]
        return self.origins.get(head, form_path)


class ManifestError(ValueError):
    """A manifest that cannot fill the form; ``problems`` lists (manifest key, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = problems


class Reader:
    """Reads manifest parts into a ``PodDraft``, collecting every problem and unused key."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.draft = PodDraft()

    def bad(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    def mapping(self, value: Any, key: str, *, required: bool = True) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.bad(key, "is required" if value is None else "must be a mapping (key: value)")
            return {}
        return value

    def sequence(self, value: Any, key: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(key, "must be a list (items starting with '-')")
            return []
        return value

    def text(self, value: Any, key: str, *, required: bool = False) -> str:
        if value is None:
            if required:
                self.bad(key, "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.bad(key, "must be a string")
            return ""
        return str(value)

    def strings(self, value: Any, key: str) -> dict[str, str]:
        """A map of strings (labels, annotations); the engine judges the keys and values."""
        out: dict[str, str] = {}
        for k, v in self.mapping(value, key, required=False).items():
            if not isinstance(k, str):
                self.bad(f"{key}.{k}", "key must be a string")
                continue
            out[k] = self.text(v, f"{key}.{k}")
        return out

    def argv(self, value: Any, key: str) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return shlex.join(str(v) for v in value)
        self.bad(key, "must be a list of strings")
        return ""

    def ignore(self, data: dict[str, Any], known: frozenset[str] | set[str], key: str) -> None:
        for extra in data:
            if extra not in known:
                self.draft.ignored.append(f"{key}.{extra}" if key else str(extra))

    # ---- the document -------------------------------------------------------------------

    def pod(self, doc: dict[str, Any]) -> None:
        api = doc.get("apiVersion")
        if api != "v1":
            self.bad("apiVersion", "is required: v1" if api is None else f"must be v1, not {api!r}")
        self.ignore(doc, {"apiVersion", "kind", "metadata", "spec", "status"}, "")
        meta = self.mapping(doc.get("metadata"), "metadata")
        self.draft.name = self.text(meta.get("name"), "metadata.name", required=bool(meta))
        self.draft.namespace = self.text(meta.get("namespace"), "metadata.namespace")
        self.draft.labels = self.strings(meta.get("labels"), "metadata.labels")
        self.draft.annotations = self.strings(meta.get("annotations"), "metadata.annotations")
        for part in ("name", "namespace", "labels", "annotations"):
            self.draft.origins[part] = f"metadata.{part}"
        self.ignore(meta, {"name", "namespace", "labels", "annotations"}, "metadata")
        self.pod_spec(self.mapping(doc.get("spec"), "spec"), "spec")

    def pod_spec(self, spec: dict[str, Any], where: str) -> None:
        """A pod's spec at manifest key ``where`` ("spec", "spec.template.spec")."""
        mounts: dict[str, str] = {}
        containers = self.sequence(spec.get("containers"), f"{where}.containers")
        if spec and not containers and isinstance(spec.get("containers", []), list):
            self.bad(f"{where}.containers", "needs at least one container")
        for i, item in enumerate(containers):
            self.container(item, f"{where}.containers[{i}]", mounts)
        for i, item in enumerate(self.sequence(spec.get("volumes"), f"{where}.volumes")):
            self.volume(item, f"{where}.volumes[{i}]", mounts)
        self.pod_resources(spec.get("resources"), f"{where}.resources")
        self.grace(
            spec.get("terminationGracePeriodSeconds"), f"{where}.terminationGracePeriodSeconds"
        )
        self.scheduling(spec, where)
        self.ignore(spec, {"containers", "volumes", "resources", "terminationGracePeriodSeconds",
                           *SCHEDULING_KEYS}, where)  # fmt: skip

    # ---- where it may run -----------------------------------------------------------------

    def scheduling(self, spec: dict[str, Any], where: str) -> None:
        """nodeSelector, tolerations, affinity and topologySpreadConstraints as request fields."""
        out = self.draft.scheduling
        origins = self.draft.origins
        if isinstance(spec.get("priorityClassName"), str) and spec["priorityClassName"]:
            out["priority_class_name"] = spec["priorityClassName"]  # the form's Priority class
            origins["priority_class_name"] = f"{where}.priorityClassName"
        if spec.get("nodeSelector") is not None:
            out["node_selector"] = self.strings(spec["nodeSelector"], f"{where}.nodeSelector")
            origins["node_selector"] = f"{where}.nodeSelector"
        tolerations = []
        for i, item in enumerate(self.sequence(spec.get("tolerations"), f"{where}.tolerations")):
            at = f"{where}.tolerations[{i}]"
            tolerations.append(self.renamed(self.mapping(item, at), TOLERATION_KEYS, at))
        if tolerations:
            out["tolerations"] = tolerations
            origins["tolerations"] = f"{where}.tolerations"
        affinity = self.mapping(spec.get("affinity"), f"{where}.affinity", required=False)
        at = f"{where}.affinity"
        if affinity.get("nodeAffinity") is not None:
            out["node_affinity"] = self.node_affinity(
                affinity["nodeAffinity"], f"{at}.nodeAffinity"
            )
            origins["node_affinity"] = f"{at}.nodeAffinity"
        for source, target in (("podAffinity", "pod_affinity"),
                               ("podAntiAffinity", "pod_anti_affinity")):  # fmt: skip
            if affinity.get(source) is not None:
                out[target] = self.pod_affinity(affinity[source], f"{at}.{source}")
                origins[target] = f"{at}.{source}"
        self.ignore(affinity, {"nodeAffinity", "podAffinity", "podAntiAffinity"}, at)
        spread = []
        at = f"{where}.topologySpreadConstraints"
        for i, item in enumerate(self.sequence(spec.get("topologySpreadConstraints"), at)):
            data = self.mapping(item, f"{at}[{i}]")
            entry = self.renamed(data, SPREAD_KEYS, f"{at}[{i}]")
            if "label_selector" in entry:
                entry["label_selector"] = self.pod_selector(
                    data["labelSelector"], f"{at}[{i}].labelSelector"
                )
            spread.append(entry)
        if spread:
            out["topology_spread_constraints"] = spread
            origins["topology_spread_constraints"] = at

    def renamed(self, data: dict[str, Any], names: dict[str, str], key: str) -> dict[str, Any]:
        """The keys of ``names`` under their request names; the others listed as ignored."""
        self.ignore(data, set(names), key)
        return {names[k]: v for k, v in data.items() if k in names}

    def pod_selector(self, value: Any, key: str) -> dict[str, Any] | None:
        if value is None:
            return None
        data = self.mapping(value, key)
        out: dict[str, Any] = {}
        if "matchLabels" in data:
            out["match_labels"] = self.strings(data["matchLabels"], f"{key}.matchLabels")
        exprs = self.sequence(data.get("matchExpressions"), f"{key}.matchExpressions")
        if exprs:
            out["match_expressions"] = [
                self.renamed(self.mapping(e, f"{key}.matchExpressions[{i}]"), EXPRESSION_KEYS,
                             f"{key}.matchExpressions[{i}]")
                for i, e in enumerate(exprs)
            ]  # fmt: skip
        self.ignore(data, {"matchLabels", "matchExpressions"}, key)
        return out

    def pod_term(self, value: Any, key: str) -> dict[str, Any]:
        data = self.mapping(value, key)
        out = self.renamed(data, {"namespaces": "namespaces", "topologyKey": "topology_key",
                                  "labelSelector": "label_selector"}, key)  # fmt: skip
        if "label_selector" in out:
            out["label_selector"] = self.pod_selector(data["labelSelector"], f"{key}.labelSelector")
        return out

    def pod_affinity(self, value: Any, key: str) -> dict[str, Any]:
        data = self.mapping(value, key)
        req, pref = f"{key}.{REQUIRED}", f"{key}.{PREFERRED}"
        out: dict[str, Any] = {
            "required": [self.pod_term(t, f"{req}[{i}]")
                         for i, t in enumerate(self.sequence(data.get(REQUIRED), req))],
            "preferred": [],
        }  # fmt: skip
        for i, item in enumerate(self.sequence(data.get(PREFERRED), pref)):
            entry = self.mapping(item, f"{pref}[{i}]")
            out["preferred"].append({
                "weight": entry.get("weight"),
                "pod_affinity_term": self.pod_term(
                    entry.get("podAffinityTerm"), f"{pref}[{i}].podAffinityTerm"
                ),
            })  # fmt: skip
            self.ignore(entry, {"weight", "podAffinityTerm"}, f"{pref}[{i}]")
        self.ignore(data, {REQUIRED, PREFERRED}, key)
        return out

    def node_affinity(self, value: Any, key: str) -> dict[str, Any]:
        data = self.mapping(value, key)
        req, pref = f"{key}.{REQUIRED}", f"{key}.{PREFERRED}"

        def term(item: Any, at: str) -> dict[str, Any]:
            t = self.mapping(item, at)
            self.ignore(t, {"matchExpressions"}, at)
            exprs = self.sequence(t.get("matchExpressions"), f"{at}.matchExpressions")
            return {"match_expressions": [
                self.renamed(self.mapping(e, f"{at}.matchExpressions[{i}]"), EXPRESSION_KEYS,
                             f"{at}.matchExpressions[{i}]")
                for i, e in enumerate(exprs)
            ]}  # fmt: skip

        required = self.mapping(data.get(REQUIRED), req, required=False)
        self.ignore(required, {"nodeSelectorTerms"}, req)
        terms = self.sequence(required.get("nodeSelectorTerms"), f"{req}.nodeSelectorTerms")
        out: dict[str, Any] = {
            "required": [term(t, f"{req}.nodeSelectorTerms[{i}]") for i, t in enumerate(terms)],
            "preferred": [],
        }
        for i, item in enumerate(self.sequence(data.get(PREFERRED), pref)):
            entry = self.mapping(item, f"{pref}[{i}]")
            out["preferred"].append({
                "weight": entry.get("weight"),
                "preference": term(entry.get("preference"), f"{pref}[{i}].preference"),
            })  # fmt: skip
            self.ignore(entry, {"weight", "preference"}, f"{pref}[{i}]")
        self.ignore(data, {REQUIRED, PREFERRED}, key)
        return out

    def grace(self, value: Any, key: str) -> None:
        if value is None:
            return
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and 0 <= value <= TERMINATION_GRACE_MAX_S)
        ):
            self.bad(key, f"must be a number of seconds from 0 to {TERMINATION_GRACE_MAX_S:g}")
            return
        self.draft.grace_s = float(value)

    def pod_resources(self, value: Any, key: str) -> None:
        """Kubernetes 1.32's pod-level ``resources.requests.cpu``: the pod's CPU field."""
        resources = self.mapping(value, key, required=False)
        requests = self.mapping(resources.get("requests"), f"{key}.requests", required=False)
        if "cpu" in requests:
            self.draft.cpu = self.text(requests["cpu"], f"{key}.requests.cpu")
            self.draft.origins["cpu"] = f"{key}.requests.cpu"
        self.ignore(resources, {"requests"}, key)
        self.ignore(requests, {"cpu"}, f"{key}.requests")

    def container(self, item: Any, key: str, mounts: dict[str, str]) -> None:
        data = self.mapping(item, key)
        row = len(self.draft.containers)
        origins = self.draft.origins
        origins[f"containers[{row}]"] = key
        name = self.text(data.get("name"), f"{key}.name", required=bool(data))
        image = self.text(data.get("image"), f"{key}.image", required=bool(data))
        requests = self._requests(data.get("resources"), f"{key}.resources")
        cpu_key, mem_key = requests.pop("cpu_key"), requests.pop("memory_key")
        self.draft.containers.append(
            {
                "name": name,
                "image": image,
                "cpu": requests["cpu"],
                "memory": requests["memory"],
                "command": self.argv(data.get("command"), f"{key}.command"),
                "args": self.argv(data.get("args"), f"{key}.args"),
            }
        )
        self.draft.container_extras.append(self.extras(data, key))
        origins[f"containers[{row}].probes"] = key
        for part in ("name", "image", "command", "args"):
            origins[f"containers[{row}].{part}"] = f"{key}.{part}"
        origins[f"containers[{row}].cpu"] = cpu_key
        origins[f"containers[{row}].memory"] = mem_key
        for j, env in enumerate(self.sequence(data.get("env"), f"{key}.env")):
            self.env(env, f"{key}.env[{j}]")
        for j, mount in enumerate(self.sequence(data.get("volumeMounts"), f"{key}.volumeMounts")):
            m = self.mapping(mount, f"{key}.volumeMounts[{j}]")
            name = self.text(m.get("name"), f"{key}.volumeMounts[{j}].name", required=bool(m))
            path = self.text(m.get("mountPath"), f"{key}.volumeMounts[{j}].mountPath")
            if name and path:
                mounts.setdefault(name, path)
        self.ignore(data, CONTAINER_KEYS, key)

    def extras(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        """Ports and probes as the request has them (containerPort -> container_port, …)."""
        out: dict[str, Any] = {}
        ports = []
        for j, item in enumerate(self.sequence(data.get("ports"), f"{key}.ports")):
            port = self.mapping(item, f"{key}.ports[{j}]")
            if not port:
                continue
            entry: dict[str, Any] = {"container_port": port.get("containerPort")}
            for source, target in (("name", "name"), ("protocol", "protocol")):
                if source in port:
                    entry[target] = port[source]
            ports.append(entry)
            self.ignore(port, {"containerPort", "name", "protocol"}, f"{key}.ports[{j}]")
        if ports:
            out["ports"] = ports
        for source, target in (("readinessProbe", "readiness_probe"),
                               ("livenessProbe", "liveness_probe")):  # fmt: skip
            if data.get(source) is not None:
                out[target] = self.probe(data[source], f"{key}.{source}")
        return out

    def probe(self, value: Any, key: str) -> dict[str, Any]:
        data = self.mapping(value, key)
        out: dict[str, Any] = {}
        for source, target in PROBE_HANDLERS.items():
            handler = data.get(source)
            if handler is None:
                continue
            body = self.mapping(handler, f"{key}.{source}")
            if source == "exec":
                out[target] = {"command": body.get("command")}
                self.ignore(body, {"command"}, f"{key}.{source}")
            else:
                out[target] = {k: body[k] for k in ("port", "path") if k in body}
                known = {"port", "path"} if source == "httpGet" else {"port"}
                self.ignore(body, known, f"{key}.{source}")
        for source, target in PROBE_TIMINGS.items():
            if source in data:
                out[target] = data[source]
        self.ignore(data, {*PROBE_HANDLERS, *PROBE_TIMINGS}, key)
        return out

    def _requests(self, value: Any, key: str) -> dict[str, str]:
        resources = self.mapping(value, key, required=False)
        which = "requests" if "requests" in resources else "limits"
        amounts = self.mapping(resources.get(which), f"{key}.{which}", required=False)
        memory = amounts.get("memory")
        mem_key = f"{key}.{which}.memory"
        if isinstance(memory, int) and not isinstance(memory, bool):
            memory = f"{math.ceil(memory / 1024)}Ki"  # a bare number is bytes in a manifest
        # Limits are not modelled: read only when there are no requests (Kubernetes then
        # requests what the limits say), and otherwise listed as not used.
        self.ignore(resources, {which}, key)
        self.ignore(amounts, {"cpu", "memory"}, f"{key}.{which}")
        return {
            "cpu": self.text(amounts.get("cpu"), f"{key}.{which}.cpu"),
            "memory": self.text(memory, mem_key),
            "cpu_key": f"{key}.{which}.cpu",
            "memory_key": mem_key,
        }

    def env(self, item: Any, key: str) -> None:
        data = self.mapping(item, key)
        if not data:
            return
        name = self.text(data.get("name"), f"{key}.name", required=True)
        kind, config_name, value = "env", "", ""
        if "valueFrom" in data:
            source = self.mapping(data["valueFrom"], f"{key}.valueFrom")
            ref = source.get("secretKeyRef")
            if ref is None:
                refs = ", ".join(str(k) for k in source) or "nothing"
                self.bad(
                    f"{key}.valueFrom",
                    f"reads {refs}; only secretKeyRef (a secret typed in the Config tab) or an "
                    "inline value can be used here",
                )
                return
            ref = self.mapping(ref, f"{key}.valueFrom.secretKeyRef")
            kind, config_name = "secret", self.text(ref.get("name"), f"{key}.valueFrom.name")
            self.draft.notes.append(
                f"{key}.valueFrom.secretKeyRef: a manifest never holds a secret's value; type "
                f"the value of {name} in the Config tab (row of type secret) before creating"
            )
            self.ignore(source, {"secretKeyRef"}, f"{key}.valueFrom")
            self.ignore(ref, {"name", "key"}, f"{key}.valueFrom.secretKeyRef")
        else:
            value = self.text(data.get("value"), f"{key}.value")
        self.ignore(data, {"name", "value", "valueFrom"}, key)
        if any(row["key"] == name for row in self.draft.config):
            return
        row = len(self.draft.config)
        taken = {r["name"] for r in self.draft.config}
        if not config_name or config_name in taken:
            config_name = self._config_name(name)
        self.draft.config.append({"name": config_name, "type": kind, "key": name, "value": value})
        self.draft.origins[f"config[{row}]"] = key
        self.draft.origins[f"config[{row}].key"] = f"{key}.name"
        self.draft.origins[f"config[{row}].value"] = f"{key}.value"

    def _config_name(self, key: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:55] or "env"
        taken = {row["name"] for row in self.draft.config}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        return name

    def volume(self, item: Any, key: str, mounts: dict[str, str]) -> None:
        data = self.mapping(item, key)
        if not data:
            return
        name = self.text(data.get("name"), f"{key}.name", required=True)
        kinds = [k for k in VOLUME_TYPES if k in data]
        if len(kinds) != 1:
            self.bad(key, f"needs exactly one volume type: {', '.join(VOLUME_TYPES)}")
            return
        kind = kinds[0]
        source = self.mapping(data.get(kind), f"{key}.{kind}", required=False)
        size = ""
        if kind == "emptyDir" and source.get("sizeLimit") is not None:
            size = self._size_gb(source["sizeLimit"], f"{key}.emptyDir.sizeLimit")
        path = mounts.get(name) or (
            self.text(source.get("path"), f"{key}.hostPath.path") if kind == "hostPath" else ""
        )
        row = len(self.draft.volumes)
        self.draft.volumes.append({"name": name, "type": kind, "size": size, "path": path})
        self.draft.origins[f"volumes[{row}]"] = key
        self.ignore(data, {"name", *VOLUME_TYPES}, key)

    def _size_gb(self, value: Any, key: str) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{math.ceil(value / 1024)}Ki"  # a bare number is bytes in a manifest
        try:
            mib = parse_memory(value if isinstance(value, str) else f"{value}")
        except QuantityError as exc:
            self.bad(key, str(exc))
            return ""
        return str(math.ceil(mib / 1024))


def describe_extras(extras: dict[str, Any]) -> str:
    """A container's ports and probes in a few words: "ports 8080/http · readiness http :8080/"."""
    parts = []
    ports = [
        f"{p.get('container_port')}" + (f"/{p['name']}" if p.get("name") else "")
        for p in extras.get("ports") or ()
    ]
    if ports:
        parts.append("ports " + ", ".join(ports))
    for which in ("readiness", "liveness"):
        probe = extras.get(f"{which}_probe")
        if not isinstance(probe, dict):
            continue
        if isinstance(probe.get("http_get"), dict):
            h = probe["http_get"]
            parts.append(f"{which} http :{h.get('port')}{h.get('path', '/')}")
        elif isinstance(probe.get("tcp_socket"), dict):
            parts.append(f"{which} tcp :{probe['tcp_socket'].get('port')}")
        elif isinstance(probe.get("exec"), dict):
            parts.append(f"{which} exec")
        else:
            parts.append(which)
    return " · ".join(parts)


def load_documents(text: str, kind: str) -> list[dict[str, Any]]:
    """The documents of ``kind`` in a (multi-document) manifest; ManifestError if none."""
    if not text.strip():
        raise ManifestError([("(manifest)", f"is empty: paste a {kind} manifest (kind: {kind})")])
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(manifest)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError([(where, f"is not valid YAML: {problem}")]) from None
    found = [d for d in docs if isinstance(d, dict) and d.get("kind") == kind]
    if not found:
        kinds = [str(d.get("kind")) for d in docs if isinstance(d, dict) and "kind" in d]
        if kinds:
            message = f"is {', '.join(kinds)}; only kind: {kind} can be created here"
        else:
            message = f"is required: kind: {kind}"
        raise ManifestError([("kind", message)])
    return found


def read_manifest(text: str) -> PodDraft:
    """The first Pod of a (multi-document) manifest as form rows; ManifestError if unusable."""
    pods = load_documents(text, "Pod")
    reader = Reader()
    reader.pod(pods[0])
    if reader.problems:
        raise ManifestError(reader.problems)
    return reader.draft
