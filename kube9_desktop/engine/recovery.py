"""Recovery: the engine (never Docker) restarts unhealthy nodes, with exponential back-off and
a bounded budget; a node that spends it is ``failed`` until the user acts.

Back-off before attempt k is ``min(cap, base * 2**(k-1))``: with base 1 s and cap 30 s the
waits are 1, 2, 4, 8, 16, 30, 30… seconds. The attempt count resets once a node has stayed
healthy for ``reset_after`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.clock import Clock, tick_forever
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.state import NodeState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveryConfig:
    max_attempts: int = 3
    backoff: float = 1.0
    backoff_cap: float = 30.0
    reset_after: float = 60.0
    tick: float = 0.25


class Action(Enum):
    NONE = "none"
    SCHEDULE = "schedule"  # start the back-off clock for the next attempt
    RESTART = "restart"
    FAIL = "fail"
    RESET = "reset"  # healthy long enough: forget past attempts


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before attempt number ``attempt`` (1-based)."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def decide(
    *,
    status: NodeStatus,
    attempts: int,
    next_at: float | None,
    healthy_since: float | None,
    partitioned: bool,
    runtime_available: bool,
    now: float,
    config: RecoveryConfig,
) -> Action:
    """What recovery should do for one node right now."""
    if status is NodeStatus.HEALTHY:
        if attempts and healthy_since is not None and now - healthy_since >= config.reset_after:
            return Action.RESET
        return Action.NONE
    if status is not NodeStatus.UNHEALTHY or partitioned or not runtime_available:
        # An unreachable node cannot be restarted; wait for the partition (or Docker) to heal.
        return Action.NONE
    if attempts >= config.max_attempts:
        return Action.FAIL
    if next_at is None:
        return Action.SCHEDULE
    return Action.RESTART if now >= next_at else Action.NONE


RestartFn = Callable[[NodeState], Awaitable[None]]


async def finish_or_cancel(tasks: list[asyncio.Task[None]], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``tasks`` to finish, then cancel what is left."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(slots=True)
class RecoveryBooks:
    """The controller's own books for one node (monotonic seconds); never stored."""

    next_at: float | None = None
    healthy_since: float | None = None


