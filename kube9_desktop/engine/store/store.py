"""The Store: owns the database, runs each change in one transaction, returns frozen rows.

SQLite (WAL, foreign keys on, file mode 0600) by default; any SQLAlchemy URL otherwise. Writes
are plain Core statements on the ORM's tables: one commit per cluster operation, a few tens of
microseconds on SQLite, so operations run them inline and stay atomic on the event loop.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from kube9_desktop.engine.constraints import (
    NodeAffinity,
    Taint,
    taints_from_json,
    tolerations_from_json,
)
from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.events import Event, EventKind
from kube9_desktop.engine.interpod import InterPodRules
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.model import (
    TERMINATION_GRACE_S,
    ConfigItem,
    ContainerSpec,
    PodSpec,
    Resources,
    VolumeSpec,
)
from kube9_desktop.engine.priority import PreemptionPolicy
from kube9_desktop.engine.store.migrations import migrate
from kube9_desktop.engine.store.models import (
    ConfigRow,
    ContainerRow,
    DeploymentRow,
    EventRow,
    IncidentRow,
    Meta,
    NamespaceRow,
    NodeRow,
    PodRow,
    PriorityClassRow,
    ReplicaSetRow,
    ServiceRow,
    UtcDateTime,
    VolumeRow,
)

log = logging.getLogger(__name__)

# Row ids are INTEGER columns: PostgreSQL's are 32-bit and refuse a larger number in a
# comparison ("integer out of range"), so a lookup by a larger id, which no row can have,
# is answered here instead of failing in the database.
ID_COLUMN_MAX = 2**31 - 1


def _no_row_has(*ids: int | None) -> bool:
    return any(i is not None and not 0 <= i <= ID_COLUMN_MAX for i in ids)


_nodes = cast(Table, NodeRow.__table__)
_pods = cast(Table, PodRow.__table__)
_containers = cast(Table, ContainerRow.__table__)
_volumes = cast(Table, VolumeRow.__table__)
_config = cast(Table, ConfigRow.__table__)
_events = cast(Table, EventRow.__table__)
_incidents = cast(Table, IncidentRow.__table__)
_namespaces = cast(Table, NamespaceRow.__table__)
_replicasets = cast(Table, ReplicaSetRow.__table__)
_deployments = cast(Table, DeploymentRow.__table__)
_services = cast(Table, ServiceRow.__table__)
_priority_classes = cast(Table, PriorityClassRow.__table__)
_meta = cast(Table, Meta.__table__)

SQLITE_PAGE_SIZE = 2048  # bytes, for databases this version creates
WAL_BACKSTOP_PAGES = 50_000  # ~100 MB: reached only if nobody calls Store.checkpoint()

# Statements built once: executed with parameter dicts they hit SQLAlchemy's compiled cache,
# instead of building (and cache-keying) a new statement with inline values per write.
_INSERT = {
    t.name: insert(t)
    for t in (
        _nodes, _pods, _containers, _volumes, _config, _events, _incidents, _namespaces,
        _replicasets, _deployments, _services, _priority_classes,
    )
}  # fmt: skip
# Written by every pod, event and workload step: inserted through RawInsert on SQLite.
_HOT_TABLES = (_pods, _containers, _volumes, _config, _events, _replicasets, _deployments)
_UPDATE_NODE = update(_nodes).where(_nodes.c.id == bindparam("b_id"))
_UPDATE_POD = update(_pods).where(_pods.c.id == bindparam("b_id"))
_UPDATE_INCIDENT = update(_incidents).where(_incidents.c.id == bindparam("b_id"))
_UPDATE_NAMESPACE = update(_namespaces).where(_namespaces.c.id == bindparam("b_id"))
_UPDATE_REPLICASET = update(_replicasets).where(_replicasets.c.id == bindparam("b_id"))
_UPDATE_DEPLOYMENT = update(_deployments).where(_deployments.c.id == bindparam("b_id"))
_UPDATE_SERVICE = update(_services).where(_services.c.id == bindparam("b_id"))


@dataclass(frozen=True, slots=True)
class StoredNode:
    id: int
    uid: str
    name: str
    node_type: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    cpu_m: int
    mem_mi: int
    status: str
    status_reason: str
    components: Mapping[str, str]
    recovery_attempts: int
    runtime: str
    runtime_handle: str | None
    token_hash: str
    unschedulable: bool
    last_heartbeat: datetime | None
    created_at: datetime
    resource_version: int
    taints: tuple[Taint, ...] = ()
    engine: str = "local"


@dataclass(frozen=True, slots=True)
class StoredPod:
    id: int
    uid: str
    spec: PodSpec
    node_id: int | None
    phase: str
    ip: str
    decision: Mapping[str, Any] | None
    reason: str
    report: Sequence[Mapping[str, Any]] | None
    last_report: datetime | None
    created_at: datetime
    resource_version: int
    ready_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredNamespace:
    id: int
    uid: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    created_at: datetime
    resource_version: int


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    node_id: int
    node_uid: str
    node_name: str
    mode: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str


@dataclass(frozen=True, slots=True)
class Loaded:
    nodes: tuple[StoredNode, ...]
    pods: tuple[StoredPod, ...]
    namespaces: tuple[StoredNamespace, ...]
    open_incidents: tuple[Incident, ...]
    resource_version: int  # the newest resource version any stored row carries
    replicasets: tuple[Mapping[str, Any], ...] = ()
    deployments: tuple[Mapping[str, Any], ...] = ()
    services: tuple[Mapping[str, Any], ...] = ()
    priority_classes: tuple[Mapping[str, Any], ...] = ()


def _ref(kind: str | None, id_: int | None, uid: str | None, name: str | None,
         namespace: str | None = None) -> ObjectRef | None:  # fmt: skip
    if kind is None or id_ is None:
        return None
    return ObjectRef(kind, id_, uid or "", name or "", namespace)


def _event(row: Any) -> Event:
    return Event(
        id=row.id,
        at=row.at,
        kind=EventKind(row.kind),
        message=row.message,
        object=_ref(row.object_kind, row.object_id, row.object_uid, row.object_name,
                    row.object_namespace),
        related=_ref(row.related_kind, row.related_id, row.related_uid, row.related_name),
        incident_id=row.incident_id,
        data=row.data or {},
        resource_version=row.resource_version or 0,
    )  # fmt: skip


def _incident(row: Any) -> Incident:
    return Incident(
        row.id, row.node_id, row.node_uid, row.node_name, row.mode, row.opened_at,
        row.closed_at, row.outcome,
    )  # fmt: skip


def _explain(exc: BaseException, url: str, *, opening: bool = False) -> str:
    """A sentence for a person: what is wrong with the database, and what to do."""
    text_ = str(getattr(exc, "orig", exc)).lower()
    parsed = make_url(url)
    where = (
        parsed.database
        if parsed.get_backend_name() == "sqlite"
        else (f"{parsed.get_backend_name()} at {parsed.host}:{parsed.port or 'default port'}")
    )
    outcome = "" if opening else " The change was not saved."
    if "disk" in text_ and "full" in text_:
        return f"The disk holding the cluster database is full: free some space.{outcome}"
    if "readonly" in text_ or "read-only" in text_ or "permission" in text_:
        return f"The cluster database cannot be written ({where}): check its permissions.{outcome}"
    if "unable to open" in text_:
        return f"The cluster database cannot be opened ({where}): check the --data-dir."
    if "does not exist" in text_ and opening:
        return f"The database named in --db does not exist ({where}): create it first."
    if (
        "connection refused" in text_
        or "could not connect" in text_
        or "connection failed" in text_
    ):
        return f"The database server does not answer ({where}): is it running? Check --db."
    if "locked" in text_:
        return f"The cluster database is locked by another program: close it and retry.{outcome}"
    return f"The cluster database ({where}) failed: see the log for details.{outcome}"


def _bind(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor; for JSON, None or an empty dict or list (most labels,
    annotations, volumes, event data, reports not yet made) skips the encoder for the text it
    would make anyway. A datetime is formatted once for the inserts that bind that same object
    one after the other (a transaction's ``now``: a pod's created_at, then its event's at)."""
    proc: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    if proc is None:
        return proc
    if isinstance(type_, UtcDateTime):
        # (the datetime, its bound text) as one tuple: read and replaced whole, consistent
        # even if two threads bind at once.
        last: list[tuple[Any, Any]] = [(None, proc(None))]

        def bind_datetime(value: Any) -> Any:
            seen, bound = last[0]
            if value is seen:
                return bound
            bound = proc(value)
            last[0] = (value, bound)
            return bound

        return bind_datetime
    if not isinstance(type_, JSON):
        return proc
    empty: dict[type, Any] = {dict: proc({}), list: proc([]), type(None): proc(None)}

    def bind(value: Any) -> Any:
        return empty[type(value)] if not value and type(value) in empty else proc(value)

    return bind


