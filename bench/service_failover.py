"""What a client of a Service sees when things break, on real pods (process runtime): steady
keep-alive traffic from the engine's generator through the proxy, then

- **crash**: the node of one of three pods is killed; failed requests and the time from the
  crash to the last failed one, with heartbeat detection (grace 3 s) and with
  ``--detect-from-runtime``, the same scenario twice in one run;
- **rollout**: a 10-replica Deployment with a readiness probe and ``max_unavailable: 0`` gets
  a new template under traffic; failed requests of all sent.

The pods run ``SERVER``: a small asyncio keep-alive responder that drains on SIGTERM (stops
accepting, answers what it was asked with ``Connection: close``, exits after a second), as a
well-behaved service does within its termination grace period.

    .venv/bin/python bench/service_failover.py [--rate 500] [--rollout-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SIZES, Figure, Figures, Sizes, quiet_logging
from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import parse_body
from kube9_desktop.engine.traffic import TrafficRun, TrafficSpec
from kube9_desktop.engine.workload_specs import DeploymentCreate, DeploymentPatch
from kube9_desktop.serve import start_engine
from kube9_desktop.settings import Settings

PORT = 18430
SERVER = f"""
import asyncio, os, signal
BODY = os.environ.get("POD_NAME", "?").encode()
def reply(close):
    head = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n" % len(BODY)
    return head + (b"Connection: close\\r\\n\\r\\n" if close else b"\\r\\n") + BODY
conns = set()
draining = False
class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, b""
        conns.add(self)
    def connection_lost(self, exc):
        conns.discard(self)
    def data_received(self, data):
        self.buf += data
        while b"\\r\\n\\r\\n" in self.buf:
            _, self.buf = self.buf.split(b"\\r\\n\\r\\n", 1)
            self.t.write(reply(draining))
            if draining:
                self.t.close()
                return
async def main():
    global draining
    loop = asyncio.get_running_loop()
    server = await loop.create_server(P, os.environ["POD_IP"], {PORT}, backlog=1024)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    draining = True
    server.close()
    await asyncio.sleep(1.0)
    for c in list(conns):
        c.t.close()
