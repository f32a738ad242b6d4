"""The heartbeat loop in-process against a real fake engine: report, replies, schedule."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent import AGENT_VERSION
from kube9_desktop.agent.client import MAX_REPLY_BYTES, HeartbeatReply
from kube9_desktop.agent.config import MASTER_COMPONENTS, WORKER_COMPONENTS
from kube9_desktop.agent.node import NodeAgent, next_beat_time
from kube9_desktop.agent.pods import PodSupervisor
from kube9_desktop.agent.report import pod_digest
from tests.agent.helpers import (
    NODE_ID,
    SECRET,
    TOKEN,
    FakeEngine,
    agent_config,
    container,
    container_pid,
    make_agent,
    pid_alive,
    pod,
    sleeper,
    wait_for,
)


def test_heartbeat_carries_token_node_id_and_report(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    agent.heartbeat()
    request = fake_engine.requests[-1]
    assert request.path == f"/nodes/{NODE_ID}/heartbeat"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    report = request.report
    assert report["health_status"] == "healthy"
    assert tuple(report["components"]) == WORKER_COMPONENTS
    assert set(report["components"].values()) == {"running"}
    assert (report["pod_count"], report["pod_digest"]) == (0, pod_digest([]))
    assert (report["pods"], report["generation"]) == ([], None)
    assert "pod_ids" not in report
    assert report["cpu_cores_avail"] == 2.0
    assert report["agent"]["version"] == AGENT_VERSION
    assert report["agent"]["seq"] == 1
    agent.heartbeat()
    assert fake_engine.reports()[-1]["agent"]["seq"] == 2


def test_master_reports_control_plane(fake_engine: FakeEngine, work_dir: Path) -> None:
    make_agent(fake_engine.url, work_dir, "master").heartbeat()
    assert tuple(fake_engine.reports()[-1]["components"]) == MASTER_COMPONENTS


def test_desired_pods_are_applied_and_the_generation_acknowledged(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    fake_engine.set_desired(pod(3, "web", container("main", ["sleep", "1000"], cpu_req=0.5)))
    agent.heartbeat()
    pid = container_pid(agent, 3, "main")
    agent.heartbeat()
    report = fake_engine.reports()[-1]
    assert report["generation"] == fake_engine.generation
    assert (report["pod_count"], report["pod_digest"]) == (1, pod_digest([3]))
    assert report["cpu_cores_avail"] == 1.5
    assert (fake_engine.container_report(3, "main") or {})["pid"] == pid
    fake_engine.set_desired()
    agent.heartbeat()

    def stopped() -> bool:
        agent.supervisor.tick()
        return not pid_alive(pid)

    wait_for(stopped, what="pod stopped")
    agent.heartbeat()
    assert fake_engine.reports()[-1]["pod_count"] == 0


def test_component_faults_are_reported_until_cleared(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    fake_engine.component_faults = {"kubelet": "failed", "etcd": "failed", "bogus": "failed"}
    agent.heartbeat()
    agent.heartbeat()
    report = fake_engine.reports()[-1]
    assert report["components"]["kubelet"] == "failed"
    assert report["health_status"] == "unhealthy"
    assert "etcd" not in report["components"]
    assert "bogus" not in report["components"]
    agent.heartbeat()
    assert fake_engine.reports()[-1]["components"]["kubelet"] == "failed"
    fake_engine.component_faults = {}
    agent.heartbeat()
    agent.heartbeat()
    assert fake_engine.reports()[-1]["components"]["kubelet"] == "running"


def test_kill_request_kills_and_restarts_the_container(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    agent.heartbeat()
    old = container_pid(agent, 3, "web")
    fake_engine.kill(3, "web")
    agent.heartbeat()
    wait_for(lambda: not pid_alive(old), what="killed")
    new = container_pid(agent, 3, "web")
    assert new != old
    agent.heartbeat()
    entry = fake_engine.container_report(3, "web")
    assert entry is not None
    assert (entry["restarts"], entry["exit_code"]) == (1, 137)


BAD_REPLIES: list[tuple[int, Any]] = [
    (200, b"this is not json"),
    (200, b"\xff\xfe"),
    (200, [1, 2, 3]),
    (200, "a string"),
    (200, {}),
    (500, b"<html>Internal Server Error</html>"),
    (502, {"error": "bad gateway"}),
    (503, {"error": "partitioned"}),
    (401, {"error": "invalid token"}),
    (403, {"error": "forbidden"}),
    (404, {"error": "no such route"}),
    (
        200,
        {
            "desired_pods": "all of them",
            "component_faults": ["kubelet"],
            "kill": "everything",
            "heartbeat_interval_s": "fast",
            "generation": "99",
            "node_status": 5,
        },
    ),
    (200, {"desired_pods": {"id": 3}, "kill": [{"pod_id": "3"}, 7, None], "generation": 99}),
    (200, {"desired_pods": [None, {"name": "x"}, 5], "generation": 98}),
    (
        200,
        {
            "desired_pods": [
                pod(3, "../../etc", sleeper()),
                pod(3, "web", sleeper(), env=[{"name": "K=V", "value": SECRET}]),
            ],
            "heartbeat_interval_s": -1,
            "component_faults": {"kubelet": 5},
        },
    ),
    (200, {"heartbeat_interval_s": float("inf")}),
]


@pytest.mark.parametrize(("status", "body"), BAD_REPLIES)
def test_bad_replies_never_crash_or_disturb_pods(
    agent: NodeAgent, fake_engine: FakeEngine, status: int, body: Any
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")))
    agent.heartbeat()
    pid = container_pid(agent, 3, "web")
    generation = agent.generation
    fake_engine.script(status, body if isinstance(body, bytes) else json.dumps(body).encode())
    agent.heartbeat()
    agent.supervisor.tick()
    assert container_pid(agent, 3, "web") == pid
    assert agent.interval == pytest.approx(0.2)
    assert not agent.deleted
    assert agent.generation in (generation, 98, 99)
    agent.heartbeat()
    assert fake_engine.reports()[-1]["pod_count"] == 1


def test_unreachable_engine_keeps_pods_and_retries_soon(work_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = make_agent(f"http://127.0.0.1:{port}", work_dir)
    try:
        agent.supervisor.reconcile([])
        agent.apply({"desired_pods": [pod(3, "web", sleeper())], "generation": 2})
        pid = container_pid(agent, 3, "main")
        for _ in range(3):
            reply = agent.heartbeat()
            assert not reply.reached
        assert pid_alive(pid)
        assert agent.generation == 2
    finally:
        agent.supervisor.stop_all()


@pytest.mark.parametrize(
    ("status", "body", "deleted"),
    [
        (404, {"error": "node not found", "should_stop_heartbeat": True}, True),
        (404, {"error": "not found"}, False),
        (200, {"should_stop_heartbeat": True}, False),
    ],
)
def test_only_404_with_should_stop_deletes_the_node(
    agent: NodeAgent, fake_engine: FakeEngine, status: int, body: dict[str, Any], deleted: bool
) -> None:
    fake_engine.script(status, body)
    agent.heartbeat()
    assert agent.deleted is deleted


def test_reply_interval_is_adopted(agent: NodeAgent, fake_engine: FakeEngine) -> None:
    fake_engine.script(200, {"heartbeat_interval_s": 0.5, "component_faults": {}})
    agent.heartbeat()
    assert agent.interval == 0.5
    assert agent.client.timeout == 1.0


def fat_pods(count: int, containers: int = 8) -> list[dict[str, Any]]:
    """Pod reports of ~650 bytes each (8 containers), as the supervisor would give them."""
    return [
        {"id": i, "phase": "running",
         "containers": [{"name": f"c{j}", "state": "running", "exit_code": None,
                         "restarts": 0, "pid": 10_000 + i} for j in range(containers)]}
        for i in range(1, count + 1)
    ]  # fmt: skip


def test_steady_heartbeats_carry_only_what_changed(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")), pod(4, "db", sleeper("db")))
    agent.heartbeat()
    old = container_pid(agent, 3, "web")
    container_pid(agent, 4, "db")
    agent.heartbeat()
    assert {(fake_engine.pod_report(i) or {}).get("phase") for i in (3, 4)} == {"running"}
    agent.heartbeat()
    assert fake_engine.reports()[-1]["pods"] == []
    fake_engine.kill(3, "web")
    agent.heartbeat()
    wait_for(lambda: container_pid(agent, 3, "web") != old, what="web restarted")
    agent.heartbeat()
    assert [p["id"] for p in fake_engine.reports()[-1]["pods"]] == [3]
    assert (fake_engine.container_report(3, "web") or {})["restarts"] == 1


def test_reports_honour_the_engines_cap_and_lose_nothing(
    agent: NodeAgent, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 pods of ~650 bytes (~260 KB): 16 KiB until the engine names its cap, then chunks of
    at most that cap, every pod exactly as reported, nothing refused."""
    fat = fat_pods(400)
    monkeypatch.setattr(agent.supervisor, "report", lambda: fat)
    fake_engine.report_cap = 40 * 1024
    for _ in range(40):
        agent.heartbeat()
        if len(fake_engine.pods) == len(fat):
            break
    sizes = [len(r.body) for r in fake_engine.requests]
    assert sizes[0] <= 16 * 1024
    assert all(size <= 40 * 1024 for size in sizes)
    assert max(sizes) > 32 * 1024  # the cap was used, not just the 16 KiB floor
    assert fake_engine.too_large == []
    assert fake_engine.pods == {p["id"]: p for p in fat}
    agent.heartbeat()
    assert fake_engine.reports()[-1]["pods"] == []


