"""Service steps: the row, the record, its cluster IP and node ports, in the caller's
transaction; and ``sync_endpoints``, which every transaction runs before it commits, so a
Service's endpoints move in the very commit that moves a pod or its node.

A Service's endpoints are derived (services.py ``endpoint_of``) and kept in memory only; at
load they are derived again from the stored pods and nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.errors import Conflict, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import new_uid
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.services import (
    NODE_PORT,
    NODE_PORT_MAX,
    NODE_PORT_MIN,
    SERVICE_RANGE,
    Endpoint,
    ServiceSpec,
)
from kube9_desktop.engine.state import ServiceState

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster.txn import Txn


def _cols(spec: ServiceSpec) -> dict[str, Any]:
    return {
        "labels": dict(spec.labels),
        "annotations": dict(spec.annotations),
        "selector": dict(spec.selector),
        "ports": [p.to_json() for p in spec.ports],
        "type": spec.type,
        "session_affinity": spec.session_affinity,
    }


def _with_node_ports(t: Txn, spec: ServiceSpec, mine: set[int]) -> ServiceSpec:
    """The spec with every NodePort port's node port: given ones checked (a taken one is a
    409), missing ones allocated (lowest free). ``mine``: the Service's own, kept on update."""
    used = t.state.node_ports.used - mine
    if spec.type != NODE_PORT:
        return spec
    taken: set[int] = set()
    for i, p in enumerate(spec.ports):
        if p.node_port is None:
            continue
        if p.node_port in used or p.node_port in taken:
            raise Conflict(
                f"ports[{i}].node_port: {p.node_port} is already allocated to another port",
                field=f"ports[{i}].node_port",
            )
        taken.add(p.node_port)
    ports = []
    for p in spec.ports:
        if p.node_port is None:
            free = next(
                (n for n in range(NODE_PORT_MIN, NODE_PORT_MAX + 1)
                 if n not in used and n not in taken),
                None,
            )  # fmt: skip
            if free is None:
                raise Conflict(
                    f"ports: no node port is free in {NODE_PORT_MIN}-{NODE_PORT_MAX}",
                    field="ports",
                )
            taken.add(free)
            p = replace(p, node_port=free)
        ports.append(p)
    return replace(spec, ports=tuple(ports))


def _take_node_ports(t: Txn, ports: set[int]) -> None:
    books = t.state.node_ports.used
    new = ports - books
    books.update(new)
    t.undo(lambda: books.difference_update(new))


def _free_node_ports(t: Txn, ports: set[int]) -> None:
    books = t.state.node_ports.used
    gone = ports & books
    books.difference_update(gone)
    t.undo(lambda: books.update(gone))


def create_service(t: Txn, spec: ServiceSpec) -> ServiceState:
    state = t.state
    t.cluster.namespace(spec.namespace)
    if (spec.namespace, spec.name) in state.service_ids:
        raise Conflict(f"A Service named '{spec.name}' already exists", field="name")
    spec = _with_node_ports(t, spec, set())
    numbers = tuple(p.port for p in spec.ports)
    ip = state.cluster_ips.allocate(lambda ip: t.cluster.address_taken(ip, numbers))
    if ip is None:
        raise Conflict(f"The service range {SERVICE_RANGE} is full", field="cluster_ip")
    t.undo(lambda: state.cluster_ips.unallocate(ip))
    _take_node_ports(t, spec.node_ports())
    uid = new_uid()
    svc_id = t.store.insert_service(
        uid=uid, namespace=spec.namespace, name=spec.name, **_cols(spec), cluster_ip=ip,
        resource_version=t.rv,
    )  # fmt: skip
    svc = ServiceState(svc_id, uid, spec, ip, t.now, t.rv)
    state.add_service(svc)
    t.undo(lambda: state.remove_service(svc))
    t.added(Kind.SERVICE, svc_id)
    _recompute(t, svc)
    ports = ", ".join(
        f"{p.port}" + (f"→{p.target_port}" if p.target_port != p.port else "")
        + (f" (node port {p.node_port})" if p.node_port else "")
        for p in spec.ports
    )  # fmt: skip
    t.event(
        EventKind.SERVICE_CREATED,
        f"Service {spec.name} created: {spec.type} {ip} port(s) {ports}",
        obj=svc.ref(),
        data={"cluster_ip": ip, "type": spec.type, "node_ports": sorted(spec.node_ports())},
    )
    return svc


