"""Preemption: where a pod that fits nowhere could run if lower-priority pods left, and which.

Kubernetes' DefaultPreemption plugin, over a snapshot:

1. A node whose filter reasons include one that removing pods cannot fix (its node selector,
   a taint, cordoned, not ready, a component down, a missing topology label, the pod's own
   required affinity) is rejected: "Preemption is not helpful for scheduling".
2. On every other node, remove every pod of strictly lower priority. If the pod still does
   not fit (pods of equal or higher priority hold the room), the node has no victims.
3. Otherwise add the removed pods back one by one, highest priority first (older first among
   equals), keeping each whose return still lets the pod fit; the ones that cannot return
   are the victims (``SelectVictimsOnNode``'s reprieve). Example: a 4-core worker holding
   ``a`` (priority 10, 2 cores) and ``b``, ``c`` (priority 1, 1 core each): a 3-core pod of
   priority 100 gets ``a`` back first (2 + 3 = 5 > 4: no, ``a`` is a victim), then ``b``
   (1 + 3 = 4: back), then ``c`` (5 > 4: a victim). Victims: a, c.
4. Among the nodes with victims, choose (``pickOneNodeForPreemption``): the lowest highest
   victim priority, then the smallest sum of victim priorities (each offset by 2^31, so
   fewer victims weigh less), then the fewest victims, then the node whose highest-priority
   victims started last (the newest id), then the lowest node id. PodDisruptionBudgets are
   not modelled, so their first criterion is skipped.

Pure: the caller deletes the victims and binds the pod (cluster/preemption.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from kube9_desktop.engine.constraints import PodConstraints
from kube9_desktop.engine.model import (
    NodeStatus,
    NodeType,
    Preemption,
    PreemptionNode,
    Resources,
    Victim,
)
from kube9_desktop.engine.scheduler import candidate
from kube9_desktop.engine.scheduler.fit import TOO_MANY_PODS, SchedNode
from kube9_desktop.engine.scheduler.topology import (
    ANTI_AFFINITY_MISMATCH,
    EXISTING_ANTI_AFFINITY,
    SPREAD_MISMATCH,
    PlacedPod,
    ScanCounts,
    TopologyCheck,
    anti_terms,
    topology_check,
)

# kube-scheduler's own words (DefaultPreemption)
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_OFFSET = 2**31  # MaxInt32 + 1: every victim adds to the sum, so fewer victims weigh less


class PreemptablePod(PlacedPod, Protocol):
    """What preemption reads of a bound pod: what the books read, and its name, request and
    priority (the engine's PodState qualifies)."""

    @property
    def name(self) -> str: ...
    @property
    def request(self) -> Resources: ...
    @property
    def priority(self) -> int: ...


def resolvable(reason: str) -> bool:
    """Removing pods may fix it: room, the pod limit, anti-affinity, a spread's skew."""
    return (
        reason.startswith(("insufficient cpu", "insufficient memory"))
        or reason in (TOO_MANY_PODS, ANTI_AFFINITY_MISMATCH, EXISTING_ANTI_AFFINITY,
                      SPREAD_MISMATCH)
    )  # fmt: skip


class _Lighter:
    """A node as it would be without some of its pods (a SchedNode)."""

    __slots__ = ("_freed", "_gone", "_node")

    def __init__(self, node: SchedNode, gone: Sequence[PreemptablePod]) -> None:
        self._node = node
        self._gone = {p.id for p in gone}
        freed = Resources()
        for p in gone:
            freed = freed + p.request
        self._freed = freed

    @property
    def id(self) -> int:
        return self._node.id

    @property
    def name(self) -> str:
        return self._node.name

    @property
    def node_type(self) -> NodeType:
        return self._node.node_type

    @property
    def status(self) -> NodeStatus:
        return self._node.status

    @property
    def components(self) -> Mapping[str, str]:
        return self._node.components

    @property
    def capacity(self) -> Resources:
        return self._node.capacity

    @property
    def allocated(self) -> Resources:
        return self._node.allocated - self._freed

    @property
    def cordoned(self) -> bool:
        return self._node.cordoned

    @property
    def deleting(self) -> bool:
        return self._node.deleting

    @property
    def labels(self) -> Mapping[str, str]:
        return self._node.labels

    @property
    def taints(self) -> tuple:  # type: ignore[type-arg]
        return self._node.taints

    @property
    def pod_ids(self) -> Collection[int]:
        return [i for i in self._node.pod_ids if i not in self._gone]

    @property
    def pod_limit(self) -> int:
        return self._node.pod_limit


def _victims_key(victims: Sequence[PreemptablePod], node_id: int) -> tuple[int, int, int, int, int]:
    top = max(v.priority for v in victims)
    newest_top = min(v.id for v in victims if v.priority == top)
    return (
        top,
        sum(v.priority + _OFFSET for v in victims),
        len(victims),
        -newest_top,  # the highest-priority victims started last: less work lost
        node_id,
    )


def plan(
    request: Resources,
    constraints: PodConstraints,
    *,
    namespace: str,
    labels: Mapping[str, str],
    priority: int,
    nodes: Mapping[int, SchedNode],
    pods: Iterable[PreemptablePod],
) -> Preemption:
    """Where a pod of ``priority`` could go by preempting lower-priority ``pods``, and whom.

    ``nodes`` is every node, ``pods`` every bound pod. The answer names the chosen node and
    its victims (None and none: preemption cannot help) and every node's outcome.
    """
    bound = [p for p in pods if p.node_id is not None and p.node_id in nodes]
    on_node: dict[int, list[PreemptablePod]] = {}
    for p in bound:
        assert p.node_id is not None
        on_node.setdefault(p.node_id, []).append(p)
    interpod = constraints.interpod is not None or any(True for p in bound for _ in anti_terms(p))

    def check_without(gone: Sequence[PreemptablePod]) -> TopologyCheck | None:
        if not interpod:
            return None
        ids = {p.id for p in gone}
        source = ScanCounts([p for p in bound if p.id not in ids], nodes)
        return topology_check(namespace, labels, constraints, source, nodes)

    def reasons_without(node: SchedNode, gone: Sequence[PreemptablePod]) -> list[str]:
        shown = _Lighter(node, gone) if gone else node
        return list(candidate(shown, request, constraints, check_without(gone)).reasons)

    found: list[tuple[tuple[int, int, int, int, int], SchedNode, list[PreemptablePod]]] = []
    rejected: list[PreemptionNode] = []
    for node in sorted(nodes.values(), key=lambda n: n.id):
        reasons = reasons_without(node, ())
        hard = [r for r in reasons if not resolvable(r)]
        if hard:
            rejected.append(PreemptionNode(node.id, node.name, "not_helpful",
                                           reasons=(NOT_HELPFUL, *hard)))  # fmt: skip
            continue
        lower = sorted(
            (p for p in on_node.get(node.id, ()) if p.priority < priority),
            key=lambda p: (-p.priority, p.id),
        )
        still = reasons_without(node, lower) if lower else reasons
        if not lower or still:
            rejected.append(
                PreemptionNode(node.id, node.name, "no_victims", reasons=(NO_VICTIMS, *still))
            )
            continue
        victims = list(lower)
        for p in lower:  # the reprieve: highest priority first
            trial = [v for v in victims if v is not p]
            if not reasons_without(node, trial):
                victims = trial
        if victims:
            found.append((_victims_key(victims, node.id), node, victims))
    found.sort(key=lambda f: f[0])

    def as_victims(victims: Sequence[PreemptablePod]) -> tuple[Victim, ...]:
        ordered = sorted(victims, key=lambda v: (-v.priority, v.id))
        return tuple(Victim(v.id, f"{v.namespace}/{v.name}", v.priority) for v in ordered)

    outcomes = [
        PreemptionNode(node.id, node.name, "chosen" if i == 0 else "candidate", as_victims(vs))
        for i, (_, node, vs) in enumerate(found)
    ]
    outcomes.extend(rejected)
    if not found:
        return Preemption(priority, None, None, (), tuple(outcomes))
    _, chosen, victims = found[0]
    return Preemption(priority, chosen.id, chosen.name, as_victims(victims), tuple(outcomes))
