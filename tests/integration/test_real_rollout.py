"""A rolling update on real nodes, judged from what really runs: the processes on this machine
(read from /proc, where a Docker node's pods show too: they are host processes in the node
container's namespaces) and the pods that answer HTTP.

Three replicas of a small HTTP server, max_surge 1 and max_unavailable 0, rolled from v1 to v2.
Each server keeps serving for a second after SIGTERM (a drain), so a deleted pod still runs
while the rollout goes on: unless the engine counts it against the surge (terminating.py), a
fifth process starts. At every sample: at most 4 running and at least 3 answering.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kube9_desktop.selftest import processes_of
from tests.engine.docker_helpers import (
    connect_or_skip,
    ensure_offline_base,
    leftover,
    remove_clusters,
)
from tests.helpers import Api, free_port, wait_for
from tests.integration.conftest import EngineFactory
from tests.procs import alive, marker, wait_sync

REPLICAS, MAX_SURGE, MAX_UNAVAILABLE = 3, 1, 0
DRAIN_S = 1.0
ROLLOUT_S = 60.0  # the whole rollout, sampled; each case ends well inside pytest's timeout
FAST = {"heartbeat_interval": 0.25, "grace_period": 1.5, "recovery_backoff": 0.2}

# The pod's server: answers its version on its own address; on SIGTERM it goes on answering
# for DRAIN_S, then exits 0 (well inside the agent's 2 s stop grace).
SERVER = f"""
import http.server, signal, sys, threading
ip, port = sys.argv[1], int(sys.argv[2])
version = sys._xoptions["kube9"].rsplit("-", 1)[1].encode()
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(version)))
        self.end_headers()
        self.wfile.write(version)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((ip, port), Answer)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *_: threading.Timer({DRAIN_S}, server.shutdown).start())