class RecoveryController:
    """Applies ``decide`` to every node on a timer; restarts run as tasks, one per node.

    ``runtime_available(node)``: whether the runtime the node runs on (its Docker engine)
    answers; while it does not, its nodes are left alone and spend no attempts.
    ``partitioned(node_id)`` comes from the fault injector; ``on_restart(node_id)`` lets the
    engine clear what a restart clears (a frozen process, component faults) before it runs.
    """

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        config: RecoveryConfig,
        restart: RestartFn,
        runtime_available: Callable[[NodeState], bool] = lambda _node: True,
        partitioned: Callable[[int], bool] = lambda _node_id: False,
        on_restart: Callable[[int], None] = lambda _node_id: None,
    ) -> None:
        self.cluster = cluster
        self.clock = clock
        self.config = config
        self._restart = restart
        self._runtime_available = runtime_available
        self._partitioned = partitioned
        self._on_restart = on_restart
        self._task: asyncio.Task[None] | None = None
        self._restarts: dict[int, asyncio.Task[None]] = {}
        self.books: dict[int, RecoveryBooks] = {}
        cluster.bus.subscribe_changes(self._on_changes)

    def _books(self, node_id: int) -> RecoveryBooks:
        found = self.books.get(node_id)
        if found is None:
            found = self.books[node_id] = RecoveryBooks()
        return found

    def _on_changes(self, changes: Changes) -> None:
        for node_id in changes.removed.get(Kind.NODE, {}):
            self.books.pop(node_id, None)
        now = self.clock.monotonic()
        for node_id in changes.ids(Kind.NODE):
            node = self.cluster.state.nodes.get(node_id)
            if node is None:
                continue
            books = self._books(node_id)
            if node.status is NodeStatus.HEALTHY:
                if books.healthy_since is None:
                    books.healthy_since = now
            else:
                books.healthy_since = None

    def start(self) -> None:
        if self._task is None:
            now = self.clock.monotonic()
            for node in self.cluster.state.nodes.values():
                if node.status is NodeStatus.HEALTHY:
                    self._books(node.id).healthy_since = now
            self._task = asyncio.create_task(
                tick_forever(self.tick, self.config.tick, "recovery"), name="recovery"
            )

    async def stop(self, grace: float = 15.0) -> None:
        """Stop deciding; let restarts under way finish (bounded) so none lands after stop.

        Cancelling a restart would not stop the runtime call already running in a worker
        thread: it would start the node after the engine had stopped every node.
        """
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await finish_or_cancel(list(self._restarts.values()), grace)
        self._restarts.clear()

    def next_attempt_at(self, node_id: int) -> float | None:
        found = self.books.get(node_id)
        return found.next_at if found is not None else None

    def tick(self) -> None:
        now = self.clock.monotonic()
        for node in list(self.cluster.state.nodes.values()):
            if node.id in self._restarts:
                continue
            books = self._books(node.id)
            action = decide(
                status=node.status,
                attempts=node.recovery_attempts,
                next_at=books.next_at,
                healthy_since=books.healthy_since,
                partitioned=self._partitioned(node.id),
                runtime_available=self._runtime_available(node),
                now=now,
                config=self.config,
            )
            try:
                self._apply(node, books, action, now)
            except Exception:
                log.exception("recovery of node %s failed", node.name)

    def _apply(self, node: NodeState, books: RecoveryBooks, action: Action, now: float) -> None:
        cfg = self.config
        if action is Action.SCHEDULE:
            delay = backoff_delay(node.recovery_attempts + 1, cfg.backoff, cfg.backoff_cap)
            books.next_at = now + delay
        elif action is Action.RESET:
            self.cluster.set_recovery_attempts(node, 0)
        elif action is Action.FAIL:
            self.cluster.set_status(
                node,
                NodeStatus.FAILED,
                f"recovery gave up after {node.recovery_attempts} restart attempt(s); "
                "use Recover to try again, or delete the node",
                EventKind.NODE_FAILED,
                close_incident="failed",
            )
            books.next_at = None
        elif action is Action.RESTART:
            attempt = node.recovery_attempts + 1
            wait = backoff_delay(attempt, cfg.backoff, cfg.backoff_cap)
            self.begin_restart(
                node,
                f"restart attempt {attempt}/{cfg.max_attempts} after {wait:g} s back-off",
                attempt,
            )

    def begin_restart(self, node: NodeState, reason: str, attempt: int) -> None:
        """Mark the node recovering, then restart it through the runtime in a task."""
        self._books(node.id).next_at = None
        self._on_restart(node.id)
        self.cluster.set_status(
            node,
            NodeStatus.RECOVERING,
            reason,
            EventKind.RECOVERY_ATTEMPT,
            message=f"Restarting node {node.name}: {reason}",
            recovery_attempts=attempt,
            data={"attempt": attempt},
        )
        task = asyncio.create_task(self._restart_one(node), name=f"restart-{node.name}")
        self._restarts[node.id] = task

    async def _restart_one(self, node: NodeState) -> None:
        try:
            await self._restart(node)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log.warning("restart of node %s failed: %s", node.name, message)
            if node.id in self.cluster.state.nodes and node.status is NodeStatus.RECOVERING:
                # The runtime being down is not the node's fault: give the attempt back.
                refund = isinstance(exc, RuntimeUnavailable)
                attempts = max(0, node.recovery_attempts - 1) if refund else node.recovery_attempts
                self.cluster.set_status(
                    node,
                    NodeStatus.UNHEALTHY,
                    f"restart failed: {message}"
                    + (" (attempt not counted: the runtime is down)" if refund else ""),
                    EventKind.RUNTIME,
                    recovery_attempts=attempts,
                )
        finally:
            self._restarts.pop(node.id, None)
