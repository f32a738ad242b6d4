"""Operations compose into one commit, say what they changed, and leave nothing when they fail.

Also: ids are never reused, and every commit advances the stored resource version in order.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.engine.changes import Kind
from kube9_desktop.engine.cluster import Cluster, placement
from kube9_desktop.engine.errors import StoreUnavailable
from kube9_desktop.engine.events import Event
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.model import NodeStatus, PodPhase, PodSpec
from kube9_desktop.engine.store.store import Store, Tx
from tests.engine.test_cluster import open_cluster, pod, ready_node

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/c.db"


@pytest.fixture
def cluster(url: str) -> Cluster:
    return open_cluster(url)


@contextmanager
def counting_commits(store: Store) -> Iterator[list[int]]:
    """Count the store transactions opened while inside."""
    commits: list[int] = []
    original = store.tx

    @contextmanager
    def counted(now: Any) -> Iterator[Tx]:
        commits.append(1)
        with original(now) as tx:
            yield tx

    store.tx = counted  # type: ignore[method-assign]
    try:
        yield commits
    finally:
        store.tx = original  # type: ignore[method-assign]


def snapshot(cluster: Cluster) -> dict[str, Any]:
    """What the working copy and the record hold, to compare before and after."""
    state = cluster.state
    stored = cluster.store.load()
    return {
        "pods": sorted((p.id, p.node_id, str(p.phase)) for p in state.pods.values()),
        "alloc": sorted(
            (n.id, n.allocated, tuple(sorted(n.pod_ids))) for n in state.nodes.values()
        ),
        "index": len(state.index),
        "pending": list(state.pending),
        "stored_pods": sorted((p.id, p.node_id, p.phase) for p in stored.pods),
        "stored_nodes": sorted((n.id, n.status, n.unschedulable) for n in stored.nodes),
        "events": len(cluster.store.events(limit=5000)),
        "rv": cluster.resource_version,
    }


def test_creating_many_pods_is_one_commit_that_says_what_it_changed(cluster: Cluster) -> None:
    n = ready_node(cluster, "n1", 8000)
    rv = cluster.resource_version
    specs = [pod(f"p{i}", 500) for i in range(5)]
    with counting_commits(cluster.store) as commits:
        created = cluster.create_pods(specs)
    assert len(commits) == 1
    changes = created[0].changes
    assert changes.added[Kind.POD] == {c.view.id for c in created}
    assert changes.changed[Kind.NODE] == {n}  # the node's books changed
    assert changes.resource_version == rv + 1 == cluster.resource_version
    assert len(changes.events) == 5
    assert all(cluster.state.pods[c.view.id].resource_version == rv + 1 for c in created)


def test_a_failure_between_steps_leaves_none_of_the_operation(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready_node(cluster, "n1", 8000)
    before = snapshot(cluster)
    published: list[Event] = []
    cluster.bus.subscribe(published.append)
    inserts = 0
    original = Tx.insert_pod

    def third_fails(self: Tx, spec: PodSpec, **kw: Any) -> int:
        nonlocal inserts
        inserts += 1
        if inserts == 3:
            raise RuntimeError("injected between steps")
        return original(self, spec, **kw)

    monkeypatch.setattr(Tx, "insert_pod", third_fails)
    with pytest.raises(RuntimeError, match="injected"):
        cluster.create_pods([pod(f"p{i}", 500) for i in range(5)])
    assert snapshot(cluster) == before
    assert published == []
    monkeypatch.setattr(Tx, "insert_pod", original)
    # The undone IPs and names are free again: the same batch now goes through whole.
    created = cluster.create_pods([pod(f"p{i}", 500) for i in range(5)])
    assert created[0].view.ip == "127.244.0.1"
    assert check_invariants(cluster.state) == []


def test_a_commit_that_fails_undoes_the_working_copy(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    n1 = ready_node(cluster, "n1", 4000)
    ready_node(cluster, "n2", 4000)
    for i in range(3):
        cluster.create_pod(pod(f"p{i}", 1000))
    before = snapshot(cluster)
    original = cluster.store.tx

    @contextmanager
    def commit_fails(now: Any) -> Iterator[Tx]:
        with original(now) as tx:
            yield tx
            raise StoreUnavailable("The disk holding the cluster database is full")

    monkeypatch.setattr(cluster.store, "tx", commit_fails)
    with pytest.raises(StoreUnavailable):
        cluster.delete_node(n1, force=True)
    monkeypatch.undo()
    assert snapshot(cluster) == before
    assert cluster.state.nodes[n1].cordoned is False
    assert check_invariants(cluster.state) == []


def test_evicting_a_node_moves_every_pod_in_one_commit(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 4000)
    n2 = ready_node(cluster, "n2", 4000)
    created = [cluster.create_pod(pod(f"p{i}", 1000)) for i in range(4)]
    holder = created[0].view.node_id
    assert holder is not None
    node = cluster.state.nodes[holder]
    cluster.set_status(node, NodeStatus.UNHEALTHY, "test")
    with counting_commits(cluster.store) as commits:
        moved = cluster.evict(node, reason="test")
    assert len(commits) == 1
    other = n2 if holder == n1 else n1
    assert {name for name, _ in moved.rebound} == {c.view.name for c in created}
    assert all(cluster.state.pods[c.view.id].node_id == other for c in created)


def test_deleting_a_node_and_moving_its_pods_is_one_commit(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 4000)
    ready_node(cluster, "n2", 4000)
    for i in range(3):
        cluster.create_pod(pod(f"p{i}", 1000))
    holder = next(n for n in cluster.state.nodes.values() if n.pod_ids)
    with counting_commits(cluster.store) as commits:
        deleted = cluster.delete_node(holder.id, force=True)
    assert len(commits) == 1
    assert deleted.changes.removed[Kind.NODE].keys() == {holder.id}
    assert deleted.changes.changed[Kind.POD] == {p.id for p in cluster.state.pods.values()}
    assert n1 in cluster.state.nodes or holder.id == n1


def test_a_kill_9_between_the_steps_of_an_operation_leaves_none_of_it(tmp_path: Path) -> None:
    """A real crash in the middle of a node deletion that moves six pods: nothing moved."""
    url = f"sqlite:///{tmp_path}/c.db"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.engine.test_cluster import open_cluster, pod, ready_node
        from kube9_desktop.engine.cluster import placement
        cluster = open_cluster({url!r})
        ready_node(cluster, "n1", 8000)
        ready_node(cluster, "n2", 8000)
        ready_node(cluster, "n3", 1000)
        for i in range(6):
            cluster.create_pod(pod(f"p{{i}}", 1000))
        holder = max(cluster.state.nodes.values(), key=lambda n: len(n.pod_ids))
        print(holder.id, sorted((p.id, p.node_id) for p in cluster.state.pods.values()), flush=True)
        real, moves = placement.move, [0]
        def crash_on_the_third(t, p, **kw):
            moves[0] += 1
            if moves[0] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(t, p, **kw)
        placement.move = crash_on_the_third
        cluster.delete_node(holder.id, force=True)
        print("not reached", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    first, placed = done.stdout.split(" ", 1)
    holder = int(first)
    assert "not reached" not in done.stdout
    again = open_cluster(url)
    assert holder in again.state.nodes and not again.state.nodes[holder].cordoned
    assert str(sorted((p.id, p.node_id) for p in again.state.pods.values())) == placed.strip()
    assert len(again.state.nodes[holder].pod_ids) >= 3 and check_invariants(again.state) == []
    assert not any(e.kind.value in ("pod_rebound", "node_deleted") for e in again.store.events())


def test_ids_are_never_reused_across_deletes_and_restarts(url: str) -> None:
    cluster = open_cluster(url)
    n1 = ready_node(cluster, "n1", 4000)
    first = cluster.create_pod(pod("a", 100)).view.id
    cluster.delete_pod(first)
    second = cluster.create_pod(pod("a", 100)).view.id
    assert second > first
    gone = ready_node(cluster, "gone", 1000)
    cluster.delete_node(gone)
    cluster.store.close()
    again = open_cluster(url)
    third = again.create_pod(pod("b", 100)).view.id
    assert third > second
    newer = ready_node(again, "gone", 1000)
    assert newer > gone > n1
    # The new node does not inherit the deleted one's events: each names its own node's uid.
    uid = again.state.nodes[newer].uid
    ours = again.store.events(node_id=newer)
    theirs = again.store.events(node_id=gone)
    assert ours and theirs and not {e.id for e in ours} & {e.id for e in theirs}
    assert all(uid in (e.object.uid if e.object else "", e.related.uid if e.related else "")
               for e in ours)  # fmt: skip


def test_resource_versions_advance_in_order_and_survive_restarts(url: str) -> None:
    cluster = open_cluster(url)
    seen = [cluster.resource_version]
    n = ready_node(cluster, "n1", 4000)
    seen.append(cluster.resource_version)
    p = cluster.create_pod(pod("a", 100))
    seen.append(p.changes.resource_version)
    deleted = cluster.delete_pod(p.view.id)
    seen.append(deleted.changes.resource_version)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert cluster.state.nodes[n].resource_version <= cluster.resource_version
    last = cluster.resource_version
    cluster.store.close()  # a delete was the last commit: no row carries its version but events
    again = open_cluster(url)
    assert again.resource_version >= last
    later = again.create_pod(pod("b", 100))
    assert later.changes.resource_version > last
    assert later.view.resource_version == later.changes.resource_version


def test_a_move_marks_the_pod_and_both_nodes_changed(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 2000)
    created = cluster.create_pod(pod("a", 1000))
    assert created.view.node_id == n1
    n2 = ready_node(cluster, "n2", 2000)
    cluster.set_status(cluster.state.nodes[n1], NodeStatus.UNHEALTHY, "test")
    with cluster.transaction() as t:
        placement.move(t, cluster.state.pods[created.view.id], reason="test", incident_id=None)
    assert t.changes.changed == {Kind.POD: {created.view.id}, Kind.NODE: {n1, n2}}
    assert cluster.state.pods[created.view.id].node_id == n2
    assert cluster.state.pods[created.view.id].phase is PodPhase.SCHEDULED