class RawInsert:
    """One table's INSERT rendered once by the dialect, run on the DBAPI cursor directly.

    The SQL is SQLAlchemy's own compilation and every value goes through its column type's own
    bind processor (JSON, UTC datetimes), so rows are identical to Core's; what is skipped is
    Core's per-statement bookkeeping, which costs more than SQLite's work (about 60 of 80 us
    per insert on a 2-core machine). Used for SQLite's hot inserts only.
    """

    __slots__ = ("columns", "sql")

    def __init__(self, table: Table, dialect: Dialect) -> None:
        keys = [c.key for c in table.c if not c.primary_key]
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        order = list(compiled.positiontup or ())
        if sorted(order) != sorted(keys):
            raise RuntimeError(f"unexpected INSERT parameters for {table.name}: {order}")
        self.sql = compiled.string
        self.columns: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (key, _bind(table.c[key].type, dialect)) for key in order
        )

    def params(
        self, values: Mapping[str, Any], encoded: Mapping[str, str] | None = None
    ) -> tuple[Any, ...]:
        """Bind values in order; ``encoded`` JSON columns are already what the type would bind."""
        if encoded:
            return tuple(
                encoded[key] if key in encoded else values[key] if proc is None
                else proc(values[key])
                for key, proc in self.columns
            )  # fmt: skip
        return tuple(
            values[key] if proc is None else proc(values[key]) for key, proc in self.columns
        )


