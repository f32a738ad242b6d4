"""EngineBridge: the only door between the widgets and the engine.

Engine events become Qt signals (coalesced: one ``cluster_changed`` per burst, naming the
node and pod ids that changed); engine operations become tasks whose outcome comes back
through callbacks on the GUI thread. Widgets read snapshots (frozen views) from here and never
touch the engine's internals, the store or Docker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.model import ClusterSummary, NodeView, PodView
from kube9_desktop.engine.timeline import Timeline, incident_timeline

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ChangeSet:
    """Ids touched by a burst of events; views re-read exactly these from the bridge."""

    nodes: set[int] = field(default_factory=set)
    pods: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.pods)


class EngineBridge(QObject):
    # Past-tense names: what happened.
    engine_attached = Signal()
    cluster_changed = Signal(object)  # ChangeSet
    event_published = Signal(object)  # Event, for the timeline and charts' markers
    operation_failed = Signal(str, str)  # (what was attempted, a message for a person)
    progress_reported = Signal(str)  # runtime start-up / image build progress

    COALESCE_MS = 50

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine: Engine | None = None
        self._pending = ChangeSet()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(self.COALESCE_MS)
        self._flush.timeout.connect(self._on_flush_timeout)
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- wiring ----------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        """Start listening to a started engine."""
        self.engine = engine
        self._unsubscribe = engine.bus.subscribe(self._on_engine_event)
        self.engine_attached.emit()
        self.cluster_changed.emit(
            ChangeSet(set(engine.cluster.state.nodes), set(engine.cluster.state.pods))
        )

    def detach(self) -> None:
        self._flush.stop()
        self._pending = ChangeSet()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        self.engine = None

    @property
    def attached(self) -> bool:
        return self.engine is not None

    def _on_engine_event(self, event: Event) -> None:
        if event.node_id is not None:
            self._pending.nodes.add(event.node_id)
        if event.pod_id is not None:
            self._pending.pods.add(event.pod_id)
        moved_from = event.data.get("from_id") if event.data else None
        if isinstance(moved_from, int):
            self._pending.nodes.add(moved_from)
        if event.kind is EventKind.RUNTIME:
            self.progress_reported.emit(event.message)
        self.event_published.emit(event)
        if not self._flush.isActive():
            self._flush.start()

    def _on_flush_timeout(self) -> None:
        changes, self._pending = self._pending, ChangeSet()
        if changes:
            self.cluster_changed.emit(changes)

    # ---- reads (snapshots) -------------------------------------------------------------

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the engine is not running yet")
        return self.engine

    def nodes(self) -> list[NodeView]:
        return self._engine().cluster.node_views() if self.engine else []

    def pods(self) -> list[PodView]:
        return self._engine().cluster.pod_views() if self.engine else []

    def node(self, node_id: int) -> NodeView | None:
        if self.engine is None:
            return None
        node = self.engine.cluster.state.nodes.get(node_id)
        return self.engine.cluster.node_view(node) if node else None

    def pod(self, pod_id: int) -> PodView | None:
        if self.engine is None:
            return None
        pod = self.engine.cluster.state.pods.get(pod_id)
        return self.engine.cluster.state.pod_view(pod) if pod else None

    def pod_ids_of(self, node_id: int) -> list[int]:
        if self.engine is None:
            return []
        node = self.engine.cluster.state.nodes.get(node_id)
        return sorted(node.pod_ids) if node else []

    def pending_pod_ids(self) -> list[int]:
        return list(self.engine.cluster.state.pending) if self.engine else []

    def summary(self) -> ClusterSummary | None:
        return self.engine.summary() if self.engine else None

    def events(self, *, since: int = 0, limit: int = 500, **filters: Any) -> list[Event]:
        return self.engine.store.events(since=since, limit=limit, **filters) if self.engine else []

    def timeline(self, incident_id: int) -> Timeline | None:
        if self.engine is None:
            return None
        incident = self.engine.store.incident(incident_id)
        return incident_timeline(self.engine.store, incident) if incident else None

    def set_scheduler(self, strategy: str) -> None:
        """Switch the scheduling strategy at once (new and displaced pods use it)."""
        self._engine().cluster.set_scheduler(strategy)

    @property
    def api_url(self) -> str:
        return self.engine.api_url if self.engine else ""

    @property
    def admin_token(self) -> str:
        return self.engine.admin_token if self.engine else ""

    # ---- operations --------------------------------------------------------------------

    def run(
        self,
        what: str,
        op: Callable[[Engine], Awaitable[T]],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[Kube9Error], None] | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``op(engine)`` as a task; report the result or a person-readable error.

        Errors the user can act on (``Kube9Error``) go to ``on_error`` if given, else to
        ``operation_failed``; anything else is a bug: logged, then reported the same way.
        """

        async def runner() -> None:
            try:
                result = await op(self._engine())
            except asyncio.CancelledError:
                raise
            except Kube9Error as exc:
                if on_error is not None:
                    on_error(exc)
                else:
                    self.operation_failed.emit(what, exc.message)
                return
            except Exception as exc:
                log.exception("%s failed", what)
                self.operation_failed.emit(what, f"Unexpected error ({type(exc).__name__}): {exc}")
                return
            if on_done is not None:
                on_done(result)

        task = asyncio.ensure_future(runner())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
