"""Throughput through one Service: keep-alive HTTP clients through the proxy to 3 real pods on
the process runtime, against the same clients straight to the pods, in the same run.

The pods run ``POD_SERVER`` (a tiny asyncio keep-alive responder, so the proxy is measured,
not ``http.server``'s per-request cost) bound to their own addresses. The clients run in a
process of their own (``--client``): each connection sends a request, waits for its whole
(fixed-size) reply, sends the next. The engine, with its proxy thread, runs in this process.
Rounds alternate direct and through so a machine's drift hits both; each figure is the median.

    .venv/bin/python -m bench.service_proxy [--quick | --smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import SIZES, Figure, Figures, Sizes, median, quiet_logging, rnd  # noqa: E402

POD_PORT = 18420
SERVICE_PORT = 18421
PODS = 3
CONNECTIONS = 48  # keep-alive client connections (16 per pod when direct)
REQUEST = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n"
BODY = b"ok\n"
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
POD_SERVER = f"""
import asyncio, os
REPLY = {REPLY!r}
class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, b""
    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\\r\\n\\r\\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\\r\\n\\r\\n") + 4:]
            self.t.write(REPLY * n)
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(P, os.environ["POD_IP"], {POD_PORT}, backlog=1024)
    await server.serve_forever()
asyncio.run(main())
"""
ROUNDS = {"smoke": (1, 1.0), "quick": (3, 3.0), "full": (5, 5.0)}  # (rounds, seconds each)


# ---- the client process -------------------------------------------------------------------


class Client(asyncio.Protocol):
    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.pending = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(REQUEST)

    def data_received(self, data: bytes) -> None:
        self.pending += len(data)
        if self.pending >= len(REPLY):
            done, self.pending = divmod(self.pending, len(REPLY))
            self.counts[0] += done
            assert self.transport is not None
            self.transport.write(REQUEST)


async def drive(targets: list[tuple[str, int]], connections: int, seconds: float) -> int:
    """Replies received in ``seconds`` over ``connections`` spread across ``targets``."""
    loop = asyncio.get_running_loop()
    counts = [0]
    transports = []
    for i in range(connections):
        host, port = targets[i % len(targets)]
        transport, _ = await loop.create_connection(lambda: Client(counts), host, port)
        transports.append(transport)
    await asyncio.sleep(0.2)  # warm up: every connection has its endpoint
    start, before = time.perf_counter(), counts[0]
    await asyncio.sleep(seconds)
    done, took = counts[0] - before, time.perf_counter() - start
    for transport in transports:
        transport.close()
    return round(done / took)


def client_main(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    targets = [tuple(t) for t in spec["targets"]]
    rate = asyncio.run(drive(targets, spec["connections"], spec["seconds"]))  # type: ignore[arg-type]
    print(json.dumps({"per_s": rate}))


def client_rate(targets: list[tuple[str, int]], seconds: float) -> int:
    spec = json.dumps({"targets": targets, "connections": CONNECTIONS, "seconds": seconds})
    out = subprocess.run(
        [sys.executable, "-m", "bench.service_proxy", "--client", spec],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=seconds + 60,
    )  # fmt: skip
    return int(json.loads(out.stdout.strip().splitlines()[-1])["per_s"])


# ---- the cluster --------------------------------------------------------------------------


async def wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def answers(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(REQUEST)
            return s.recv(100).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


async def measure(mode: str, data: Path) -> Figures:
    from kube9_desktop.engine.core import Engine
    from kube9_desktop.engine.service_specs import ServiceCreate
    from kube9_desktop.engine.specs import parse_body
    from kube9_desktop.serve import start_engine
    from kube9_desktop.settings import Settings

    engine = Engine(Settings(data_dir=data, runtime="process", api_token="bench", port=0,
                             heartbeat_interval=0.5))  # fmt: skip
    await start_engine(engine)
    try:
        node = (await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2})).view
        await wait(lambda: engine.node(node.id).status == "healthy", 60, "node healthy")
        body = {"name": "web", "selector": {"app": "web"},
                "ports": [{"port": SERVICE_PORT, "target_port": "http"}]}  # fmt: skip
        svc = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
        for i in range(PODS):
            await engine.create_pod_from_json({
                "name": f"web-{i}", "cpu_cores_req": 0.1, "labels": {"app": "web"},
                "containers": [{"name": "web", "image": "python:3", "command": "python3",
                                "args": ["-c", POD_SERVER],
                                "ports": [{"name": "http", "container_port": POD_PORT}]}],
            })  # fmt: skip
        await wait(lambda: len(engine.service(svc.id).ready_endpoints) == PODS, 60, "ready")
        pods = [(e.ip, POD_PORT) for e in engine.service(svc.id).endpoints]
        for ip, port in pods:
            await wait(lambda ip=ip, port=port: answers(ip, port), 30, f"{ip} serving")
        through = [(svc.cluster_ip, SERVICE_PORT)]
        await wait(lambda: answers(*through[0]), 30, "the Service answering")
        rounds, seconds = ROUNDS[mode]
        direct_rates, through_rates = [], []
        for _ in range(rounds):
            direct_rates.append(await asyncio.to_thread(client_rate, pods, seconds))
            through_rates.append(await asyncio.to_thread(client_rate, through, seconds))
    finally:
        await engine.stop()
    direct, via = median(direct_rates), median(through_rates)
    work = (f"{CONNECTIONS} keep-alive clients (one process), {PODS} process-runtime pods "
            f"(asyncio responder), {rounds} x {seconds:g} s rounds, median")  # fmt: skip
    return {
        "service_proxy_req_per_s": Figure(
            rnd(via),
            "req/s",
            f"through the cluster IP; {work}",
            samples=[float(x) for x in through_rates],
        ),
        "service_direct_req_per_s": Figure(
            rnd(direct),
            "req/s",
            f"straight to the pod IPs; {work}",
            samples=[float(x) for x in direct_rates],
        ),
        "service_proxy_ratio": Figure(
            rnd(via / direct if direct else 0.0, 3), "ratio", "through / direct, same run"
        ),
    }


def run(sizes: Sizes, mode: str | None = None) -> Figures:
    quiet_logging()
    if mode is None:
        mode = next(m for m, s in SIZES.items() if s == sizes)
    with tempfile.TemporaryDirectory(prefix="kube9-bench-svc-") as tmp:
        return asyncio.run(measure(mode, Path(tmp)))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true")
    group.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    figures = run(SIZES[mode], mode)
    for key, f in figures.items():
        print(f"{key:<28} {f.value:>10,}  {f.unit:<6} {f.workload}  samples={f.samples}")


if __name__ == "__main__":
    main()
