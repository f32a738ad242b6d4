"""The resources this API serves, declared once: discovery, routes and reads all come from here.

Each ``Resource`` says its names (as Kubernetes spells them), whether it is namespaced, the
verbs served (only ``get`` and ``list`` so far: no write is pretended), how to read its views
from the engine and turn one into an object, and which field selectors it takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kube9_desktop.engine.k8s.events import event_id_of, event_namespace, event_object
from kube9_desktop.engine.k8s.leases import find_lease, lease_object, leases
from kube9_desktop.engine.k8s.metrics import (
    find_node_metrics,
    find_pod_metrics,
    node_metrics,
    node_metrics_object,
    pod_metrics,
    pod_metrics_object,
)
from kube9_desktop.engine.k8s.objects import (
    SLICE_SUFFIX,
    deployment_object,
    endpoints_object,
    endpointslice_object,
    namespace_object,
    node_object,
    pod_object,
    priority_class_object,
    replicaset_object,
    service_object,
)

if TYPE_CHECKING:
    from kube9_desktop.engine.core import Engine

Obj = dict[str, Any]
READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("get", "list", "watch", "delete")  # (writes.py: delete, and scale)


def _name_ns(obj: Obj) -> dict[str, str]:
    meta = obj["metadata"]
    out = {"metadata.name": meta["name"]}
    if "namespace" in meta:
        out["metadata.namespace"] = meta["namespace"]
    return out


def _pod_fields(obj: Obj) -> dict[str, str]:
    return {
        **_name_ns(obj),
        "spec.nodeName": obj["spec"].get("nodeName", ""),
        "spec.restartPolicy": obj["spec"].get("restartPolicy", ""),
        "status.phase": obj["status"].get("phase", ""),
        "status.podIP": obj["status"].get("podIP", ""),
    }


def _node_fields(obj: Obj) -> dict[str, str]:
    unschedulable = bool(obj["spec"].get("unschedulable"))
    return {**_name_ns(obj), "spec.unschedulable": "true" if unschedulable else "false"}


EVENTS_LISTED = 10_000  # the newest engine events an events list reads (see docs)
EVENT_FIELDS = (
    "metadata.name", "metadata.namespace", "involvedObject.kind", "involvedObject.name",
    "involvedObject.namespace", "involvedObject.uid", "involvedObject.apiVersion", "reason",
    "type", "source", "reportingComponent",
)  # fmt: skip


def _event_fields(obj: Obj) -> dict[str, str]:
    inv = obj["involvedObject"]
    return {
        **_name_ns(obj),
        "involvedObject.kind": inv.get("kind", ""),
        "involvedObject.name": inv.get("name", ""),
        "involvedObject.namespace": inv.get("namespace", ""),
        "involvedObject.uid": inv.get("uid", ""),
        "involvedObject.apiVersion": inv.get("apiVersion", ""),
        "reason": obj.get("reason", ""),
        "type": obj.get("type", ""),
        "source": obj.get("source", {}).get("component", ""),
        "reportingComponent": obj.get("reportingComponent", ""),
    }


def _events(engine: Engine, namespace: str | None) -> list[Any]:
    return [
        ev for ev in engine.events(limit=EVENTS_LISTED)
        if ev.object is not None and (namespace is None or event_namespace(ev) == namespace)
    ]  # fmt: skip


def _find_event(engine: Engine, namespace: str, name: str) -> Any | None:
    event_id = event_id_of(name)
    if event_id is None or event_id < 1:
        return None
    found = engine.events(since=event_id - 1, limit=1)
    if not found or found[0].id != event_id or found[0].object is None:
        return None
    ev = found[0]
    ok = event_namespace(ev) == namespace and event_object(ev)["metadata"]["name"] == name
    return ev if ok else None


@dataclass(frozen=True, slots=True)
class Resource:
    group: str  # "" for core
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    # every view (of one namespace, or all with None), and one by (namespace, name)
    views: Callable[[Engine, str | None], list[Any]]
    find: Callable[[Engine, str, str], Any | None]
    to_object: Callable[[Any], Obj]
    fields: Callable[[Obj], dict[str, str]] = _name_ns
    field_names: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    verbs: tuple[str, ...] = READ_VERBS

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    def discovery(self) -> Obj:
        """This resource's entry in an APIResourceList."""
        out: Obj = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            out["shortNames"] = list(self.short_names)
        if self.categories:
            out["categories"] = list(self.categories)
        return out


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        False,
        ("ns",),
        (),
        views=lambda e, ns: e.namespaces(),
        find=lambda e, ns, name: e.find_namespace(name),
        to_object=namespace_object,
        field_names=("metadata.name",),
    ),
    Resource(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        False,
        ("no",),
        (),
        views=lambda e, ns: e.nodes(),
        find=lambda e, ns, name: e.find_node_named(name),
        to_object=node_object,
        fields=_node_fields,
        field_names=("metadata.name", "spec.unschedulable"),
    ),
    Resource(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        True,
        ("po",),
        ("all",),
        views=lambda e, ns: e.pods(ns),
        find=lambda e, ns, name: e.find_pod_named(ns, name),
        to_object=pod_object,
        fields=_pod_fields,
        field_names=(
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "status.phase",
            "status.podIP",
        ),
    ),
    Resource(
        "",
        "v1",
        "services",
        "service",
        "Service",
        True,
        ("svc",),
        ("all",),
        views=lambda e, ns: e.services(ns),
        find=lambda e, ns, name: e.find_service_named(ns, name),
        to_object=service_object,
    ),
    Resource(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        True,
        ("ep",),
        (),
        views=lambda e, ns: e.services(ns),
        find=lambda e, ns, name: e.find_service_named(ns, name),
        to_object=endpoints_object,
    ),
    Resource(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        True,
        ("deploy",),
        ("all",),
        views=lambda e, ns: e.deployments(ns),
        find=lambda e, ns, name: e.find_deployment_named(ns, name),
        to_object=deployment_object,
    ),
    Resource(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        ("rs",),
        ("all",),
        views=lambda e, ns: e.replicasets(ns),
        find=lambda e, ns, name: e.find_replicaset_named(ns, name),
        to_object=replicaset_object,
    ),
)

