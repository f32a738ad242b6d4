"""Live usage: what each pod's processes use (CPU cores, memory MB), as agents report it.

Agents send ``usage`` with a heartbeat (docs/protocol.md): per pod its CPU in cores averaged
over the last interval and its resident memory. The engine keeps the latest figure per pod and
per node (a node's figure is the sum of its pods' unless its agent reports one, as a Docker
node does from its cgroup) and a short history: at most one sample per ``STEP_S`` seconds,
``SLOTS`` of them (5 minutes), in fixed-size arrays so 20,000 pods cost a few MB. Nothing is
stored in the database: usage is gone after a restart, as with Kubernetes' metrics-server.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from typing_extensions import TypedDict

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.quantity import parse_cpu, parse_memory

STEP_S = 5.0  # history resolution: one sample per pod per 5 s at most
SLOTS = 60  # 60 x 5 s = 5 minutes


class UsageJson(TypedDict):
    cpu_cores: float
    memory_mb: float


class UsageSampleJson(TypedDict):
    t: float  # engine monotonic seconds, as the history's ``now``
    cpu_cores: float
    memory_mb: float


class UsageHistoryJson(TypedDict):
    now: float
    step_s: float
    current: UsageJson | None
    samples: list[UsageSampleJson]


@dataclass(frozen=True, slots=True)
class PodUsage:
    pod_id: int
    cpu_cores: float
    memory_mb: float


class Ring:
    """The last ``SLOTS`` samples of one object, one per ``STEP_S`` at most, plus the latest.

    The latest is kept as plain floats rather than a tuple: a new tuple per pod per heartbeat
    (20,000 pods) was most of what the garbage collector's youngest generation had to walk."""

    __slots__ = ("_at", "_cpu", "_known", "_mem", "count", "cpu", "head", "mem", "times")

    def __init__(self) -> None:
        self.times = array("d", bytes(8 * SLOTS))
        self.cpu = array("f", bytes(4 * SLOTS))
        self.mem = array("f", bytes(4 * SLOTS))
        self.head = 0  # next slot to write
        self.count = 0
        self._known = False  # whether the latest figures are current
        self._at = self._cpu = self._mem = 0.0

    @property
    def current(self) -> tuple[float, float, float] | None:
        """The latest (t, cpu, mem); None when there is none, or it is no longer current."""
        return (self._at, self._cpu, self._mem) if self._known else None

    @current.setter
    def current(self, value: tuple[float, float, float] | None) -> None:
        self._known = value is not None
        if value is not None:
            self._at, self._cpu, self._mem = value

    def add(self, t: float, cpu: float, mem: float) -> None:
        self._known, self._at, self._cpu, self._mem = True, t, cpu, mem
        last = self.times[(self.head - 1) % SLOTS] if self.count else None
        if last is not None and t - last < STEP_S:
            return
        self.times[self.head], self.cpu[self.head], self.mem[self.head] = t, cpu, mem
        self.head = (self.head + 1) % SLOTS
        self.count = min(self.count + 1, SLOTS)

    def samples(self) -> list[UsageSampleJson]:
        start = (self.head - self.count) % SLOTS
        out: list[UsageSampleJson] = []
        for k in range(self.count):
            i = (start + k) % SLOTS
            out.append(
                {
                    "t": round(self.times[i], 3),
                    "cpu_cores": round(self.cpu[i], 4),
                    "memory_mb": round(self.mem[i], 2),
                }
            )
        return out


def _json(ring: Ring | None) -> UsageJson | None:
    if ring is None or not ring._known:
        return None
    return {"cpu_cores": round(ring._cpu, 4), "memory_mb": round(ring._mem, 2)}


