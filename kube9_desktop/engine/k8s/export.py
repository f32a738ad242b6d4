"""The cluster exported for a real Kubernetes: manifests ``kubectl apply`` takes, a kind config.

One exporter for every entry point (``kube9-desktop export --kubernetes DIR``, the window's
File > Export for Kubernetes…, ``GET /export/kubernetes``). It starts from the objects this
cluster's Kubernetes API serves (``objects.py``) and takes away what a real cluster sets for
itself or would not know: uids, resource versions, times, generations, owner references,
status, node placement, cluster IPs, Kube-9's own ``kube9.io/`` annotations. What has no
faithful Kubernetes form is listed (``Export.left_out``): in the README and on stderr, never
dropped in silence.

Layout of an export folder, one file per object so a diff names the object::

    README.txt            the two commands, the node mapping, what was left out
    kind-config.yaml      kind.x-k8s.io/v1alpha4 Cluster: a control plane, a worker per node
    manifests/00-namespace-team.yaml
    manifests/10-service-default.web.yaml
    manifests/20-deployment-default.api.yaml
    manifests/30-replicaset-…, manifests/40-pod-…

``kubectl apply -f manifests/`` reads a folder's files in name order, so namespaces exist
before what lives in them (a namespace name has no dot, so ``namespace.name`` is unique).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kube9_desktop.engine.errors import Conflict, EnvironmentProblem, UserError
from kube9_desktop.engine.k8s.objects import (
    CONTROL_PLANE_LABEL,
    deployment_object,
    namespace_object,
    pod_object,
    replicaset_object,
    service_object,
)
from kube9_desktop.engine.manifests import taints_manifest, to_yaml
from kube9_desktop.engine.meta import SYSTEM_NAMESPACES
from kube9_desktop.engine.model import NamespaceView, NodeType, NodeView, PodPhase, PodView
from kube9_desktop.engine.noexecute import CONDITION_KEYS
from kube9_desktop.engine.services import ServiceView
from kube9_desktop.engine.workloads import DeploymentView, ReplicaSetView

Obj = dict[str, Any]

MANIFESTS = "manifests"
KIND_CONFIG = "kind-config.yaml"
README = "README.txt"
KIND_API = "kind.x-k8s.io/v1alpha4"
KIND_NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,48}[a-z0-9])?")  # its nodes' names derive from it
# Set by the cluster that serves the object (or by kubectl for itself): a real cluster sets
# its own, so an export carries none of them.
SERVER_ANNOTATIONS = frozenset(
    {"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"}
)
SERVER_LABELS = frozenset({"kubernetes.io/metadata.name"})  # a namespace's own name
ORDER = {"Namespace": 0, "Service": 10, "Deployment": 20, "ReplicaSet": 30, "Pod": 40}
# The kubernetes.io / k8s.io labels a kubelet may set on its own node (the NodeRestriction
# admission plugin); kind sets node labels through the kubelet, so any other such label
# would stop the node from joining.
KUBELET_LABELS = frozenset(
    {
        "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type", "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
    }
)  # fmt: skip
KUBELET_LABEL_PREFIXES = ("kubelet.kubernetes.io/", "node.kubernetes.io/")
HOSTNAME = "kubernetes.io/hostname"
DEFAULT_MASTER_TAINTS = [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}]  # kubeadm's


class ClusterReads(Protocol):
    """What the exporter reads: the Engine's reads (and the window's bridge) answer these."""

    def nodes(self) -> Sequence[NodeView]: ...
    def namespaces(self) -> Sequence[NamespaceView]: ...
    def deployments(self) -> Sequence[DeploymentView]: ...
    def replicasets(self) -> Sequence[ReplicaSetView]: ...
    def services(self) -> Sequence[ServiceView]: ...
    def pods(self) -> Sequence[PodView]: ...


@dataclass(frozen=True)
class Snapshot:
    """The views an export reads, taken at once on the engine's loop, so the export itself
    may be built off it (``asyncio.to_thread``): the views are frozen."""

    node_views: tuple[NodeView, ...]
    namespace_views: tuple[NamespaceView, ...]
    deployment_views: tuple[DeploymentView, ...]
    replicaset_views: tuple[ReplicaSetView, ...]
    service_views: tuple[ServiceView, ...]
    pod_views: tuple[PodView, ...]

    @classmethod
    def of(cls, reads: ClusterReads) -> Snapshot:
        return cls(
            tuple(reads.nodes()), tuple(reads.namespaces()), tuple(reads.deployments()),
            tuple(reads.replicasets()), tuple(reads.services()), tuple(reads.pods()),
        )  # fmt: skip

    def nodes(self) -> Sequence[NodeView]:
        return self.node_views

    def namespaces(self) -> Sequence[NamespaceView]:
        return self.namespace_views

    def deployments(self) -> Sequence[DeploymentView]:
        return self.deployment_views

    def replicasets(self) -> Sequence[ReplicaSetView]:
        return self.replicaset_views

    def services(self) -> Sequence[ServiceView]:
        return self.service_views

    def pods(self) -> Sequence[PodView]:
        return self.pod_views


@dataclass(frozen=True, slots=True)
class LeftOut:
    """Something Kube-9 models that the export could not carry over faithfully, and why."""

    what: str  # "Pod default/web annotation kube9.io/usage-cpu"
    why: str  # what it meant here, and what to do on the real cluster

    def line(self) -> str:
        """One line, whatever a value held (a newline in a YAML comment would be YAML)."""
        text = f"{self.what}: {self.why}"
        return text.replace("\r", "\\r").replace("\n", "\\n")


@dataclass(frozen=True, slots=True)
class KindNode:
    """A Kube-9 node and the kind node it becomes (kind names its nodes itself)."""

    kube9_name: str
    kind_name: str
    role: str  # control-plane | worker


@dataclass(frozen=True)
class Export:
    """What an export writes: ``files`` maps a path relative to the folder to its text."""

    manifests: dict[str, Obj]  # "manifests/20-deployment-default.api.yaml" -> the object
    kind_config: Obj
    nodes: tuple[KindNode, ...]
    left_out: tuple[LeftOut, ...]
    files: dict[str, str] = field(default_factory=dict)

    def stream(self) -> str:
        """Every manifest as one YAML stream in apply order (``kubectl apply -f -``), what
        was left out first, as comments."""
        head = "".join(f"# not carried over: {item.line()}\n" for item in self.left_out)
        return head + "".join("---\n" + self.files[path] for path in sorted(self.manifests))

    def to_json(self) -> dict[str, Any]:
        """The folder's files and what was left out (``GET /export/kubernetes?format=json``)."""
        return {
            "files": dict(sorted(self.files.items())),
            "leftOut": [{"what": i.what, "why": i.why} for i in self.left_out],
            "nodes": [{"kube9": m.kube9_name, "kind": m.kind_name, "role": m.role}
                      for m in self.nodes],
        }  # fmt: skip


