"""One engine per store: an exclusive lock taken before the store opens, held until it stops.

Two engines on one store would run two sets of node agents for the same nodes, so the second
one is refused at once, with a message naming the first (pid, host, API URL, start time).

- SQLite file: ``flock`` on ``<database>.lock`` next to the database file.
- The data directory (node work dirs and the admin token live there): ``flock`` on
  ``<data dir>/engine.lock``, taken whatever the store, so two engines with one ``--data-dir``
  and different ``--db`` are refused too.
- PostgreSQL: a session-level advisory lock (advisory locks are per database) on a dedicated
  connection held open for the engine's lifetime; the holder's details go in a one-row table
  ``kube9_engine_lock``, read only when its ``backend_pid`` is the lock's current holder.
- In-memory SQLite has nothing to share: no store lock (the data directory is still locked).
- Other backends (MySQL…): no store lock, a warning in the log; run one engine per database.

The kernel drops a ``flock`` and PostgreSQL an advisory lock when their process or connection
dies, so a ``kill -9`` never leaves a stale lock behind. Lock files are never deleted (deleting
one would let a third engine lock a fresh file while the second still holds the old one);
their content is only a description. Best effort: if PostgreSQL drops the connection while
the engine runs (a server restart), the lock is gone until the engine is restarted, and a
pooler in transaction mode (pgbouncer) cannot hold session locks at all.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, NullPool, create_engine, text
from sqlalchemy import Engine as SaEngine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from kube9_desktop.engine.errors import EnvironmentProblem, StoreInUse, StoreUnavailable
from kube9_desktop.engine.store.store import _explain

log = logging.getLogger(__name__)

DATA_DIR_LOCK = "engine.lock"
PG_LOCK_KEY = int.from_bytes(b"kube9eng", "big")  # fits a signed bigint
PG_HOLDER_TABLE = "kube9_engine_lock"
PG_DEAD_HOLDER_WAIT = 5.0  # seconds


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: enough for a person to find that instance and stop it."""

    pid: int
    host: str
    api_url: str
    started_at: str  # ISO 8601, UTC

    @classmethod
    def this_process(cls) -> Holder:
        return cls(
            os.getpid(), socket.gethostname(), "", datetime.now(UTC).isoformat(timespec="seconds")
        )

    @classmethod
    def from_json(cls, raw: str) -> Holder | None:
        """Parse a description; None when it is missing, partial or not ours."""
        try:
            # raw_decode: a longer old description may trail a shorter new one for a moment.
            data, _ = json.JSONDecoder().raw_decode(raw.strip())
            return cls(
                int(data["pid"]), str(data["host"]), str(data["api_url"]), str(data["started_at"])
            )
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def describe(self) -> str:
        """E.g. ``pid 4242 on host lab-3, API http://127.0.0.1:5000, started 2025-05-01 14:02``."""
        try:
            started = (
                datetime.fromisoformat(self.started_at).astimezone().strftime("%Y-%m-%d %H:%M")
            )
        except ValueError:
            started = self.started_at
        api = f"API {self.api_url}" if self.api_url else "API not serving (yet)"
        return f"pid {self.pid} on host {self.host}, {api}, started {started}"


class StoreLocked(StoreInUse):
    """Another engine holds this store or data directory; ``holder`` says which, if known."""

    def __init__(self, what: str, holder: Holder | None, advice: str) -> None:
        who = holder.describe() if holder else "its details cannot be read yet"
        if holder is None:
            stop = "stop that instance"
        elif holder.host == socket.gethostname():
            stop = f"stop that instance (quit its window, or Ctrl+C or kill {holder.pid})"
        else:
            stop = f"stop that instance on {holder.host}"
        super().__init__(
            f"Another Kube-9 Desktop engine is already using {what} ({who}). Only one engine "
            f"may run on a cluster: {stop}, or start this one with {advice}.",
            holder=asdict(holder) if holder else None,
        )
        self.holder = holder


class _Part(Protocol):
    def write(self, holder: Holder) -> None: ...
    def release(self) -> None: ...


class StoreLock:
    """The locks one engine holds: ``update(api_url=...)`` when the API listens, ``release()``."""

    def __init__(self, parts: list[_Part], holder: Holder) -> None:
        self._parts = parts
        self.holder = holder

    def update(self, *, api_url: str) -> None:
        """Record the API URL, so a refused second engine can name it (blocking on PostgreSQL)."""
        self.holder = replace(self.holder, api_url=api_url)
        for part in self._parts:
            part.write(self.holder)

    def release(self) -> None:
        """Drop every lock; safe to call twice."""
        while self._parts:
            self._parts.pop().release()


def acquire_store_lock(url: str, data_dir: Path) -> StoreLock:
    """Lock the data directory and the store, or raise StoreLocked at once (never waits).

    Blocking (file I/O, a PostgreSQL connection): the engine calls it in a thread.
    """
    holder = Holder.this_process()
    parts: list[_Part] = [
        _FileLock.acquire(
            data_dir / DATA_DIR_LOCK, holder, f"the data directory {data_dir}", "another --data-dir"
        )
    ]
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and parsed.query.get("mode") != "memory":
                path = Path(database.removeprefix("file:")).resolve()
                parts.append(
                    _FileLock.acquire(
                        path.with_name(path.name + ".lock"),
                        holder,
                        f"the cluster database {path}",
                        "another --data-dir or --db",
                    )
                )
        elif backend == "postgresql":
            parts.append(_PgLock.acquire(url, holder))
        else:
            log.warning(
                "no store lock for %s databases: make sure only one engine uses this one", backend
            )
    except BaseException:
        for part in reversed(parts):
            part.release()
        raise
    return StoreLock(parts, holder)


