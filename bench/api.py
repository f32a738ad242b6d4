"""The HTTP API under load, from a lean client on loopback: pod creates, heartbeats, start-up.

The server is always a separate process: ``main.py --headless`` for pod creates and start-up
(the real command, virtual nodes heartbeating at 1 Hz meanwhile), ``bench/serve_engine.py``
for heartbeats (the same engine, its nodes' agents played by this process with their own
tokens). The client is ``bench/httpclient.py``: pre-encoded keep-alive requests on raw
streams, so the figures measure the engine and not a client sharing its two cores.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, Figure, Figures, Sizes, free_port, median, rnd
from bench.httpclient import Conn

TOKEN = "bench-admin-token"
CONNECTIONS = 4
NODE_CORES = 1000  # room for every pod of a repeat
MAX_PODS = 100_000  # likewise for the pod count (a repeat puts hundreds on each node)
POD_CPU = 0.1


@dataclass
class Load:
    """One timed run: requests per second and the CPU each side spent per request."""

    rate: float
    server_cpu_us: float
    client_cpu_us: float


class CpuMeter:
    """CPU seconds of the server process and of this (client) process over a timed phase."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.server = self._server()
        self.client = self._client()

    def _server(self) -> float:
        with open(f"/proc/{self.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _client() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def per_request(self, count: int, elapsed: float) -> Load:
        server = (self._server() - self.server) / count * 1e6
        client = (self._client() - self.client) / count * 1e6
        return Load(count / elapsed, server, client)


def pod_body(i: int) -> dict[str, Any]:
    """The original Postman collection's nginx pod, renamed per request."""
    return {
        "name": f"pod-{i}",
        "cpu_cores_req": POD_CPU,
        "containers": [{"name": "nginx", "image": "nginx:latest", "cpu_req": POD_CPU,
                        "memory_req": 64}],
    }  # fmt: skip


def agent_body(generation: int | None, seq: int) -> dict[str, Any]:
    """A heartbeat exactly as the node agent builds it, for a node without pods."""
    return {
        "health_status": "healthy",
        "components": {"kubelet": "running", "container_runtime": "running",
                       "kube_proxy": "running", "node_agent": "running"},
        "pod_ids": [],
        "cpu_cores_avail": float(NODE_CORES),
        "pods": [],
        "generation": generation,
        "agent": {"version": "0.1.0", "started_at": "2026-01-01T00:00:00+00:00", "seq": seq},
    }  # fmt: skip


def headless_cmd(data_dir: Path, port: int) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "--headless", "--port", str(port),
            "--runtime", "virtual", "--data-dir", str(data_dir),
            "--log-level", "WARNING"]  # fmt: skip