RESOURCES += (
    Resource(
        "",
        "v1",
        "events",
        "event",
        "Event",
        True,
        ("ev",),
        (),
        views=_events,
        find=_find_event,
        to_object=event_object,
        fields=_event_fields,
        field_names=EVENT_FIELDS,
    ),
)

RESOURCES += (  # metrics-server's API: read only, no watch (as metrics-server)
    Resource(
        "metrics.k8s.io",
        "v1beta1",
        "nodes",
        "",
        "NodeMetrics",
        False,
        (),
        (),
        views=node_metrics,
        find=find_node_metrics,
        to_object=node_metrics_object,
        field_names=("metadata.name",),
        verbs=("get", "list"),
    ),
    Resource(
        "metrics.k8s.io",
        "v1beta1",
        "pods",
        "",
        "PodMetrics",
        True,
        (),
        (),
        views=pod_metrics,
        find=find_pod_metrics,
        to_object=pod_metrics_object,
        verbs=("get", "list"),
    ),
)

RESOURCES += (
    Resource(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        True,
        (),
        (),
        views=leases,
        find=find_lease,
        to_object=lease_object,
        verbs=("get", "list"),
    ),
)


def _slice_service(engine: Engine, namespace: str, name: str) -> Any | None:
    if not name.endswith(SLICE_SUFFIX):
        return None
    return engine.find_service_named(namespace, name.removesuffix(SLICE_SUFFIX))


RESOURCES += (
    Resource(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        True,
        (),
        (),
        views=lambda e, ns: e.services(ns),
        find=_slice_service,
        to_object=endpointslice_object,
    ),
)

RESOURCES += (
    Resource(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        False,
        ("pc",),
        (),
        views=lambda e, ns: e.priority_classes(),
        find=lambda e, ns, name: e.find_priority_class(name),
        to_object=priority_class_object,
        field_names=("metadata.name",),
        verbs=("get", "list", "watch", "create", "update", "patch", "delete"),
    ),
)

DELETABLE = frozenset({"pods", "deployments", "replicasets", "services", "namespaces", "nodes",
                       "priorityclasses"})  # fmt: skip
WRITABLE = DELETABLE - {"nodes"}  # (mutate.py: create, update, patch; nodes: writes.py's patch)
RESOURCES = tuple(
    replace(
        r,
        verbs=WRITE_VERBS
        + (("patch",) if r.plural == "nodes" else ())
        + (("create", "update", "patch") if r.plural in WRITABLE else ())
        + (("deletecollection",) if r.plural in WRITABLE - {"namespaces"} else ()),
    )
    if r.group not in ("metrics.k8s.io", "scheduling.k8s.io") and r.plural in DELETABLE
    else r
    for r in RESOURCES
)

BY_PATH: dict[tuple[str, str], Resource] = {(r.group_version, r.plural): r for r in RESOURCES}
GROUP_VERSIONS: dict[str, list[Resource]] = {}
for _r in RESOURCES:
    GROUP_VERSIONS.setdefault(_r.group_version, []).append(_r)
