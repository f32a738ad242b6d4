"""Failure detection and eviction: heartbeat deadlines, NotReady, and the guard against
evicting a whole cluster at once.

The decisions are pure functions of ``now`` (tested with tables and a FakeClock); the
``HealthMonitor`` only applies them on a timer several times per heartbeat interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from kube9_desktop.engine.clock import Clock, tick_forever
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus, NodeType
from kube9_desktop.engine.state import NodeState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthConfig:
    grace_period: float = 3.0
    tick: float = 0.25
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


class HealthMonitor:
    """Marks silent nodes unhealthy, heals expired partitions, evicts pods of unhealthy nodes."""

    def __init__(self, cluster: Cluster, clock: Clock, config: HealthConfig) -> None:
        self.cluster = cluster
        self.clock = clock
        self.config = config
        self.evictions_paused = False
        self.last_tick: float | None = None
        self.max_lag = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            now = self.clock.monotonic()
            self.last_tick = now
            for node in self.cluster.state.nodes.values():
                node.watch_since = max(node.watch_since, now)  # deadlines start with watching
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
        now = self.clock.monotonic()  # detections above may have set deadlines of "now"
        if not self.evictions_paused and self._some_worker_fresh(now):
            for node in list(self.cluster.state.nodes.values()):
                if (
                    node.pod_ids
                    and node.status
                    in (
                        NodeStatus.UNHEALTHY,
                        NodeStatus.RECOVERING,
                        NodeStatus.FAILED,
                    )
                    and eviction_due(node.evict_at, now, self.evictions_paused)
                ):
                    self._evict(node)

    def _check(self, node: NodeState, now: float) -> None:
        cfg = self.config
        if node.partition_until is not None and now >= node.partition_until:
            node.partition_until = None
            node.watch_since = now
            self.cluster.record_event(
                EventKind.FAULT_HEALED,
                f"Partition of node {node.name} healed: its heartbeats get through again",
                node=node,
            )
        if node.status is NodeStatus.HEALTHY:
            if heartbeat_overdue(node.last_heartbeat_mono, node.watch_since, now, cfg.grace_period):
                quiet = silence(node.last_heartbeat_mono, node.watch_since, now)
                self.cluster.set_status(
                    node,
                    NodeStatus.UNHEALTHY,
                    f"no heartbeat for {quiet:.1f} s (grace period {cfg.grace_period:g} s)",
                    EventKind.NODE_DETECTED,
                    open_incident="detected",
                    data={"silence_s": round(quiet, 3), "grace_period_s": cfg.grace_period},
                )
        elif node.status is NodeStatus.INITIALIZING:
            if start_overdue(node.watch_since, now, cfg.startup_timeout):
                self.cluster.set_status(
                    node,
                    NodeStatus.UNHEALTHY,
                    f"did not heartbeat within {cfg.startup_timeout:g} s of starting",
                    EventKind.NODE_DETECTED,
                    open_incident="start",
                )
        elif node.status is NodeStatus.RECOVERING and start_overdue(
            node.watch_since, now, cfg.restart_timeout
        ):
            self.cluster.set_status(
                node,
                NodeStatus.UNHEALTHY,
                f"did not heartbeat within {cfg.restart_timeout:g} s of its restart",
                EventKind.NODE_STATUS,
            )

    def _some_worker_fresh(self, now: float) -> bool:
        return any_fresh(
            (
                silence(n.last_heartbeat_mono, n.watch_since, now)
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
                if n.status is not NodeStatus.HEALTHY and n.evict_at is not None:
                    n.evict_at = max(n.evict_at, now + self.config.grace_period)
                    restarted += 1
            self.cluster.record_event(
                EventKind.EVICTIONS_RESUMED,
                "A worker is healthy again: evictions resume"
                + (f"; {restarted} silent node(s) get a fresh grace period" if restarted else ""),
            )

    def _restart_deadlines(self, now: float, lag: float) -> None:
        for node in self.cluster.state.nodes.values():
            node.watch_since = now
            if node.evict_at is not None:
                node.evict_at = max(node.evict_at, now + self.config.grace_period)
        self.cluster.record_event(
            EventKind.EVICTIONS_PAUSED,
            f"The engine stalled for {lag:.1f} s (sleep or a blocked loop): heartbeat deadlines "
            "restarted instead of declaring nodes dead",
            data={"lag_s": round(lag, 3)},
        )

    def _evict(self, node: NodeState) -> None:
        count = len(node.pod_ids)
        self.cluster.record_event(
            EventKind.EVICTION_STARTED,
            f"Evicting {count} pod(s) from {node.name} ({node.status_reason or node.status})",
            node=node,
            data={"pods": count},
        )
        self.cluster.evict(node, reason=f"{node.name} is {node.status}")
        node.evict_at = None