def update_service(t: Txn, svc: ServiceState, spec: ServiceSpec) -> bool:
    """Write a new spec (node ports kept, allocated or freed as its type and ports say);
    False when nothing changed. The cluster IP never changes."""
    if spec.name != svc.name or spec.namespace != svc.namespace:
        raise UserError("name and namespace cannot be changed", field="name")  # a bug, not input
    mine = svc.spec.node_ports()
    spec = _with_node_ports(t, spec, mine)
    if spec == svc.spec:
        return False
    _free_node_ports(t, mine - spec.node_ports())
    _take_node_ports(t, spec.node_ports() - mine)
    t.set(svc, "spec", spec)
    t.set(svc, "resource_version", t.rv)
    t.store.update_service(svc.id, **_cols(spec), resource_version=t.rv)
    t.changed(Kind.SERVICE, svc.id)
    _recompute(t, svc)
    return True


def delete_service(t: Txn, svc: ServiceState) -> None:
    state = t.state
    t.store.delete_service(svc.id)
    state.remove_service(svc)
    t.undo(lambda: state.add_service(svc))
    _free_node_ports(t, svc.spec.node_ports())
    ip = svc.cluster_ip
    t.after_commit(lambda: state.cluster_ips.release(ip))  # never handed out in this commit
    t.removed(Kind.SERVICE, svc.id, None)
    node_ports = sorted(svc.spec.node_ports())
    t.event(
        EventKind.SERVICE_DELETED,
        f"Service {svc.name} deleted: {svc.cluster_ip} freed"
        + (f", node port(s) {node_ports} freed" if node_ports else ""),
        obj=svc.ref(),
    )


# ---- endpoints -----------------------------------------------------------------------------


def _recompute(t: Txn, svc: ServiceState) -> None:
    endpoints = t.state.derive_endpoints(svc)
    if endpoints != svc.endpoints:
        t.set(svc, "endpoints", endpoints)
        t.changed(Kind.SERVICE, svc.id)


def _update_pods(t: Txn, svc: ServiceState, pod_ids: Iterable[int]) -> None:
    state = t.state
    current = svc.endpoints
    changed: dict[int, Endpoint | None] = {}
    for pod_id in pod_ids:
        pod = state.pods.get(pod_id)
        ep = state.endpoint(svc, pod) if pod is not None else None
        if current.get(pod_id) != ep:
            changed[pod_id] = ep
    if not changed:
        return
    new = dict(current)
    for pod_id, ep in changed.items():
        if ep is None:
            new.pop(pod_id, None)
        else:
            new[pod_id] = ep
    t.set(svc, "endpoints", new)
    t.changed(Kind.SERVICE, svc.id)


def _restore(seen: dict[int, NodeStatus], node_id: int, status: NodeStatus | None) -> None:
    if status is None:
        seen.pop(node_id, None)
    else:
        seen[node_id] = status


def sync_endpoints(t: Txn) -> None:
    """Bring the endpoints of every Service the commit's pods and nodes touch up to date.

    Runs once per transaction, after its steps: touched pods (added, changed, removed) and
    the pods of touched nodes whose status moved since the last sync are looked at again
    for the Services of their namespace (and those that listed them), not a scan of every
    pod, so a heartbeat's commit stays cheap.
    """
    state = t.state
    if not state.services:
        # Nothing watches the nodes now: the next Service derives its endpoints in full, and
        # the statuses seen so far would go stale.
        state.endpoint_node_status.clear()
        return
    changes = t.changes
    pod_ids = changes.ids(Kind.POD)
    seen = state.endpoint_node_status
    for node_id in changes.ids(Kind.NODE):  # its status moves its pods' readiness
        node = state.nodes.get(node_id)
        if node is None:
            seen.pop(node_id, None)  # (undone, it costs only one look at its pods again)
            continue
        before = seen.get(node_id)
        if before is node.status:
            continue  # a bind or a component changed it, not its status
        seen[node_id] = node.status
        t.undo(partial(_restore, seen, node_id, before))
        pod_ids |= node.pod_ids
    if not pod_ids:
        return
    by_namespace: dict[str, set[int]] = {}
    removed = set()
    for pod_id in pod_ids:
        pod = state.pods.get(pod_id)
        if pod is None:
            removed.add(pod_id)
        else:
            by_namespace.setdefault(pod.namespace, set()).add(pod_id)
    for svc in list(state.services.values()):
        look = by_namespace.get(svc.namespace, set()) | {p for p in removed if p in svc.endpoints}
        if look:
            _update_pods(t, svc, look)
