"""Manifests read into the forms (no Qt): a Pod's ports and probes, an apps/v1 Deployment with
its template, and an existing Deployment written back as form text exactly."""

from __future__ import annotations

import pytest
import yaml

from kube9_desktop.engine.manifests import pod_spec_manifest
from kube9_desktop.engine.model import PodSpec
from kube9_desktop.engine.specs import PodCreate, parse_body
from kube9_desktop.engine.workload_specs import DeploymentCreate, TemplateIn
from kube9_desktop.engine.workloads import PodTemplate
from kube9_desktop.ui.dialogs.deployment_fields import field_of
from kube9_desktop.ui.dialogs.deployment_manifest import (
    read_deployment_manifest,
    template_draft,
)
from kube9_desktop.ui.dialogs.pod_manifest import ManifestError, describe_extras, read_manifest

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
  labels: {tier: front}
  uid: ignored-by-us
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: "50%"}
  minReadySeconds: 2
  progressDeadlineSeconds: 30
  revisionHistoryLimit: 3
  template:
    metadata:
      labels: {app: web}
      name: not-used
    spec:
      nodeSelector: {disk: ssd}
      containers:
      - name: nginx
        image: nginx:1.25
        command: [nginx]
        args: ["-g", "daemon off;"]
        resources:
          requests: {cpu: 250m, memory: 128Mi}
        ports:
        - {containerPort: 80, name: http, hostPort: 8080}
        readinessProbe:
          httpGet: {path: /healthz, port: http, scheme: HTTP}
          periodSeconds: 2
        livenessProbe:
          tcpSocket: {port: 80}
          initialDelaySeconds: 5
        env:
        - {name: MODE, value: fast}
"""


def test_pod_manifest_reads_ports_and_probes_as_the_request_has_them() -> None:
    draft = read_manifest(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: app\n    image: busybox\n    resources: {requests: {cpu: 100m}}\n"
        "    ports: [{containerPort: 8080, name: web}]\n"
        "    readinessProbe: {exec: {command: [cat, /ready]}, failureThreshold: 5}\n"
    )
    (extra,) = draft.container_extras
    assert extra == {
        "ports": [{"container_port": 8080, "name": "web"}],
        "readiness_probe": {"exec": {"command": ["cat", "/ready"]}, "failure_threshold": 5},
    }
    assert describe_extras(extra) == "ports 8080/web · readiness exec"


def test_deployment_manifest_fills_every_field_and_lists_what_it_ignores() -> None:
    d = read_deployment_manifest(DEPLOYMENT)
    assert (d.name, d.namespace, d.labels, d.replicas) == ("web", "team-a", {"tier": "front"}, "4")
    assert d.selector == {"app": "web"}
    assert (d.strategy, d.max_surge, d.max_unavailable) == ("RollingUpdate", "1", "50%")
    assert (d.min_ready_seconds, d.progress_deadline_seconds, d.revision_history_limit) == (
        "2", "30", "3"
    )  # fmt: skip
    t = d.template
    assert t.labels == {"app": "web"}
    assert t.containers == [
        {"name": "nginx", "image": "nginx:1.25", "cpu": "250m", "memory": "128Mi",
         "command": "nginx", "args": "-g 'daemon off;'"}
    ]  # fmt: skip
    (extra,) = t.container_extras
    assert extra["ports"] == [{"container_port": 80, "name": "http"}]
    assert extra["readiness_probe"] == {
        "http_get": {"path": "/healthz", "port": "http"},
        "period_s": 2,
    }
    assert extra["liveness_probe"] == {"tcp_socket": {"port": 80}, "initial_delay_s": 5}
    assert [c["key"] for c in t.config] == ["MODE"]
    assert t.scheduling == {"node_selector": {"disk": "ssd"}}
    assert set(d.ignored) == {
        "metadata.uid",
        "spec.template.metadata.name",
        "spec.template.spec.containers[0].ports[0].hostPort",
        "spec.template.spec.containers[0].readinessProbe.httpGet.scheme",
    }
    assert d.manifest_key("template.containers[0].cpu") == (
        "spec.template.spec.containers[0].resources.requests.cpu"
    )
    assert d.manifest_key("max_surge") == "spec.strategy.rollingUpdate.maxSurge"


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("kind: Pod\n", "kind: is Pod; only kind: Deployment"),
        ("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\n", "must be apps/v1"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
         "spec.replicas: must be a whole number"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector:\n"
         "    matchExpressions: [{key: app, operator: In, values: [a]}]\n",
         "spec.selector.matchExpressions: is not supported"),
    ],
)  # fmt: skip
def test_broken_deployment_manifests_name_the_key(manifest: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        read_deployment_manifest(manifest)
    assert expected in str(caught.value)


def test_a_template_written_back_as_form_text_is_the_same_template() -> None:
    """The Edit form starts from template_draft: sent back untouched, no rollout."""
    body = {
        "name": "web",
        "template": {
            "labels": {"app": "web"},
            "annotations": {"note": "kept"},
            "cpu_cores_req": "750m",
            "containers": [
                {"name": "a", "image": "nginx:1", "cpu_req": 0.25, "memory_req": "96Mi",
                 "command": ["sh", "-c"], "args": ["echo 'hi there' && sleep 1"],
                 "ports": [{"container_port": 80, "name": "http"}],
                 "readiness_probe": {"http_get": {"port": "http", "path": "/x"}, "period_s": 0.5}},
                {"name": "b", "image": "redis:7", "cpu_req": 0.5,
                 "liveness_probe": {"exec": {"command": ["true"]}}},
            ],
            "volumes": [{"name": "data", "type": "emptyDir", "size": 2, "path": "/data"}],
            "config": [{"name": "s", "type": "secret", "key": "K", "value": "v"}],
            "node_selector": {"disk": "ssd"},
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "pod_anti_affinity": {"required": [{"label_selector": {"match_labels": {"app": "web"}},
                                                "topology_key": "kubernetes.io/hostname"}]},
            "topology_spread_constraints": [{"max_skew": 1, "topology_key": "zone",
                                             "when_unsatisfiable": "ScheduleAnyway"}],
        },
    }  # fmt: skip
    template = parse_body(DeploymentCreate, body).to_spec().template
    draft = template_draft(template)
    rows = []
    for row, extra in zip(draft.containers, draft.container_extras, strict=True):
        out = {k: row[k] for k in ("name", "image", "command", "args") if row[k]}
        out.update({"cpu_req": row["cpu"]} if row["cpu"] else {})
        out.update({"memory_req": row["memory"]} if row["memory"] else {})
        rows.append({**out, **extra})
    again = {
        "labels": draft.labels,
        "annotations": draft.annotations,
        "containers": rows,
        "volumes": [{**v, "size": int(v["size"])} for v in draft.volumes],
        "config": draft.config,
        **draft.scheduling,
    }
    if draft.cpu:
        again["cpu_cores_req"] = draft.cpu
    assert parse_body(TemplateIn, again).to_template() == template


@pytest.mark.parametrize(
    ("path", "message", "where", "shown"),
    [
        ("replicas", "input should be ≥ 0", "replicas", "input should be ≥ 0"),
        ("strategy.max_surge", "must be …", "max_surge", "must be …"),
        ("strategy.type", "input should be …", "strategy", "input should be …"),
        ("strategy", "strategy: max_surge … go with RollingUpdate", "strategy",
         "max_surge … go with RollingUpdate"),
        ("template.containers[0].image", "bad", "template:containers[0].image", "bad"),
        ("selector['-x']", "key name must …", "selector", "'-x': key name must …"),
        ("labels['-x']", "key name must …", "labels", "'-x': key name must …"),
        ("(body)", "progress_deadline_seconds: must be longer than min_ready_seconds",
         "progress_deadline_seconds", "must be longer than min_ready_seconds"),
        ("(body)", "The body must be a JSON object", "(form)", "The body must be a JSON object"),
        ("paused", "input should be a valid boolean", "(form)", "input should be a valid boolean"),
    ],
)  # fmt: skip
def test_request_paths_land_on_the_deployment_forms_fields(
    path: str, message: str, where: str, shown: str
) -> None:
    assert field_of(path, message) == (where, shown)


AFFINE_POD = """
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]
  nodeSelector: {disktype: ssd}
  tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        podAffinityTerm:
          labelSelector: {matchLabels: {app: cache}}
          topologyKey: topology.kubernetes.io/zone
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchExpressions: [{key: app, operator: In, values: [web]}]
        namespaces: [default]
        namespaceSelector: {}
        topologyKey: kubernetes.io/hostname
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: web}}
    minDomains: 2
