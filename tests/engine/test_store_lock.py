"""One engine per store: the lock module on SQLite files, the data directory and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kube9_desktop.engine.errors import EnvironmentProblem, StoreUnavailable
from kube9_desktop.engine.store.lock import (
    PG_LOCK_KEY,
    Holder,
    StoreLock,
    StoreLocked,
    acquire_store_lock,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store_url(tmp_path: Path, db_url: str | None) -> str:
    """A SQLite file in its own directory, or a fresh PostgreSQL database."""
    return db_url or f"sqlite:///{tmp_path / 'db' / 'cluster.db'}"


@pytest.fixture
def held(store_url: str, tmp_path: Path) -> Iterator[StoreLock]:
    lock = acquire_store_lock(store_url, tmp_path / "first")
    lock.update(api_url="http://127.0.0.1:5123")
    try:
        yield lock
    finally:
        lock.release()


def test_a_second_lock_on_the_store_names_the_holder(
    held: StoreLock, store_url: str, tmp_path: Path
) -> None:
    with pytest.raises(StoreLocked) as refused:
        acquire_store_lock(store_url, tmp_path / "second")  # another data dir: the store decides
    exc = refused.value
    assert isinstance(exc, EnvironmentProblem)
    assert exc.holder == held.holder
    assert f"pid {os.getpid()}" in exc.message
    assert "http://127.0.0.1:5123" in exc.message
    assert "cluster database" in exc.message and "--db" in exc.message
    assert exc.to_json()["holder"]["api_url"] == "http://127.0.0.1:5123"


def test_release_lets_the_next_engine_in_and_is_idempotent(store_url: str, tmp_path: Path) -> None:
    first = acquire_store_lock(store_url, tmp_path / "d")
    first.release()
    first.release()
    second = acquire_store_lock(store_url, tmp_path / "d")
    try:
        assert second.holder.pid == os.getpid()
    finally:
        second.release()


def test_the_data_directory_is_locked_whatever_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = acquire_store_lock(f"sqlite:///{data / 'cluster.db'}", data)
    try:
        with pytest.raises(StoreLocked) as refused:
            acquire_store_lock(f"sqlite:///{tmp_path / 'elsewhere.db'}", data)
        assert f"the data directory {data}" in refused.value.message
        assert "--data-dir" in refused.value.message
        # In-memory SQLite has no store to share, but the data directory is still one engine's.
        with pytest.raises(StoreLocked):
            acquire_store_lock("sqlite://", data)
    finally:
        first.release()


def test_in_memory_sqlite_takes_no_store_lock(tmp_path: Path) -> None:
    first = acquire_store_lock("sqlite:///:memory:", tmp_path / "a")
    second = acquire_store_lock("sqlite:///:memory:", tmp_path / "b")
    first.release()
    second.release()
    assert not (tmp_path / "a" / ":memory:.lock").exists()
    assert (tmp_path / "a" / "engine.lock").exists()


def test_sqlite_lock_files_are_private_and_describe_the_holder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lock = acquire_store_lock(f"sqlite:///{data / 'cluster.db'}", data)
    try:
        lock.update(api_url="http://127.0.0.1:6000")
        for path in (data / "engine.lock", data / "cluster.db.lock"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert json.loads(path.read_text())["api_url"] == "http://127.0.0.1:6000"
            assert json.loads(path.read_text())["pid"] == os.getpid()
    finally:
        lock.release()


def test_one_database_file_spelled_two_ways_is_one_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "db").mkdir()
    monkeypatch.chdir(tmp_path)
    first = acquire_store_lock(f"sqlite:///{tmp_path / 'db' / 'cluster.db'}", tmp_path / "a")
    try:
        with pytest.raises(StoreLocked):
            acquire_store_lock("sqlite+pysqlite:///db/../db/cluster.db", tmp_path / "b")
    finally:
        first.release()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),  # a holder that has not written yet
        ("{", None),  # torn
        ("[1, 2]", None),
        ('{"pid": 7}', None),
        (
            '{"pid": 7, "host": "h", "api_url": "", "started_at": "x"}',
            Holder(7, "h", "", "x"),
        ),
        # a shorter description over a longer one, before the file is cut to length
        (
            '{"pid": 7, "host": "h", "api_url": "", "started_at": "x"}t_at": "2025"}',
            Holder(7, "h", "", "x"),
        ),
    ],
)
def test_holder_descriptions_parse_or_are_unknown(raw: str, expected: Holder | None) -> None:
    assert Holder.from_json(raw) == expected


def test_messages_say_what_to_do_even_without_a_holder() -> None:
    unknown = StoreLocked("the data directory /d", None, "another --data-dir")
    assert "cannot be read yet" in unknown.message
    assert "stop that instance" in unknown.message and "another --data-dir" in unknown.message
    remote = StoreLocked(
        "the cluster database x", Holder(12, "far-away-host", "", "2025-01-01T10:00:00+00:00"),
        "another --db",
    )  # fmt: skip
    assert "on far-away-host" in remote.message and "API not serving" in remote.message


def _hold_in_child(store_url: str, data_dir: Path) -> subprocess.Popen[str]:
    """A separate process holding the lock, as an engine does, until it is killed."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from kube9_desktop.engine.store.lock import acquire_store_lock\n"
        "lock = acquire_store_lock(sys.argv[1], Path(sys.argv[2]))\n"
        "lock.update(api_url='http://127.0.0.1:7777')\n"
        "print('locked', flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, store_url, str(data_dir)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_kill_9_leaves_no_stale_lock(store_url: str, tmp_path: Path) -> None:
    child = _hold_in_child(store_url, tmp_path / "child")
    try:
        with pytest.raises(StoreLocked) as refused:
            acquire_store_lock(store_url, tmp_path / "me")
        assert refused.value.holder is not None
        assert refused.value.holder.pid == child.pid
        assert "http://127.0.0.1:7777" in refused.value.message
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert child.stdout is not None
        child.stdout.close()
    # PostgreSQL ends the dead client's session a moment later; the lock waits that out itself.
    lock = acquire_store_lock(store_url, tmp_path / "child")
    try:
        assert lock.holder.pid == os.getpid()
    finally:
        lock.release()