class _Notes:
    def __init__(self) -> None:
        self.items: list[LeftOut] = []

    def add(self, what: str, why: str) -> None:
        self.items.append(LeftOut(what, why))


# ---- objects ---------------------------------------------------------------------------------


def _is_kube9(key: str) -> bool:
    domain = key.partition("/")[0] if "/" in key else ""
    return domain == "kube9.io" or domain.endswith(".kube9.io")


def _clean_meta(meta: Obj, where: str, notes: _Notes) -> Obj:
    """Only what a person writes: name, namespace, labels, annotations (less server ones)."""
    out: Obj = {"name": meta["name"]}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    labels = {k: v for k, v in meta.get("labels", {}).items() if k not in SERVER_LABELS}
    if labels:
        out["labels"] = labels
    annotations = _clean_annotations(meta.get("annotations", {}), where, notes)
    if annotations:
        out["annotations"] = annotations
    return out


def _clean_annotations(annotations: dict[str, str], where: str, notes: _Notes) -> dict[str, str]:
    """Less the server's and Kube-9's own; an object's ``kube9.io/`` ones are one note."""
    out, ours = {}, []
    for key, value in annotations.items():
        if key in SERVER_ANNOTATIONS:
            continue
        if _is_kube9(key):
            ours.append(f"{key}={value}")
            continue
        out[key] = value
    if ours:
        notes.add(
            f"{where} annotation{'s' if len(ours) > 1 else ''} {', '.join(ours)}",
            "Kube-9 settings (modelled usage, a pod limit) that no real kubelet reads",
        )
    return out