class _FileLock:
    """``flock(LOCK_EX | LOCK_NB)`` on a small file (mode 0600) holding the holder as JSON."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path, holder: Holder, what: str, advice: str) -> _FileLock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_CLOEXEC: agents started by the process runtime must not inherit (and keep) it.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise EnvironmentProblem(
                f"Cannot create the lock file {path} ({exc.strerror}): choose a writable "
                "--data-dir."
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            current = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise StoreLocked(what, Holder.from_json(current), advice) from None
            raise EnvironmentProblem(
                f"Cannot lock {path} ({exc.strerror}): put the --data-dir on a local disk."
            ) from exc
        lock = cls(path, fd)
        lock.write(holder)
        return lock

    def write(self, holder: Holder) -> None:
        if self._fd is None:
            return
        data = holder.to_json().encode()
        # Write, then cut: a reader sees the old or the new description, never an empty file.
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


class _PgLock:
    """``pg_try_advisory_lock`` on a connection of its own, kept open while the engine runs."""

    def __init__(self, db: SaEngine, conn: Connection) -> None:
        self._db = db
        self._conn: Connection | None = conn

    @classmethod
    def acquire(cls, url: str, holder: Holder) -> _PgLock:
        db = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",  # never "idle in transaction" for days
            connect_args={"application_name": "kube9-desktop engine lock"},
        )
        try:
            conn = db.connect()
            try:
                if not _pg_try_lock(conn):
                    current = _pg_holder(conn)
                    if current is not None and _died_here(current) and _pg_wait_lock(conn):
                        return cls._locked(db, conn, holder)
                    raise StoreLocked(
                        f"the cluster database {_pg_where(url)}",
                        current,
                        "another --db",
                    )
                return cls._locked(db, conn, holder)
            except BaseException:
                conn.close()
                raise
        except (SQLAlchemyError, DBAPIError) as exc:
            db.dispose()
            raise StoreUnavailable(_explain(exc, url, opening=True)) from exc
        except BaseException:
            db.dispose()
            raise

    @classmethod
    def _locked(cls, db: SaEngine, conn: Connection, holder: Holder) -> _PgLock:
        lock = cls(db, conn)
        lock.write(holder)
        return lock

    def write(self, holder: Holder) -> None:
        """Describe the holder; without it the lock still holds, a refusal just names nobody."""
        if self._conn is None:
            return
        try:
            self._conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {PG_HOLDER_TABLE} (id integer PRIMARY KEY, "
                    "backend_pid integer NOT NULL, holder text NOT NULL)"
                )
            )
            self._conn.execute(
                text(
                    f"INSERT INTO {PG_HOLDER_TABLE} (id, backend_pid, holder) "
                    "VALUES (1, pg_backend_pid(), :holder) ON CONFLICT (id) DO UPDATE "
                    "SET backend_pid = excluded.backend_pid, holder = excluded.holder"
                ),
                {"holder": holder.to_json()},
            )
        except (SQLAlchemyError, DBAPIError) as exc:
            log.warning("cannot record who holds the store lock: %s", exc)

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # the session ends: PostgreSQL drops its advisory lock
            except (SQLAlchemyError, DBAPIError) as exc:
                log.warning("closing the store lock connection failed: %s", exc)
            self._conn = None
            self._db.dispose()


def _pg_try_lock(conn: Connection) -> bool:
    return bool(
        conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}).scalar()
    )


def _died_here(holder: Holder) -> bool:
    """The holder ran on this machine and its process is gone (a kill -9, a crash)."""
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _pg_wait_lock(conn: Connection, timeout: float = PG_DEAD_HOLDER_WAIT) -> bool:
    """A dead client's session ends a moment after its process (the server notices the closed
    socket); wait that moment out, so a restart straight after a kill -9 is not refused."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if _pg_try_lock(conn):
            return True
    return False


def _pg_holder(conn: Connection) -> Holder | None:
    """The current holder's description, if the row is its own (not a dead engine's)."""
    try:
        return _pg_read_holder(conn)
    except (SQLAlchemyError, DBAPIError) as exc:
        log.warning("cannot read who holds the store lock: %s", exc)
        return None


def _pg_read_holder(conn: Connection) -> Holder | None:
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": PG_HOLDER_TABLE}).scalar() is None:
        return None
    row = conn.execute(
        text(
            f"SELECT h.holder FROM {PG_HOLDER_TABLE} h JOIN pg_locks l "
            "ON l.pid = h.backend_pid AND l.locktype = 'advisory' AND l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :hi AND l.objid::bigint = :lo AND l.objsubid = 1 "
            "WHERE h.id = 1"
        ),
        {"hi": PG_LOCK_KEY >> 32, "lo": PG_LOCK_KEY & 0xFFFFFFFF},
    ).first()
    return Holder.from_json(row[0]) if row else None


def _pg_where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.database} at {parsed.host or 'localhost'}:{parsed.port or 5432}"
