"""The what-if preview: where the pods of some nodes would go if those nodes failed now.

The preview is a rehearsal. In one transaction that is always undone, it takes the steps the
controllers take after a crash, in their order and with their own code: the health monitor's
detection (NotReady, the ``unreachable`` condition taints), its eviction of each node's pods
that do not tolerate them (``placement.evict_pods``: bare pods rebound by the scheduler,
ReplicaSets' pods deleted, then the pending pods placed as that commit would), and then the
ReplicaSets' replacements (``replicasets.manage``, lowest id first as ``WorkloadController``
steps them). What the transaction changed is read off before the undo; the store's
transaction is rolled back and nothing is published, so the live cluster, its resource
version and the store stay as they were (an undone deletion puts a pod back at the end of the
working copy's dict: its order is all that may differ).
Nothing awaits inside, so no other task ever sees the rehearsal.

What it assumes (the outcome right after the failure is dealt with): the nodes are detected
in the same monitor tick (a crash injected on them at once, their heartbeats overdue
together), pods that tolerate the taints for a while stay until the taint eviction controller
moves them (reported as ``stays``), and no recovery restart has brought a node back yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from kube9_desktop.engine import replicasets
from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import Cluster, Txn, placement
from kube9_desktop.engine.errors import NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.health import full_disruption
from kube9_desktop.engine.model import Decision, NodeStatus, NodeType
from kube9_desktop.engine.scheduler import STRATEGIES
from kube9_desktop.engine.state import NodeState, PodState

MAX_FAIL_NODES = 1000  # a longer list is refused: no cluster here has more nodes to fail


class Fate(Enum):
    MOVES = "moves"  # a bare pod rebound to another node
    REPLACED = "replaced"  # deleted; its ReplicaSet's replacement goes to ``node``
    PENDING = "pending"  # no node takes it (or its replacement): ``reasons`` say why
    STAYS = "stays"  # it tolerates the failed node's taints: not evicted (for now)
    PLACED = "placed"  # was pending elsewhere; the room the eviction made takes it


@dataclass(frozen=True)
class PodFate:
    pod_id: int
    name: str
    namespace: str
    from_node: str | None
    fate: Fate
    node_id: int | None = None
    node: str | None = None
    owner: str | None = None  # "ReplicaSet <name>" for owned pods
    replacement: str | None = None  # the new pod's name (a replaced pod)
    reasons: Mapping[str, tuple[str, ...]] | None = None  # node -> why not, for pending


@dataclass(frozen=True)
class NodeRoom:
    node_id: int
    name: str
    status: NodeStatus
    cpu_m_free: int
    mem_mi_free: int
    pods_free: int
    failing: bool
    cpu_m_allocated: int = 0
    cpu_m_capacity: int = 0


@dataclass(frozen=True)
class WhatIf:
    fail_nodes: tuple[int, ...]
    strategy: str
    resource_version: int
    pods: tuple[PodFate, ...]
    nodes: tuple[NodeRoom, ...]
    evictions_paused: bool = False  # every worker would be down: the guard keeps pods put

    def by_fate(self, fate: Fate) -> list[PodFate]:
        return [p for p in self.pods if p.fate is fate]


class _Undo(Exception):
    """Raised inside the rehearsal so the transaction takes everything back."""

    def __init__(self, result: WhatIf) -> None:
        super().__init__("what-if rehearsal")
        self.result = result


Doomed = Callable[[NodeState], list[PodState]]


def check_request(cluster: Cluster, node_ids: Sequence[int], strategy: str | None) -> None:
    """Refuse what cannot be previewed, naming the field (and the id) at fault."""
    if not node_ids:
        raise UserError("fail_nodes: list at least one node id", field="fail_nodes")
    if len(node_ids) > MAX_FAIL_NODES:
        raise UserError(
            f"fail_nodes: at most {MAX_FAIL_NODES} node ids, got {len(node_ids)}",
            field="fail_nodes",
        )
    seen: set[int] = set()
    for node_id in node_ids:
        if node_id in seen:
            raise UserError(f"fail_nodes: node {node_id} is listed twice", field="fail_nodes")
        seen.add(node_id)
    for node_id in node_ids:
        if node_id not in cluster.state.nodes:
            raise NotFound(f"fail_nodes: node {node_id} not found", node_id=node_id)
    if strategy is not None and strategy not in STRATEGIES:
        raise UserError(
            f"strategy: unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}",
            field="strategy",
        )


def preview(
    cluster: Cluster, node_ids: Sequence[int], *, doomed: Doomed, strategy: str | None = None
) -> WhatIf:
    """Rehearse the failure of ``node_ids`` and undo it; returns where every pod would go.

    ``doomed(node)``: the node's pods the health monitor would evict (those not tolerating
    its NoExecute taints, with the engine's default tolerations): ``HealthMonitor.doomed``.
    """
    check_request(cluster, node_ids, strategy)
    if cluster.open_txn is not None:
        raise RuntimeError("a what-if preview cannot run inside another transaction")
    saved = cluster.config
    if strategy is not None:
        cluster.set_scheduler(strategy)
    try:
        with cluster.transaction() as t:
            raise _Undo(_rehearse(cluster, t, set(node_ids), doomed))
    except _Undo as undone:
        return undone.result
    finally:
        cluster.config = saved
    raise AssertionError("unreachable")  # pragma: no cover


def _commit_point(t: Txn) -> None:
    """What the end of one of the real commits would run: the steps asked to run once
    (a deletion's placing of the pending pods) and the derived ones (Services' endpoints)."""
    t._run_before_commit()


def _rehearse(cluster: Cluster, t: Txn, failing: set[int], doomed: Doomed) -> WhatIf:
    state = t.state
    rv = cluster.resource_version
    order = [n for n in state.nodes.values() if n.id in failing]  # the monitor's order
    before = {p: state.pods[p].node_id for n in order for p in n.pod_ids}
    # 1. Detection: each node NotReady with the unreachable taints (heartbeats overdue).
    for node in order:
        if node.status is NodeStatus.HEALTHY or node.status is NodeStatus.INITIALIZING:
            cluster.set_status(
                node, NodeStatus.UNHEALTHY, "what-if: no heartbeat", EventKind.NODE_DETECTED,
                detected="detected", silent=True,
            )  # fmt: skip
            _commit_point(t)
    workers = [n.status for n in state.nodes.values() if n.node_type is NodeType.WORKER]
    paused = full_disruption(workers)
    fates: dict[int, PodFate] = {}
    owned: dict[int, int] = {}  # an evicted pod of a ReplicaSet -> the ReplicaSet's id
    rs_order: list[int] = []
    # 2. Eviction, node by node, each its own commit (largest pods first inside one).
    for node in order:
        evicted = [] if paused else doomed(node)
        if not evicted:
            continue
        for gone in evicted:
            rs = state.owner_of(gone)
            if rs is not None:
                owned[gone.id] = rs.id
                if rs.id not in rs_order:
                    rs_order.append(rs.id)
        placement.evict_pods(t, node, evicted, reason=f"{node.name} is {node.status}")
        _commit_point(t)
    # 3. The ReplicaSets make their replacements, lowest id first (WorkloadController).
    created: dict[int, list[PodState]] = {}
    for rs_id in sorted(rs_order):
        rs = state.replicasets.get(rs_id)
        if rs is None:
            continue
        old = set(rs.pod_ids)
        replicasets.manage(t, rs, t.now)
        _commit_point(t)
        created[rs_id] = sorted((state.pods[p] for p in rs.pod_ids - old), key=lambda p: p.id)
    # What the rehearsal did, read before the undo.
    removed = t.changes.removed.get(Kind.POD, {})
    fresh = {rs_id: iter(pods) for rs_id, pods in created.items()}
    for pod_id, was_on in before.items():
        kept = state.pods.get(pod_id)
        from_node = state.nodes[was_on].name if was_on is not None else None
        if kept is not None:
            fates[pod_id] = _fate(t, kept, pod_id, kept.name, from_node, Fate.MOVES)
            continue
        view = removed.get(pod_id)
        name = str(getattr(view, "name", pod_id))
        rs_id = owned.get(pod_id, -1)
        found = state.replicasets.get(rs_id)
        rs_name = found.name if found is not None else str(getattr(view, "owner", ""))
        new = next(fresh.get(rs_id, iter(())), None)
        if new is None:  # its ReplicaSet made none (it was scaled down meanwhile, or is gone)
            fates[pod_id] = PodFate(pod_id, name, getattr(view, "namespace", ""), from_node,
                                    Fate.REPLACED, owner=f"ReplicaSet {rs_name}")  # fmt: skip
        else:
            fates[pod_id] = _fate(t, new, pod_id, name, from_node, Fate.REPLACED, rs_name)
    made = {p.id for pods in created.values() for p in pods}
    for pod_id in sorted(t.changes.ids(Kind.POD) - before.keys() - made):
        placed = state.pods.get(pod_id)
        if placed is not None and placed.node_id is not None:
            fates[pod_id] = _fate(t, placed, pod_id, placed.name, None, Fate.PLACED)
    rooms = tuple(_room(n, n.id in failing) for n in state.nodes.values())
    result = tuple(sorted(fates.values(), key=lambda f: f.pod_id))
    return WhatIf(tuple(sorted(failing)), cluster.config.scheduler, rv, result, rooms, paused)


def _room(node: NodeState, failing: bool) -> NodeRoom:
    free = node.free
    return NodeRoom(
        node.id, node.name, node.status, free.cpu_m, free.mem_mi,
        max(0, node.pod_limit - len(node.pod_ids)), failing, node.allocated.cpu_m,
        node.capacity.cpu_m,
    )  # fmt: skip


def _fate(
    t: Txn, pod: PodState, pod_id: int, name: str, from_node: str | None, moved: Fate,
    rs_name: str | None = None,
) -> PodFate:  # fmt: skip
    """Where ``pod`` (the one of ``pod_id``, or its replacement) ended in the rehearsal."""
    if rs_name is None and pod.spec.owner is not None:
        rs_name = pod.spec.owner.name
    owner = f"ReplicaSet {rs_name}" if rs_name else None
    replacement = pod.name if moved is Fate.REPLACED else None
    if pod.node_id is None:
        return PodFate(pod_id, name, pod.namespace, from_node, Fate.PENDING, owner=owner,
                       replacement=replacement, reasons=_reasons(pod.decision))  # fmt: skip
    node = t.state.nodes[pod.node_id]
    fate = Fate.STAYS if node.name == from_node else moved
    return PodFate(pod_id, name, pod.namespace, from_node, fate, node.id, node.name, owner,
                   replacement)  # fmt: skip


def _reasons(decision: Decision | None) -> dict[str, tuple[str, ...]]:
    if decision is None:
        return {}
    return {name: tuple(why) for name, why in decision.reasons.items()}


# ---- after "Inject now": did the failure end as the preview said? -----------------------


def settled(cluster: Cluster, result: WhatIf, known: set[int]) -> bool:
    """The failure has been dealt with as far as the preview goes: the failing nodes hold only
    the pods said to stay, and each ReplicaSet made as many new pods as it lost there."""
    state = cluster.state
    staying = {f.pod_id for f in result.pods if f.fate is Fate.STAYS}
    for node_id in result.fail_nodes:
        node = state.nodes.get(node_id)
        if node is None or node.status is NodeStatus.HEALTHY or node.pod_ids - staying:
            return False
    made = Counter(_owner_name(p) for p in state.pods.values() if p.id not in known)
    lost = Counter(f.owner for f in result.pods if f.fate in (Fate.REPLACED, Fate.PENDING)
                   and f.owner and f.replacement)  # fmt: skip
    return all(made[owner] >= count for owner, count in lost.items())


def differences(cluster: Cluster, result: WhatIf, known: set[int]) -> list[str]:
    """How the live outcome differs from the preview (empty: it matched): bare pods by node,
    ReplicaSets' new pods by count per node, the pending set."""
    state = cluster.state
    found: list[str] = []
    said_new: Counter[tuple[str, str | None]] = Counter()
    for f in result.pods:
        if f.owner and f.replacement:
            said_new[(f.owner, f.node)] += 1
            continue
        pod = state.pods.get(f.pod_id)
        where = state.node_name(pod.node_id) if pod is not None and pod.node_id else None
        if pod is None:
            found.append(f"pod {f.name}: said {f.node or 'pending'}, but it is gone")
        elif where != f.node:
            found.append(f"pod {f.name}: said {f.node or 'pending'}, went {where or 'pending'}")
    made: Counter[tuple[str, str | None]] = Counter(
        (_owner_name(p), state.node_name(p.node_id) if p.node_id else None)
        for p in state.pods.values()
        if p.id not in known and p.spec.owner is not None
    )
    for key in sorted(set(said_new) | set(made), key=str):
        if said_new[key] != made[key]:
            owner, node = key
            found.append(f"{owner}: said {said_new[key]} new pod(s) on {node or 'pending'}, "
                         f"made {made[key]}")  # fmt: skip
    return found


def _owner_name(pod: PodState) -> str:
    return f"ReplicaSet {pod.spec.owner.name}" if pod.spec.owner is not None else ""
