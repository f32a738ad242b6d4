"""PriorityClass steps, a pod's priority at creation, and carrying out a preemption.

``preempt`` is the step a pod that fits nowhere takes: ``scheduler/preemption.plan`` chooses
the node and victims, each victim is deleted (the ordinary delete, so a pod on a real node
gets its graceful termination through ``terminating.py``, and a ReplicaSet replaces its own)
with a ``Preempted`` event naming the preemptor, and the room is the preemptor's in the same
commit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.errors import Conflict, NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import new_uid
from kube9_desktop.engine.model import PodSpec, Preemption
from kube9_desktop.engine.priority import (
    PreemptionPolicy,
    PriorityClassSpec,
    PriorityClassView,
    check_new,
    resolve,
)
from kube9_desktop.engine.scheduler import preemption

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster.txn import Txn


def create_priority_class(t: Txn, spec: PriorityClassSpec) -> PriorityClassView:
    check_new(spec)
    classes = t.state.priority_classes
    if spec.name in classes:
        raise Conflict(f"A PriorityClass named '{spec.name}' already exists", field="name")
    if spec.global_default:
        other = next((c for c in classes.values() if c.spec.global_default), None)
        if other is not None:
            raise Conflict(
                f"global_default: PriorityClass {other.name} is already marked as default; "
                "only one default can exist",
                field="global_default",
            )
    uid = new_uid()
    class_id = t.store.insert_priority_class(
        uid=uid, name=spec.name, value=spec.value, preemption_policy=str(spec.preemption_policy),
        global_default=spec.global_default, description=spec.description,
        resource_version=t.rv,
    )  # fmt: skip
    view = PriorityClassView(class_id, uid, spec, t.now, t.rv)
    classes[spec.name] = view
    t.undo(lambda: classes.pop(spec.name, None))
    t.added(Kind.PRIORITY_CLASS, class_id)
    t.event(
        EventKind.PRIORITY_CLASS_CREATED,
        f"PriorityClass {spec.name} created (value {spec.value}"
        + (", the default" if spec.global_default else "") + ")",
        obj=view.ref(),
    )  # fmt: skip
    return view


def delete_priority_class(t: Txn, name: str) -> PriorityClassView:
    """Delete a user class; pods that use it keep the priority they were given."""
    classes = t.state.priority_classes
    view = classes.get(name)
    if view is None:
        raise NotFound(f"PriorityClass '{name}' not found", field="name")
    if view.builtin:
        raise UserError(f"PriorityClass {name} is built in and cannot be deleted", field="name")
    t.store.delete_priority_class(view.id)
    del classes[name]
    t.undo(lambda: classes.__setitem__(name, view))
    t.removed(Kind.PRIORITY_CLASS, view.id, view)
    t.event(EventKind.PRIORITY_CLASS_DELETED, f"PriorityClass {name} deleted", obj=view.ref())
    return view


def with_priority(t: Txn, spec: PodSpec) -> PodSpec:
    """``spec`` with the priority and policy of its class (or the default), fixed now."""
    found = resolve(spec.priority_class_name, t.state.priority_classes)
    if (found.class_name, found.priority, found.policy) == (
        spec.priority_class_name, spec.priority, spec.preemption_policy
    ):  # fmt: skip
        return spec
    return replace(
        spec, priority_class_name=found.class_name, priority=found.priority,
        preemption_policy=found.policy,
    )  # fmt: skip


def preempt(t: Txn, spec: PodSpec) -> Preemption | None:
    """Plan a preemption for ``spec`` (which fits nowhere) and delete its victims.

    None when its policy is Never. Otherwise the plan, whose ``node_id`` is None when no node
    would help; the victims are gone from the books when this returns.
    """
    if spec.preemption_policy is PreemptionPolicy.NEVER:
        return None
    state = t.state
    found = preemption.plan(
        spec.request, spec.constraints, namespace=spec.namespace, labels=spec.labels,
        priority=spec.priority, nodes=state.nodes,
        pods=(p for p in state.pods.values() if p.node_id is not None),
    )  # fmt: skip
    if found.node_id is None:
        return found
    from kube9_desktop.engine.cluster import pods as pod_ops  # pods.py imports this module

    node = state.nodes[found.node_id]
    who = f"{spec.namespace}/{spec.name}"
    for victim in found.victims:
        pod = state.pods[victim.pod_id]
        # the ordinary delete (its event says why), then the Preempted event itself
        pod_ops.delete_pod(t, pod, why=f"preempted by {who} (priority {spec.priority})")
        t.event(
            EventKind.POD_PREEMPTED, f"Preempted by {who} on node {node.name}",
            obj=pod.ref(), related=node.ref(),
            data={"preemptor": who, "priority": spec.priority, "victim_priority": pod.priority},
        )  # fmt: skip
    return found
