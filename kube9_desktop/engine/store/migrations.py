"""Schema versions and the forward path between them; run on every start, before anything else.

An empty database gets the current schema at once. An older one is carried forward one
version at a time by ``STEPS[n]`` (from n-1 to n), inside the opening transaction, so a failed
migration leaves the old database as it was. A database newer than this code is refused.

Version 1: the first wave (nodes, pods with global names, events with node/pod columns).
Version 2: object metadata (uid, labels, annotations, resource_version), namespaces (pod names
unique per namespace), events naming any kind of object, ids never reused (AUTOINCREMENT).
Version 3: workloads: ReplicaSets and Deployments, pods' owner and ready time, containers'
probes and ports.
Version 4: Services (their cluster IP and node ports stored; endpoints are derived).
Version 5: pods' termination grace period (null in older rows: the default, 30 s).
Version 6: node taints (every master gets the control-plane NoSchedule taint, which replaces
the old rule that masters never take pods), pods' tolerations, node selector and node affinity.
Version 7: pods' inter-pod rules (pod affinity, anti-affinity, topology spread; null: none).
Version 8: PriorityClasses, and pods' class, priority and preemption policy (null in older
rows: no class, priority 0, PreemptLowerPriority, as Kubernetes gives a pod without a class).
Version 9: indexes a pod create need not write: pods' owner and events' incident indexed only
where set (partial indexes), containers' and volumes' pod_id index dropped (their unique
(pod_id, name) index starts with it). No data changes.

Steps after 2 only add what is missing (the v1 -> v2 step builds its tables from the current
models, so a database that came from v1 already has the later columns).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
    update,
)

from kube9_desktop.engine.constraints import CONTROL_PLANE_TAINT, taints_json
from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.store.models import (
    Base,
    ConfigRow,
    ContainerRow,
    DeploymentRow,
    EventRow,
    IncidentRow,
    Meta,
    NodeRow,
    PodRow,
    PriorityClassRow,
    ReplicaSetRow,
    ServiceRow,
    UtcDateTime,
    VolumeRow,
)

SCHEMA_VERSION = 10
_meta = cast(Table, Meta.__table__)


# ---- version 1, frozen: what the first wave wrote ------------------------------------------

_V1 = MetaData()
V1_NODES = Table(
    "nodes", _V1,
    Column("id", Integer, primary_key=True), Column("name", String(63)),
    Column("node_type", String(16)), Column("cpu_m", Integer), Column("mem_mi", Integer),
    Column("status", String(16)), Column("status_reason", Text), Column("components", JSON),
    Column("recovery_attempts", Integer), Column("runtime", String(16)),
    Column("runtime_handle", String(128)), Column("token_hash", String(64)),
    Column("last_heartbeat", UtcDateTime()), Column("created_at", UtcDateTime()),
)  # fmt: skip
V1_PODS = Table(
    "pods", _V1,
    Column("id", Integer, primary_key=True), Column("name", String(63)),
    Column("cpu_m", Integer), Column("mem_mi", Integer), Column("node_id", Integer),
    Column("phase", String(16)), Column("ip", String(15)), Column("decision", JSON),
    Column("reason", Text), Column("report", JSON), Column("last_report", UtcDateTime()),
    Column("created_at", UtcDateTime()),
)  # fmt: skip
V1_CONTAINERS = Table(
    "containers", _V1,
    Column("id", Integer, primary_key=True), Column("pod_id", Integer),
    Column("position", Integer), Column("name", String(63)), Column("image", String(255)),
    Column("cpu_m", Integer), Column("mem_mi", Integer), Column("command", JSON),
    Column("args", JSON),
)  # fmt: skip
V1_VOLUMES = Table(
    "volumes", _V1,
    Column("id", Integer, primary_key=True), Column("pod_id", Integer),
    Column("position", Integer), Column("name", String(63)), Column("type", String(16)),
    Column("size", Integer), Column("path", String(255)),
)  # fmt: skip
V1_CONFIG = Table(
    "config_items", _V1,
    Column("id", Integer, primary_key=True), Column("pod_id", Integer),
    Column("position", Integer), Column("name", String(63)), Column("type", String(16)),
    Column("key", String(255)), Column("value", Text),
)  # fmt: skip
V1_EVENTS = Table(
    "events", _V1,
    Column("id", Integer, primary_key=True), Column("at", UtcDateTime()),
    Column("kind", String(32)), Column("message", Text), Column("node_id", Integer),
    Column("node_name", String(63)), Column("pod_id", Integer), Column("pod_name", String(63)),
    Column("incident_id", Integer), Column("data", JSON),
)  # fmt: skip
V1_INCIDENTS = Table(
    "incidents", _V1,
    Column("id", Integer, primary_key=True), Column("node_id", Integer),
    Column("node_name", String(63)), Column("mode", String(16)),
    Column("opened_at", UtcDateTime()), Column("closed_at", UtcDateTime()),
    Column("outcome", String(16)),
)  # fmt: skip
V1_TABLES = (V1_CONFIG, V1_VOLUMES, V1_CONTAINERS, V1_EVENTS, V1_INCIDENTS, V1_PODS, V1_NODES)
_ = DateTime  # UtcDateTime's impl; imported for readers of the frozen schema


def create_v1(conn: Connection) -> None:
    """The version-1 schema exactly (tests build old data directories with it)."""
    _V1.create_all(conn)
    _meta.create(conn, checkfirst=True)


def _rows(conn: Connection, table: Table) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def _v1_to_v2(conn: Connection) -> None:
    """Read every v1 row, drop the v1 tables, create v2, write the rows back with metadata."""
    old = {t.name: _rows(conn, t) for t in V1_TABLES}
    for table in V1_TABLES:  # children first
        table.drop(conn)
    Base.metadata.create_all(conn)  # v2 (the current models); meta already exists
    node_uid = {n["id"]: str(uuid.uuid4()) for n in old["nodes"]}
    pod_uid = {p["id"]: str(uuid.uuid4()) for p in old["pods"]}
    node_names = {n["id"]: n["name"] for n in old["nodes"]}

    def put(model: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(cast(Table, model.__table__).insert(), rows)

    put(NodeRow, [
        {**n, "uid": node_uid[n["id"]], "labels": {}, "annotations": {}, "unschedulable": False,
         "resource_version": 0, "status_reason": n["status_reason"] or "",
         "components": n["components"] or {}}
        for n in old["nodes"]
    ])  # fmt: skip
    put(PodRow, [
        {**p, "uid": pod_uid[p["id"]], "namespace": "default", "labels": {}, "annotations": {},
         "resource_version": 0, "reason": p["reason"] or "",
         "node_id": p["node_id"] if p["node_id"] in node_uid else None}
        for p in old["pods"]
    ])  # fmt: skip
    put(ContainerRow, old["containers"])
    put(VolumeRow, old["volumes"])
    put(ConfigRow, old["config_items"])
    events = []
    for e in old["events"]:
        pod_id, node_id = e["pod_id"], e["node_id"]
        obj: tuple[str, int, str | None, str | None] | None = None
        rel: tuple[str, int, str | None, str | None] | None = None
        if pod_id is not None:
            obj = ("Pod", pod_id, pod_uid.get(pod_id), e["pod_name"])
            if node_id is not None:
                rel = ("Node", node_id, node_uid.get(node_id), e["node_name"])
        elif node_id is not None:
            obj = ("Node", node_id, node_uid.get(node_id), e["node_name"])
        events.append({
            "id": e["id"], "at": e["at"], "kind": e["kind"], "message": e["message"],
            "object_kind": obj[0] if obj else None, "object_id": obj[1] if obj else None,
            "object_uid": obj[2] if obj else None, "object_name": obj[3] if obj else None,
            "object_namespace": "default" if obj and obj[0] == "Pod" else None,
            "related_kind": rel[0] if rel else None, "related_id": rel[1] if rel else None,
            "related_uid": rel[2] if rel else None, "related_name": rel[3] if rel else None,
            "incident_id": e["incident_id"], "resource_version": 0, "data": e["data"] or {},
        })  # fmt: skip
    put(EventRow, events)
    put(IncidentRow, [
        {**i, "node_uid": node_uid.get(i["node_id"], ""),
         "node_name": i["node_name"] or node_names.get(i["node_id"], "")}
        for i in old["incidents"]
    ])  # fmt: skip
    # Ids handed out before (also of objects deleted since, which events still name) are
    # never handed out again.
    floors = {
        "nodes": max([0, *node_uid, *(e["node_id"] or 0 for e in old["events"]),
                      *(i["node_id"] for i in old["incidents"])]),
        "pods": max([0, *pod_uid, *(e["pod_id"] or 0 for e in old["events"])]),
        "events": max([0, *(e["id"] for e in old["events"])]),
        "incidents": max([0, *(i["id"] for i in old["incidents"])]),
        "containers": max([0, *(c["id"] for c in old["containers"])]),
        "volumes": max([0, *(v["id"] for v in old["volumes"])]),
        "config_items": max([0, *(c["id"] for c in old["config_items"])]),
    }  # fmt: skip
    set_id_floors(conn, floors)


def set_id_floors(conn: Connection, floors: dict[str, int]) -> None:
    """Make each table's next id larger than its floor (SQLite sequence, PostgreSQL serial)."""
    dialect = conn.dialect.name
    for table, floor in floors.items():
        if floor <= 0:
            continue
        if dialect == "sqlite":
            conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
            conn.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
                {"t": table, "s": floor},
            )
        elif dialect == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :s)"),
                {"t": table, "s": floor},
            )


