"""The store: file permissions, migrations, round trips, clear errors."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import ObjectRef
from kube9_desktop.engine.model import ConfigItem, ContainerSpec, PodSpec, Resources, VolumeSpec
from kube9_desktop.engine.store import migrations
from kube9_desktop.engine.store.migrations import SCHEMA_VERSION, current_version, migrate
from kube9_desktop.engine.store.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_database_file_is_private_and_wal(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/c.db")
    with store.tx(NOW) as tx:
        tx.add_event(EventKind.ENGINE, "hello")
    store.close()
    for name in ("c.db", "c.db-wal", "c.db-shm"):
        path = tmp_path / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    conn = create_engine(f"sqlite:///{tmp_path}/c.db").connect()
    assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    conn.close()


def test_round_trip_of_nodes_pods_and_events(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/c.db")
    spec = PodSpec(
        "p", Resources(500, 64), (ContainerSpec("c", "img", 500, 64, ("sh",), ("-c", "x")),)
    )
    with store.tx(NOW) as tx:
        nid = tx.insert_node(
            uid="u-n", name="n", node_type="worker", cpu_m=1000, mem_mi=2048, status="healthy",
            token_hash="h", components={"kubelet": "running"},
        )  # fmt: skip
        pid = tx.insert_pod(
            spec,
            uid="u-1",
            resource_version=1,
            ip="10.244.0.1",
            node_id=nid,
            phase="scheduled",
            decision=None,
        )
        tx.add_event(
            EventKind.POD_CREATED, "made", obj=ObjectRef("Pod", pid, "u-p", "p"), data={"k": 1}
        )
    store.close()
    loaded = Store.open(f"sqlite:///{tmp_path}/c.db").load()
    assert loaded.nodes[0].components == {"kubelet": "running"}
    assert loaded.nodes[0].created_at == NOW
    assert loaded.pods[0].spec == spec
    assert loaded.pods[0].node_id == nid


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/c.db")

    def write_then_fail() -> None:
        with store.tx(NOW) as tx:
            tx.insert_node(uid="u-n", name="n", node_type="worker", cpu_m=1, mem_mi=1, status="x",
                           token_hash="h")  # fmt: skip
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.load().nodes == ()


def test_migrations_run_forward_in_order_and_refuse_newer_databases(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite:///{tmp_path}/m.db")
    applied: list[int] = []
    steps = {1: migrations.STEPS[1], 2: lambda c: applied.append(2), 3: lambda c: applied.append(3)}
    with eng.begin() as conn:
        assert migrate(conn, steps, target=1) == 0
        assert current_version(conn) == 1
    with eng.begin() as conn:
        assert migrate(conn, steps, target=3) == 1
        assert applied == [2, 3] and current_version(conn) == 3
    with eng.begin() as conn, pytest.raises(StoreUnavailable, match="newer"):
        migrate(conn, steps, target=2)
    assert SCHEMA_VERSION >= 1


def test_data_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="data-dir"):
        Store.open(f"sqlite:///{tmp_path}/file/c.db")


def test_directory_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c.db").mkdir()
    with pytest.raises(StoreUnavailable, match="cluster database"):
        Store.open(f"sqlite:///{tmp_path}/c.db")


def _rows(store: Store, table: str) -> list[tuple[object, ...]]:
    with store._engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


def test_fast_sqlite_inserts_store_exactly_what_core_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pods and events skip Core's per-statement bookkeeping on SQLite; the rows must not change."""
    spec = PodSpec(
        "p", Resources(1500, 320),
        (ContainerSpec("c", "img:1", 500, 64, ("sh",), ("-c", "x y")),
         ContainerSpec("d", "img:2", 1000, 256)),
        (VolumeSpec("v", "emptyDir", 2, "/data"), VolumeSpec("w", "secret")),
        (ConfigItem("e", "env", "A", "1"), ConfigItem("s", "secret", "B", "héllo")),
    )  # fmt: skip
    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=timezone(timedelta(hours=2)))
    stores = []
    for name, fast in (("fast", True), ("core", False)):
        store = Store.open(f"sqlite:///{tmp_path}/{name}.db")
        assert bool(store._raw) is True
        if not fast:
            monkeypatch.setattr(store, "_raw", {})
        with store.tx(at) as tx:
            nid = tx.insert_node(uid="u-n", name="n", node_type="worker", cpu_m=1000, mem_mi=2048,
                                 status="healthy", token_hash="h")  # fmt: skip
            pid = tx.insert_pod(
                spec, uid="u-2", resource_version=1, ip="10.244.0.9", node_id=nid, phase="scheduled",
                decision={"strategy": "best-fit", "candidates": [{"node": "n", "fits": True}]},
            )  # fmt: skip
            tx.insert_pod(PodSpec("q", Resources(1, 1), (ContainerSpec("c", "i"),)),
                          uid="u-q", resource_version=1, ip="10.244.0.10", node_id=None, phase="pending", decision=None)  # fmt: skip
            tx.add_event(EventKind.POD_CREATED, "made ✓", obj=ObjectRef("Pod", pid, "u-2", "p"),
                         related=ObjectRef("Node", nid, "u-n", "n"),
                         data={"k": [1, 2.5, None], "s": "ü"})  # fmt: skip
            tx.add_event(EventKind.ENGINE, "bare", at=NOW)
        stores.append(store)
    fast_store, core_store = stores
    for table in ("pods", "containers", "volumes", "config_items", "events"):
        assert _rows(fast_store, table) == _rows(core_store, table), table
    loaded = fast_store.load()
    assert loaded.pods[0].spec == spec and loaded.pods[0].created_at == at
    assert fast_store.events()[0].data == {"k": [1, 2.5, None], "s": "ü"}


