"""Kubernetes Deployment manifests (apps/v1) read into the Deployment form; no Qt here.

Read: metadata.name, namespace, labels and annotations; spec.replicas, selector.matchLabels,
strategy (type, rollingUpdate.maxSurge/maxUnavailable), minReadySeconds,
progressDeadlineSeconds, revisionHistoryLimit, paused; spec.template.metadata.labels and
annotations; spec.template.spec by the Pod reader (``pod_manifest.Reader.pod_spec``), so a
container reads the same in both. Every key not used is listed; every problem names its key.

``deployment_draft`` goes the other way, from an existing Deployment to the form's text, so
that the form sent back unchanged describes exactly the same template (no rollout).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.engine.workloads import RECREATE, DeploymentView, PodTemplate
from kube9_desktop.ui.dialogs.pod_manifest import (
    ManifestError,
    PodDraft,
    Reader,
    load_documents,
)

META_KEYS = frozenset({"name", "namespace", "labels", "annotations"})
SPEC_KEYS = frozenset(
    {"replicas", "selector", "strategy", "minReadySeconds", "progressDeadlineSeconds",
     "revisionHistoryLimit", "paused", "template"}
)  # fmt: skip
# Form field -> the manifest key it is read from.
ORIGINS = {
    "name": "metadata.name",
    "namespace": "metadata.namespace",
    "labels": "metadata.labels",
    "replicas": "spec.replicas",
    "selector": "spec.selector.matchLabels",
    "strategy": "spec.strategy.type",
    "max_surge": "spec.strategy.rollingUpdate.maxSurge",
    "max_unavailable": "spec.strategy.rollingUpdate.maxUnavailable",
    "min_ready_seconds": "spec.minReadySeconds",
    "progress_deadline_seconds": "spec.progressDeadlineSeconds",
    "revision_history_limit": "spec.revisionHistoryLimit",
}


@dataclass
class DeploymentDraft:
    """The Deployment form's contents as text, and its pod template as a ``PodDraft``."""

    name: str = ""
    namespace: str = ""  # "" when the manifest names none: the form keeps its choice
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    replicas: str = ""
    selector: dict[str, str] = field(default_factory=dict)
    strategy: str = ""  # "" : the default (RollingUpdate)
    max_surge: str = ""
    max_unavailable: str = ""
    min_ready_seconds: str = ""
    progress_deadline_seconds: str = ""
    revision_history_limit: str = ""
    paused: bool = False
    template: PodDraft = field(default_factory=PodDraft)
    ignored: list[str] = field(default_factory=list)

    def manifest_key(self, form_path: str) -> str:
        """The manifest key a form path came from (template paths through the pod draft)."""
        if form_path.startswith("template."):
            key = self.template.manifest_key(form_path.removeprefix("template."))
            return key if key.startswith("spec.") else f"spec.template.{key}"
        return ORIGINS.get(form_path, form_path)


def _number(reader: Reader, value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int):
        reader.bad(key, "must be a whole number")
        return ""
    return str(value)


