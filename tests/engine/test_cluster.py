"""Cluster operations on a real store with a FakeClock: books, IPs, pending pods, deletes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kube9_desktop.engine.clock import FakeClock
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.errors import Conflict, Unschedulable
from kube9_desktop.engine.events import Event, EventBus, EventKind
from kube9_desktop.engine.heartbeat import HeartbeatReport, Heartbeats
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.model import (
    ContainerSpec,
    NodeGauge,
    NodeSpec,
    NodeStatus,
    NodeType,
    PodPhase,
    PodSpec,
    Resources,
)
from kube9_desktop.engine.state import IpPool
from kube9_desktop.engine.store.store import Store

READY = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running",
         "node_agent": "running"}  # fmt: skip


def pod(name: str, cpu_m: int, mem_mi: int = 0) -> PodSpec:
    return PodSpec(name, Resources(cpu_m, mem_mi), (ContainerSpec("c", "img", cpu_m, mem_mi),))


def open_cluster(url: str) -> Cluster:
    cluster = Cluster(Store.open(url), FakeClock(), EventBus())
    cluster.load()
    cluster.ensure_system_namespaces()
    return cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return open_cluster(f"sqlite:///{tmp_path}/c.db")


def ready_node(cluster: Cluster, name: str, cpu_m: int, mem_mi: int = 8192) -> int:
    created = cluster.create_node(NodeSpec(name, NodeType.WORKER, Resources(cpu_m, mem_mi)))
    Heartbeats(cluster, interval=1).process(created.view.id, HeartbeatReport(components=READY))
    return created.view.id


def test_create_commits_before_publishing(cluster: Cluster, tmp_path: Path) -> None:
    seen: list[Event] = []

    def on_event(ev: Event) -> None:
        # By the time a subscriber hears of it, the store already has it.
        stored = Store.open(f"sqlite:///{tmp_path}/c.db").load()
        assert any(n.id == ev.node_id for n in stored.nodes)
        seen.append(ev)

    cluster.bus.subscribe(on_event)
    cluster.create_node(NodeSpec("n1", NodeType.WORKER, Resources(1000, 0)))
    assert [e.kind for e in seen] == [EventKind.NODE_CREATED]


def test_memory_defaults_to_2048_per_core(cluster: Cluster) -> None:
    created = cluster.create_node(NodeSpec("n1", NodeType.WORKER, Resources(1500, 0)))
    assert created.view.capacity == Resources(1500, 3072)


def test_books_follow_binds_and_deletes(cluster: Cluster) -> None:
    n = ready_node(cluster, "n1", 4000)
    a = cluster.create_pod(pod("a", 1500, 100))
    b = cluster.create_pod(pod("b", 1000, 200))
    node = cluster.state.nodes[n]
    assert node.allocated == Resources(2500, 300)
    cluster.delete_pod(a.view.id)
    assert node.allocated == Resources(1000, 200)
    assert node.pod_ids == {b.view.id}
    assert check_invariants(cluster.state) == []


def test_pod_that_fits_nowhere_is_refused_and_nothing_is_stored(cluster: Cluster) -> None:
    ready_node(cluster, "n1", 1000)
    with pytest.raises(Unschedulable) as err:
        cluster.create_pod(pod("big", 2000))
    assert err.value.reasons == {"n1": ["insufficient cpu: requested 2, free 1"]}
    assert cluster.state.pods == {} and cluster.store.load().pods == ()


def test_no_nodes_at_all_says_so(cluster: Cluster) -> None:
    with pytest.raises(Unschedulable) as err:
        cluster.create_pod(pod("p", 100))
    assert "add a worker node" in str(err.value.reasons)


def test_displaced_pods_wait_pending_then_are_placed(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 2000)
    ready_node(cluster, "n2", 1000)
    big = cluster.create_pod(pod("big", 2000))
    assert big.view.node_name == "n1"
    node1 = cluster.state.nodes[n1]
    cluster.set_status(node1, NodeStatus.UNHEALTHY, "test", EventKind.NODE_DETECTED)
    result = cluster.evict(node1, reason="test")
    assert result.pending == ("big",)
    assert cluster.state.pods[big.view.id].phase is PodPhase.PENDING
    assert check_invariants(cluster.state) == []
    ready_node(cluster, "n3", 4000)  # capacity appears: the pending pod is placed at once
    assert cluster.state.pods[big.view.id].node_id == cluster.state.node_ids["n3"]
    assert check_invariants(cluster.state) == []


def test_delete_pods_deletes_those_found_in_one_commit(cluster: Cluster) -> None:
    ready_node(cluster, "n1", 4000)
    a, b, c = (cluster.create_pod(pod(name, 1000)).view.id for name in ("a", "b", "c"))
    cluster.delete_pod(b)
    version = cluster.resource_version
    deleted = cluster.delete_pods([a, b, c])  # b is gone already: skipped, not an error
    assert [d.view.name for d in deleted] == ["a", "c"]
    assert cluster.resource_version == version + 1
    assert cluster.state.pods == {} and cluster.store.load().pods == ()
    assert check_invariants(cluster.state) == []


def test_deleting_a_pod_places_pending_pods(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 2000)
    n2 = ready_node(cluster, "n2", 1000)
    a = cluster.create_pod(pod("a", 1000))  # best fit: n2
    assert a.view.node_id == n2
    b = cluster.create_pod(pod("b", 2000))  # only n1
    node1 = cluster.state.nodes[n1]
    cluster.set_status(node1, NodeStatus.UNHEALTHY, "test", EventKind.NODE_DETECTED)
    cluster.evict(node1, reason="test")
    assert cluster.state.pods[b.view.id].phase is PodPhase.PENDING
    cluster.set_status(node1, NodeStatus.HEALTHY, "", EventKind.NODE_RECOVERED)
    assert cluster.state.pods[b.view.id].node_id == n1


def test_delete_node_with_running_pods_needs_force(cluster: Cluster) -> None:
    n1 = ready_node(cluster, "n1", 2000)
    n2 = ready_node(cluster, "n2", 2000)
    p = cluster.create_pod(pod("p", 1000))
    holder = p.view.node_id
    with pytest.raises(Conflict, match="Cannot delete node with 1 running pod"):
        cluster.delete_node(holder)
    moved = cluster.delete_node(holder, force=True)
    other = n2 if holder == n1 else n1
    assert moved.rebound == (("p", cluster.state.nodes[other].name),)
    assert cluster.state.pods[p.view.id].node_id == other
    assert check_invariants(cluster.state) == []


def test_state_survives_reload(cluster: Cluster, tmp_path: Path) -> None:
    ready_node(cluster, "n1", 4000)
    cluster.create_pod(pod("a", 1000, 64))
    cluster.create_pod(pod("b", 500))
    again = open_cluster(f"sqlite:///{tmp_path}/c.db")
    assert {p.name for p in again.state.pods.values()} == {"a", "b"}
    node = next(iter(again.state.nodes.values()))
    assert node.allocated == Resources(1500, 64) and node.status is NodeStatus.HEALTHY
    assert all(p.decision is not None for p in again.state.pods.values())
    assert check_invariants(again.state) == []
    # New IPs never collide with reloaded ones.
    again.create_pod(pod("c", 100))
    assert len({p.ip for p in again.state.pods.values()}) == 3


def test_ip_pool_is_unique_and_reuses_released_addresses_last() -> None:
    pool = IpPool()
    ips = [pool.allocate() for _ in range(300)]
    assert len(set(ips)) == 300 and ips[0] == "127.244.0.1" and ips[255] == "127.244.1.0"
    # A deleted pod's process may still hold its address: the next pod gets a fresh one.
    pool.release(ips[10])
    assert pool.allocate() == "127.244.1.45"
    # Once the pointer reached the top, freed addresses come back oldest first.
    pool.release(ips[20])
    pool.reserve("127.247.255.254")
    assert [pool.allocate() for _ in range(3)] == [ips[10], ips[20], "127.244.1.46"]
    reloaded = IpPool()
    reloaded.reserve("127.244.3.7")
    assert reloaded.allocate() == "127.244.3.8"


def test_ip_pool_holds_more_than_a_slash_16() -> None:
    """100,000 pods (a KWOK-sized cluster) need more than the 65,534 addresses of a /16."""
    pool = IpPool()
    pool.reserve("127.244.255.254")
    assert [pool.allocate() for _ in range(3)] == ["127.244.255.255", "127.245.0.0", "127.245.0.1"]
    pool.reserve("127.247.255.253")
    assert pool.allocate() == "127.247.255.254"
    assert pool.allocate() not in ("127.247.255.255", "127.248.0.0")  # recycles the gaps instead


def test_flush_in_chunks_writes_everything_and_keeps_newer_beats(cluster: Cluster) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    cluster.dirty_heartbeats.update({i: at for i in range(1, 6)})
    written: list[list[int]] = []
    cluster.store.flush_heartbeats = lambda beats: written.append(sorted(beats))  # type: ignore[method-assign]
    assert cluster.flush(limit=2) is False
    cluster.dirty_heartbeats[1] = at  # a newer beat of a flushed node
    assert cluster.flush(limit=2) is False
    assert cluster.flush(limit=2) is True
    assert written == [[1, 2], [3, 4], [1, 5]] and not cluster.dirty_heartbeats


def test_summary_and_gauges_agree_with_the_views(cluster: Cluster) -> None:
    """The window's light reads (counted in C, gauges without full views) say what the views
    say."""
    a, b = ready_node(cluster, "a", 2000), ready_node(cluster, "b", 1000, 4096)
    cluster.create_node(NodeSpec("m", NodeType.MASTER, Resources(8000, 8192)))
    for i in range(3):
        cluster.create_pod(pod(f"p{i}", 500))
    summary = cluster.summary("virtual")
    views = cluster.node_views()
    assert summary.capacity == Resources(3000, 8192 + 4096)
    assert summary.allocated == Resources(1500, 0)
    assert summary.pods_by_phase == {str(p): 0 for p in PodPhase} | {"scheduled": 3}
    assert sum(summary.nodes_by_status.values()) == 3 and summary.pod_count == 3
    now = cluster.clock.now()
    gauges = [n.gauge(now) for n in cluster.state.nodes.values()]
    assert gauges == [NodeGauge.of(v) for v in views]
    assert {g.id for g in gauges if g.seconds_since_heartbeat is not None} == {a, b}
