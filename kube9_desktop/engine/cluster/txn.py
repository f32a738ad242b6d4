"""One transaction: the unit every operation is built from, committed once.

Steps (insert a pod, bind it, set a node's status, record an event…) write their rows into the
open store transaction and change the working copy at once, each leaving an undo entry, so a
later step (the scheduler choosing the next pod's node) sees the earlier ones. The commit is
one database commit; only after it are the after-commit hooks run and the events and the
change set published. Any failure before or during the commit undoes the working copy in
reverse order and rolls the database back: nothing of the operation remains anywhere.

Nothing awaits inside a transaction, so no other task can see it half-done.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from kube9_desktop.engine.changes import Changes, Kind
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.store.store import Tx

if TYPE_CHECKING:
    from kube9_desktop.engine.cluster.base import ClusterBase

log = logging.getLogger(__name__)


class _Auto:
    """The default of ``Txn.event``'s incident: the open incident of the node involved."""


AUTO = _Auto()


class Txn:
    def __init__(self, cluster: ClusterBase) -> None:
        self.cluster = cluster
        self.state = cluster.state
        self.now: datetime = cluster.clock.now()
        self.changes = Changes()
        self._undo: list[Callable[[], object]] = []
        self._after: list[Callable[[], None]] = []
        self._before: dict[str, Callable[[], object]] = {}
        self._store_cm: AbstractContextManager[Tx] | None = None
        self._tx: Tx | None = None
        self._rv: int | None = None

    # ---- the two halves: store rows and the working copy -----------------------------

    @property
    def store(self) -> Tx:
        """The store transaction, opened on the first write (a read-only operation opens none)."""
        if self._tx is None:
            self._store_cm = self.cluster.store.tx(self.now)
            self._tx = self._store_cm.__enter__()
        return self._tx

    @property
    def rv(self) -> int:
        """This commit's resource version: one more than the last committed one."""
        if self._rv is None:
            self._rv = self.cluster.resource_version + 1
        return self._rv

    def undo(self, fn: Callable[[], object]) -> None:
        """Register how to take back a change just made to the working copy."""
        self._undo.append(fn)

    def set(self, obj: Any, attr: str, value: Any) -> None:
        """``setattr`` on the working copy, undone if the transaction fails."""
        old = getattr(obj, attr)
        if old is value:
            return
        setattr(obj, attr, value)
        self._undo.append(lambda: setattr(obj, attr, old))

    def once_before_commit(self, key: str, fn: Callable[[], object]) -> None:
        """Run ``fn`` once at the end of the transaction, however many steps asked for it
        (500 deletions in one step place the pending pods once, not 500 times)."""
        self._before.setdefault(key, fn)

    def _run_before_commit(self) -> None:
        while self._before:
            key = next(iter(self._before))
            self._before.pop(key)()
        if self.changes:
            for step in self.cluster.last_steps:  # derived state: endpoints of Services
                step(self)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the commit succeeded (controllers' own bookkeeping goes here)."""
        self._after.append(fn)

    # ---- what changed ------------------------------------------------------------------

    def added(self, kind: Kind, obj_id: int) -> None:
        self.changes.add(kind, obj_id)

    def changed(self, kind: Kind, obj_id: int) -> None:
        self.changes.change(kind, obj_id)

    def removed(self, kind: Kind, obj_id: int, view: Any = None) -> None:
        self.changes.remove(kind, obj_id, view)

    def event(
        self,
        kind: EventKind,
        message: str,
        *,
        obj: ObjectRef | None = None,
        related: ObjectRef | None = None,
        incident_id: int | _Auto | None = AUTO,
        data: Mapping[str, Any] | None = None,
    ) -> Event:
        """Record an event in this transaction; by default it joins its node's open incident."""
        if isinstance(incident_id, _Auto):
            node = obj if obj is not None and obj.kind == "Node" else related
            current = (
                self.state.open_incidents.get(node.id)
                if node is not None and node.kind == "Node" else None
            )  # fmt: skip
            incident_id = current.id if current is not None else None
        return self.store.add_event(
            kind, message, obj=obj, related=related, incident_id=incident_id, data=data,
            resource_version=self.rv,
        )  # fmt: skip

    # ---- ending ------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing done yet: no store transaction, no undo entry, no hook, nothing changed."""
        return (
            self._store_cm is None
            and self._rv is None
            and not self._undo
            and not self._after
            and not self._before
            and not self.changes
        )

    def _rollback(self, exc: BaseException | None) -> None:
        for fn in reversed(self._undo):
            try:
                fn()
            except Exception:  # pragma: no cover - an undo step failing is a bug
                log.exception("undo of a failed transaction failed")
        self._undo.clear()

    def _finish(self) -> None:
        """Commit the store transaction (if one was opened); on failure undo and re-raise."""
        if self._store_cm is not None:
            try:
                self._store_cm.__exit__(None, None, None)
            except BaseException as exc:
                self._rollback(exc)
                raise
        self._undo.clear()

    def _abort(self, exc: BaseException) -> None:
        if self._store_cm is not None:
            with contextlib.suppress(Exception):  # the original error is what matters
                self._store_cm.__exit__(type(exc), exc, exc.__traceback__)
        self._rollback(exc)

    def _publish(self) -> None:
        if self._rv is not None:
            self.cluster.resource_version = self._rv
        self.changes.resource_version = self._rv or 0
        if self._tx is not None:
            self.changes.events = list(self._tx.events)
        for fn in self._after:
            try:
                fn()
            except Exception:
                log.exception("after-commit hook failed")
        bus = self.cluster.bus
        for ev in self.changes.events:
            bus.publish(ev)
        if self.changes:
            bus.publish_changes(self.changes)


class run_transaction:  # used as the function it was: with run_transaction(cluster)
    """The transaction scope; a nested one joins the transaction already open.

    A class rather than a generator context manager: every heartbeat opens one, and the
    generator's machinery cost more than an empty transaction's own work."""

    __slots__ = ("cluster", "txn")

    def __init__(self, cluster: ClusterBase) -> None:
        self.cluster = cluster
        self.txn: Txn | None = None  # None: joined the transaction already open

    def __enter__(self) -> Txn:
        cluster = self.cluster
        if cluster.open_txn is not None:
            return cluster.open_txn
        txn = self.txn = cluster.open_txn = Txn(cluster)
        return txn

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> Literal[False]:
        txn = self.txn
        if txn is None:
            return False
        if exc is None and txn.idle:
            # Nothing written, changed or asked for (most heartbeats of a settled node): there
            # is nothing to commit, undo or publish.
            self.cluster.open_txn = None
            return False
        try:
            if exc is None:
                try:
                    txn._run_before_commit()
                except BaseException as failed:
                    txn._abort(failed)
                    raise
                txn._finish()
            else:
                txn._abort(exc)
                return False  # the exception goes on
        finally:
            self.cluster.open_txn = None
        txn._publish()
        return False
