"""EngineBridge: the only door between the widgets and the engine.

Every commit's change set (``Changes``: ids added, changed and removed, per kind of object)
is merged into one pending set and emitted as ``cluster_changed`` once per burst; views
refresh exactly those rows. Events go out as they are published, for the timeline and the
charts' markers. One clock (``ticked``, once a second) drives every widget that polls what
has no event (heartbeat ages, rates). Engine operations become tasks whose outcome comes back
through callbacks on the GUI thread. Widgets read frozen views from here, through the engine's
typed reads, and never touch its state, its store or Docker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.engine_ops import EngineInfo
from kube9_desktop.engine.errors import Kube9Error, NotFound, UserError
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.k8s.kubeconfig import served_kubeconfig_text, write_kubeconfig
from kube9_desktop.engine.model import (
    ClusterSummary,
    NamespaceView,
    NodeGauge,
    NodeView,
    PodView,
    StaleCopy,
)
from kube9_desktop.engine.node_shell import ShellPlace
from kube9_desktop.engine.priority import PriorityClassView
from kube9_desktop.engine.services import ServiceView
from kube9_desktop.engine.timeline import Timeline
from kube9_desktop.engine.usage import UsageHistoryJson, UsageJson
from kube9_desktop.engine.what_if import WhatIf
from kube9_desktop.engine.workload_ops import Revision
from kube9_desktop.engine.workloads import DeploymentView, ReplicaSetView

log = logging.getLogger(__name__)
T = TypeVar("T")

ChangeSet = Changes  # what ``cluster_changed`` carries: per kind, the ids a burst touched


def everything(
    nodes: Collection[int],
    pods: Collection[int],
    deployments: Collection[int] = (),
    replicasets: Collection[int] = (),
    services: Collection[int] = (),
) -> Changes:
    """A change set naming every object (a freshly attached engine)."""
    changes = Changes()
    changes.added = {Kind.NODE: set(nodes), Kind.POD: set(pods)}
    if deployments:
        changes.added[Kind.DEPLOYMENT] = set(deployments)
    if replicasets:
        changes.added[Kind.REPLICASET] = set(replicasets)
    if services:
        changes.added[Kind.SERVICE] = set(services)
    return changes


class EngineBridge(QObject):
    # Past-tense names: what happened.
    engine_attached = Signal()
    engine_detached = Signal()
    cluster_changed = Signal(object)  # Changes (merged over a burst)
    event_published = Signal(object)  # Event, for the timeline and charts' markers
    operation_failed = Signal(str, str)  # (what was attempted, a message for a person)
    progress_reported = Signal(str)  # runtime start-up / image build progress
    ticked = Signal()  # once a second while attached: polling widgets refresh on it

    COALESCE_MS = 50
    TICK_MS = 1000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine: Engine | None = None
        self._pending = Changes()
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(self.COALESCE_MS)
        self._flush.timeout.connect(self._on_flush_timeout)
        self._clock = QTimer(self)
        self._clock.setInterval(self.TICK_MS)
        self._clock.timeout.connect(self.ticked.emit)
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- wiring ----------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        """Start listening to a started engine."""
        self.engine = engine
        self._unsubscribe = [
            engine.bus.subscribe(self._on_engine_event),
            engine.bus.subscribe_changes(self._on_engine_changes),
        ]
        self._clock.start()
        self.engine_attached.emit()
        self.cluster_changed.emit(
            everything(
                [n.id for n in engine.nodes()],
                [p.id for p in engine.pods()],
                [d.id for d in engine.deployments()],
                [r.id for r in engine.replicasets()],
                [s.id for s in engine.services()],
            )
        )

    def detach(self) -> None:
        self._flush.stop()
        self._clock.stop()
        self._pending = Changes()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for task in list(self._tasks):
            task.cancel()
        was_attached, self.engine = self.engine is not None, None
        if was_attached:
            self.engine_detached.emit()

    @property
    def attached(self) -> bool:
        return self.engine is not None

    def set_tick_interval(self, ms: int) -> None:
        """How often ``ticked`` fires (tests speed it up; the window keeps one second)."""
        self._clock.setInterval(ms)

    def _on_engine_event(self, event: Event) -> None:
        if event.kind is EventKind.RUNTIME:
            self.progress_reported.emit(event.message)
        self.event_published.emit(event)

    def _on_engine_changes(self, changes: Changes) -> None:
        self._pending.merge(changes)
        self._pending.events = []  # events went out one by one already
        if not self._flush.isActive():
            self._flush.start()

    def _on_flush_timeout(self) -> None:
        changes, self._pending = self._pending, Changes()
        if changes:
            self.cluster_changed.emit(changes)

    # ---- reads (snapshots) -------------------------------------------------------------

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the engine is not running yet")
        return self.engine

    def engines(self) -> list[EngineInfo]:
        """The Docker engines nodes may run on, with their state (``local`` first)."""
        return self.engine.engines() if self.engine else []

    def nodes(self) -> list[NodeView]:
        return self.engine.nodes() if self.engine else []

    def pods(self) -> list[PodView]:
        return self.engine.pods() if self.engine else []

    def node_gauges(self) -> list[NodeGauge]:
        """What the charts draw of each node (a light read, taken once a second)."""
        return self.engine.node_gauges() if self.engine else []

    def node(self, node_id: int) -> NodeView | None:
        return self.engine.find_node(node_id) if self.engine else None

    def what_if(self, node_ids: list[int]) -> WhatIf:
        """The engine's what-if preview of these nodes failing (nothing changes)."""
        return self._engine().what_if(node_ids)

    def pod(self, pod_id: int) -> PodView | None:
        return self.engine.find_pod(pod_id) if self.engine else None

    def pod_ids_of(self, node_id: int) -> list[int]:
        view = self.node(node_id)
        return list(view.pod_ids) if view is not None else []

    def pending_pod_ids(self) -> list[int]:
        return self.engine.pending_pod_ids() if self.engine else []

    def node_name_taken(self, name: str) -> bool:
        return self.engine.node_name_taken(name) if self.engine else False

    def pod_name_taken(self, name: str, namespace: str = "default") -> bool:
        return self.engine.pod_name_taken(name, namespace) if self.engine else False

    def namespaces(self) -> list[NamespaceView]:
        return self.engine.namespaces() if self.engine else []

    def priority_classes(self) -> list[PriorityClassView]:
        return self.engine.priority_classes() if self.engine else []

    def namespace(self, name: str) -> NamespaceView | None:
        """The namespace named ``name``; None when there is none (or no engine yet)."""
        if self.engine is None:
            return None
        try:
            return self.engine.namespace(name)
        except NotFound:
            return None

    # Workloads: Deployments own ReplicaSets (by id), which own pods (``PodView.owner``).

    def deployments(self) -> list[DeploymentView]:
        return self.engine.deployments() if self.engine else []

    def replicasets(self) -> list[ReplicaSetView]:
        return self.engine.replicasets() if self.engine else []

    def deployment(self, deployment_id: int) -> DeploymentView | None:
        return self.engine.find_deployment(deployment_id) if self.engine else None

    def replicaset(self, rs_id: int) -> ReplicaSetView | None:
        return self.engine.find_replicaset(rs_id) if self.engine else None

    def deployment_history(self, deployment_id: int) -> list[Revision]:
        """Every kept revision, oldest first; empty when the Deployment is gone."""
        if self.engine is None:
            return []
        try:
            return self.engine.deployment_history(deployment_id)
        except NotFound:
            return []

    def deployment_name_taken(self, name: str, namespace: str = "default") -> bool:
        return self.engine.deployment_name_taken(name, namespace) if self.engine else False

    # Services: their endpoints come with each view (derived by the engine in the same commit
    # as the pod change that moved them, which marks the Service changed).

    def services(self) -> list[ServiceView]:
        return self.engine.services() if self.engine else []

    def service(self, service_id: int) -> ServiceView | None:
        return self.engine.find_service(service_id) if self.engine else None

    def traffic(self, service_id: int) -> dict[str, Any] | None:
        """The Service's latest traffic run as the API shows it, or None (none yet)."""
        if self.engine is None:
            return None
        try:
            return self.engine.traffic(service_id).to_json()
        except Kube9Error:
            return None

    def traffic_state(self, service_id: int) -> str | None:
        """ "running", "finished" or "stopped" for the Service's latest run (None: none yet),
        without building its figures."""
        run = self.engine.latest_traffic(service_id) if self.engine is not None else None
        return None if run is None else run.state

    def service_name_taken(self, name: str, namespace: str = "default") -> bool:
        return self.engine.service_name_taken(name, namespace) if self.engine else False

    def summary(self) -> ClusterSummary | None:
        return self.engine.summary() if self.engine else None

    # Live usage (engine/usage.py): latest figures and 5-minute history, in memory only.

    def pod_usage(self, pod_id: int) -> UsageJson | None:
        return self.engine.heartbeats.usage.pod(pod_id) if self.engine else None

    def node_usage(self, node_id: int) -> UsageJson | None:
        return self.engine.heartbeats.usage.node(node_id) if self.engine else None

    def pod_usages(self) -> dict[int, tuple[float, float]]:
        """Every pod's current (cpu_cores, memory_mb), as ``pod_usage`` gives them, at once."""
        return self.engine.heartbeats.usage.pod_figures() if self.engine else {}

    def pod_usage_history(self, pod_id: int) -> UsageHistoryJson | None:
        if self.engine is None:
            return None
        return self.engine.heartbeats.usage.pod_history(pod_id, self.engine.clock.monotonic())

    def node_usage_history(self, node_id: int) -> UsageHistoryJson | None:
        if self.engine is None:
            return None
        return self.engine.heartbeats.usage.node_history(node_id, self.engine.clock.monotonic())

    # Split brain (engine/split_brain.py): copies an unreachable node still runs.

    def stale_copy(self, pod_id: int) -> StaleCopy | None:
        return self.engine.stale_copies.find(pod_id) if self.engine else None

    def stale_copy_replaced_by(self, pod_id: int) -> StaleCopy | None:
        return self.engine.stale_copies.replaced_by(pod_id) if self.engine else None

    def events(self, *, since: int = 0, limit: int = 500, **filters: Any) -> list[Event]:
        return self.engine.events(since=since, limit=limit, **filters) if self.engine else []

    def timeline(self, incident_id: int) -> Timeline | None:
        return self.engine.find_incident(incident_id) if self.engine else None

    # ---- the engine's rules (one rule: the engine's) ---------------------------------

    def fault_refusal(self, node_id: int, mode: str = "crash") -> str | None:
        """Why this fault cannot go into this node now (None: it can)."""
        if self.engine is None:
            return "The engine is not running yet"
        return self.engine.fault_refusal(node_id, mode)

    def recover_refusal(self, node_id: int) -> str | None:
        if self.engine is None:
            return "The engine is not running yet"
        return self.engine.recover_refusal(node_id)

    def kill_refusal(self, pod_id: int) -> str | None:
        if self.engine is None:
            return "The engine is not running yet"
        return self.engine.kill_refusal(pod_id)

    def rollback_refusal(self, deployment_id: int, revision: int | None = None) -> str | None:
        """Why rolling this Deployment back (to ``revision``, else the previous one) is
        refused now; None: it would go ahead."""
        if self.engine is None:
            return "The engine is not running yet"
        return self.engine.rollback_refusal(deployment_id, revision)

    def shell_refusal(self, pod_id: int | None = None) -> str | None:
        """Why no shell can open on this runtime (or for this pod); None: it can."""
        if self.engine is None:
            return "The engine is not running yet"
        try:
            return self.engine.shell_refusal(pod_id)
        except NotFound as exc:
            return exc.message

    def node_shell(self, node_id: int) -> ShellPlace:
        """Where a node's shell goes (raises ``Kube9Error`` with the reason if nowhere)."""
        return self._engine().node_shell(node_id)

    def pod_shell(self, pod_id: int) -> ShellPlace:
        return self._engine().pod_shell(pod_id)

    def set_scheduler(self, strategy: str) -> None:
        """Switch the scheduling strategy at once (new and displaced pods use it)."""
        self._engine().cluster.set_scheduler(strategy)

    def set_kubernetes_defaults(self, on: bool) -> None:
        """Give every pod Kubernetes' default tolerations of unhealthy nodes (300 s), or not."""
        self._engine().set_kubernetes_defaults(on)

    @property
    def api_url(self) -> str:
        return self.engine.api_url if self.engine else ""

    @property
    def admin_token(self) -> str:
        return self.engine.admin_token if self.engine else ""

    @property
    def k8s_url(self) -> str:
        """The Kubernetes API's URL ("" when it is not served)."""
        return self.engine.k8s_url if self.engine else ""

    def kubeconfig(self) -> str:
        """A kubeconfig for the Kubernetes API (raises ``Kube9Error`` when it is not served)."""
        engine = self._engine()
        if not engine.k8s_url:
            raise UserError("The Kubernetes API is not being served")
        return served_kubeconfig_text(engine.k8s_url, engine.settings.data_dir, engine.admin_token)

    def save_kubeconfig(self, path: Path) -> None:
        """Write the kubeconfig to ``path`` (0600; the user's ~/.kube/config is refused)."""
        write_kubeconfig(self.kubeconfig(), path)

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