def _clean_pod_spec(spec: Obj, where: str, notes: _Notes, needs: set[str]) -> Obj:
    spec = copy.deepcopy(spec)
    spec.pop("nodeName", None)  # the real scheduler places it
    volumes = []
    for v in spec.get("volumes", ()):
        if "hostPath" in v and not v["hostPath"].get("path"):
            notes.add(
                f"{where} volume {v['name']} (hostPath, no path)",
                "Kubernetes requires a hostPath's path; this volume was mounted nowhere, so it "
                "is left out",
            )
            continue
        if "configMap" in v:
            notes.add(
                f"{where} volume {v['name']} (configMap {v['configMap']['name']})",
                "Kube-9 keeps no ConfigMap objects: create it before the pod can start "
                f"(kubectl create configmap {v['configMap']['name']} --from-file=…)",
            )
        if "secret" in v:
            notes.add(
                f"{where} volume {v['name']} (secret {v['secret']['secretName']})",
                "Kube-9 keeps no Secret objects: create it before the pod can start "
                f"(kubectl create secret generic {v['secret']['secretName']} --from-file=…)",
            )
        volumes.append(v)
    if volumes:
        spec["volumes"] = volumes
    else:
        spec.pop("volumes", None)
    secrets: dict[tuple[str, str], None] = {}
    for c in spec["containers"]:
        for e in c.get("env", ()):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secrets[(ref["name"], ref["key"])] = None
    for name, key in secrets:
        notes.add(
            f"{where} secret {name} (key {key})",
            "secret values never leave Kube-9: create the Secret before the pod can start "
            f"(kubectl create secret generic {name} --from-literal={key}=…)",
        )
    if "resources" in spec and len(spec["containers"]) == 1:
        # One container: the pod's CPU is that container's, which any cluster understands.
        c = spec["containers"][0]
        requests = c.get("resources", {}).get("requests", {})
        c["resources"] = {
            "requests": {
                "cpu": spec.pop("resources")["requests"]["cpu"],
                **{k: v for k, v in requests.items() if k != "cpu"},
            }
        }
        spec["containers"][0] = _resources_after_args(spec["containers"][0])
    if "resources" in spec:
        needs.add("PodLevelResources")
    return spec


def _resources_after_args(c: Obj) -> Obj:
    """A container's keys in the order ``manifests.container_manifest`` writes them."""
    order = ["name", "image", "command", "args", "resources"]
    return {**{k: c[k] for k in order if k in c}, **{k: v for k, v in c.items() if k not in order}}


def namespace_manifest(ns: NamespaceView, notes: _Notes) -> Obj:
    obj = namespace_object(ns)
    return _object(obj, _clean_meta(obj["metadata"], f"Namespace {ns.name}", notes))


def service_manifest(v: ServiceView, notes: _Notes) -> Obj:
    obj = service_object(v)
    spec = {
        k: val
        for k, val in obj["spec"].items()
        if k not in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")
    }  # the real cluster allocates its own address (Kube-9's are 127.96.x.x)
    meta = _clean_meta(obj["metadata"], f"Service {v.namespace}/{v.name}", notes)
    return _object(obj, meta, spec)


def _workload(obj: Obj, where: str, notes: _Notes, needs: set[str]) -> Obj:
    meta = _clean_meta(obj["metadata"], where, notes)
    spec = copy.deepcopy(obj["spec"])
    template = spec["template"]
    tmeta = template.get("metadata", {})
    if tmeta.get("annotations"):
        tmeta["annotations"] = _clean_annotations(tmeta["annotations"], f"{where} template", notes)
        if not tmeta["annotations"]:
            del tmeta["annotations"]
    template["spec"] = _clean_pod_spec(template["spec"], where, notes, needs)
    return _object(obj, meta, spec)