asyncio.run(main())
"""


def template(cpu: str, version: str) -> dict[str, Any]:
    return {
        "labels": {"app": "web"},
        "containers": [{
            "name": "web", "image": "python:3", "cpu_req": cpu, "memory_req": "32Mi",
            "command": "python3", "args": ["-c", SERVER],
            "ports": [{"name": "http", "container_port": PORT}],
            "readiness_probe": {"tcp_socket": {"port": "http"}, "period_s": 0.2},
        }],
        "config": [{"name": "version", "type": "env", "key": "VERSION", "value": version}],
    }  # fmt: skip


async def wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def cluster(data_dir: Path, *, detect_from_runtime: bool, nodes: int, cpu: float) -> Engine:
    settings = Settings(
        data_dir=data_dir, runtime="process", api_token="bench", port=0,
        detect_from_runtime=detect_from_runtime, recovery_backoff=0.5,
        crash_backoff=1.0, crash_backoff_cap=5.0,
    )  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)
    for i in range(nodes):
        await engine.create_node_from_json({"name": f"w{i + 1}", "cpu_cores_avail": cpu})
    state = engine.cluster.state
    await wait(
        lambda: all(n.status is NodeStatus.HEALTHY for n in state.nodes.values()), 60, "nodes"
    )
    return engine


async def web(engine: Engine, replicas: int, cpu: str) -> tuple[int, int]:
    body = {"name": "web", "replicas": replicas, "template": template(cpu, "1"),
            "strategy": {"max_unavailable": 0, "max_surge": 2}}  # fmt: skip
    d = await engine.create_deployment(parse_body(DeploymentCreate, body).to_spec())
    svc = {"name": "web", "selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "target_port": "http"}]}  # fmt: skip
    s = await engine.create_service(parse_body(ServiceCreate, svc).to_spec())
    await wait(lambda: len(engine.service(s.view.id).ready_endpoints) == replicas, 90, "ready")
    return d.view.id, s.view.id


def outcome(run: TrafficRun, since: float) -> dict[str, Any]:
    t = run.totals()
    failed = sum(t["errors"].values())
    last = run.last_error_at
    return {
        "sent": t["requests"], "failed": failed, "retried": t["retried"], "errors": t["errors"],
        "crash_to_last_failure_s": None if last is None else round(last - since, 3),
        "endpoints": len(t["by_endpoint"]),
    }  # fmt: skip


async def crash(data_dir: Path, detect_from_runtime: bool, rate: float) -> dict[str, Any]:
    engine = await cluster(data_dir, detect_from_runtime=detect_from_runtime, nodes=3, cpu=1)
    try:
        _, s_id = await web(engine, 3, "600m")  # one pod per node
        run = await engine.start_traffic(s_id, TrafficSpec(rate, 3600, concurrency=16))
        await wait(lambda: run.totals()["ok"] >= rate, 30, "a second of answers")
        victim = next(p.node_id for p in engine.pods() if p.labels.get("app") == "web")
        assert victim is not None
        crashed = time.monotonic()
        await engine.inject_fault(victim, "crash")
        # Until the node is back and the traffic has run on for a while after.
        node = engine.cluster.state.nodes[victim]
        await wait(lambda: node.status is NodeStatus.UNHEALTHY, 30, "detected")
        detected = time.monotonic() - crashed
        await asyncio.sleep(2.0)  # traffic goes on past the detection: late failures count
        await engine.stop_traffic(s_id)
        return {**outcome(run, crashed), "detected_after_s": round(detected, 3)}
    finally:
        await engine.stop()


async def rollout(data_dir: Path, rate: float) -> dict[str, Any]:
    engine = await cluster(data_dir, detect_from_runtime=False, nodes=2, cpu=4)
    try:
        d_id, s_id = await web(engine, 10, "100m")
        run = await engine.start_traffic(s_id, TrafficSpec(rate, 3600, concurrency=16))
        await wait(lambda: run.totals()["ok"] >= rate, 30, "a second of answers")
        started = time.monotonic()
        patch = DeploymentPatch.model_validate({"template": template("100m", "2")})
        await engine.update_deployment(d_id, patch)

        def done() -> bool:
            st = engine.deployment(d_id).status
            pods = [p for p in engine.pods() if p.labels.get("app") == "web"]
            return (
                st.updated == st.available == st.replicas == 10
                and len(pods) == 10
                and all(any(c.value == "2" for c in p.spec.config) for p in pods)
            )

        await wait(done, 180, "the rollout")
        took = time.monotonic() - started
        await asyncio.sleep(2.0)  # the last old pods drain and stop under traffic
        await engine.stop_traffic(s_id)
        return {**outcome(run, started), "rollout_s": round(took, 2)}
    finally:
        await engine.stop()


RATES = {"smoke": (200.0, 300.0), "quick": (500.0, 1000.0), "full": (500.0, 1000.0)}


async def measure(mode: str, root: Path) -> Figures:
    rate, rollout_rate = RATES[mode]
    beats = await crash(root / "a", False, rate)
    news = await crash(root / "b", True, rate)
    rolled = await rollout(root / "c", rollout_rate)
    crash_work = (
        f"3 process-runtime pods on 3 nodes behind one Service, {rate:g} req/s over 16 "
        "keep-alive connections; one node killed"
    )
    roll_work = (
        f"10 replicas, max_unavailable 0, readiness probe, {rollout_rate:g} req/s; a new "
        f"template (took {rolled['rollout_s']} s)"
    )

    def last(r: dict[str, Any]) -> float:
        return float(r["crash_to_last_failure_s"] or 0.0)

    return {
        "failover_heartbeat_failed": Figure(
            float(beats["failed"]), "requests", f"{crash_work}, heartbeat detection (grace 3 s)",
            note=f"of {beats['sent']}; detected after {beats['detected_after_s']} s",
        ),
        "failover_heartbeat_last_failure_s": Figure(
            last(beats), "s", "crash -> last failed request (0: none failed), heartbeats",
        ),
        "failover_runtime_detect_s": Figure(
            float(news["detected_after_s"]), "s",
            f"{crash_work}, --detect-from-runtime: crash -> unhealthy",
            note=f"{news['failed']} of {news['sent']} requests failed",
        ),
        "failover_runtime_last_failure_s": Figure(
            last(news), "s", "crash -> last failed request (0: none failed), runtime events",
        ),
        "rollout_traffic_failed": Figure(
            float(rolled["failed"]), "requests", roll_work, note=f"of {rolled['sent']} sent",
        ),
        "rollout_traffic_sent": Figure(float(rolled["sent"]), "requests", roll_work),
    }  # fmt: skip


def run(sizes: Sizes, mode: str | None = None) -> Figures:
    quiet_logging()
    if mode is None:
        mode = next(m for m, s in SIZES.items() if s == sizes)
    with tempfile.TemporaryDirectory(prefix="kube9-bench-failover-") as tmp:
        return asyncio.run(measure(mode, Path(tmp)))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--rollout-rate", type=float, default=1000.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        beats = await crash(root / "a", False, args.rate)
        news = await crash(root / "b", True, args.rate)
        rolled = await rollout(root / "c", args.rollout_rate)
    for label, r in (("heartbeats (grace 3 s)", beats), ("--detect-from-runtime", news)):
        print(
            f"crash, {label}: detected after {r['detected_after_s']:.3f} s; {r['failed']} of "
            f"{r['sent']} requests failed {r['errors']}, last failure "
            f"{r['crash_to_last_failure_s']} s after the crash; {r['retried']} retried"
        )
    print(
        f"rolling update of 10 replicas (max_unavailable 0) in {rolled['rollout_s']} s: "
        f"{rolled['failed']} of {rolled['sent']} requests failed {rolled['errors']}; "
        f"{rolled['retried']} retried; {rolled['endpoints']} endpoints answered"
    )


if __name__ == "__main__":
    asyncio.run(main())