server.serve_forever(poll_interval=0.05)
"""


def template(mark: str, version: str, port: int) -> dict[str, Any]:
    """``python3 -X kube9=<mark>-<version> -c SERVER <ip> <port> <pod>``: /proc shows each
    server's version and pod; the agent expands $(POD_IP), $(PORT) and $(POD_NAME)."""
    return {
        "labels": {"app": "web"},
        "cpu_cores_req": 0.2,
        "containers": [{
            "name": "web", "image": "python:3", "command": "python3",
            "args": ["-X", f"kube9={mark}-{version}", "-c", SERVER,
                     "$(POD_IP)", "$(PORT)", "$(POD_NAME)"],
            "ports": [{"name": "http", "container_port": port}],
            "readiness_probe": {"http_get": {"path": "/", "port": "http"}, "period_s": 0.2,
                                "timeout_s": 1.0, "failure_threshold": 1},
        }],
        "config": [{"name": "port", "type": "env", "key": "PORT", "value": str(port)}],
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    version: str
    ip: str
    pod: str


def servers(mark: str) -> list[Server]:
    """The live (not zombie) pod servers of this test on this machine, from /proc."""
    found = []
    prefix = f"kube9={mark}-".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        tag = next((a for a in argv if a.startswith(prefix)), None)
        if tag is None or not alive(int(entry.name)):
            continue
        version = tag[len(prefix) :].decode()
        ip, _port, pod, _end = (a.decode() for a in argv[-4:])  # argv ends with a NUL
        found.append(Server(int(entry.name), version, ip, pod))
    return found


@dataclass(slots=True)
class Sample:
    at: float
    running: dict[str, int]  # version -> processes on this machine
    serving: dict[str, int]  # version -> addresses that answered
    stored: int  # the Deployment's pods the API lists
    draining: int  # processes of pods the API no longer lists (deleted, still stopping)

    @property
    def total_running(self) -> int:
        return sum(self.running.values())

    @property
    def total_serving(self) -> int:
        return sum(self.serving.values())

    def __str__(self) -> str:
        return (
            f"{self.at:6.2f}s running {self.running} serving {self.serving} "
            f"stored {self.stored} draining {self.draining}"
        )


@dataclass(slots=True)
class Rollout:
    """What the sampling saw, kept as evidence for a failure's message."""

    samples: list[Sample] = field(default_factory=list)

    def timeline(self, last: int = 40) -> str:
        return "\n".join(str(s) for s in self.samples[-last:])


async def answers(session: aiohttp.ClientSession, ip: str, port: int) -> str | None:
    """The version the server at ``ip`` answers, or None if nothing answers there."""
    try:
        timeout = aiohttp.ClientTimeout(total=2.0)
        async with session.get(f"http://{ip}:{port}/", timeout=timeout) as reply:
            return (await reply.text()) if reply.status == 200 else None
    except (TimeoutError, aiohttp.ClientError):
        return None


async def sample(
    api: Api, session: aiohttp.ClientSession, mark: str, port: int, known: set[str], began: float
) -> Sample:
    """One look: the processes running, then every address ever seen asked at once."""
    running = await asyncio.to_thread(servers, mark)
    status, pods = await api.get("/pods/")
    assert status == 200, pods
    stored = {p["name"]: p["ip_address"] for p in pods if p["labels"].get("app") == "web"}
    known |= set(stored.values()) | {s.ip for s in running}
    replies = await asyncio.gather(*(answers(session, ip, port) for ip in sorted(known)))
    by_version: dict[str, int] = {}
    for s in running:
        by_version[s.version] = by_version.get(s.version, 0) + 1
    serving: dict[str, int] = {}
    for reply in replies:
        if reply is not None:
            serving[reply] = serving.get(reply, 0) + 1
    return Sample(
        at=time.monotonic() - began,
        running=by_version,
        serving=serving,
        stored=len(stored),
        draining=sum(1 for s in running if s.pod not in stored),
    )


async def deployment_status(api: Api, d_id: int) -> dict[str, Any]:
    status, d = await api.get(f"/deployments/{d_id}")
    assert status == 200, d
    return dict(d)


def complete(d: dict[str, Any], revision: int) -> bool:
    st = d["status"]
    return bool(
        d["revision"] == revision
        and st["replicas"] == st["updated"] == st["available"] == REPLICAS
        and st["observed_generation"] >= d["generation"]
    )


async def rolled(
    api: Api, session: aiohttp.ClientSession, mark: str, port: int, d_id: int
) -> Rollout:
    """Sample until the Deployment is complete at revision 2 and only three v2 servers run
    and answer; every sample must keep the rollout's limits."""
    rollout, known, began = Rollout(), set[str](), time.monotonic()
    deadline = began + ROLLOUT_S
    most, least = REPLICAS + MAX_SURGE, REPLICAS - MAX_UNAVAILABLE
    while True:
        now = await sample(api, session, mark, port, known, began)
        rollout.samples.append(now)
        assert now.total_running <= most, (
            f"{now.total_running} servers running, more than replicas + max_surge = {most}:\n"
            + rollout.timeline()
        )
        assert now.total_serving >= least, (
            f"{now.total_serving} servers answering, fewer than replicas - max_unavailable = "
            f"{least}:\n" + rollout.timeline()
        )
        if (
            now.running == {"v2": REPLICAS}
            and now.serving == {"v2": REPLICAS}
            and complete(await deployment_status(api, d_id), revision=2)
        ):
            return rollout
        assert time.monotonic() < deadline, (
            f"the rollout did not finish in {ROLLOUT_S} s:\n" + rollout.timeline()
        )
        await asyncio.sleep(0.05)


RUNTIMES = ["process", pytest.param("docker", marks=pytest.mark.docker)]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The engine's runtime settings; for Docker, a cluster of this test, removed after its
    engine stopped (skipped without a daemon, failed with KUBE9_REQUIRE_DOCKER=1)."""
    if request.param == "process":
        yield {"runtime": "process"}
        return
    client = connect_or_skip()
    ensure_offline_base(client)
    remove_clusters(client, leftover)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield {"runtime": "docker", "cluster_name": cluster}
    finally:
        remove_clusters(client, lambda c: c == cluster)
        client.close()


@pytest.fixture
async def api(runtime: dict[str, Any], make_engine: EngineFactory) -> AsyncIterator[Api]:
    engine = await make_engine(**runtime, **FAST)
    async with aiohttp.ClientSession() as session:
        yield Api(engine.api_url, engine.admin_token, session)


async def test_a_rolling_update_replaces_real_processes_within_its_limits(api: Api) -> None:
    mark, port = marker(), free_port()
    for name in ("w1", "w2"):
        status, body = await api.post("/nodes/", {"name": name, "cpu_cores_avail": 2})
        assert status == 201, body

    async def nodes_healthy() -> bool:
        _, nodes = await api.get("/nodes/")
        return all(n["health_status"] == "healthy" for n in nodes)

    await wait_for(nodes_healthy, timeout=60, what="both nodes heartbeating")
    body = {
        "name": "web", "replicas": REPLICAS, "template": template(mark, "v1", port),
        "strategy": {"type": "RollingUpdate", "max_surge": MAX_SURGE,
                     "max_unavailable": MAX_UNAVAILABLE},
    }  # fmt: skip
    status, created = await api.post("/deployments/", body)
    assert status == 201, created
    d_id = created["id"]
    session = api.session
    known: set[str] = set()

    async def v1_up() -> bool:
        now = await sample(api, session, mark, port, known, time.monotonic())
        return (
            now.running == {"v1": REPLICAS}
            and now.serving == {"v1": REPLICAS}
            and complete(await deployment_status(api, d_id), revision=1)
        )

    await wait_for(v1_up, timeout=ROLLOUT_S, what="three v1 servers running and answering")
    v1_pids = {s.pid for s in servers(mark)}

    status, patched = await api.call(
        "PATCH", f"/deployments/{d_id}", {"template": template(mark, "v2", port)}
    )
    assert status == 200, patched
    rollout = await rolled(api, session, mark, port, d_id)

    v2_pids = {s.pid for s in servers(mark)}
    assert not any(alive(pid) for pid in v1_pids), "a v1 process outlived the rollout"
    assert len(v2_pids) == REPLICAS and not v2_pids & v1_pids
    # The sampling saw what it is there to see: the surge used, and deleted pods still
    # running (draining) while the rollout went on.
    assert max(s.total_running for s in rollout.samples) == REPLICAS + MAX_SURGE
    assert any(s.draining for s in rollout.samples), rollout.timeline()
    took = rollout.samples[-1].at
    print(f"rolled out in {took:.1f}s over {len(rollout.samples)} samples")


@pytest.fixture(autouse=True)
def _no_orphans_after_the_engine_stops(tmp_path: Path) -> Iterator[None]:
    yield
    wait_sync(lambda: processes_of(tmp_path) == [], timeout=30, what="no leftover processes")
