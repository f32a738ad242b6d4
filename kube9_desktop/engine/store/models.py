"""SQLAlchemy 2 typed models: the record of the cluster. Nothing outside ``store/`` sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class NodeRow(Base):
    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    node_type: Mapped[str] = mapped_column(String(16))
    cpu_m: Mapped[int]
    mem_mi: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recovery_attempts: Mapped[int] = mapped_column(default=0)
    runtime: Mapped[str] = mapped_column(String(16), default="")
    runtime_handle: Mapped[str | None] = mapped_column(String(128), default=None)
    token_hash: Mapped[str] = mapped_column(String(64))
    last_heartbeat: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class PodRow(Base):
    __tablename__ = "pods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
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


class ContainerRow(Base):
    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("pod_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    image: Mapped[str] = mapped_column(String(255))
    cpu_m: Mapped[int]
    mem_mi: Mapped[int]
    command: Mapped[list[Any]] = mapped_column(JSON, default=list)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)


class VolumeRow(Base):
    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("pod_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(16))
    size: Mapped[int | None] = mapped_column(default=None)
    path: Mapped[str | None] = mapped_column(String(255), default=None)


class ConfigRow(Base):
    __tablename__ = "config_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_node", "node_id"),
        Index("ix_events_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    node_id: Mapped[int | None] = mapped_column(default=None)
    node_name: Mapped[str | None] = mapped_column(String(63), default=None)
    pod_id: Mapped[int | None] = mapped_column(default=None)
    pod_name: Mapped[str | None] = mapped_column(String(63), default=None)
    incident_id: Mapped[int | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentRow(Base):
    """One failure of one node, from injection (or detection) to recovery, failure or deletion."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int]
    node_name: Mapped[str] = mapped_column(String(63))
    mode: Mapped[str] = mapped_column(String(16))  # crash|hang|partition|component|detected
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16), default="open")
