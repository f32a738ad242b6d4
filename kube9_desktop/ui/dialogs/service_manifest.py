"""Kubernetes Service manifests (core/v1) read into the Service form; no Qt here.

Read: metadata.name, namespace, labels and annotations; spec.type, selector, ports (name,
port, targetPort, protocol, nodePort) and sessionAffinity. ``spec.clusterIP`` and
``clusterIPs`` are the cluster's to allocate (a View YAML of a Service carries them): they
are listed as not used, as is every key the form does not model; every problem names its key.

``service_draft`` goes the other way, from an existing Service to the form's text, so that
the form sent back unchanged describes the same Service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.engine.services import ServiceView
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError, Reader, load_documents

META_KEYS = frozenset({"name", "namespace", "labels", "annotations"})
SPEC_KEYS = frozenset({"type", "selector", "ports", "sessionAffinity"})
PORT_KEYS = frozenset({"name", "port", "targetPort", "protocol", "nodePort"})
# Set by the cluster (a View YAML's copy carries them): no "not used" line for these.
SERVER_SET = frozenset(
    {"metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp", "status",
     "spec.clusterIP", "spec.clusterIPs"}
)  # fmt: skip
# Form field -> the manifest key it is read from.
ORIGINS = {
    "name": "metadata.name",
    "namespace": "metadata.namespace",
    "labels": "metadata.labels",
    "selector": "spec.selector",
    "type": "spec.type",
    "session_affinity": "spec.sessionAffinity",
    "ports": "spec.ports",
}
PORT_ORIGINS = {"name": "name", "port": "port", "target_port": "targetPort",
                "node_port": "nodePort"}  # fmt: skip
EXAMPLE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
"""


@dataclass
class ServiceDraft:
    """The Service form's contents as text; ``ports`` as rows of the ports table."""

    name: str = ""
    namespace: str = ""  # "" when the manifest names none: the form keeps its choice
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    selector: dict[str, str] = field(default_factory=dict)
    type: str = ""  # "": the default (ClusterIP)
    session_affinity: str = ""
    ports: list[dict[str, str]] = field(default_factory=list)  # name, port, target_port, node_port
    ignored: list[str] = field(default_factory=list)

    def manifest_key(self, form_path: str) -> str:
        """The manifest key a form path came from: "ports[0].port" -> "spec.ports[0].port"."""
        if form_path.startswith("ports["):
            head, _dot, tail = form_path.partition("].")
            return f"spec.{head}]" + (f".{PORT_ORIGINS.get(tail, tail)}" if tail else "")
        return ORIGINS.get(form_path, form_path)


def _scalar(reader: Reader, value: Any, key: str) -> str:
    """A port number or name as the form's cell text (the engine judges it)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        reader.bad(key, "must be a number or a port name")
        return ""
    return str(value)


def read_service_manifest(text: str) -> ServiceDraft:
    """The first Service of a (multi-document) manifest; ManifestError if unusable."""
    doc = load_documents(text, "Service")[0]
    reader = Reader()
    draft = ServiceDraft()
    api = doc.get("apiVersion")
    if api != "v1":
        reader.bad("apiVersion", "is required: v1" if api is None else f"must be v1, not {api!r}")
    reader.ignore(doc, {"apiVersion", "kind", "metadata", "spec"}, "")
    meta = reader.mapping(doc.get("metadata"), "metadata")
    draft.name = reader.text(meta.get("name"), "metadata.name", required=True)
    draft.namespace = reader.text(meta.get("namespace"), "metadata.namespace")
    draft.labels = reader.strings(meta.get("labels"), "metadata.labels")
    draft.annotations = reader.strings(meta.get("annotations"), "metadata.annotations")
    reader.ignore(meta, META_KEYS, "metadata")

    spec = reader.mapping(doc.get("spec"), "spec")
    draft.type = reader.text(spec.get("type"), "spec.type")
    draft.selector = reader.strings(spec.get("selector"), "spec.selector")
    draft.session_affinity = reader.text(spec.get("sessionAffinity"), "spec.sessionAffinity")
    for i, item in enumerate(reader.sequence(spec.get("ports"), "spec.ports")):
        where = f"spec.ports[{i}]"
        port = reader.mapping(item, where)
        protocol = port.get("protocol", "TCP")
        if protocol != "TCP":
            reader.bad(
                f"{where}.protocol", f"must be TCP (the only protocol here), not {protocol!r}"
            )
        draft.ports.append({
            "name": reader.text(port.get("name"), f"{where}.name"),
            "port": _scalar(reader, port.get("port"), f"{where}.port"),
            "target_port": _scalar(reader, port.get("targetPort"), f"{where}.targetPort"),
            "node_port": _scalar(reader, port.get("nodePort"), f"{where}.nodePort"),
        })  # fmt: skip
        reader.ignore(port, PORT_KEYS, where)
    reader.ignore(spec, SPEC_KEYS, "spec")
    if reader.problems:
        raise ManifestError(reader.problems)
    draft.ignored = [k for k in reader.draft.ignored if k not in SERVER_SET]
    return draft


def service_draft(s: ServiceView) -> ServiceDraft:
    """An existing Service as the form's text (edit mode)."""
    spec = s.spec
    return ServiceDraft(
        name=s.name,
        namespace=s.namespace,
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
        selector=dict(spec.selector),
        type=spec.type,
        session_affinity=spec.session_affinity,
        ports=[
            {
                "name": p.name,
                "port": str(p.port),
                "target_port": str(p.target_port),
                "node_port": str(p.node_port) if p.node_port is not None else "",
            }
            for p in spec.ports
        ],
    )
