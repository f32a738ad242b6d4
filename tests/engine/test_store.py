"""The store: file permissions, migrations, round trips, clear errors."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import ContainerSpec, PodSpec, Resources
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
            name="n", node_type="worker", cpu_m=1000, mem_mi=2048, status="healthy",
            token_hash="h", components={"kubelet": "running"},
        )  # fmt: skip
        pid = tx.insert_pod(spec, ip="10.244.0.1", node_id=nid, phase="scheduled", decision=None)
        tx.add_event(EventKind.POD_CREATED, "made", pod_id=pid, data={"k": 1})
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
            tx.insert_node(name="n", node_type="worker", cpu_m=1, mem_mi=1, status="x",
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
