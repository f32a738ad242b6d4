"""Namespace steps: the system namespaces exist from the first start; users add their own.

Deleting a namespace deletes every pod in it in the same commit (Kubernetes deletes a
namespace's contents, then the namespace); the system namespaces cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import pods as pod_ops
from kube9_desktop.engine.cluster import services as service_ops
from kube9_desktop.engine.cluster.txn import Txn
from kube9_desktop.engine.errors import Conflict
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import SYSTEM_NAMESPACES, new_uid
from kube9_desktop.engine.outcomes import NamespaceOutcome
from kube9_desktop.engine.state import NamespaceState


def _insert(
    t: Txn, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> NamespaceState:
    uid = new_uid()
    ns_id = t.store.insert_namespace(
        uid=uid, name=name, labels=dict(labels), annotations=dict(annotations),
        resource_version=t.rv,
    )  # fmt: skip
    ns = NamespaceState(ns_id, uid, name, t.now, dict(labels), dict(annotations), t.rv)
    books = t.state.namespaces
    books[name] = ns

    def forget() -> None:
        books.pop(name, None)

    t.undo(forget)
    t.added(Kind.NAMESPACE, ns_id)
    return ns


def ensure_system_namespaces(t: Txn) -> list[str]:
    """Create the system namespaces that do not exist yet; returns their names."""
    made = [n for n in SYSTEM_NAMESPACES if n not in t.state.namespaces]
    for name in made:
        _insert(t, name, {"kubernetes.io/metadata.name": name}, {})
    return made


def create_namespace(
    t: Txn, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> NamespaceOutcome:
    if name in t.state.namespaces:
        raise Conflict(f"A namespace named '{name}' already exists", field="name")
    ns = _insert(t, name, {**labels, "kubernetes.io/metadata.name": name}, annotations)
    t.event(EventKind.NAMESPACE_CREATED, f"Namespace {name} created", obj=ns.ref())
    return NamespaceOutcome(ns.view(0), t.changes)


def delete_namespace(t: Txn, ns: NamespaceState) -> NamespaceOutcome:
    if ns.name in SYSTEM_NAMESPACES:
        raise Conflict(f"Namespace '{ns.name}' is a system namespace and cannot be deleted")
    pods = t.state.pods_in(ns.name)
    view = ns.view(len(pods))
    for pod in pods:
        pod_ops.delete_pod(t, pod)
    for svc in t.state.services_in(ns.name):
        service_ops.delete_service(t, svc)
    t.store.delete_namespace(ns.id)
    books = t.state.namespaces
    del books[ns.name]
    t.undo(lambda: books.__setitem__(ns.name, ns))
    t.removed(Kind.NAMESPACE, ns.id, view)
    t.event(
        EventKind.NAMESPACE_DELETED,
        f"Namespace {ns.name} deleted" + (f" with {len(pods)} pod(s)" if pods else ""),
        obj=ns.ref(),
    )
    return NamespaceOutcome(view, t.changes, tuple(p.name for p in pods))