def _int_or_percent(reader: Reader, value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        reader.bad(key, "must be a whole number or a percentage like '25%'")
        return ""
    return str(value)


def read_deployment_manifest(text: str) -> DeploymentDraft:
    """The first Deployment of a (multi-document) manifest; ManifestError if unusable."""
    doc = load_documents(text, "Deployment")[0]
    reader = Reader()
    draft = DeploymentDraft()
    api = doc.get("apiVersion")
    if api != "apps/v1":
        reader.bad(
            "apiVersion", "is required: apps/v1" if api is None else f"must be apps/v1, not {api!r}"
        )
    reader.ignore(doc, {"apiVersion", "kind", "metadata", "spec", "status"}, "")
    meta = reader.mapping(doc.get("metadata"), "metadata")
    draft.name = reader.text(meta.get("name"), "metadata.name", required=True)
    draft.namespace = reader.text(meta.get("namespace"), "metadata.namespace")
    draft.labels = reader.strings(meta.get("labels"), "metadata.labels")
    draft.annotations = reader.strings(meta.get("annotations"), "metadata.annotations")
    reader.ignore(meta, META_KEYS, "metadata")

    spec = reader.mapping(doc.get("spec"), "spec")
    draft.replicas = _number(reader, spec.get("replicas"), "spec.replicas")
    selector = reader.mapping(spec.get("selector"), "spec.selector", required=False)
    draft.selector = reader.strings(selector.get("matchLabels"), "spec.selector.matchLabels")
    if selector.get("matchExpressions"):
        reader.bad(
            "spec.selector.matchExpressions",
            "is not supported by the form; select the pods with matchLabels",
        )
    reader.ignore(selector, {"matchLabels", "matchExpressions"}, "spec.selector")
    strategy = reader.mapping(spec.get("strategy"), "spec.strategy", required=False)
    draft.strategy = reader.text(strategy.get("type"), "spec.strategy.type")
    rolling = reader.mapping(
        strategy.get("rollingUpdate"), "spec.strategy.rollingUpdate", required=False
    )
    for part, attr in (("maxSurge", "max_surge"), ("maxUnavailable", "max_unavailable")):
        key = f"spec.strategy.rollingUpdate.{part}"
        setattr(draft, attr, _int_or_percent(reader, rolling.get(part), key))
    reader.ignore(rolling, {"maxSurge", "maxUnavailable"}, "spec.strategy.rollingUpdate")
    reader.ignore(strategy, {"type", "rollingUpdate"}, "spec.strategy")
    for part, attr in (
        ("minReadySeconds", "min_ready_seconds"),
        ("progressDeadlineSeconds", "progress_deadline_seconds"),
        ("revisionHistoryLimit", "revision_history_limit"),
    ):
        setattr(draft, attr, _number(reader, spec.get(part), f"spec.{part}"))
    paused = spec.get("paused", False)
    if not isinstance(paused, bool):
        reader.bad("spec.paused", "must be true or false")
    draft.paused = paused is True

    template = reader.mapping(spec.get("template"), "spec.template")
    tmeta = reader.mapping(template.get("metadata"), "spec.template.metadata", required=False)
    pod = reader.draft
    pod.labels = reader.strings(tmeta.get("labels"), "spec.template.metadata.labels")
    pod.annotations = reader.strings(tmeta.get("annotations"), "spec.template.metadata.annotations")
    pod.origins["labels"] = "spec.template.metadata.labels"
    pod.origins["annotations"] = "spec.template.metadata.annotations"
    reader.ignore(tmeta, {"labels", "annotations"}, "spec.template.metadata")
    reader.ignore(template, {"metadata", "spec"}, "spec.template")
    if template:
        reader.pod_spec(
            reader.mapping(template.get("spec"), "spec.template.spec"), "spec.template.spec"
        )
    reader.ignore(spec, SPEC_KEYS, "spec")
    if reader.problems:
        raise ManifestError(reader.problems)
    draft.template = pod
    draft.ignored = pod.ignored
    return draft


# ---- an existing Deployment as form text ---------------------------------------------------


def _cpu(cpu_m: int) -> str:
    return f"{cpu_m}m" if cpu_m else ""


def _mem(mem_mi: int) -> str:
    return f"{mem_mi}Mi" if mem_mi else ""


def template_draft(t: PodTemplate) -> PodDraft:
    """A template as the pod editor's rows, exact: read back, it is the same template."""
    draft = PodDraft(labels=dict(t.labels), annotations=dict(t.annotations))
    containers_cpu = sum(c.cpu_m for c in t.containers)
    draft.cpu = (
        "" if containers_cpu == t.request.cpu_m and containers_cpu else _cpu(t.request.cpu_m)
    )
    for c in t.containers:
        draft.containers.append(
            {
                "name": c.name,
                "image": c.image,
                "cpu": _cpu(c.cpu_m),
                "memory": _mem(c.mem_mi),
                "command": shlex.join(c.command),
                "args": shlex.join(c.args),
            }
        )
        extras: dict[str, Any] = {}
        if c.ports:
            extras["ports"] = [
                {"container_port": p.container_port, "name": p.name, "protocol": p.protocol}
                for p in c.ports
            ]
        if c.readiness is not None:
            extras["readiness_probe"] = c.readiness.to_json()
        if c.liveness is not None:
            extras["liveness_probe"] = c.liveness.to_json()
        draft.container_extras.append(extras)
    draft.volumes = [
        {"name": v.name, "type": v.type, "size": "" if v.size is None else str(v.size),
         "path": v.path or ""}
        for v in t.volumes
    ]  # fmt: skip
    draft.config = [
        {"name": i.name, "type": i.type, "key": i.key, "value": i.value} for i in t.config
    ]
    draft.scheduling = template_scheduling(t)
    return draft


def template_scheduling(t: PodTemplate) -> dict[str, Any]:
    """Where the template's pods may run, as the request's fields (kept through an edit)."""
    out: dict[str, Any] = {}
    if t.node_selector:
        out["node_selector"] = dict(t.node_selector)
    if t.tolerations:
        out["tolerations"] = [x.to_json() for x in t.tolerations]
    if t.node_affinity:
        out["node_affinity"] = t.node_affinity.to_json()
    if t.interpod:
        out.update(t.interpod.to_json())
    return out


def deployment_draft(d: DeploymentView) -> DeploymentDraft:
    """An existing Deployment as the form's text (the Edit mode starts from it)."""
    spec = d.spec
    strategy = spec.strategy
    rolling = strategy.type != RECREATE
    return DeploymentDraft(
        name=d.name,
        namespace=d.namespace,
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
        replicas=str(spec.replicas),
        selector=dict(spec.selector.match_labels),
        strategy=strategy.type,
        max_surge=str(strategy.max_surge) if rolling else "",
        max_unavailable=str(strategy.max_unavailable) if rolling else "",
        min_ready_seconds=str(spec.min_ready_seconds),
        progress_deadline_seconds=str(spec.progress_deadline_seconds),
        revision_history_limit=str(spec.revision_history_limit),
        paused=spec.paused,
        template=template_draft(spec.template.without_hash_label()),
    )