"""


def test_a_pod_manifest_reads_affinity_spread_and_tolerations_as_request_fields() -> None:
    """Kubernetes' placement keys become the request's fields; what is not modelled
    (namespaceSelector, minDomains) is listed as ignored, and the engine takes the rest."""
    draft = read_manifest(AFFINE_POD)
    assert set(draft.ignored) == {
        "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
        ".namespaceSelector",
        "spec.topologySpreadConstraints[0].minDomains",
    }
    s = draft.scheduling
    assert s["pod_anti_affinity"]["required"] == [{
        "label_selector": {"match_expressions": [
            {"key": "app", "operator": "In", "values": ["web"]}]},
        "namespaces": ["default"], "topology_key": "kubernetes.io/hostname",
    }]  # fmt: skip
    assert s["topology_spread_constraints"] == [{
        "max_skew": 1, "topology_key": "topology.kubernetes.io/zone",
        "when_unsatisfiable": "DoNotSchedule",
        "label_selector": {"match_labels": {"app": "web"}},
    }]  # fmt: skip
    body = {
        "name": draft.name, "labels": draft.labels,
        "containers": [{"name": "c", "image": "nginx", "cpu_req": 0.1}], **s,
    }  # fmt: skip
    spec = parse_body(PodCreate, body).to_spec()
    assert spec.node_selector == {"disktype": "ssd"} and spec.tolerations
    assert spec.node_affinity is not None and spec.interpod is not None
    assert spec.interpod.affinity is not None and spec.interpod.affinity.preferred[0][0] == 50
    assert draft.manifest_key("pod_anti_affinity") == "spec.affinity.podAntiAffinity"


def pod_template_of(s: PodSpec) -> PodTemplate:
    return PodTemplate(
        s.request, s.containers, s.volumes, s.config, s.labels, s.annotations,
        s.termination_grace_s, s.tolerations, s.node_selector, s.node_affinity, s.interpod,
    )  # fmt: skip


def test_an_exported_manifest_reads_back_as_the_same_rules() -> None:
    """manifests.pod_spec_manifest (the YAML view and export) and the reader agree."""
    spec = parse_body(PodCreate, {
        "name": "p", "containers": [{"name": "c", "image": "nginx", "cpu_req": 0.1}],
        **read_manifest(AFFINE_POD).scheduling,
    }).to_spec()  # fmt: skip
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": pod_spec_manifest(pod_template_of(spec))}  # fmt: skip
    again = read_manifest(yaml.safe_dump(manifest))
    body = {"name": "p", "containers": [{"name": "c", "image": "nginx", "cpu_req": 0.1}],
            **again.scheduling}  # fmt: skip
    assert parse_body(PodCreate, body).to_spec() == spec
