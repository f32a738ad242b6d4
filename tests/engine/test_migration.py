"""An old data directory opens and keeps every node and pod: schema v1 -> v2.

``data/v1-cluster.sql`` is a real first-wave cluster.db (made by commit a3ea160: three nodes,
two pods with containers, volumes and config, a deleted node and a deleted pod, an open crash
incident), dumped as SQL so no binary database is kept in git.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect

from kube9_desktop.engine.constraints import CONTROL_PLANE_TAINT
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.store import migrations
from kube9_desktop.engine.store.migrations import SCHEMA_VERSION, current_version
from kube9_desktop.engine.store.store import Store
from tests.helpers import fast_settings, wait_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)
V1_DUMP = Path(__file__).parent / "data" / "v1-cluster.sql"
V3_DUMP = Path(__file__).parent / "data" / "v3-cluster.sql"


def v1_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "cluster.db")
    conn.executescript(V1_DUMP.read_text())
    conn.close()
    return data


def test_the_v1_fixture_is_what_it_claims(tmp_path: Path) -> None:
    data = v1_data_dir(tmp_path)
    with create_engine(f"sqlite:///{data}/cluster.db").connect() as conn:
        assert current_version(conn) == 1


def test_a_v1_database_is_carried_forward_with_every_node_pod_and_event(tmp_path: Path) -> None:
    data = v1_data_dir(tmp_path)
    old = sqlite3.connect(data / "cluster.db")
    old_events = old.execute("SELECT id, node_id, pod_id, message FROM events").fetchall()
    old.close()
    store = Store.open(f"sqlite:///{data}/cluster.db")
    loaded = store.load()
    assert {n.name for n in loaded.nodes} == {"worker-1", "worker-2", "master-1"}
    assert {p.spec.name for p in loaded.pods} == {"web", "db"}
    web = next(p for p in loaded.pods if p.spec.name == "web")
    assert web.spec.namespace == "default" and web.spec.labels == {}
    assert [c.key for c in web.spec.config] == ["MODE", "API_KEY"]
    assert web.spec.containers[0].args == ("-m", "http.server", "8080")
    assert web.spec.volumes[0].path == "/data"
    assert len({n.uid for n in loaded.nodes} | {p.uid for p in loaded.pods}) == 5
    assert all(n.token_hash for n in loaded.nodes)
    # Every event came along and now names its object by kind, id and (when alive) uid.
    events = {e.id: e for e in store.events(limit=1000)}
    assert set(events) == {e[0] for e in old_events}
    uids = {n.id: n.uid for n in loaded.nodes} | {-p.id: p.uid for p in loaded.pods}
    for eid, node_id, pod_id, message in old_events:
        ev = events[eid]
        assert ev.message == message and ev.node_id == node_id and ev.pod_id == pod_id
        if pod_id is not None and -pod_id in uids:
            assert ev.object is not None and ev.object.uid == uids[-pod_id]
    assert store.incidents()[0].node_name == "worker-2"
    store.close()
    with create_engine(f"sqlite:///{data}/cluster.db").connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION


async def test_ids_handed_out_before_the_migration_are_never_handed_out_again(
    tmp_path: Path,
) -> None:
    """The v1 cluster deleted its newest node (4) and pod (3): v2 never reuses those ids."""
    data = v1_data_dir(tmp_path)
    store = Store.open(f"sqlite:///{data}/cluster.db")
    assert {e.node_id for e in store.events(kinds=["node_deleted"])} == {4}
    assert 3 in {e.pod_id for e in store.events(kinds=["pod_deleted"])}
    store.close()
    engine = Engine(fast_settings(data))
    await engine.start()
    try:
        node = await engine.create_node_from_json({"name": "worker-9", "cpu_cores_avail": 2})
        assert node.view.id > 4
        await wait_for(lambda: engine.node(node.view.id).status is NodeStatus.HEALTHY)
        pod = await engine.create_pod_from_json(
            {"name": "new", "cpu_cores_req": 0.1, "containers": [{"name": "c", "image": "x"}]}
        )
        assert pod.view.id > 3
    finally:
        await engine.stop()


async def test_an_old_data_directory_opens_in_the_engine(tmp_path: Path) -> None:
    data = v1_data_dir(tmp_path)
    engine = Engine(fast_settings(data))
    await engine.start()
    try:
        assert {n.name for n in engine.nodes()} == {"worker-1", "worker-2", "master-1"}
        assert {p.name for p in engine.pods()} == {"web", "db"}
        assert {ns.name for ns in engine.namespaces()} >= {"default", "kube-system"}
        # The crash incident the old engine left open is closed as interrupted.
        assert [t.incident.outcome for t in engine.incidents()] == ["interrupted"]
        assert engine.events(kinds=[str(EventKind.ENGINE)])
    finally:
        await engine.stop()


def test_a_v1_database_made_by_the_frozen_schema_is_carried_forward(
    db_url: str | None, tmp_path: Path
) -> None:
    """The same migration on SQLite and PostgreSQL: the frozen v1 schema, rows in it."""
    db_url = db_url or f"sqlite:///{tmp_path}/v1.db"
    eng = create_engine(db_url)
    with eng.begin() as conn:
        migrations.migrate(conn, {1: migrations.create_v1}, target=1)
        conn.execute(migrations.V1_NODES.insert(), [
            {"id": 1, "name": "w1", "node_type": "worker", "cpu_m": 2000, "mem_mi": 4096,
             "status": "healthy", "status_reason": "", "components": {}, "recovery_attempts": 0,
             "runtime": "virtual", "runtime_handle": None, "token_hash": "h",
             "last_heartbeat": None, "created_at": NOW},
        ])  # fmt: skip
        conn.execute(migrations.V1_PODS.insert(), [
            {"id": 7, "name": "p", "cpu_m": 100, "mem_mi": 0, "node_id": 1, "phase": "running",
             "ip": "10.244.0.1", "decision": None, "reason": "", "report": None,
             "last_report": None, "created_at": NOW},
        ])  # fmt: skip
        conn.execute(migrations.V1_CONTAINERS.insert(), [
            {"id": 1, "pod_id": 7, "position": 0, "name": "c", "image": "x", "cpu_m": 100,
             "mem_mi": 0, "command": [], "args": []},
        ])  # fmt: skip
        conn.execute(migrations.V1_EVENTS.insert(), [
            {"id": 1, "at": NOW, "kind": "pod_deleted", "message": "gone",
             "node_id": 1, "node_name": "w1", "pod_id": 9, "pod_name": "old", "incident_id": None,
             "data": {}},
        ])  # fmt: skip
    eng.dispose()
    store = Store.open(db_url)
    loaded = store.load()
    assert [p.spec.name for p in loaded.pods] == ["p"] and loaded.pods[0].id == 7
    assert loaded.nodes[0].uid and loaded.pods[0].uid
    ev = store.events()[0]
    assert ev.pod_id == 9 and ev.node_id == 1 and ev.related is not None
    store.close()


# ---- v6: taints -------------------------------------------------------------------------


def test_v6_gives_the_old_masters_a_real_control_plane_taint(tmp_path: Path) -> None:
    """Masters never took pods before v6; now the control-plane taint says so, and the old
    decisions (which spelled it the old way) still load."""
    data = v1_data_dir(tmp_path)
    store = Store.open(f"sqlite:///{data}/cluster.db")
    loaded = store.load()
    taints = {n.name: n.taints for n in loaded.nodes}
    assert taints == {"worker-1": (), "worker-2": (), "master-1": (CONTROL_PLANE_TAINT,)}
    assert all(p.spec.tolerations == () and p.spec.node_selector == {} for p in loaded.pods)
    store.close()


@contextmanager
def v3_dump_at(path: Path, target: int) -> Iterator[Connection]:
    """The real v3 dump written to ``path`` and migrated to ``target``: a connection in one
    transaction for the test to look or add in its shape, disposed of after."""
    raw = sqlite3.connect(path)
    raw.executescript(V3_DUMP.read_text())
    raw.close()
    eng = create_engine(f"sqlite:///{path}")
    try:
        with eng.begin() as conn:
            migrations.migrate(conn, target=target)
            yield conn
    finally:
        eng.dispose()


def test_a_v5_database_is_carried_to_v6_with_every_node_and_pod(tmp_path: Path) -> None:
    """The real v3 dump brought to v5 (the columns of v6 absent), a master added in v5's
    shape; v6 adds the columns, taints the master only, and the pods keep everything."""
    path = tmp_path / "cluster.db"
    with v3_dump_at(path, target=5) as conn:
        assert "taints" not in {c["name"] for c in inspect(conn).get_columns("nodes")}
        conn.exec_driver_sql(
            "INSERT INTO nodes (id, uid, name, node_type, labels, annotations, cpu_m, mem_mi, "
            "status, status_reason, components, recovery_attempts, runtime, runtime_handle, "
            "token_hash, unschedulable, last_heartbeat, created_at, resource_version) "
            "SELECT 2, 'u-m1', 'm1', 'master', labels, annotations, cpu_m, mem_mi, status, "
            "status_reason, components, 0, runtime, NULL, token_hash, 0, NULL, created_at, 9 "
            "FROM nodes WHERE id = 1"
        )
    store = Store.open(f"sqlite:///{path}")
    loaded = store.load()
    assert {n.name: n.taints for n in loaded.nodes} == {"w1": (), "m1": (CONTROL_PLANE_TAINT,)}
    assert len(loaded.pods) == 3 and {p.node_id for p in loaded.pods} == {1}
    assert all(p.spec.tolerations == () for p in loaded.pods)
    store.close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION


def test_v6_to_v7_adds_pods_inter_pod_rules_read_as_none(tmp_path: Path) -> None:
    """A v6 database has no interpod column: v7 adds it, and its old pods have no rules."""
    path = tmp_path / "cluster.db"
    with v3_dump_at(path, target=6) as conn:
        assert "interpod" not in {c["name"] for c in inspect(conn).get_columns("pods")}
    store = Store.open(f"sqlite:///{path}")
    loaded = store.load()
    assert loaded.pods and all(p.spec.interpod is None for p in loaded.pods)
    store.close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        assert "interpod" in {c["name"] for c in inspect(conn).get_columns("pods")}
        assert current_version(conn) == SCHEMA_VERSION >= 7


def test_v7_to_v8_adds_priority_classes_and_pods_priority_keeping_the_data(
    tmp_path: Path,
) -> None:
    """A v7 database (the real v3 dump brought to v7) has no priority columns or classes
    table: v8 adds them, every old pod keeps its node and containers and reads as priority 0
    with no class, and a class can be stored and read back."""
    from kube9_desktop.engine.priority import PreemptionPolicy

    path = tmp_path / "cluster.db"
    with v3_dump_at(path, target=7) as conn:
        assert "priority" not in {c["name"] for c in inspect(conn).get_columns("pods")}
        assert not inspect(conn).has_table("priority_classes")
        before = conn.exec_driver_sql("SELECT id, name, node_id FROM pods ORDER BY id").all()
    store = Store.open(f"sqlite:///{path}")
    loaded = store.load()
    assert [(p.id, p.spec.name, p.node_id) for p in loaded.pods] == [tuple(r) for r in before]
    assert all(p.spec.containers for p in loaded.pods)
    assert all(
        (p.spec.priority, p.spec.priority_class_name, p.spec.preemption_policy)
        == (0, "", PreemptionPolicy.PREEMPT_LOWER)
        for p in loaded.pods
    )
    assert loaded.priority_classes == ()
    with store.tx(NOW) as tx:
        tx.insert_priority_class(uid="u-1", name="high", value=1000,
                                 preemption_policy="Never", global_default=False,
                                 description="", resource_version=1)  # fmt: skip
    assert [c["name"] for c in store.load().priority_classes] == ["high"]
    store.close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION >= 8


def _indexes(conn: Connection, table: str) -> dict[str, str]:
    """Index name -> its SQL as SQLite keeps it."""
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
    )
    return {name: sql or "" for name, sql in rows}


def test_v8_to_v9_makes_the_owner_and_incident_indexes_partial_and_keeps_the_data(
    tmp_path: Path,
) -> None:
    """A v8 database has full owner/incident indexes and pod_id indexes on containers and
    volumes; v9 writes neither for a bare pod or an event without incident, and every row stays."""
    path = tmp_path / "cluster.db"
    with v3_dump_at(path, target=8) as conn:
        assert "ix_containers_pod_id" in _indexes(conn, "containers")
        assert "WHERE" not in _indexes(conn, "pods")["ix_pods_owner_id"]
        before = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                  for t in ("nodes", "pods", "containers", "events")}  # fmt: skip
    store = Store.open(f"sqlite:///{path}")
    loaded = store.load()
    assert loaded.pods and loaded.nodes
    store.close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
        pods, events = _indexes(conn, "pods"), _indexes(conn, "events")
        assert "owner_id IS NOT NULL" in pods["ix_pods_owner_id"]
        assert "incident_id IS NOT NULL" in events["ix_events_incident"]
        assert "ix_containers_pod_id" not in _indexes(conn, "containers")
        assert "ix_volumes_pod_id" not in _indexes(conn, "volumes")
        after = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                 for t in ("nodes", "pods", "containers", "events")}  # fmt: skip
        assert after == before
        # The planner still finds a pod's owner and an incident's events by index.
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM pods WHERE owner_id = 1"
            )
        )  # fmt: skip
        assert "ix_pods_owner_id" in plan


def test_a_new_database_has_the_same_indexes_as_a_migrated_one(tmp_path: Path) -> None:
    fresh = Store.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.close()
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.executescript(V3_DUMP.read_text())
    raw.close()
    Store.open(f"sqlite:///{path}").close()
    tables = ("pods", "containers", "volumes", "config_items", "events", "replicasets")
    with (
        create_engine(f"sqlite:///{tmp_path / 'fresh.db'}").connect() as a,
        create_engine(f"sqlite:///{path}").connect() as b,
    ):
        for table in tables:
            assert set(_indexes(a, table)) == set(_indexes(b, table)), table


def test_v9_to_v10_records_every_old_node_on_the_local_engine(tmp_path: Path) -> None:
    """A v9 database has no engine column: v10 adds it, and every old node ran on this
    machine's engine, 'local'; its pods stay where they were."""
    path = tmp_path / "cluster.db"
    with v3_dump_at(path, target=9) as conn:
        assert "engine" not in {c["name"] for c in inspect(conn).get_columns("nodes")}
    store = Store.open(f"sqlite:///{path}")
    loaded = store.load()
    assert loaded.nodes and all(n.engine == "local" for n in loaded.nodes)
    placed = {p.node_id for p in loaded.pods if p.node_id is not None}
    assert placed <= {n.id for n in loaded.nodes} and placed
    store.close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        assert "engine" in {c["name"] for c in inspect(conn).get_columns("nodes")}
        assert current_version(conn) == SCHEMA_VERSION >= 10