def test_fast_insert_failure_rolls_back_and_is_a_clear_error(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/c.db")
    spec = PodSpec("p", Resources(1, 1), (ContainerSpec("c", "i"),))

    def write_twice() -> None:
        with store.tx(NOW) as tx:
            tx.add_event(EventKind.ENGINE, "first")
            tx.insert_pod(
                spec,
                uid="u-3",
                resource_version=1,
                ip="10.244.0.1",
                node_id=None,
                phase="pending",
                decision=None,
            )
            tx.insert_pod(
                spec,
                uid="u-4",
                resource_version=1,
                ip="10.244.0.2",
                node_id=None,
                phase="pending",
                decision=None,
            )

    with pytest.raises(StoreUnavailable, match="not saved"):
        write_twice()
    assert store.load().pods == () and store.events() == []
    with store.tx(NOW) as tx:  # the kept-open writer is usable again
        tx.insert_pod(
            spec,
            uid="u-5",
            resource_version=1,
            ip="10.244.0.1",
            node_id=None,
            phase="pending",
            decision=None,
        )
    assert [p.spec.name for p in store.load().pods] == ["p"]


def test_checkpoint_moves_the_wal_into_the_database(tmp_path: Path) -> None:
    """Commits only append to the WAL (no checkpoint inside a commit); checkpoint() copies it."""
    store = Store.open(f"sqlite:///{tmp_path}/c.db")
    db = tmp_path / "c.db"
    before = db.stat().st_size
    for i in range(300):  # > 1,000 WAL pages: SQLite's default would have checkpointed
        with store.tx(NOW) as tx:
            tx.add_event(EventKind.ENGINE, "x" * 4000 + str(i))
    assert db.stat().st_size == before
    store.checkpoint()
    assert db.stat().st_size > before + 300 * 4000
    assert len(store.events(limit=1000)) == 300
    store.close()


def test_events_page_back_from_a_cursor(tmp_path: Path) -> None:
    """``before``: the newest ``limit`` events below the cursor, oldest first; with ``since``
    too, only those between the two."""
    store = Store.open(f"sqlite:///{tmp_path}/p.db")
    with store.tx(NOW) as tx:
        for i in range(10):
            tx.add_event(EventKind.ENGINE, f"e{i}")
    ids = [e.id for e in store.events(limit=100)]
    assert [e.id for e in store.events(before=ids[6], limit=3)] == ids[3:6]
    assert [e.id for e in store.events(before=ids[2], limit=3)] == ids[:2]
    assert [e.id for e in store.events(since=ids[1], before=ids[6], limit=3)] == ids[3:6]
    assert store.events(before=ids[0]) == []
    store.close()


def test_raw_inserts_bind_every_json_value_as_the_column_type_would() -> None:
    """SQLite's hot inserts skip the encoder for empty dicts and lists: the text bound must be
    the type's own, for those and for everything else."""
    from sqlalchemy import JSON

    from kube9_desktop.engine.store.store import _HOT_TABLES, RawInsert

    dialect = create_engine("sqlite://").dialect
    checked = 0
    for table in _HOT_TABLES:
        raw = RawInsert(table, dialect)
        for key, proc in raw.columns:
            column_type = table.c[key].type
            if not isinstance(column_type, JSON):
                continue
            core = column_type.dialect_impl(dialect).bind_processor(dialect)
            assert proc is not None and core is not None
            for value in ({}, [], {"a": [1, {}]}, [{}], None, "x", 0, "", ()):
                assert proc(value) == core(value), (table.name, key, value)
            checked += 1
    assert checked >= 10  # labels, annotations, volumes, event data, ...


def test_raw_inserts_bind_every_datetime_as_the_column_type_would() -> None:
    """A datetime bound again (a transaction's now, in a pod and then its event) reuses the
    text made for it: the same text the type makes, for it and for every other value."""
    from datetime import UTC, datetime, timedelta, timezone

    from kube9_desktop.engine.store.models import UtcDateTime
    from kube9_desktop.engine.store.store import _HOT_TABLES, RawInsert

    dialect = create_engine("sqlite://").dialect
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    values = [now, now, None, now, now + timedelta(microseconds=1), now.replace(tzinfo=None),
              now.astimezone(timezone(timedelta(hours=2))), None, None, now]  # fmt: skip
    checked = 0
    for table in _HOT_TABLES:
        raw = RawInsert(table, dialect)
        for key, proc in raw.columns:
            column_type = table.c[key].type
            if not isinstance(column_type, UtcDateTime):
                continue
            core = column_type.dialect_impl(dialect).bind_processor(dialect)
            assert proc is not None and core is not None
            for value in values:
                assert proc(value) == core(value), (table.name, key, value)
            checked += 1
    assert checked >= 3  # pods' created_at, events' at, ...