def healthz_ok(port: int) -> bool:
    """One raw GET /healthz; True on a 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start_and_time(data_dir: Path) -> tuple[subprocess.Popen[str], str, float]:
    """Start ``main.py --headless`` on a fresh data directory; seconds until /healthz answers."""
    port = free_port()
    env = {**os.environ, "KUBE9_API_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        headless_cmd(data_dir, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    deadline = start + 30
    while not healthz_ok(port):
        if proc.poll() is not None or time.perf_counter() > deadline:
            proc.kill()
            raise RuntimeError("the headless engine did not answer /healthz")
        time.sleep(0.005)
    return proc, f"http://127.0.0.1:{port}", time.perf_counter() - start


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wait_healthy(conn: Conn, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, nodes = await conn.call("GET", "/nodes/", TOKEN)
        if status == 200 and sum(n["health_status"] == "healthy" for n in nodes) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("nodes did not become healthy")
        await asyncio.sleep(0.05)


async def create_pods(url: str, server_pid: int, nodes: int, pods: int) -> Load:
    """Pods created per second by CONNECTIONS keep-alive connections (all must be 201)."""
    admin = await Conn.open(url)
    for n in range(nodes):
        status, body = await admin.call(
            "POST",
            "/nodes/",
            TOKEN,
            {"name": f"worker-{n}", "cpu_cores_avail": NODE_CORES, "max_pods": MAX_PODS},
        )
        if status != 201:
            raise RuntimeError(f"node create failed: {status} {body}")
    await wait_healthy(admin, nodes)
    conns = [await Conn.open(url) for _ in range(CONNECTIONS)]
    counter = iter(range(pods))
    failures: list[str] = []

    async def worker(conn: Conn) -> None:
        for i in counter:
            status, raw = await conn.send(conn.request_bytes("POST", "/pods/", TOKEN, pod_body(i)))
            if status != 201:
                failures.append(f"{status} {raw[:200]!r}")

    meter = CpuMeter(server_pid)
    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - start
    load = meter.per_request(pods, elapsed)
    if failures:
        raise RuntimeError(f"{len(failures)} pod creates failed, first: {failures[0]}")
    status, summary = await admin.call("GET", "/cluster/summary", TOKEN)
    if summary["pods"]["total"] != pods:
        raise RuntimeError(f"expected {pods} pods, the engine has {summary['pods']['total']}")
    for c in [*conns, admin]:
        c.close()
    return load


async def read_lines(proc: asyncio.subprocess.Process, tokens: dict[int, str]) -> None:
    assert proc.stdout is not None
    async for raw in proc.stdout:
        parts = raw.decode().split()
        if len(parts) == 3 and parts[0] == "TOKEN":
            tokens[int(parts[1])] = parts[2]


async def heartbeats(data_dir: Path, nodes: int, seconds: float) -> Load:
    """Heartbeats/s over HTTP, each authorised by its own node's token."""
    env = {**os.environ, "KUBE9_API_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "serve_engine.py"), "--data-dir", str(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line.startswith("READY "):
            raise RuntimeError(f"serve_engine did not start: {line!r}")
        url = line.split()[1]
        tokens: dict[int, str] = {}
        reader = asyncio.create_task(read_lines(proc, tokens))
        admin = await Conn.open(url)
        ids = []
        for n in range(nodes):
            status, body = await admin.call(
                "POST", "/nodes/", TOKEN, {"name": f"node-{n}", "cpu_cores_avail": NODE_CORES}
            )
            if status != 201:
                raise RuntimeError(f"node create failed: {status} {body}")
            ids.append(int(body["id"]))
        deadline = time.monotonic() + 30
        while len(tokens) < nodes:
            if time.monotonic() > deadline:
                raise TimeoutError("node tokens did not arrive")
            await asyncio.sleep(0.01)
        # Each node's first heartbeat (no generation yet) makes it healthy and tells it the
        # generation; from then on every heartbeat echoes it, as a settled agent's does.
        requests: dict[int, bytes] = {}
        for node_id in ids:
            status, reply = await admin.call(
                "POST", f"/nodes/{node_id}/heartbeat", tokens[node_id], agent_body(None, 1)
            )
            if status != 200:
                raise RuntimeError(f"first heartbeat refused: {status} {reply}")
            requests[node_id] = admin.request_bytes(
                "POST", f"/nodes/{node_id}/heartbeat", tokens[node_id],
                agent_body(reply["generation"], 2),
            )  # fmt: skip
        await wait_healthy(admin, nodes)
        conns = [await Conn.open(url) for _ in range(CONNECTIONS)]
        count = 0
        failures: list[str] = []
        stop_at = 0.0

        async def agent_loop(conn: Conn, mine: list[bytes]) -> None:
            nonlocal count
            while True:
                for raw in mine:
                    status, body = await conn.send(raw)
                    if time.perf_counter() >= stop_at:
                        return
                    if status == 200:
                        count += 1
                    else:
                        failures.append(f"{status} {body[:200]!r}")

        share = list(requests.values())
        meter = CpuMeter(proc.pid)
        start = time.perf_counter()
        stop_at = start + seconds
        await asyncio.gather(*(agent_loop(c, share[i::CONNECTIONS]) for i, c in enumerate(conns)))
        elapsed = time.perf_counter() - start
        load = meter.per_request(count, elapsed)
        if failures:
            raise RuntimeError(f"{len(failures)} heartbeats refused, first: {failures[0]}")
        for c in [*conns, admin]:
            c.close()
        reader.cancel()
        return load
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def cpu_note(loads: list[Load]) -> str:
    server = median(x.server_cpu_us for x in loads)
    client = median(x.client_cpu_us for x in loads)
    return f"CPU per request: server {server:.0f} us, client {client:.0f} us (medians)"


def run(sizes: Sizes) -> Figures:
    creates: list[Load] = []
    beats: list[Load] = []
    startups: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kube9-bench-api-") as tmp:
        for rep in range(sizes.api_repeats):
            proc, url, ready = start_and_time(Path(tmp) / f"headless-{rep}")
            startups.append(ready)
            try:
                creates.append(
                    asyncio.run(create_pods(url, proc.pid, sizes.api_nodes, sizes.api_pods))
                )
            finally:
                stop(proc)
            beats.append(
                asyncio.run(heartbeats(Path(tmp) / f"beats-{rep}", sizes.hb_nodes,
                                       sizes.hb_seconds))
            )  # fmt: skip
    client = (
        f"{CONNECTIONS} keep-alive connections from bench/httpclient.py on loopback, "
        "admin bearer token"
    )
    return {
        "api_pod_creates_per_s": Figure(
            rnd(median(x.rate for x in creates)),
            "pods/s",
            f"POST /pods/ ({sizes.api_pods:,} single-container pods per repeat, validated, "
            f"scheduled best-fit, committed to SQLite) against main.py --headless --runtime "
            f"virtual with {sizes.api_nodes} workers heartbeating at 1 Hz; {client}; "
            f"median of {sizes.api_repeats} fresh servers",
            cpu_note(creates),
            samples=[rnd(x.rate) for x in creates],
        ),
        "heartbeats_per_s": Figure(
            rnd(median(x.rate for x in beats)),
            "heartbeats/s",
            f"POST /nodes/{{id}}/heartbeat for {sizes.hb_nodes:,} nodes, each with its own "
            "node token, the agent's full report (components, pod_ids, cpu, pods, generation "
            f"echoed), {CONNECTIONS} keep-alive connections, {sizes.hb_seconds:g} s per "
            f"repeat; median of {sizes.api_repeats} fresh servers",
            cpu_note(beats),
            samples=[rnd(x.rate) for x in beats],
        ),
        "startup_api_ready_s": Figure(
            rnd(median(startups)),
            "s",
            "process start of main.py --headless --runtime virtual on an empty data directory "
            f"-> first 200 from GET /healthz (polled every 5 ms); median of {sizes.api_repeats}",
            samples=[rnd(x) for x in startups],
        ),
    }