def deployment_manifest(d: DeploymentView, notes: _Notes, needs: set[str]) -> Obj:
    return _workload(deployment_object(d), f"Deployment {d.namespace}/{d.name}", notes, needs)


def replicaset_manifest(rs: ReplicaSetView, notes: _Notes, needs: set[str]) -> Obj:
    return _workload(replicaset_object(rs), f"ReplicaSet {rs.namespace}/{rs.name}", notes, needs)


def pod_manifest(p: PodView, notes: _Notes, needs: set[str]) -> Obj:
    obj = pod_object(p)
    where = f"Pod {p.namespace}/{p.name}"
    meta = _clean_meta(obj["metadata"], where, notes)
    return _object(obj, meta, _clean_pod_spec(obj["spec"], where, notes, needs))


def _object(obj: Obj, meta: Obj, spec: Obj | None = None) -> Obj:
    out: Obj = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta}
    if spec:
        out["spec"] = spec
    return out


def manifest_file(m: Obj) -> str:
    """``manifests/20-deployment-default.api.yaml``: apply order, kind, namespace.name."""
    meta = m["metadata"]
    name = f"{meta['namespace']}.{meta['name']}" if meta.get("namespace") else meta["name"]
    return f"{MANIFESTS}/{ORDER[m['kind']]:02d}-{m['kind'].lower()}-{name}.yaml"


# ---- nodes -----------------------------------------------------------------------------------


def _kubelet_may_set(key: str) -> bool:
    domain = key.partition("/")[0] if "/" in key else ""
    kube = domain in ("kubernetes.io", "k8s.io") or domain.endswith((".kubernetes.io", ".k8s.io"))
    return not kube or key in KUBELET_LABELS or key.startswith(KUBELET_LABEL_PREFIXES)


def _kind_node(n: NodeView, role: str, kind_name: str, notes: _Notes) -> Obj:
    node: Obj = {"role": role}
    labels = {}
    for key, value in sorted(n.labels.items()):
        if key == HOSTNAME:
            continue  # kind names the node itself
        if key == CONTROL_PLANE_LABEL and role == "control-plane":
            continue  # kubeadm sets it
        if not _kubelet_may_set(key):
            notes.add(
                f"Node {n.name} label {key}={value}",
                "a kubelet may not set this label on its own node (NodeRestriction): label "
                f"it once the cluster runs (kubectl label node {kind_name} {key}={value})",
            )
            continue
        labels[key] = value
    if labels:
        node["labels"] = labels
    taints = [t for t in n.taints if t.key not in CONDITION_KEYS]
    manifest = taints_manifest(taints)
    if role == "worker" and manifest:
        node["kubeadmConfigPatches"] = [_patch("JoinConfiguration", manifest)]
    elif role == "control-plane" and manifest != DEFAULT_MASTER_TAINTS:
        node["kubeadmConfigPatches"] = [_patch("InitConfiguration", manifest)]
    _clean_annotations(dict(sorted(n.annotations.items())), f"Node {n.name}", notes)
    for key, value in sorted(n.annotations.items()):
        if not _is_kube9(key) and key not in SERVER_ANNOTATIONS:
            notes.add(
                f"Node {n.name} annotation {key}={value}",
                f"kind sets no node annotations: kubectl annotate node {kind_name} {key}={value}",
            )
    if n.cordoned:
        notes.add(
            f"Node {n.name} is cordoned",
            f"kind starts every node schedulable: kubectl cordon {kind_name}",
        )
    return node


def _patch(kind: str, taints: list[Obj]) -> str:
    """A kubeadm config patch giving the node exactly these taints (none: an empty list)."""
    return to_yaml({"kind": kind, "nodeRegistration": {"taints": taints}})


