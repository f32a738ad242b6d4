"""SQLAlchemy 2 typed models: the record of the cluster. Nothing outside ``store/`` sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Datetimes stored as naive UTC, always read back timezone-aware (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Ids are never reused (a retried DELETE /pods/1 must not hit a newer pod): SQLite tables use
# AUTOINCREMENT, PostgreSQL sequences never hand out a number twice.
_NO_REUSE = {"sqlite_autoincrement": True}


class NodeRow(Base):
    __tablename__ = "nodes"
    __table_args__ = (_NO_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    node_type: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cpu_m: Mapped[int]
    mem_mi: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recovery_attempts: Mapped[int] = mapped_column(default=0)
    runtime: Mapped[str] = mapped_column(String(16), default="")
    runtime_handle: Mapped[str | None] = mapped_column(String(128), default=None)
    token_hash: Mapped[str] = mapped_column(String(64))
    unschedulable: Mapped[bool] = mapped_column(default=False)
    last_heartbeat: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)
    taints: Mapped[list[Any] | None] = mapped_column(
        JSON, default=None
    )  # v6: [{key, value, effect}]
    engine: Mapped[str | None] = mapped_column(String(63), default="local")  # v10


class NamespaceRow(Base):
    __tablename__ = "namespaces"
    __table_args__ = (_NO_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)


def _where_set(column: str) -> dict[str, Any]:
    """A partial index's clause: only rows where ``column`` is set (v9). A bare pod has no
    owner and most events no incident: their inserts then touch no page of that index."""
    clause = text(f"{column} IS NOT NULL")
    return {"sqlite_where": clause, "postgresql_where": clause}


class PodRow(Base):
    __tablename__ = "pods"
    __table_args__ = (
        UniqueConstraint("namespace", "name"),
        Index("ix_pods_owner_id", "owner_id", **_where_set("owner_id")),
        _NO_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    namespace: Mapped[str] = mapped_column(String(63), default="default")
    name: Mapped[str] = mapped_column(String(63))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cpu_m: Mapped[int]
    mem_mi: Mapped[int]
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="SET NULL"), default=None, index=True
    )
    phase: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str] = mapped_column(String(15), unique=True)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    last_report: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # v3: the ReplicaSet that keeps it, and since when it is ready.
    owner_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    owner_id: Mapped[int | None] = mapped_column(default=None)  # (indexed where set)
    owner_uid: Mapped[str | None] = mapped_column(String(36), default=None)
    owner_name: Mapped[str | None] = mapped_column(String(63), default=None)
    ready_since: Mapped[datetime | None] = mapped_column(default=None)
    termination_grace_s: Mapped[float | None] = mapped_column(default=None)  # v5
    # v6: scheduling constraints (null in older rows: none)
    tolerations: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    node_selector: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    node_affinity: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # v7: pod affinity, anti-affinity, topology spread (null: none)
    interpod: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # v8: its PriorityClass and the priority and policy resolved from it at creation
    priority_class_name: Mapped[str | None] = mapped_column(String(253), default=None)
    priority: Mapped[int | None] = mapped_column(default=None)
    preemption_policy: Mapped[str | None] = mapped_column(String(32), default=None)


class PriorityClassRow(Base):
    """v8: a user PriorityClass (the built-in system classes are never stored)."""

    __tablename__ = "priority_classes"
    __table_args__ = (_NO_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)
    value: Mapped[int]
    preemption_policy: Mapped[str] = mapped_column(String(32))
    global_default: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)


class ReplicaSetRow(Base):
    __tablename__ = "replicasets"
    __table_args__ = (UniqueConstraint("namespace", "name"), _NO_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    replicas: Mapped[int]
    selector: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_ready_seconds: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(default=None, index=True)
    owner_uid: Mapped[str | None] = mapped_column(String(36), default=None)
    owner_name: Mapped[str | None] = mapped_column(String(63), default=None)
    revision: Mapped[int] = mapped_column(default=0)
    template_hash: Mapped[str] = mapped_column(String(16), default="")
    generation: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("namespace", "name"), _NO_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    replicas: Mapped[int]
    selector: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON)
    min_ready_seconds: Mapped[int] = mapped_column(default=0)
    progress_deadline_seconds: Mapped[int] = mapped_column(default=600)
    revision_history_limit: Mapped[int] = mapped_column(default=10)
    paused: Mapped[bool] = mapped_column(default=False)
    status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(default=0)
    generation: Mapped[int] = mapped_column(default=1)
    collision_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)


class ServiceRow(Base):
    """v4: a Service; its endpoints are derived from the pods, never stored."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("namespace", "name"), _NO_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    selector: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ports: Mapped[list[Any]] = mapped_column(JSON, default=list)  # with their node ports
    type: Mapped[str] = mapped_column(String(16), default="ClusterIP")
    session_affinity: Mapped[str] = mapped_column(String(16), default="None")
    cluster_ip: Mapped[str] = mapped_column(String(15), unique=True)
    created_at: Mapped[datetime]
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)


class ContainerRow(Base):
    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("pod_id", "name"), _NO_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # (no index of its own since v9: the unique (pod_id, name) one starts with it)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    image: Mapped[str] = mapped_column(String(255))
    cpu_m: Mapped[int]
    mem_mi: Mapped[int]
    command: Mapped[list[Any]] = mapped_column(JSON, default=list)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # v3: probes, ports


class VolumeRow(Base):
    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("pod_id", "name"), _NO_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # (no index of its own since v9: the unique (pod_id, name) one starts with it)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int | None] = mapped_column(default=None)
    path: Mapped[str | None] = mapped_column(String(255), default=None)


class ConfigRow(Base):
    __tablename__ = "config_items"
    __table_args__ = (_NO_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class EventRow(Base):
    """An event names the object it is about by kind, id and uid (and maybe a related one),
    so a new kind of object needs no schema change to have events."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_object", "object_id", "object_kind"),
        Index("ix_events_related", "related_id", "related_kind"),
        Index("ix_events_incident", "incident_id", **_where_set("incident_id")),
        _NO_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    object_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[int | None] = mapped_column(default=None)
    object_uid: Mapped[str | None] = mapped_column(String(36), default=None)
    object_name: Mapped[str | None] = mapped_column(String(63), default=None)
    object_namespace: Mapped[str | None] = mapped_column(String(63), default=None)
    related_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    related_id: Mapped[int | None] = mapped_column(default=None)
    related_uid: Mapped[str | None] = mapped_column(String(36), default=None)
    related_name: Mapped[str | None] = mapped_column(String(63), default=None)
    incident_id: Mapped[int | None] = mapped_column(default=None)
    resource_version: Mapped[int] = mapped_column(BigInteger, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentRow(Base):
    """One failure of one node, from injection (or detection) to its end: recovered, healed,
    failed, deleted, superseded by a later fault, or interrupted by an engine restart."""

    __tablename__ = "incidents"
    __table_args__ = (_NO_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int]
    node_uid: Mapped[str] = mapped_column(String(36), default="")
    node_name: Mapped[str] = mapped_column(String(63))
    mode: Mapped[str] = mapped_column(String(16))  # crash|hang|partition|component|detected|start
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16), default="open")
