"""Views as Kubernetes-style manifests (plain dicts, ready for a YAML dump); no Qt here.

The spec is written the way ``ui/dialogs/pod_manifest.read_manifest`` reads it back, so a
pod's manifest imported into the pod form describes the same pod (container requests as
``resources.requests``, a pod CPU beyond its containers' sum as the pod-level
``spec.resources.requests.cpu`` of Kubernetes 1.32, a volume's mount path as each
container's ``volumeMounts``). Secrets never leave as values: a secret config item is an
``env`` entry with ``valueFrom.secretKeyRef`` naming it. A config item's own name is not in
a manifest (an ``env`` entry has only the variable's name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from kube9_desktop.engine.constraints import NodeAffinity, NodeSelectorTerm, Taint, Toleration
from kube9_desktop.engine.interpod import (
    PodAffinity,
    PodAffinityTerm,
    PodSelector,
    SpreadConstraint,
    TaintsPolicy,
)
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.model import (
    ContainerSpec,
    NodeView,
    PodView,
    Probe,
    VolumeSpec,
)
from kube9_desktop.engine.services import NODE_PORT, ServiceView
from kube9_desktop.engine.workloads import (
    RECREATE,
    DeploymentView,
    LabelSelector,
    PodTemplate,
    ReplicaSetView,
)

Manifest = dict[str, Any]
API_VERSIONS = {
    "Node": "v1", "Pod": "v1", "Service": "v1", "Deployment": "apps/v1", "ReplicaSet": "apps/v1",
}  # fmt: skip
PROBE_KEYS = {"exec": "exec", "tcp_socket": "tcpSocket", "http_get": "httpGet"}


# libyaml's emitter when PyYAML has it: the same text, about ten times faster (an export of
# 5,000 pods spent 93 % of its time in the pure-Python emitter).
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _PlainDumper(_SafeDumper):  # type: ignore[valid-type,misc]
    """Writes a value shared by two keys twice, as kubectl does, never as ``&id001`` anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _LiteralDumper(_PlainDumper):
    """Also writes a multi-line string as a ``|`` block (an embedded config, say)."""


def _literal(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _literal)


def to_yaml(manifest: Manifest, *, literal: bool = False) -> str:
    return yaml.dump(
        manifest, Dumper=_LiteralDumper if literal else _PlainDumper, sort_keys=False,
        allow_unicode=True, default_flow_style=False,
    )  # fmt: skip