def add_missing_columns(conn: Connection, table: Table, names: tuple[str, ...]) -> None:
    """ALTER TABLE ... ADD COLUMN for each of ``names`` the table lacks (any backend)."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name in have:
            continue
        column = table.c[name]
        ddl = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {ddl}'))
    indexes = {i["name"] for i in inspect(conn).get_indexes(table.name)}
    for index in table.indexes:
        if index.name not in indexes and all(c.name in names for c in index.columns):
            index.create(conn)


def _v2_to_v3(conn: Connection) -> None:
    pods = cast(Table, PodRow.__table__)
    containers = cast(Table, ContainerRow.__table__)
    add_missing_columns(
        conn, pods, ("owner_kind", "owner_id", "owner_uid", "owner_name", "ready_since")
    )
    add_missing_columns(conn, containers, ("extra",))
    Base.metadata.create_all(
        conn, tables=[cast(Table, ReplicaSetRow.__table__), cast(Table, DeploymentRow.__table__)]
    )


def _v3_to_v4(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[cast(Table, ServiceRow.__table__)])


def _v4_to_v5(conn: Connection) -> None:
    add_missing_columns(conn, cast(Table, PodRow.__table__), ("termination_grace_s",))


def _v5_to_v6(conn: Connection) -> None:
    nodes = cast(Table, NodeRow.__table__)
    add_missing_columns(conn, nodes, ("taints",))
    add_missing_columns(
        conn, cast(Table, PodRow.__table__), ("tolerations", "node_selector", "node_affinity")
    )
    conn.execute(
        update(nodes)
        .where(nodes.c.node_type == "master")
        .values(taints=taints_json((CONTROL_PLANE_TAINT,)))
    )


def _v6_to_v7(conn: Connection) -> None:
    add_missing_columns(conn, cast(Table, PodRow.__table__), ("interpod",))


def _v7_to_v8(conn: Connection) -> None:
    add_missing_columns(
        conn,
        cast(Table, PodRow.__table__),
        ("priority_class_name", "priority", "preemption_policy"),
    )
    Base.metadata.create_all(conn, tables=[cast(Table, PriorityClassRow.__table__)])


# Indexes a pod create no longer writes (version 9): replaced by partial ones, or dropped as
# the prefix of a unique index.
_REPLACED_INDEXES = ("ix_pods_owner_id", "ix_events_incident")
_DROPPED_INDEXES = ("ix_containers_pod_id", "ix_volumes_pod_id")


def _v8_to_v9(conn: Connection) -> None:
    for name in (*_REPLACED_INDEXES, *_DROPPED_INDEXES):
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    wanted = {*_REPLACED_INDEXES}
    for table in (cast(Table, PodRow.__table__), cast(Table, EventRow.__table__)):
        for index in table.indexes:
            if index.name in wanted:
                index.create(conn)


def _v9_to_v10(conn: Connection) -> None:
    """Each node records the Docker engine it runs on; every older node ran on this machine's."""
    nodes = cast(Table, NodeRow.__table__)
    add_missing_columns(conn, nodes, ("engine",))
    conn.execute(update(nodes).where(nodes.c.engine.is_(None)).values(engine="local"))