# ---- PostgreSQL specifics ------------------------------------------------------------------


postgres_only = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def pg_url(db_url: str | None) -> str:
    assert db_url is not None
    return db_url


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@postgres_only
def test_postgres_locks_are_per_database(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    admin = _plain(pg_url).rsplit("/", 1)[0] + "/postgres"
    other = f"kube9_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{other}"')
    try:
        first = acquire_store_lock(pg_url, tmp_path / "a")
        second = acquire_store_lock(pg_url.rsplit("/", 1)[0] + f"/{other}", tmp_path / "b")
        first.release()
        second.release()
        assert first.holder.pid == second.holder.pid == os.getpid()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')


@postgres_only
def test_postgres_never_names_a_dead_engine_as_the_holder(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    acquire_store_lock(pg_url, tmp_path / "gone").release()  # leaves its description behind
    with psycopg.connect(_plain(pg_url), autocommit=True) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,)).fetchone() == (
            True,
        )
        with pytest.raises(StoreLocked) as refused:
            acquire_store_lock(pg_url, tmp_path / "me")
    assert refused.value.holder is None
    assert "cannot be read yet" in refused.value.message


@postgres_only
def test_postgres_lock_lives_on_its_own_connection(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    lock = acquire_store_lock(pg_url, tmp_path / "a")
    try:
        with psycopg.connect(_plain(pg_url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
            ).fetchall()
        assert rows == [("kube9-desktop engine lock",)]
    finally:
        lock.release()
    with psycopg.connect(_plain(pg_url), autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "release() did not drop the advisory lock"
            time.sleep(0.02)  # poll the condition


def test_an_unreachable_postgres_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as failed:
        acquire_store_lock("postgresql+psycopg://postgres@127.0.0.1:1/nothing", tmp_path / "d")
    assert "does not answer" in failed.value.message
    # the data directory lock was given back with the failure
    acquire_store_lock("sqlite://", tmp_path / "d").release()