def kind_config(
    nodes: Iterable[NodeView], cluster_name: str, notes: _Notes, needs: set[str]
) -> tuple[Obj, tuple[KindNode, ...]]:
    """One control plane (the first Kube-9 master's labels and taints) and one worker per
    Kube-9 worker, named as kind will name them: ``<name>-control-plane``, ``<name>-worker``,
    ``<name>-worker2``…"""
    ordered = sorted(nodes, key=lambda n: n.id)
    masters = [n for n in ordered if n.node_type is NodeType.MASTER]
    workers = [n for n in ordered if n.node_type is not NodeType.MASTER]
    mapping: list[KindNode] = []
    plane_name = f"{cluster_name}-control-plane"
    if masters:
        config_nodes = [_kind_node(masters[0], "control-plane", plane_name, notes)]
        mapping.append(KindNode(masters[0].name, plane_name, "control-plane"))
    else:
        config_nodes = [{"role": "control-plane"}]
    for extra in masters[1:]:
        notes.add(
            f"Node {extra.name} (a second master)",
            "this kind config has one control plane; add a control-plane node by hand for "
            "an HA control plane",
        )
    for i, n in enumerate(workers, start=1):
        kind_name = f"{cluster_name}-worker" + (str(i) if i > 1 else "")
        config_nodes.append(_kind_node(n, "worker", kind_name, notes))
        mapping.append(KindNode(n.name, kind_name, "worker"))
    config: Obj = {"kind": "Cluster", "apiVersion": KIND_API, "name": cluster_name}
    if needs:
        config["featureGates"] = {gate: True for gate in sorted(needs)}
    config["nodes"] = config_nodes
    return config, tuple(mapping)


# ---- the whole export ------------------------------------------------------------------------


def export_cluster(reads: ClusterReads, cluster_name: str = "kube9") -> Export:
    """The cluster as manifests and a kind config, with everything left out named."""
    if not KIND_NAME.fullmatch(cluster_name):
        raise UserError(
            f"{cluster_name[:70]!r} cannot name a kind cluster: lower-case letters, digits and "
            "'-', starting and ending with a letter or digit, at most 50 characters.",
            field="kind_name",
        )
    notes = _Notes()
    needs: set[str] = set()
    objects: list[Obj] = []
    for ns in sorted(reads.namespaces(), key=lambda n: n.name):
        if ns.name not in SYSTEM_NAMESPACES:
            objects.append(namespace_manifest(ns, notes))
    for svc in sorted(reads.services(), key=lambda s: (s.namespace, s.name)):
        objects.append(service_manifest(svc, notes))
    for d in sorted(reads.deployments(), key=lambda d: (d.namespace, d.name)):
        objects.append(deployment_manifest(d, notes, needs))
    for rs in sorted(reads.replicasets(), key=lambda r: (r.namespace, r.name)):
        if rs.owner is None:  # a Deployment's ReplicaSets come back from the Deployment
            objects.append(replicaset_manifest(rs, notes, needs))
    for p in sorted(reads.pods(), key=lambda p: (p.namespace, p.name)):
        if p.owner is not None:  # its ReplicaSet makes it again
            continue
        if p.phase is PodPhase.TERMINATING:
            notes.add(f"Pod {p.namespace}/{p.name}", "it is being deleted, so it is left out")
            continue
        objects.append(pod_manifest(p, notes, needs))
    if "PodLevelResources" in needs:
        notes.add(
            "pod-level CPU requests (spec.resources)",
            "an alpha feature in Kubernetes 1.33: kind-config.yaml turns on the "
            "PodLevelResources feature gate; another cluster needs it on too",
        )
    config, mapping = kind_config(reads.nodes(), cluster_name, notes, needs)
    renamed = {m.kube9_name: m.kind_name for m in mapping}
    for m in objects:
        _note_hostnames(m, renamed, notes)
    manifests = {manifest_file(m): m for m in objects}
    left = tuple(notes.items)
    files = {path: to_yaml(m) for path, m in manifests.items()}
    files[KIND_CONFIG] = to_yaml(config, literal=True)
    files[README] = readme_text(cluster_name, len(manifests), mapping, left)
    return Export(manifests, config, mapping, left, files)


