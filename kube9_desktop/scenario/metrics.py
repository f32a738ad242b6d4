"""What a simulated run records: samples of the cluster at a fixed interval, and counts kept
from the engine's events (pending waits, evictions, moves, unschedulable reasons).

Pure helpers (``stranded``, ``percentile``, ``availability``) are table-tested; ``Recorder``
subscribes to the bus and reads the engine's working copy at each sample. Times are seconds
since the scenario's start (``t0``), never wall time. docs/scenarios.md defines each figure.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import NodeStatus, NodeType

SHAPES_MAX = 64  # distinct pending requests the fragmentation probe looks at


@dataclass(frozen=True, slots=True)
class Free:
    """One schedulable node's room: free CPU (millicores), memory (MiB), pod slots."""

    cpu_m: int
    mem_mi: int
    slots: int


def reason_key(reason: str) -> str:
    """A scheduler reason without its figures: "insufficient cpu: requested 2, free 1" ->
    "insufficient cpu"; others as they are ("Too many pods", a taint's reason)."""
    if reason.startswith("insufficient "):
        return reason.split(":", 1)[0]
    return reason


def reason_keys(reasons: dict[str, list[str]]) -> list[str]:
    """The distinct reason keys some node gave, sorted (each counted once per decision)."""
    return sorted({reason_key(r) for rs in reasons.values() for r in rs})


def fits(free: Free, cpu_m: int, mem_mi: int) -> bool:
    return free.slots > 0 and free.cpu_m >= cpu_m and free.mem_mi >= mem_mi