class Tx:
    """One transaction's worth of writes; created by ``Store.tx()`` and committed on exit."""

    def __init__(
        self, conn: Connection, now: datetime, raw: Mapping[str, RawInsert] | None = None
    ) -> None:
        self._c = conn
        self.now = now
        self.events: list[Event] = []
        self._raw = raw or {}

    def _insert(
        self, table: str, values: Mapping[str, Any], encoded: Mapping[str, str] | None = None
    ) -> int:
        """Insert one row (every column but the id given) and return its id."""
        raw = self._raw.get(table)
        if raw is not None:
            cursor = self._c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(raw.sql, raw.params(values, encoded))
                return int(cursor.lastrowid)
            finally:
                cursor.close()
        result = self._c.execute(_INSERT[table], values)
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def _insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        raw = self._raw.get(table)
        if raw is not None:
            cursor = self._c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(raw.sql, [raw.params(r) for r in rows])
            finally:
                cursor.close()
        else:
            self._c.execute(_INSERT[table], list(rows))

    def insert_node(self, **cols: Any) -> int:
        result = self._c.execute(_INSERT["nodes"], {"created_at": self.now, **cols})
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def update_node(self, node_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_NODE, {"b_id": node_id, **cols})

    def delete_node(self, node_id: int) -> None:
        self._c.execute(delete(_nodes).where(_nodes.c.id == node_id))

    def insert_namespace(self, **cols: Any) -> int:
        result = self._c.execute(_INSERT["namespaces"], {"created_at": self.now, **cols})
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def update_namespace(self, namespace_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_NAMESPACE, {"b_id": namespace_id, **cols})

    def delete_namespace(self, namespace_id: int) -> None:
        self._c.execute(delete(_namespaces).where(_namespaces.c.id == namespace_id))

    def insert_pod(
        self,
        spec: PodSpec,
        *,
        uid: str,
        ip: str,
        node_id: int | None,
        phase: str,
        decision: Mapping[str, Any] | None,
        resource_version: int,
        reason: str = "",
        decision_text: str | None = None,
    ) -> int:
        """``decision_text``, when given, is ``json.dumps(decision)``: what the JSON column type
        would bind, encoded once by the caller who also sends it back to the client."""
        pod_id = self._insert(
            "pods",
            {
                "uid": uid,
                "namespace": spec.namespace,
                "name": spec.name,
                "labels": dict(spec.labels),
                "annotations": dict(spec.annotations),
                "cpu_m": spec.request.cpu_m,
                "mem_mi": spec.request.mem_mi,
                "node_id": node_id,
                "phase": phase,
                "ip": ip,
                "decision": decision,
                "reason": reason,
                "created_at": self.now,
                "report": None,
                "last_report": None,
                "resource_version": resource_version,
                "owner_kind": spec.owner.kind if spec.owner else None,
                "owner_id": spec.owner.id if spec.owner else None,
                "owner_uid": spec.owner.uid if spec.owner else None,
                "owner_name": spec.owner.name if spec.owner else None,
                "ready_since": None,
                "termination_grace_s": spec.termination_grace_s,
                "tolerations": [t.to_json() for t in spec.tolerations],
                "node_selector": dict(spec.node_selector),
                "node_affinity": spec.node_affinity.to_json() if spec.node_affinity else {},
                "interpod": spec.interpod.to_json() if spec.interpod else None,
                "priority_class_name": spec.priority_class_name or None,
                "priority": spec.priority,
                "preemption_policy": str(spec.preemption_policy),
            },
            None if decision_text is None else {"decision": decision_text},
        )
        self._insert_many(
            "containers",
            [
                {
                    "pod_id": pod_id,
                    "position": i,
                    "name": c.name,
                    "image": c.image,
                    "cpu_m": c.cpu_m,
                    "mem_mi": c.mem_mi,
                    "command": list(c.command),
                    "args": list(c.args),
                    "extra": c.extra_json(),
                }
                for i, c in enumerate(spec.containers)
            ],
        )
        if spec.volumes:
            self._insert_many(
                "volumes",
                [
                    {"pod_id": pod_id, "position": i, "name": v.name, "type": v.type,
                     "size": v.size, "path": v.path}
                    for i, v in enumerate(spec.volumes)
                ],
            )  # fmt: skip
        if spec.config:
            self._insert_many(
                "config_items",
                [
                    {"pod_id": pod_id, "position": i, "name": c.name, "type": c.type,
                     "key": c.key, "value": c.value}
                    for i, c in enumerate(spec.config)
                ],
            )  # fmt: skip
        return pod_id

    def update_pod(self, pod_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_POD, {"b_id": pod_id, **cols})

    def update_pods(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One executemany: each row holds ``b_id`` and the same columns."""
        if rows:
            self._c.execute(_UPDATE_POD, list(rows))

    def delete_pod(self, pod_id: int) -> None:
        # Children go by ON DELETE CASCADE on every backend that honours it; be explicit anyway.
        for table in (_containers, _volumes, _config):
            self._c.execute(delete(table).where(table.c.pod_id == pod_id))
        self._c.execute(delete(_pods).where(_pods.c.id == pod_id))

    def insert_replicaset(self, **cols: Any) -> int:
        return self._insert("replicasets", {"created_at": self.now, **cols})

    def update_replicaset(self, rs_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_REPLICASET, {"b_id": rs_id, **cols})

    def delete_replicaset(self, rs_id: int) -> None:
        self._c.execute(delete(_replicasets).where(_replicasets.c.id == rs_id))

    def insert_deployment(self, **cols: Any) -> int:
        return self._insert("deployments", {"created_at": self.now, **cols})

    def update_deployment(self, deployment_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_DEPLOYMENT, {"b_id": deployment_id, **cols})

    def delete_deployment(self, deployment_id: int) -> None:
        self._c.execute(delete(_deployments).where(_deployments.c.id == deployment_id))

    def insert_service(self, **cols: Any) -> int:
        return self._insert("services", {"created_at": self.now, **cols})

    def update_service(self, service_id: int, **cols: Any) -> None:
        self._c.execute(_UPDATE_SERVICE, {"b_id": service_id, **cols})

    def delete_service(self, service_id: int) -> None:
        self._c.execute(delete(_services).where(_services.c.id == service_id))

    def insert_priority_class(self, **cols: Any) -> int:
        return self._insert("priority_classes", {"created_at": self.now, **cols})

    def delete_priority_class(self, class_id: int) -> None:
        self._c.execute(delete(_priority_classes).where(_priority_classes.c.id == class_id))

    def add_event(
        self,
        kind: EventKind,
        message: str,
        *,
        obj: ObjectRef | None = None,
        related: ObjectRef | None = None,
        incident_id: int | None = None,
        data: Mapping[str, Any] | None = None,
        resource_version: int = 0,
        at: datetime | None = None,
    ) -> Event:
        at = at or self.now
        payload = dict(data or {})  # one copy: stored (serialized at once) and carried by the event
        values = {
            "at": at,
            "kind": str(kind),
            "message": message,
            "object_kind": obj.kind if obj else None,
            "object_id": obj.id if obj else None,
            "object_uid": obj.uid if obj else None,
            "object_name": obj.name if obj else None,
            "object_namespace": obj.namespace if obj else None,
            "related_kind": related.kind if related else None,
            "related_id": related.id if related else None,
            "related_uid": related.uid if related else None,
            "related_name": related.name if related else None,
            "incident_id": incident_id,
            "resource_version": resource_version,
            "data": payload,
        }
        ev = Event(
            id=self._insert("events", values),
            at=at,
            kind=kind,
            message=message,
            object=obj,
            related=related,
            incident_id=incident_id,
            data=payload,
            resource_version=resource_version,
        )
        self.events.append(ev)
        return ev

    def open_incident(self, node: ObjectRef, mode: str) -> int:
        result = self._c.execute(
            _INSERT["incidents"],
            {"node_id": node.id, "node_uid": node.uid, "node_name": node.name, "mode": mode,
             "opened_at": self.now, "closed_at": None, "outcome": "open"},
        )  # fmt: skip
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def close_incident(self, incident_id: int, outcome: str) -> None:
        self._c.execute(
            _UPDATE_INCIDENT, {"b_id": incident_id, "closed_at": self.now, "outcome": outcome}
        )

    def close_open_incidents(self, outcome: str) -> int:
        """Close every open incident (at start: the engine that watched them is gone)."""
        result = self._c.execute(
            update(_incidents)
            .where(_incidents.c.closed_at.is_(None))
            .values(closed_at=self.now, outcome=outcome)
        )
        return int(result.rowcount or 0)


class Store:
    """The cluster's record. Open with ``Store.open(url)``; close with ``close()``."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url
        # SQLite has one writer anyway: a connection kept open saves a pool checkout per write.
        self._writer: Connection | None = (
            engine.connect() if engine.dialect.name == "sqlite" else None
        )
        self._raw: dict[str, RawInsert] = (
            {t.name: RawInsert(t, engine.dialect) for t in _HOT_TABLES}
            if engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite"
            else {}
        )

    @classmethod
    def open(cls, url: str) -> Store:
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite and parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
                os.chmod(path, 0o600)
            except OSError as exc:
                raise StoreUnavailable(
                    f"Cannot create the cluster database at {path}: {exc.strerror}. "
                    "Choose a writable --data-dir."
                ) from exc
        engine = create_engine(url, future=True, pool_pre_ping=not is_sqlite)
        if is_sqlite:

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                # A new database's pages (an existing one keeps its own): each commit writes
                # every page it touched to the WAL, a pod create about 16 (its row, the
                # indexes' leaves, its event's); at 2 KiB instead of 4 that is half the bytes.
                cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                # A checkpoint (WAL copied back into the database, then fsync) takes milliseconds;
                # Store.checkpoint() runs it off the event loop, not in whichever commit crosses
                # SQLite's default 1,000-page mark. This larger mark is only a backstop.
                cur.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
                cur.close()

        try:
            with engine.begin() as conn:
                migrate(conn)
        except (SQLAlchemyError, DBAPIError) as exc:
            engine.dispose()
            raise StoreUnavailable(_explain(exc, url, opening=True)) from exc
        return cls(engine, url)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._engine.dispose()

    @contextmanager
    def tx(self, now: datetime) -> Iterator[Tx]:
        """One transaction: commit on a clean exit; on DB errors roll back, StoreUnavailable."""
        try:
            if self._writer is not None:
                with self._writer.begin():
                    yield Tx(self._writer, now, self._raw)
            else:
                with self._engine.begin() as conn:
                    yield Tx(conn, now)
        except (SQLAlchemyError, DBAPIError, sqlite3.Error) as exc:  # sqlite3: RawInsert's
            log.error("store write failed: %s", exc)
            raise StoreUnavailable(_explain(exc, self.url)) from exc

    # ---- reads ---------------------------------------------------------------------------

    def load(self) -> Loaded:
        with self._engine.connect() as conn:
            nodes = tuple(
                StoredNode(
                    id=r.id,
                    uid=r.uid,
                    name=r.name,
                    node_type=r.node_type,
                    labels=dict(r.labels or {}),
                    annotations=dict(r.annotations or {}),
                    cpu_m=r.cpu_m,
                    mem_mi=r.mem_mi,
                    status=r.status,
                    status_reason=r.status_reason or "",
                    components=dict(r.components or {}),
                    recovery_attempts=r.recovery_attempts,
                    runtime=r.runtime or "",
                    runtime_handle=r.runtime_handle,
                    token_hash=r.token_hash,
                    unschedulable=bool(r.unschedulable),
                    last_heartbeat=r.last_heartbeat,
                    created_at=r.created_at,
                    resource_version=r.resource_version or 0,
                    taints=taints_from_json(r.taints),
                    engine=r.engine or "local",
                )
                for r in conn.execute(select(_nodes).order_by(_nodes.c.id))
            )
            namespaces = tuple(
                StoredNamespace(
                    r.id, r.uid, r.name, dict(r.labels or {}), dict(r.annotations or {}),
                    r.created_at, r.resource_version or 0,
                )
                for r in conn.execute(select(_namespaces).order_by(_namespaces.c.id))
            )  # fmt: skip
            containers: dict[int, list[ContainerSpec]] = {}
            for r in conn.execute(select(_containers).order_by(_containers.c.pod_id, "position")):
                containers.setdefault(r.pod_id, []).append(
                    ContainerSpec(
                        r.name, r.image, r.cpu_m, r.mem_mi, tuple(r.command or ()),
                        tuple(r.args or ()),
                    ).with_extra(r.extra)
                )  # fmt: skip
            volumes: dict[int, list[VolumeSpec]] = {}
            for r in conn.execute(select(_volumes).order_by(_volumes.c.pod_id, "position")):
                volumes.setdefault(r.pod_id, []).append(VolumeSpec(r.name, r.type, r.size, r.path))
            config: dict[int, list[ConfigItem]] = {}
            for r in conn.execute(select(_config).order_by(_config.c.pod_id, "position")):
                config.setdefault(r.pod_id, []).append(ConfigItem(r.name, r.type, r.key, r.value))
            pods = tuple(
                StoredPod(
                    id=r.id,
                    uid=r.uid,
                    spec=PodSpec(
                        name=r.name,
                        request=Resources(r.cpu_m, r.mem_mi),
                        containers=tuple(containers.get(r.id, ())),
                        volumes=tuple(volumes.get(r.id, ())),
                        config=tuple(config.get(r.id, ())),
                        namespace=r.namespace,
                        labels=dict(r.labels or {}),
                        annotations=dict(r.annotations or {}),
                        owner=_ref(
                            r.owner_kind, r.owner_id, r.owner_uid, r.owner_name, r.namespace
                        ),
                        termination_grace_s=(
                            TERMINATION_GRACE_S
                            if r.termination_grace_s is None
                            else float(r.termination_grace_s)
                        ),
                        tolerations=tolerations_from_json(r.tolerations),
                        node_selector=dict(r.node_selector or {}),
                        node_affinity=NodeAffinity.from_json(r.node_affinity),
                        interpod=InterPodRules.from_json(r.interpod),
                        priority_class_name=r.priority_class_name or "",
                        priority=int(r.priority or 0),
                        preemption_policy=PreemptionPolicy(
                            r.preemption_policy or PreemptionPolicy.PREEMPT_LOWER
                        ),
                    ),
                    node_id=r.node_id,
                    phase=r.phase,
                    ip=r.ip,
                    decision=r.decision,
                    reason=r.reason or "",
                    report=r.report,
                    last_report=r.last_report,
                    created_at=r.created_at,
                    resource_version=r.resource_version or 0,
                    ready_since=r.ready_since,
                )
                for r in conn.execute(select(_pods).order_by(_pods.c.id))
            )
            replicasets = tuple(
                dict(r._mapping)
                for r in conn.execute(select(_replicasets).order_by(_replicasets.c.id))
            )
            deployments = tuple(
                dict(r._mapping)
                for r in conn.execute(select(_deployments).order_by(_deployments.c.id))
            )
            services = tuple(
                dict(r._mapping) for r in conn.execute(select(_services).order_by(_services.c.id))
            )
            priority_classes = tuple(
                dict(r._mapping)
                for r in conn.execute(select(_priority_classes).order_by(_priority_classes.c.id))
            )
            incidents = tuple(
                _incident(r)
                for r in conn.execute(select(_incidents).where(_incidents.c.closed_at.is_(None)))
            )
            stored_rv = conn.execute(
                select(_meta.c.value).where(_meta.c.key == "resource_version")
            ).scalar()
            rvs = [int(stored_rv or 0)]
            for table in (
                _nodes, _pods, _namespaces, _events, _replicasets, _deployments, _services,
                _priority_classes,
            ):  # fmt: skip
                rvs.append(int(conn.execute(select(func.max(table.c.resource_version))).scalar()
                               or 0))  # fmt: skip
        return Loaded(
            nodes,
            pods,
            namespaces,
            incidents,
            max(rvs),
            replicasets,
            deployments,
            services,
            priority_classes,
        )

    def save_resource_version(self, resource_version: int) -> None:
        """Record the newest resource version (deletes leave no row that carries theirs)."""
        with self._engine.begin() as conn:
            conn.execute(_meta.delete().where(_meta.c.key == "resource_version"))
            conn.execute(_meta.insert().values(key="resource_version", value=str(resource_version)))

    def events(
        self,
        *,
        since: int = 0,
        limit: int = 500,
        node_id: int | None = None,
        pod_id: int | None = None,
        about: tuple[str, int] | None = None,
        incident_id: int | None = None,
        kinds: Sequence[str] = (),
        before: int = 0,
    ) -> list[Event]:
        """Events with id > since, oldest first (the newest ``limit`` when since is 0).

        ``before`` (a cursor, paging back): only ids below it, the newest ``limit`` of them.

        ``about=(kind, id)`` (or ``node_id``/``pod_id``) keeps events whose object or related
        object is that one: a node's events include those of the pods on it.
        """
        about_id = about[1] if about else None
        if since >= ID_COLUMN_MAX or _no_row_has(node_id, pod_id, incident_id, about_id):
            return []
        q = select(_events)
        if since:
            q = q.where(_events.c.id > since)
        if before:
            q = q.where(_events.c.id < before)
        for kind, obj_id in (
            ("Node", node_id), ("Pod", pod_id), *([about] if about else [])
        ):  # fmt: skip
            if obj_id is not None:
                q = q.where(
                    or_(
                        and_(_events.c.object_id == obj_id, _events.c.object_kind == kind),
                        and_(_events.c.related_id == obj_id, _events.c.related_kind == kind),
                    )
                )
        if incident_id is not None:
            q = q.where(_events.c.incident_id == incident_id)
        if kinds:
            q = q.where(_events.c.kind.in_(list(kinds)))
        oldest_first = bool(since) and not before
        if oldest_first:
            q = q.order_by(_events.c.id).limit(limit)
        else:
            q = q.order_by(_events.c.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            rows = [_event(r) for r in conn.execute(q)]
        return rows if oldest_first else rows[::-1]

    def incidents(self, *, limit: int = 100, node_id: int | None = None) -> list[Incident]:
        if _no_row_has(node_id):
            return []
        q = select(_incidents).order_by(_incidents.c.id.desc()).limit(limit)
        if node_id is not None:
            q = q.where(_incidents.c.node_id == node_id)
        with self._engine.connect() as conn:
            return [_incident(r) for r in conn.execute(q)]

    def incident(self, incident_id: int) -> Incident | None:
        if _no_row_has(incident_id):
            return None
        with self._engine.connect() as conn:
            row = conn.execute(select(_incidents).where(_incidents.c.id == incident_id)).first()
        return _incident(row) if row else None

    def flush_heartbeats(self, beats: Mapping[int, datetime]) -> None:
        """Write a batch of last-heartbeat times in one executemany (they never commit singly:
        everything else a heartbeat changes is committed by its operation)."""
        if not beats:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(_nodes)
                .where(_nodes.c.id == bindparam("b_id"))
                .values(last_heartbeat=bindparam("b_at")),
                [{"b_id": k, "b_at": at} for k, at in beats.items()],
            )

    def checkpoint(self) -> None:
        """Copy SQLite's WAL back into the database without waiting for the writer (PASSIVE).

        Blocking (an fsync): the engine calls it in a thread every second. A no-op elsewhere.
        """
        if self._writer is None:
            return
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except (SQLAlchemyError, DBAPIError) as exc:
            log.warning("WAL checkpoint failed (will retry): %s", exc)

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, DBAPIError) as exc:
            raise StoreUnavailable(_explain(exc, self.url)) from exc