class UsageBook:
    """Latest usage and short history per pod and per node (in memory, bounded)."""

    def __init__(self) -> None:
        self.pods: dict[int, Ring] = {}
        self.nodes: dict[int, Ring] = {}
        # node -> its pods' rings (their latest figures are the node's sum): references to
        # rings that exist anyway, so a heartbeat allocates nothing that lives on here.
        self._node_pods: dict[int, dict[int, Ring]] = {}

    def record(
        self,
        node_id: int,
        now: float,
        pods: Iterable[PodUsage],
        node: tuple[float, float] | None,
        own: AbstractSet[int],
    ) -> None:
        """One heartbeat's usage; pods not bound to the node (``own``) are ignored."""
        figures = self._node_pods.setdefault(node_id, {})
        for u in pods:
            if u.pod_id not in own:
                continue
            ring = self.pods.get(u.pod_id)
            if ring is None:
                ring = self.pods[u.pod_id] = Ring()
            ring.add(now, u.cpu_cores, u.memory_mb)
            figures[u.pod_id] = ring
        for gone in [p for p in figures if p not in own]:
            del figures[gone]
        if node is None:
            cpu = mem = 0.0
            for r in figures.values():
                cpu += r._cpu
                mem += r._mem
        else:
            cpu, mem = node
        ring = self.nodes.get(node_id)
        if ring is None:
            ring = self.nodes[node_id] = Ring()
        ring.add(now, cpu, mem)

    def forget_pod(self, pod_id: int) -> None:
        self.pods.pop(pod_id, None)

    def forget_node(self, node_id: int) -> None:
        self.nodes.pop(node_id, None)
        self._node_pods.pop(node_id, None)

    def lost_node(self, node_id: int) -> None:
        """The node is not healthy: its figures and its pods' are no longer current (shown as
        unknown, as ``kubectl top`` does for a NotReady node) until it reports again; the
        history stays."""
        ring = self.nodes.get(node_id)
        if ring is not None:
            ring.current = None
        for pod_id in self._node_pods.pop(node_id, {}):
            pod = self.pods.get(pod_id)
            if pod is not None:
                pod.current = None

    def pod(self, pod_id: int) -> UsageJson | None:
        return _json(self.pods.get(pod_id))

    def node(self, node_id: int) -> UsageJson | None:
        return _json(self.nodes.get(node_id))

    def pod_figures(self) -> dict[int, tuple[float, float]]:
        """Every pod's current (cpu_cores, memory_mb), rounded as ``pod`` rounds them: one
        read for a list of 20,000 pods instead of 20,000 (a few times cheaper)."""
        return {p: (round(r._cpu, 4), round(r._mem, 2)) for p, r in self.pods.items() if r._known}

    def pod_history(self, pod_id: int, now: float) -> UsageHistoryJson:
        return self.history(self.pods.get(pod_id), now)

    def node_history(self, node_id: int, now: float) -> UsageHistoryJson:
        return self.history(self.nodes.get(node_id), now)

    def history(self, ring: Ring | None, now: float) -> UsageHistoryJson:
        return {
            "now": round(now, 3),
            "step_s": STEP_S,
            "current": _json(ring),
            "samples": ring.samples() if ring is not None else [],
        }


# A virtual node's pods use what their annotations declare (docs/kubernetes.md), else
# DEFAULT_FRACTION of their request; ``usage-vary`` makes it swing as a sine of USAGE_PERIOD_S.
USAGE_CPU = "kube9.io/usage-cpu"  # "200m", "0.5"
USAGE_MEMORY = "kube9.io/usage-memory"  # "64Mi", "1Gi"
USAGE_VARY = "kube9.io/usage-vary"  # 0..1: the swing's amplitude as a fraction of the figure
DEFAULT_FRACTION = 0.5
USAGE_PERIOD_S = 60.0


def declared_usage(annotations: Mapping[str, str]) -> dict[str, Any]:
    """The ``usage`` entry of a pod's desired record (absent when nothing is declared; an
    annotation that does not parse is ignored, so a virtual node falls back to the default)."""
    out: dict[str, float] = {}
    if USAGE_CPU in annotations:
        with contextlib.suppress(ValueError, UserError):
            out["cpu_cores"] = parse_cpu(annotations[USAGE_CPU]) / 1000
    if USAGE_MEMORY in annotations:
        with contextlib.suppress(ValueError, UserError):
            out["memory_mb"] = float(parse_memory(annotations[USAGE_MEMORY], allow_zero=True))
    if USAGE_VARY in annotations:
        with contextlib.suppress(ValueError):
            vary = float(annotations[USAGE_VARY])
            if 0 <= vary <= 1:
                out["vary"] = vary
    return {"usage": out} if out else {}