def test_a_refused_heartbeat_falls_back_to_16_kib_and_resends_its_pods(
    agent: NodeAgent, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fat = fat_pods(400)
    monkeypatch.setattr(agent.supervisor, "report", lambda: fat)
    fake_engine.report_cap = 1024 * 1024
    agent.heartbeat()  # 16 KiB: the cap is not known yet
    fake_engine.report_cap = 20 * 1024  # the node lost pods meanwhile: its cap shrank
    agent.heartbeat()
    assert fake_engine.too_large == [len(fake_engine.requests[-1].body)]
    refused = {p["id"] for p in fake_engine.requests[-1].report["pods"]}
    assert not refused & set(fake_engine.pods)
    agent.heartbeat()
    assert len(fake_engine.requests[-1].body) <= 16 * 1024
    for _ in range(40):
        agent.heartbeat()
        if len(fake_engine.pods) == len(fat):
            break
    assert fake_engine.pods == {p["id"]: p for p in fat}
    assert len(fake_engine.too_large) == 1


def test_report_all_makes_the_agent_report_every_pod_again(
    agent: NodeAgent, fake_engine: FakeEngine
) -> None:
    fake_engine.set_desired(pod(3, "web", sleeper("web")), pod(4, "db", sleeper("db")))
    agent.heartbeat()
    container_pid(agent, 3, "web")
    container_pid(agent, 4, "db")
    agent.heartbeat()
    agent.heartbeat()
    assert fake_engine.reports()[-1]["pods"] == []
    with fake_engine._lock:
        fake_engine.pods.clear()  # a restarted engine: it holds no report
        fake_engine.report_all_next = True
    agent.heartbeat()
    agent.heartbeat()
    assert set(fake_engine.pods) == {3, 4}
    assert (fake_engine.pod_report(3) or {}).get("phase") == "running"


def test_too_large_a_heartbeat_reply_is_an_error_in_the_log(
    agent: NodeAgent, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    fake_engine.script(200, b"[" + b" " * MAX_REPLY_BYTES + b"]")
    with caplog.at_level(logging.WARNING, logger="kube9.agent"):
        reply = agent.heartbeat()
    assert reply.too_large
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "larger than" in errors[0].message


@pytest.mark.parametrize(
    ("scheduled", "now", "interval", "expected"),
    [
        (10.0, 10.05, 1.0, 11.0),
        (10.0, 11.5, 1.0, 12.0),
        (10.0, 12.3, 1.0, 13.0),
        (10.0, 11.0, 1.0, 12.0),
        (0.0, 0.1, 0.25, 0.25),
    ],
)
def test_next_beat_stays_on_the_grid(
    scheduled: float, now: float, interval: float, expected: float
) -> None:
    assert next_beat_time(scheduled, now, interval) == pytest.approx(expected)


class ScriptedClient:
    """A client that replies instantly or slowly on a fake clock, recording send times."""

    def __init__(self, clock: list[float], reply: HeartbeatReply, latency: float) -> None:
        self.timeout = 1.0
        self.sent_at: list[float] = []
        self._clock, self._reply, self._latency = clock, reply, latency

    def send(self, report: bytes) -> HeartbeatReply:
        self.sent_at.append(round(self._clock[0], 6))
        self._clock[0] += self._latency
        return self._reply

    def get(self, path: str, max_bytes: int = 0) -> HeartbeatReply:
        raise AssertionError(f"no desired pods to page through, yet asked for {path}")


def run_with_fake_clock(
    work_dir: Path, reply: HeartbeatReply, latency: float, beats: int
) -> list[float]:
    """Run the real loop on a fake clock until ``beats`` heartbeats went out; return their times."""
    now = [0.0]
    client = ScriptedClient(now, reply, latency)
    stop: list[NodeAgent] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if len(client.sent_at) >= beats:
            stop[0].request_stop()

    config = agent_config("http://127.0.0.1:9", work_dir)
    agent = NodeAgent(
        replace(config, heartbeat_interval=1.0),
        supervisor=PodSupervisor(work_dir, clock=lambda: now[0]),
        client=client,
        clock=lambda: now[0],
        sleep=sleep,
    )
    stop.append(agent)
    assert agent.run() == 0
    return client.sent_at[:beats]


def test_slow_replies_do_not_make_the_schedule_drift(work_dir: Path) -> None:
    ok = HeartbeatReply(200, {"component_faults": {}})
    assert run_with_fake_clock(work_dir, ok, latency=0.35, beats=4) == [0.0, 1.0, 2.0, 3.0]


def test_unreachable_engine_is_retried_with_short_backoff(work_dir: Path) -> None:
    down = HeartbeatReply(None, None, "connection refused")
    assert run_with_fake_clock(work_dir, down, latency=0.0, beats=5) == [
        0.0,
        0.25,
        0.75,
        1.75,
        2.75,
    ]


def test_long_outage_keeps_retrying_at_the_interval(work_dir: Path) -> None:
    down = HeartbeatReply(None, None, "connection refused")
    times = run_with_fake_clock(work_dir, down, latency=0.0, beats=2000)
    assert times[-1] - times[-2] == pytest.approx(1.0)
