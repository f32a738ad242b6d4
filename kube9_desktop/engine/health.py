"""Failure detection and eviction: heartbeat deadlines, NotReady, and the guard against
evicting a whole cluster at once.

The decisions are pure functions of ``now`` (tested with tables and a FakeClock); the
``HealthMonitor`` only applies them on a timer several times per heartbeat interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kube9_desktop.engine import noexecute
from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, tick_forever
from kube9_desktop.engine.cluster import Cluster, placement
from kube9_desktop.engine.constraints import Toleration
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus, NodeType
from kube9_desktop.engine.state import NodeState, PodState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthConfig:
    grace_period: float = 3.0
    tick: float = 0.25
    eviction_delay: float = 0.0  # an unhealthy node keeps its pods this long
    startup_timeout: float = 60.0
    restart_timeout: float = 15.0
    stall_threshold: float = 1.0  # extra tick lag that counts as the engine having stalled
    fresh_window: float = 1.5  # heard from this recently = certainly alive (1.5 intervals)

    def __post_init__(self) -> None:
        if self.grace_period <= 0 or self.tick <= 0:
            raise ValueError("grace_period and tick must be positive")


# ---- pure decisions --------------------------------------------------------------------


def silence(last_heartbeat: float | None, watch_since: float, now: float) -> float:
    """Seconds since the node was last heard from, or since we started watching it."""
    base = watch_since if last_heartbeat is None else max(last_heartbeat, watch_since)
    return now - base


def heartbeat_overdue(
    last_heartbeat: float | None, watch_since: float, now: float, grace: float
) -> bool:
    """True once a node has been silent for longer than the grace period."""
    return silence(last_heartbeat, watch_since, now) > grace


def start_overdue(watch_since: float, now: float, timeout: float) -> bool:
    """A node launched (or restarted) at ``watch_since`` that has not heartbeated in time."""
    return now - watch_since > timeout


def tick_lag(previous_tick: float, now: float, tick: float) -> float:
    """How late this tick is; ticks of a healthy loop are a few milliseconds late at most."""
    return max(0.0, now - previous_tick - tick)


def engine_stalled(previous_tick: float, now: float, tick: float, threshold: float) -> bool:
    """The loop did not run for a while (laptop sleep, a blocked loop): deadlines are unfair."""
    return tick_lag(previous_tick, now, tick) > threshold


def full_disruption(workers: Iterable[NodeStatus]) -> bool:
    """Every worker that should be running is silent at once: suspect ourselves, not them.

    Initializing and failed workers do not count; with no counted worker there is no
    disruption. One healthy worker is enough to trust the detections.
    """
    counted = [s for s in workers if s not in (NodeStatus.INITIALIZING, NodeStatus.FAILED)]
    return bool(counted) and all(s is not NodeStatus.HEALTHY for s in counted)


def eviction_due(evict_at: float | None, now: float, paused: bool) -> bool:
    return evict_at is not None and not paused and now >= evict_at


def any_fresh(silences: Iterable[float], window: float) -> bool:
    """Is some healthy worker certainly alive (heard from within ``window``)?

    Nodes that die together are detected up to one interval apart; evicting the first one's
    pods before the others are detected would pour them onto dying nodes. With no worker
    heard from recently, eviction waits: either they speak again (a single failure) or they
    are detected too (a full disruption, and the guard keeps every pod in place).
    """
    return any(s <= window for s in silences)


# ---- the monitor -----------------------------------------------------------------------


@dataclass(slots=True)
class NodeWatch:
    """The monitor's own books for one node (monotonic seconds); never stored.

    Re-derived at start from the stored statuses: every deadline starts when watching does,
    an unhealthy node's pods are evicted if it does not come back within a grace period, and
    a failed node's pods are evicted at once (so they move as soon as there is room).
    """

    watch_since: float
    last_heard: float | None = None
    status: NodeStatus | None = None  # the status last seen, to notice transitions
    unhealthy_since: float | None = None
    evict_at: float | None = None


class HealthMonitor:
    """Marks silent nodes unhealthy and evicts pods of unhealthy nodes.

    Its eviction works through the node's condition taints (noexecute.py): pods that do not
    tolerate them go at ``evict_at``; pods that tolerate them stay, for the taint eviction
    controller to move when their toleration_seconds are up. ``extra_tolerations()``: what
    every pod tolerates besides its own (the "Kubernetes defaults" setting's).
    """

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        config: HealthConfig,
        extra_tolerations: Callable[[], tuple[Toleration, ...]] = lambda: (),
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.config = config
        self.extra_tolerations = extra_tolerations
        self.evictions_paused = False
        self.last_tick: float | None = None
        self.max_lag = 0.0
        self.watches: dict[int, NodeWatch] = {}
        self._task: asyncio.Task[None] | None = None
        cluster.bus.subscribe_changes(self._on_changes)

    # ---- books -------------------------------------------------------------------------

    def watch(self, node_id: int) -> NodeWatch:
        found = self.watches.get(node_id)
        if found is None:
            found = self.watches[node_id] = NodeWatch(watch_since=self.clock.monotonic())
        return found

    def heard(self, node_id: int) -> None:
        """An accepted heartbeat from the node's agent."""
        self.watch(node_id).last_heard = self.clock.monotonic()

    def restart_watch(self, node_id: int) -> None:
        """Start the node's deadline window again (a restart, a healed partition or hang)."""
        self.watch(node_id).watch_since = self.clock.monotonic()

    def silence(self, node_id: int) -> float:
        w = self.watch(node_id)
        return silence(w.last_heard, w.watch_since, self.clock.monotonic())

    def evict_at(self, node_id: int) -> float | None:
        found = self.watches.get(node_id)
        return found.evict_at if found is not None else None

    def _on_changes(self, changes: Changes) -> None:
        """Status transitions, as committed, move the monitor's own deadlines."""
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.watches.pop(node_id, None)
        now = self.clock.monotonic()
        nodes = self.cluster.state.nodes
        for node_id in changes.ids(Kind.NODE):
            node = nodes.get(node_id)
            if node is None:
                continue
            w = self.watch(node_id)
            if node.status is w.status:
                continue
            previous, w.status = w.status, node.status
            if node.status is NodeStatus.HEALTHY:
                w.unhealthy_since = None
                w.evict_at = None
            elif node.status is NodeStatus.UNHEALTHY and previous is not NodeStatus.UNHEALTHY:
                w.unhealthy_since = now
                if w.evict_at is None:
                    w.evict_at = now + self.config.eviction_delay
            elif node.status in (NodeStatus.RECOVERING, NodeStatus.INITIALIZING):
                w.watch_since = now  # a (re)started instance gets its start-up time
            elif node.status is NodeStatus.FAILED and w.evict_at is None:
                w.evict_at = now + self.config.eviction_delay

    # ---- running -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            now = self.clock.monotonic()
            self.last_tick = now
            cfg = self.config
            for node in self.cluster.state.nodes.values():
                w = self.watch(node.id)
                w.watch_since = max(w.watch_since, now)  # deadlines start with watching
                w.status = node.status
                if node.status is NodeStatus.UNHEALTHY and w.evict_at is None:
                    w.unhealthy_since = now
                    w.evict_at = now + cfg.grace_period + cfg.eviction_delay
                elif node.status is NodeStatus.FAILED and w.evict_at is None:
                    w.evict_at = now + cfg.eviction_delay
            self._task = asyncio.create_task(
                tick_forever(self.tick, self.config.tick, "health monitor"), name="health-monitor"
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def tick(self) -> None:
        now = self.clock.monotonic()
        previous = self.last_tick if self.last_tick is not None else now
        self.last_tick = now
        lag = tick_lag(previous, now, self.config.tick)
        self.max_lag = max(self.max_lag, lag)
        if engine_stalled(previous, now, self.config.tick, self.config.stall_threshold):
            self._restart_deadlines(now, lag)
            return
        for node in list(self.cluster.state.nodes.values()):
            try:
                self._check(node, now)
            except Exception:
                log.exception("health check of node %s failed", node.name)
        self._guard(now)
        for node in list(self.cluster.state.nodes.values()):
            try:
                self._condition(node, now)
            except Exception:
                log.exception("updating the condition taints of node %s failed", node.name)
        now = self.clock.monotonic()  # detections above may have set deadlines of "now"
        if not self.evictions_paused and self._some_worker_fresh(now):
            for node in list(self.cluster.state.nodes.values()):
                if (
                    node.pod_ids
                    and node.status
                    in (NodeStatus.UNHEALTHY, NodeStatus.RECOVERING, NodeStatus.FAILED)
                    and eviction_due(self.evict_at(node.id), now, self.evictions_paused)
                ):
                    try:
                        self._evict(node)
                    except Exception:
                        log.exception("evicting the pods of node %s failed", node.name)

    def runtime_exit(self, node_id: int, how: str) -> None:
        """The runtime saw the node die (``--detect-from-runtime``): NotReady now, as a
        missed grace period would say later. A node not healthy or starting is already being
        dealt with (a restart, a detection), so the news changes nothing there."""
        node = self.cluster.state.nodes.get(node_id)
        if node is None or node.status not in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING):
            return
        w = self.watch(node_id)
        quiet = silence(w.last_heard, w.watch_since, self.clock.monotonic())
        self.cluster.set_status(
            node,
            NodeStatus.UNHEALTHY,
            f"{how} (detected from the runtime, {quiet:.2f} s after its last heartbeat)",
            EventKind.NODE_DETECTED,
            detected="detected",
            data={"detected_by": "runtime", "runtime_said": how, "silence_s": round(quiet, 3)},
        )

    def _check(self, node: NodeState, now: float) -> None:
        cfg = self.config
        w = self.watch(node.id)
        if node.status is NodeStatus.HEALTHY:
            if heartbeat_overdue(w.last_heard, w.watch_since, now, cfg.grace_period):
                quiet = silence(w.last_heard, w.watch_since, now)
                self.cluster.set_status(
                    node,
                    NodeStatus.UNHEALTHY,
                    f"no heartbeat for {quiet:.1f} s (grace period {cfg.grace_period:g} s)",
                    EventKind.NODE_DETECTED,
                    detected="detected",
                    silent=True,
                    data={
                        "detected_by": "heartbeat",
                        "silence_s": round(quiet, 3),
                        "grace_period_s": cfg.grace_period,
                    },
                )
        elif node.status is NodeStatus.INITIALIZING:
            if start_overdue(w.watch_since, now, cfg.startup_timeout):
                self.cluster.set_status(
                    node,
                    NodeStatus.UNHEALTHY,
                    f"did not heartbeat within {cfg.startup_timeout:g} s of starting",
                    EventKind.NODE_DETECTED,
                    detected="start",
                )
        elif node.status is NodeStatus.RECOVERING and start_overdue(
            w.watch_since, now, cfg.restart_timeout
        ):
            self.cluster.set_status(
                node,
                NodeStatus.UNHEALTHY,
                f"did not heartbeat within {cfg.restart_timeout:g} s of its restart",
                EventKind.NODE_STATUS,
            )

    def _condition(self, node: NodeState, now: float) -> None:
        """An unhealthy node's condition taint follows its heartbeats: unreachable once they
        are overdue, not-ready while its agent speaks. A swap is a new NoExecute taint, so the
        node's pods are looked at again at the eviction's own pace."""
        if node.status in (NodeStatus.HEALTHY, NodeStatus.INITIALIZING):
            return
        w = self.watch(node.id)
        current = noexecute.condition_of(node.taints)
        silent = heartbeat_overdue(w.last_heard, w.watch_since, now, self.config.grace_period)
        key = noexecute.condition_key(node.status, silent, current)
        swapped = key != current and self.cluster.set_condition(node, key)
        if swapped and node.pod_ids and w.evict_at is None:
            w.evict_at = now + self.config.eviction_delay

    def evictions_due_again(self) -> None:
        """Look at every unhealthy node's pods again (what they tolerate changed)."""
        now = self.clock.monotonic()
        for node in self.cluster.state.nodes.values():
            if node.pod_ids and node.status is not NodeStatus.HEALTHY:
                w = self.watch(node.id)
                if w.evict_at is None and node.status is not NodeStatus.INITIALIZING:
                    w.evict_at = now

    def doomed(self, node: NodeState) -> list[PodState]:
        """The node's pods that do not tolerate one of its NoExecute taints: they go now."""
        extra = self.extra_tolerations()
        added = {t: 0.0 for t in node.taints}
        return [
            p for p in self.cluster.state.pods_of(node)
            if noexecute.verdict(added, noexecute.with_defaults(p.spec.tolerations, extra),
                                 0.0).action is noexecute.Action.EVICT
        ]  # fmt: skip

    def _some_worker_fresh(self, now: float) -> bool:
        return any_fresh(
            (
                silence(self.watch(n.id).last_heard, self.watch(n.id).watch_since, now)
                for n in self.cluster.state.nodes.values()
                if n.node_type is NodeType.WORKER and n.status is NodeStatus.HEALTHY
            ),
            self.config.fresh_window,
        )

    def _guard(self, now: float) -> None:
        workers = [n for n in self.cluster.state.nodes.values() if n.node_type is NodeType.WORKER]
        disrupted = full_disruption(n.status for n in workers)
        if disrupted and not self.evictions_paused:
            self.evictions_paused = True
            self.cluster.record_event(
                EventKind.EVICTIONS_PAUSED,
                "Every worker is silent at once: evictions paused (pods stay where they are "
                "until nodes come back)",
            )
        elif not disrupted and self.evictions_paused:
            self.evictions_paused = False
            restarted = 0
            for n in workers:
                w = self.watch(n.id)
                if n.status is not NodeStatus.HEALTHY and w.evict_at is not None:
                    w.evict_at = max(w.evict_at, now + self.config.grace_period)
                    restarted += 1
            self.cluster.record_event(
                EventKind.EVICTIONS_RESUMED,
                "A worker is healthy again: evictions resume"
                + (f"; {restarted} silent node(s) get a fresh grace period" if restarted else ""),
            )

    def _restart_deadlines(self, now: float, lag: float) -> None:
        for node in self.cluster.state.nodes.values():
            w = self.watch(node.id)
            w.watch_since = now
            if w.evict_at is not None:
                w.evict_at = max(w.evict_at, now + self.config.grace_period)
        self.cluster.record_event(
            EventKind.EVICTIONS_PAUSED,
            f"The engine stalled for {lag:.1f} s (sleep or a blocked loop): heartbeat deadlines "
            "restarted instead of declaring nodes dead",
            data={"lag_s": round(lag, 3)},
        )

    def _evict(self, node: NodeState) -> None:
        doomed = self.doomed(node)
        self.watch(node.id).evict_at = None
        if not doomed:
            return  # every pod tolerates the node's taints (for a while): they stay
        count, staying = len(doomed), len(node.pod_ids) - len(doomed)
        with self.cluster.transaction() as t:
            t.event(
                EventKind.EVICTION_STARTED,
                f"Evicting {count} pod(s) from {node.name} ({node.status_reason or node.status})"
                + (f"; {staying} tolerating its taints stay" if staying else ""),
                obj=node.ref(),
                data={"pods": count, "staying": staying},
            )
            placement.evict_pods(t, node, doomed, reason=f"{node.name} is {node.status}")