def stranded(nodes: Sequence[Free], probes: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Free (CPU, memory) on the nodes where none of the probe requests fits.

    With free rooms [(1000 m, 4096 Mi, 10 slots), (3000 m, 512 Mi, 10)] and one probe of
    (2000 m, 1024 Mi): neither node takes it, so all 4000 m and 4608 Mi are stranded; with a
    probe (500 m, 256 Mi) both take it and nothing is.
    """
    shapes = sorted(set(probes))[:SHAPES_MAX]
    if not shapes:
        return 0, 0
    cpu = mem = 0
    for n in nodes:
        if not any(fits(n, c, m) for c, m in shapes):
            cpu += max(0, n.cpu_m)
            mem += max(0, n.mem_mi)
    return cpu, mem


def median_request(requests: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The (CPU, memory) medians, each taken on its own (the lower middle for an even count)."""
    if not requests:
        return None
    cpus = sorted(r[0] for r in requests)
    mems = sorted(r[1] for r in requests)
    mid = (len(requests) - 1) // 2
    return cpus[mid], mems[mid]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q % at or below
    it. [1, 2, 3, 4] -> p50 2, p99 4; [] -> None."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def availability(available: Sequence[int], desired: Sequence[int]) -> dict[str, Any]:
    """Over samples: the mean of min(available / desired, 1), the share of samples fully
    available, and the fewest available (a sample that wants 0 counts as fully available)."""
    if not available:
        return {"mean": None, "fully_available_share": None, "min_available": None}
    ratios = [1.0 if d <= 0 else min(1.0, a / d) for a, d in zip(available, desired, strict=True)]
    full = sum(1 for a, d in zip(available, desired, strict=True) if a >= d)
    return {
        "mean": round(sum(ratios) / len(ratios), 6),
        "fully_available_share": round(full / len(ratios), 6),
        "min_available": min(available),
    }


@dataclass
class Series:
    t: list[float] = field(default_factory=list)
    cpu_capacity_m: list[int] = field(default_factory=list)
    cpu_allocated_m: list[int] = field(default_factory=list)
    mem_capacity_mi: list[int] = field(default_factory=list)
    mem_allocated_mi: list[int] = field(default_factory=list)
    stranded_cpu_m: list[int] = field(default_factory=list)
    stranded_mem_mi: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    nodes_schedulable: list[int] = field(default_factory=list)
    deployments: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    first_sample: dict[str, int] = field(default_factory=dict)  # where each Deployment began


class Recorder:
    """Follows one engine's events from ``t0`` on and samples it on demand."""

    def __init__(self, engine: Engine, t0: float, deployments: tuple[str, ...] | None) -> None:
        self.engine = engine
        self.t0 = t0
        self.only = deployments
        self.series = Series()
        self.pending_since: dict[int, float] = {}
        self.waits: list[float] = []
        self.reasons: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.preempted: Counter[int] = Counter()  # victims by their priority
        self.pending_peak_by_priority: Counter[int] = Counter()
        # Evicted ReplicaSet pods not yet replaced, and the commit (resource version, node)
        # of the eviction under way: its pod deletions are evictions.
        self.unreplaced = 0
        # Moves: where each displaced pod went (a ReplicaSet's replacement stands for the pod
        # its eviction deleted, paired in order); the evicted pods' nodes, oldest first.
        self.moves: list[dict[str, Any]] = []
        self._evicted_from: deque[str | None] = deque()
        self._evicting: tuple[int, int | None] | None = None
        for pod_id in engine.cluster.state.pending:
            self.pending_since[pod_id] = 0.0
        self._unsubscribe: Callable[[], None] = engine.bus.subscribe(self._on_event)

    def now(self) -> float:
        return round(self.engine.clock.monotonic() - self.t0, 6)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        pod_id = event.object.id if event.object is not None else None
        if kind is EventKind.POD_PENDING and pod_id is not None:
            self.pending_since.setdefault(pod_id, self.now())
            self.counts["pending_events"] += 1
            if event.data.get("from"):
                self.counts["displaced_to_pending"] += 1
                self._moved(event.object.name if event.object else "", event.data["from"], None)
            else:  # created without a node (pods.py says "created, pending")
                self.counts["pods_created"] += 1
                self._maybe_replacement(pod_id)
            for reason in reason_keys(event.data.get("reasons") or {}):
                self.reasons[reason] += 1
        elif kind in (EventKind.POD_BOUND, EventKind.POD_REBOUND) and pod_id is not None:
            since = self.pending_since.pop(pod_id, None)
            if since is not None:
                self.waits.append(round(self.now() - since, 6))
            if kind is EventKind.POD_REBOUND:
                self.counts["reschedules"] += 1
                name = event.object.name if event.object else ""
                self._moved(name, event.data.get("from"), event.data.get("to"))
        elif kind is EventKind.POD_CREATED and pod_id is not None:
            self.counts["pods_created"] += 1
            self._maybe_replacement(pod_id)
        elif kind is EventKind.POD_DELETED and pod_id is not None:
            self.counts["pods_deleted"] += 1
            if self.pending_since.pop(pod_id, None) is not None:
                self.counts["deleted_while_pending"] += 1
            if self._evicting == (event.resource_version, event.related and event.related.id):
                self.unreplaced += 1  # deleted by the eviction: its ReplicaSet replaces it
                self._evicted_from.append(event.related.name if event.related else None)
        elif kind is EventKind.EVICTION_STARTED:
            self.counts["evictions"] += int(event.data.get("pods", 0))
            node_id = event.object.id if event.object is not None else None
            self._evicting = (event.resource_version, node_id)
        elif kind is EventKind.SPLIT_BRAIN and "stale_pod_id" in event.data:
            self.counts["split_brain_copies"] += 1
        elif kind is EventKind.NODE_DETECTED:
            self.counts["nodes_detected"] += 1
        elif kind is EventKind.POD_PREEMPTED:
            self.preempted[int(event.data.get("victim_priority", 0))] += 1
        elif kind is EventKind.POD_RESTARTED:
            self.counts["container_restarts"] += 1

    def _maybe_replacement(self, pod_id: int) -> None:
        """A ReplicaSet's new pod while evicted ones are unreplaced: counted as one of them."""
        pod = self.engine.cluster.state.pods.get(pod_id)
        if self.unreplaced and pod is not None and pod.spec.owner is not None:
            self.unreplaced -= 1
            self.counts["reschedules"] += 1
            origin = self._evicted_from.popleft() if self._evicted_from else None
            node = self.engine.cluster.state.nodes.get(pod.node_id) if pod.node_id else None
            self._moved(pod.spec.owner.name, origin, node.name if node else None)

    def _moved(self, pod: str, origin: str | None, to: str | None) -> None:
        """One move: ``pod`` (a bare pod's name, or a replica's ReplicaSet) from ``origin``
        to ``to`` (None: pending)."""
        self.moves.append({"t": self.now(), "pod": pod, "from": origin, "to": to})

    def refused_create(self, reasons: dict[str, list[str]]) -> None:
        """A bare pod the engine refused at once (it fits nowhere; only controllers' pods wait)."""
        self.counts["pods_refused"] += 1
        for reason in reason_keys(reasons):
            self.refused[reason] += 1

    def sample(self) -> None:
        state = self.engine.cluster.state
        s = self.series
        rooms: list[Free] = []
        cap_cpu = cap_mem = alloc_cpu = alloc_mem = 0
        for node in state.nodes.values():
            if node.node_type is not NodeType.WORKER or node.status is not NodeStatus.HEALTHY:
                continue
            cap_cpu += node.capacity.cpu_m
            cap_mem += node.capacity.mem_mi
            alloc_cpu += node.allocated.cpu_m
            alloc_mem += node.allocated.mem_mi
            if not node.cordoned:
                free = node.free
                rooms.append(Free(free.cpu_m, free.mem_mi, node.pod_limit - len(node.pod_ids)))
        pending = [state.pods[p].spec.request for p in state.pending]
        by_priority = Counter(state.pods[p].spec.priority for p in state.pending)
        for prio, n in by_priority.items():
            if n > self.pending_peak_by_priority[prio]:
                self.pending_peak_by_priority[prio] = n
        if pending:
            probes: list[tuple[int, int]] = [(r.cpu_m, r.mem_mi) for r in pending]
        else:
            bound = [
                (p.spec.request.cpu_m, p.spec.request.mem_mi)
                for p in state.pods.values()
                if p.node_id is not None
            ]
            median = median_request(bound)
            probes = [median] if median is not None else []
        lost_cpu, lost_mem = stranded(rooms, probes)
        s.t.append(self.now())
        s.cpu_capacity_m.append(cap_cpu)
        s.cpu_allocated_m.append(alloc_cpu)
        s.mem_capacity_mi.append(cap_mem)
        s.mem_allocated_mi.append(alloc_mem)
        s.stranded_cpu_m.append(lost_cpu)
        s.stranded_mem_mi.append(lost_mem)
        s.pending.append(len(pending))
        s.nodes_schedulable.append(len(rooms))
        sampled = set(s.deployments)
        for d in self.engine.deployments():
            if self.only is not None and d.name not in self.only:
                continue
            key = d.name if d.namespace == "default" else f"{d.namespace}/{d.name}"
            if key not in s.deployments:
                s.first_sample[key] = len(s.t) - 1
            book = s.deployments.setdefault(
                key, {"available": [0] * (len(s.t) - 1), "desired": [0] * (len(s.t) - 1)}
            )
            book["available"].append(d.status.available)
            book["desired"].append(d.spec.replicas)
            sampled.discard(key)
        for key in sorted(sampled):  # deleted since: nothing available, nothing wanted
            s.deployments[key]["available"].append(0)
            s.deployments[key]["desired"].append(0)

    def totals(self) -> dict[str, Any]:
        s = self.series
        now = self.now()
        still = sorted(round(now - since, 6) for since in self.pending_since.values())

        def peak(values: list[int]) -> int:
            return max(values) if values else 0

        def ratio(part: list[int], whole: list[int]) -> float | None:
            shares = [p / w for p, w in zip(part, whole, strict=True) if w > 0]
            return round(sum(shares) / len(shares), 6) if shares else None

        free_cpu = [c - a for c, a in zip(s.cpu_capacity_m, s.cpu_allocated_m, strict=True)]
        free_mem = [c - a for c, a in zip(s.mem_capacity_mi, s.mem_allocated_mi, strict=True)]
        return {
            "cpu_allocated_share_mean": ratio(s.cpu_allocated_m, s.cpu_capacity_m),
            "mem_allocated_share_mean": ratio(s.mem_allocated_mi, s.mem_capacity_mi),
            "stranded_cpu_m_mean": round(sum(s.stranded_cpu_m) / len(s.t), 3) if s.t else 0,
            "stranded_cpu_m_peak": peak(s.stranded_cpu_m),
            "stranded_mem_mi_mean": round(sum(s.stranded_mem_mi) / len(s.t), 3) if s.t else 0,
            "stranded_mem_mi_peak": peak(s.stranded_mem_mi),
            "stranded_cpu_share_of_free_mean": ratio(s.stranded_cpu_m, free_cpu),
            "stranded_mem_share_of_free_mean": ratio(s.stranded_mem_mi, free_mem),
            "pending_peak": peak(s.pending),
            "pending_at_end": len(self.pending_since),
            "pending_wait_s": {
                "placed": len(self.waits),
                "p50": percentile(self.waits, 50),
                "p99": percentile(self.waits, 99),
                "max": max(self.waits) if self.waits else None,
                "still_pending_oldest_s": still[-1] if still else None,
            },
            "evictions": self.counts["evictions"],
            "reschedules": self.counts["reschedules"],
            "displaced_to_pending": self.counts["displaced_to_pending"],
            "pods_created": self.counts["pods_created"],
            "pods_deleted": self.counts["pods_deleted"],
            "pods_refused": self.counts["pods_refused"],
            "split_brain_copies": self.counts["split_brain_copies"],
            "nodes_detected": self.counts["nodes_detected"],
            "preemptions": sum(self.preempted.values()),
            "preempted_by_priority": _by_priority(self.preempted),
            "pending_peak_by_priority": _by_priority(self.pending_peak_by_priority),
            "pending_at_end_by_priority": _by_priority(
                Counter(
                    self.engine.cluster.state.pods[p].spec.priority
                    for p in self.engine.cluster.state.pending
                )
            ),
            "unschedulable_reasons": dict(sorted(self.reasons.items())),
            "refused_reasons": dict(sorted(self.refused.items())),
            "deployments": {
                name: {
                    **availability(
                        book["available"][s.first_sample[name] :],
                        book["desired"][s.first_sample[name] :],
                    ),
                    "from_t": s.t[s.first_sample[name]],
                }
                for name, book in sorted(s.deployments.items())
            },
        }


def _by_priority(counts: Counter[int]) -> dict[str, int]:
    """{priority: count}, keyed by the priority as a string (JSON keys are strings)."""
    return {str(p): n for p, n in sorted(counts.items(), key=lambda kv: -kv[0]) if n}