# STEPS[n] upgrades a database at version n-1 to version n (STEPS[1] creates version 1).
STEPS: dict[int, Callable[[Connection], None]] = {
    1: create_v1, 2: _v1_to_v2, 3: _v2_to_v3, 4: _v3_to_v4, 5: _v4_to_v5, 6: _v5_to_v6,
    7: _v6_to_v7, 8: _v7_to_v8, 9: _v8_to_v9, 10: _v9_to_v10,
}  # fmt: skip


def current_version(conn: Connection) -> int:
    """The database's schema version; 0 for an empty database."""
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(select(_meta.c.value).where(_meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(_meta.delete().where(_meta.c.key == "schema_version"))
    conn.execute(_meta.insert().values(key="schema_version", value=str(version)))


def migrate(
    conn: Connection,
    steps: dict[int, Callable[[Connection], None]] | None = None,
    target: int | None = None,
) -> int:
    """Bring the database to ``target`` (default: this code's version); returns the old version."""
    steps = STEPS if steps is None else steps
    target = SCHEMA_VERSION if target is None else target
    found = current_version(conn)
    if found > target:
        raise StoreUnavailable(
            f"The cluster database has schema version {found}, newer than this Kube-9 Desktop "
            f"understands ({target}). Upgrade the app, or point --data-dir elsewhere."
        )
    if found == 0 and steps is STEPS and target == SCHEMA_VERSION:
        Base.metadata.create_all(conn)  # a new database: the current schema at once
        _stamp(conn, target)
        return 0
    for version in range(found + 1, target + 1):
        steps[version](conn)
        _stamp(conn, version)
    return found