def _note_hostnames(m: Obj, renamed: dict[str, str], notes: _Notes) -> None:
    """A pod that picks a node by ``kubernetes.io/hostname`` names a Kube-9 node: kind's
    node has another name, so the manifest needs that name (it is listed, not rewritten)."""
    spec = m.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec) if m["kind"] != "Pod" else spec
    names = []
    if HOSTNAME in pod.get("nodeSelector", {}):
        names.append(pod["nodeSelector"][HOSTNAME])
    required = pod.get("affinity", {}).get("nodeAffinity", {})
    terms = required.get("requiredDuringSchedulingIgnoredDuringExecution", {})
    preferred = required.get("preferredDuringSchedulingIgnoredDuringExecution", [])
    for term in [*terms.get("nodeSelectorTerms", []), *(p["preference"] for p in preferred)]:
        for expr in term.get("matchExpressions", []):
            if expr["key"] == HOSTNAME:
                names += expr.get("values", [])
    for name in dict.fromkeys(names):
        kind_name = renamed.get(name)
        meta = m["metadata"]
        where = f"{m['kind']} {meta.get('namespace', '')}/{meta['name']}"
        notes.add(
            f"{where} picks node {name} by {HOSTNAME}",
            f"kind names that node {kind_name}: change the manifest to match"
            if kind_name
            else "no node of that name is exported",
        )


def readme_text(
    cluster_name: str, count: int, mapping: Sequence[KindNode], left: Sequence[LeftOut]
) -> str:
    lines = [
        f"Kube-9 Desktop cluster exported for Kubernetes: {count} manifest(s) in {MANIFESTS}/",
        "(one file per object, applied in file-name order: namespaces first) and a kind",
        "cluster with one node per Kube-9 node in kind-config.yaml.",
        "",
        "From this folder:",
        "",
        f"  kind create cluster --config {KIND_CONFIG}",
        f"  kubectl apply -f {MANIFESTS}/",
        "",
        "Any cluster will do for the second command (kubectl apply -f manifests/ --context …).",
        f"kind names its nodes itself (cluster '{cluster_name}'):",
        "",
    ]
    lines += [f"  {m.kube9_name} -> {m.kind_name} ({m.role})" for m in mapping] or ["  (none)"]
    lines += [
        "",
        "Not carried over (uids, versions, times, status, node placement and cluster IPs never",
        "are: the new cluster sets its own; nodes keep no CPU or memory size under kind):",
        "",
    ]
    lines += [f"  - {item.line()}" for item in left] or ["  nothing else"]
    return "\n".join(lines) + "\n"


# ---- writing it ------------------------------------------------------------------------------

OUR_MANIFEST = re.compile(r"^\d\d-[a-z]+-[^/]+\.yaml$")  # what --force may replace


def check_folder(folder: Path, *, force: bool = False) -> None:
    """Refuse a file, or a folder holding anything already unless ``force`` (``Conflict``)."""
    if folder.exists() and not folder.is_dir():
        raise Conflict(f"{folder} is a file, not a folder: name a new or empty folder.")
    try:
        entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        raise EnvironmentProblem(f"Cannot read the folder {folder} ({exc.strerror}).") from exc
    if entries and not force:
        shown = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
        raise Conflict(
            f"{folder} is not empty ({len(entries)} entries: {shown}): name a new or empty "
            "folder, or pass --force to write over an earlier export there."
        )


def write_export(export: Export, folder: Path, *, force: bool = False) -> list[Path]:
    """Write the export's files under ``folder`` (made if missing).

    A folder that holds anything already is refused (``Conflict``) unless ``force``: then
    README.txt and kind-config.yaml are written over and the manifests an earlier export left
    in ``manifests/`` are removed first (an object deleted since must not come back with the
    next ``kubectl apply``); any other file stays. A folder that cannot be made or written is
    an ``EnvironmentProblem`` naming the path and the system's reason.
    """
    try:
        check_folder(folder, force=force)
        manifests = folder / MANIFESTS
        if force and manifests.is_dir():
            for old in manifests.iterdir():
                if OUR_MANIFEST.match(old.name) and old.is_file():
                    old.unlink()
        written = []
        for rel, text in sorted(export.files.items()):
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written
    except OSError as exc:
        where = exc.filename or folder
        raise EnvironmentProblem(
            f"Cannot write the export to {where} ({exc.strerror or exc}): choose a folder "
            "you can write to."
        ) from exc