def timestamp(at: datetime | None) -> str | None:
    """RFC 3339 in UTC, seconds precision, as Kubernetes writes ``creationTimestamp``."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cpu_quantity(cpu_m: int) -> str:
    """1000 -> "1", 250 -> "250m" (the shortest exact Kubernetes quantity)."""
    return str(cpu_m // 1000) if cpu_m % 1000 == 0 else f"{cpu_m}m"


def memory_quantity(mem_mi: int) -> str:
    return f"{mem_mi // 1024}Gi" if mem_mi and mem_mi % 1024 == 0 else f"{mem_mi}Mi"


def metadata(
    *,
    name: str,
    namespace: str | None,
    uid: str,
    resource_version: int,
    created_at: datetime,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    owner: ObjectRef | None = None,
) -> Manifest:
    meta: Manifest = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["uid"] = uid
    meta["resourceVersion"] = str(resource_version)
    meta["creationTimestamp"] = timestamp(created_at)
    if labels:
        meta["labels"] = dict(sorted(labels.items()))
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": API_VERSIONS.get(owner.kind, "apps/v1"),
                "kind": owner.kind,
                "name": owner.name,
                "uid": owner.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return meta


def probe_manifest(p: Probe) -> Manifest:
    out: Manifest = {}
    if p.kind == "exec":
        out["exec"] = {"command": list(p.command)}
    elif p.kind == "tcp_socket":
        out["tcpSocket"] = {"port": p.port}
    else:
        out["httpGet"] = {"path": p.path, "port": p.port}
    out["initialDelaySeconds"] = _number(p.initial_delay_s)
    out["periodSeconds"] = _number(p.period_s)
    out["timeoutSeconds"] = _number(p.timeout_s)
    out["failureThreshold"] = p.failure_threshold
    out["successThreshold"] = p.success_threshold
    return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def container_manifest(c: ContainerSpec, env: list[Manifest], mounts: list[Manifest]) -> Manifest:
    out: Manifest = {"name": c.name, "image": c.image}
    if c.command:
        out["command"] = list(c.command)
    if c.args:
        out["args"] = list(c.args)
    requests: Manifest = {}
    if c.cpu_m:
        requests["cpu"] = cpu_quantity(c.cpu_m)
    if c.mem_mi:
        requests["memory"] = memory_quantity(c.mem_mi)
    if requests:
        out["resources"] = {"requests": requests}
    if c.ports:
        out["ports"] = [
            {**({"name": p.name} if p.name else {}), "containerPort": p.container_port,
             "protocol": p.protocol}
            for p in c.ports
        ]  # fmt: skip
    if c.readiness is not None:
        out["readinessProbe"] = probe_manifest(c.readiness)
    if c.liveness is not None:
        out["livenessProbe"] = probe_manifest(c.liveness)
    if env:
        out["env"] = env
    if mounts:
        out["volumeMounts"] = mounts
    return out


def volume_manifest(v: VolumeSpec) -> Manifest:
    out: Manifest = {"name": v.name}
    if v.type == "emptyDir":
        out["emptyDir"] = {"sizeLimit": f"{v.size}Gi"} if v.size else {}
    elif v.type == "hostPath":
        out["hostPath"] = {"path": v.path} if v.path else {}
    elif v.type == "configMap":
        out["configMap"] = {"name": v.name}
    else:
        out["secret"] = {"secretName": v.name}
    return out


def pod_spec_manifest(t: PodTemplate, node_name: str | None = None) -> Manifest:
    """A pod's ``spec`` (or a template's ``spec.template.spec``)."""
    env: list[Manifest] = []
    for item in t.config:
        if item.is_secret:
            ref = {"secretKeyRef": {"name": item.name, "key": item.key}}
            env.append({"name": item.key, "valueFrom": ref})
        else:
            env.append({"name": item.key, "value": item.value})
    mounts = [{"name": v.name, "mountPath": v.path} for v in t.volumes if v.path]
    spec: Manifest = {}
    if node_name:
        spec["nodeName"] = node_name
    spec["containers"] = [container_manifest(c, env, mounts) for c in t.containers]
    containers_cpu = sum(c.cpu_m for c in t.containers)
    if t.request.cpu_m != containers_cpu:
        spec["resources"] = {"requests": {"cpu": cpu_quantity(t.request.cpu_m)}}
    if t.volumes:
        spec["volumes"] = [volume_manifest(v) for v in t.volumes]
    if t.node_selector:
        spec["nodeSelector"] = dict(sorted(t.node_selector.items()))
    if t.tolerations:
        spec["tolerations"] = [toleration_manifest(x) for x in t.tolerations]
    affinity: Manifest = {}
    if t.node_affinity:
        affinity["nodeAffinity"] = node_affinity_manifest(t.node_affinity)
    rules = t.interpod
    if rules is not None and rules.affinity:
        affinity["podAffinity"] = pod_affinity_manifest(rules.affinity)
    if rules is not None and rules.anti_affinity:
        affinity["podAntiAffinity"] = pod_affinity_manifest(rules.anti_affinity)
    if affinity:
        spec["affinity"] = affinity
    if rules is not None and rules.spread:
        spec["topologySpreadConstraints"] = [spread_manifest(c) for c in rules.spread]
    grace = t.termination_grace_s
    spec["terminationGracePeriodSeconds"] = int(grace) if grace == int(grace) else grace
    if t.priority_class_name:
        spec["priorityClassName"] = t.priority_class_name
    return spec


def toleration_manifest(t: Toleration) -> Manifest:
    out: Manifest = {"key": t.key} if t.key else {}
    out["operator"] = str(t.operator)
    if t.value:
        out["value"] = t.value
    if t.effect:
        out["effect"] = str(t.effect)
    if t.toleration_seconds is not None:
        out["tolerationSeconds"] = t.toleration_seconds
    return out


def node_affinity_manifest(a: NodeAffinity) -> Manifest:
    def term(t: NodeSelectorTerm) -> Manifest:
        exprs: list[Manifest] = []
        for r in t.match_expressions:
            expr: Manifest = {"key": r.key, "operator": r.operator}
            if r.values:
                expr["values"] = list(r.values)
            exprs.append(expr)
        return {"matchExpressions": exprs}

    out: Manifest = {}
    if a.required:
        out["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": [term(t) for t in a.required]
        }
    if a.preferred:
        out["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"weight": w, "preference": term(t)} for w, t in a.preferred
        ]
    return out


def pod_selector_manifest(s: PodSelector) -> Manifest:
    out: Manifest = {}
    if s.match_labels:
        out["matchLabels"] = dict(s.match_labels)
    if s.match_expressions:
        out["matchExpressions"] = [
            {
                "key": r.key,
                "operator": r.operator,
                **({"values": list(r.values)} if r.values else {}),
            }
            for r in s.match_expressions
        ]
    return out


def pod_term_manifest(t: PodAffinityTerm) -> Manifest:
    out: Manifest = {}
    if t.selector is not None:
        out["labelSelector"] = pod_selector_manifest(t.selector)
    if t.namespaces:
        out["namespaces"] = list(t.namespaces)
    out["topologyKey"] = t.topology_key
    return out


def pod_affinity_manifest(a: PodAffinity) -> Manifest:
    out: Manifest = {}
    if a.required:
        out["requiredDuringSchedulingIgnoredDuringExecution"] = [
            pod_term_manifest(t) for t in a.required
        ]
    if a.preferred:
        out["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"weight": w, "podAffinityTerm": pod_term_manifest(t)} for w, t in a.preferred
        ]
    return out


def spread_manifest(c: SpreadConstraint) -> Manifest:
    out: Manifest = {
        "maxSkew": c.max_skew,
        "topologyKey": c.topology_key,
        "whenUnsatisfiable": str(c.when_unsatisfiable),
    }
    if c.selector is not None:
        out["labelSelector"] = pod_selector_manifest(c.selector)
    if c.node_taints_policy is not TaintsPolicy.IGNORE:
        out["nodeTaintsPolicy"] = str(c.node_taints_policy)
    return out


def selector_manifest(s: LabelSelector) -> Manifest:
    out: Manifest = {}
    if s.match_labels:
        out["matchLabels"] = dict(sorted(s.match_labels.items()))
    if s.match_expressions:
        out["matchExpressions"] = [dict(e) for e in s.match_expressions]
    return out


def template_manifest(t: PodTemplate) -> Manifest:
    meta: Manifest = {}
    if t.labels:
        meta["labels"] = dict(sorted(t.labels.items()))
    if t.annotations:
        meta["annotations"] = dict(sorted(t.annotations.items()))
    return {"metadata": meta, "spec": pod_spec_manifest(t)}


def pod_template(p: PodView) -> PodTemplate:
    s = p.spec
    return PodTemplate(
        s.request, s.containers, s.volumes, s.config, s.labels, s.annotations,
        s.termination_grace_s, s.tolerations, s.node_selector, s.node_affinity, s.interpod,
        s.priority_class_name,
    )  # fmt: skip


def pod_manifest(p: PodView) -> Manifest:
    """A pod as ``kubectl get pod -o yaml`` shows one (the fields this cluster models)."""
    statuses = {c.name: c for c in p.containers}
    container_statuses = []
    for c in p.spec.containers:
        st = statuses.get(c.name)
        entry: Manifest = {
            "name": c.name,
            "image": c.image,
            "ready": bool(st and st.is_ready),
            "restartCount": st.restarts if st else 0,
            "state": {st.state if st else "waiting": {}},
        }
        if st is not None and (st.reason or st.exit_code is not None):
            detail: Manifest = {}
            if st.reason:
                detail["reason"] = st.reason
            if st.exit_code is not None:
                detail["exitCode"] = st.exit_code
            entry["state"] = {st.state: detail}
        container_statuses.append(entry)
    status: Manifest = {"phase": str(p.phase)}
    if p.reason:
        status["reason"] = p.reason
    if p.ip:
        status["podIP"] = p.ip
    status["conditions"] = [{"type": "Ready", "status": "True" if p.ready else "False"}]
    status["containerStatuses"] = container_statuses
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(
            name=p.name,
            namespace=p.namespace,
            uid=p.uid,
            resource_version=p.resource_version,
            created_at=p.created_at,
            labels=p.labels,
            annotations=p.annotations,
            owner=p.owner,
        ),
        "spec": pod_spec_manifest(pod_template(p), p.node_name),
        "status": status,
    }


def taints_manifest(taints: Sequence[Taint]) -> list[Manifest]:
    return [
        {"key": t.key, **({"value": t.value} if t.value else {}), "effect": str(t.effect)}
        for t in taints
    ]


def node_manifest(n: NodeView) -> Manifest:
    capacity = {
        "cpu": cpu_quantity(n.capacity.cpu_m),
        "memory": memory_quantity(n.capacity.mem_mi),
    }
    free = n.free
    ready = "True" if str(n.status) == "healthy" else "False"
    status: Manifest = {
        "phase": str(n.status),
        "capacity": capacity,
        "allocatable": capacity,
        "allocated": {
            "cpu": cpu_quantity(n.allocated.cpu_m),
            "memory": memory_quantity(n.allocated.mem_mi),
        },
        "free": {"cpu": cpu_quantity(free.cpu_m), "memory": memory_quantity(free.mem_mi)},
        "conditions": [
            {
                "type": "Ready",
                "status": ready,
                **({"reason": n.status_reason} if n.status_reason else {}),
                **({"lastHeartbeatTime": timestamp(n.last_heartbeat)} if n.last_heartbeat else {}),
            }
        ],
        "components": dict(sorted(n.components.items())),
        "nodeInfo": {"nodeType": str(n.node_type), "runtime": n.runtime},
    }
    if n.faults:
        status["faults"] = list(n.faults)
    spec: Manifest = {"unschedulable": True} if n.cordoned else {}
    if n.taints:
        spec["taints"] = taints_manifest(n.taints)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata(
            name=n.name,
            namespace=None,
            uid=n.uid,
            resource_version=n.resource_version,
            created_at=n.created_at,
            labels=n.labels,
            annotations=n.annotations,
        ),
        "spec": spec,
        "status": status,
    }


def replicaset_manifest(rs: ReplicaSetView) -> Manifest:
    spec: Manifest = {"replicas": rs.replicas, "selector": selector_manifest(rs.selector)}
    if rs.min_ready_seconds:
        spec["minReadySeconds"] = rs.min_ready_seconds
    spec["template"] = template_manifest(rs.template)
    st = rs.status
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": metadata(
            name=rs.name,
            namespace=rs.namespace,
            uid=rs.uid,
            resource_version=rs.resource_version,
            created_at=rs.created_at,
            labels=rs.labels,
            annotations=rs.annotations,
            owner=rs.owner,
        ),
        "spec": spec,
        "status": {
            "replicas": st.replicas,
            "fullyLabeledReplicas": st.fully_labeled,
            "readyReplicas": st.ready,
            "availableReplicas": st.available,
            "observedGeneration": rs.generation,
        },
    }


def deployment_manifest(d: DeploymentView) -> Manifest:
    s = d.spec
    strategy: Manifest = {"type": s.strategy.type}
    if s.strategy.type != RECREATE:
        strategy["rollingUpdate"] = {
            "maxSurge": s.strategy.max_surge,
            "maxUnavailable": s.strategy.max_unavailable,
        }
    spec: Manifest = {
        "replicas": s.replicas,
        "selector": selector_manifest(s.selector),
        "strategy": strategy,
        "minReadySeconds": s.min_ready_seconds,
        "progressDeadlineSeconds": s.progress_deadline_seconds,
        "revisionHistoryLimit": s.revision_history_limit,
    }
    if s.paused:
        spec["paused"] = True
    spec["template"] = template_manifest(s.template)
    st = d.status
    annotations = {**s.annotations, "deployment.kubernetes.io/revision": str(d.revision)}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(
            name=d.name,
            namespace=d.namespace,
            uid=d.uid,
            resource_version=d.resource_version,
            created_at=d.created_at,
            labels=s.labels,
            annotations=annotations,
        ),
        "spec": spec,
        "status": {
            "observedGeneration": st.observed_generation,
            "replicas": st.replicas,
            "updatedReplicas": st.updated,
            "readyReplicas": st.ready,
            "availableReplicas": st.available,
            "unavailableReplicas": st.unavailable,
            "conditions": [
                {
                    "type": c.type,
                    "status": c.status,
                    "reason": c.reason,
                    "message": c.message,
                    "lastUpdateTime": timestamp(c.last_update),
                    "lastTransitionTime": timestamp(c.last_transition),
                }
                for c in st.conditions
            ],
        },
    }


def service_manifest(v: ServiceView) -> Manifest:
    """A core/v1 Service; its endpoints as Kubernetes keeps them apart, in an EndpointSlice's
    shape under ``status.endpoints`` here (no such field in Kubernetes: read-only, for people)."""
    s = v.spec
    ports = []
    for p in s.ports:
        port: Manifest = {"port": p.port, "targetPort": p.target_port, "protocol": p.protocol}
        if p.name:
            port = {"name": p.name, **port}
        if s.type == NODE_PORT and p.node_port is not None:
            port["nodePort"] = p.node_port
        ports.append(port)
    spec: Manifest = {"type": s.type, "clusterIP": v.cluster_ip, "clusterIPs": [v.cluster_ip]}
    if s.selector:
        spec["selector"] = dict(sorted(s.selector.items()))
    spec["ports"] = ports
    spec["sessionAffinity"] = s.session_affinity
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(
            name=v.name,
            namespace=v.namespace,
            uid=v.uid,
            resource_version=v.resource_version,
            created_at=v.created_at,
            labels=s.labels,
            annotations=s.annotations,
        ),
        "spec": spec,
        "status": {
            "endpoints": [
                {
                    "addresses": [e.ip],
                    "conditions": {"ready": e.ready},
                    "nodeName": e.node_name,
                    "targetRef": {"kind": "Pod", "name": e.pod_name, "namespace": v.namespace},
                    "ports": [{"name": p.name, "port": p.port} for p in e.ports],
                }
                for e in v.endpoints
            ]
        },
    }


def manifest_path(m: Manifest) -> str:
    """Where an export puts a manifest: ``namespace/kind-name.yaml`` (nodes under ``_cluster``)."""
    meta = m["metadata"]
    folder = meta.get("namespace") or "_cluster"
    return f"{folder}/{m['kind'].lower()}-{meta['name']}.yaml"
