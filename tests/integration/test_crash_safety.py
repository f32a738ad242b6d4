"""kill -9 the engine at random moments during a stream of writes, many rounds: every
acknowledged write survives, nothing half-written appears, and the invariants hold."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp

from kube9_desktop.engine.clock import SystemClock
from kube9_desktop.engine.cluster import Cluster
from kube9_desktop.engine.events import EventBus
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.store.store import Store
from tests.api.test_headless import start_headless

ENGINE_ARGS = ("--grace-period", "3")  # the client hammers the same 2 cores: no false alarms
ROUNDS = int(os.environ.get("KUBE9_CRASH_ROUNDS", "20"))


def pod_body(name: str, rng: random.Random) -> dict[str, Any]:
    n = rng.randint(1, 3)
    return {
        "name": name,
        "cpu_cores_req": 0.1 * n,
        "containers": [
            {"name": f"c{i}", "image": "busybox", "cpu_req": 0.1, "memory_req": 8,
             "command": "sleep", "args": f"{i + 1000}"}
            for i in range(n)
        ],
        "volumes": [{"name": "v", "type": "emptyDir", "size": 1, "path": "/v"}],
        "config": [{"name": "e", "type": "env", "key": "K", "value": name},
                   {"name": "s", "type": "secret", "key": "S", "value": f"secret-{name}"}],
    }  # fmt: skip


class Ledger:
    """What the client was told: acknowledged creates/deletes, and what was in flight."""

    def __init__(self) -> None:
        self.pods: dict[str, dict[str, Any]] = {}  # acknowledged and not deleted
        self.deleted: set[str] = set()
        self.in_flight: set[str] = set()
        self.in_flight_body: dict[str, Any] | None = None
        self.acks = 0

    def settle(self, present: set[str]) -> None:
        """An unacknowledged write may or may not have landed; once seen, it is the truth."""
        for name in self.in_flight:
            if name in present and name not in self.pods and self.in_flight_body is not None:
                self.pods[name] = self.in_flight_body
            elif name not in present and name in self.pods:
                self.pods.pop(name)
                self.deleted.add(name)
        self.in_flight = set()
        self.in_flight_body = None


async def write_stream(url: str, ledger: Ledger, rng: random.Random, prefix: str) -> None:
    headers = {"Authorization": "Bearer headless-token"}
    async with aiohttp.ClientSession(headers=headers) as s:
        for i in range(10_000):
            if ledger.pods and rng.random() < 0.35:
                name = rng.choice(sorted(ledger.pods))
                async with s.get(f"{url}/pods/") as r:
                    ids = {p["name"]: p["id"] for p in await r.json()}
                ledger.in_flight = {name}
                async with s.delete(f"{url}/pods/{ids[name]}") as r:
                    assert r.status == 200, await r.text()
                ledger.pods.pop(name)
                ledger.deleted.add(name)
            else:
                name = f"{prefix}-{i}"
                body = pod_body(name, rng)
                ledger.in_flight = {name}
                ledger.in_flight_body = body
                async with s.post(f"{url}/pods/", json=body) as r:
                    assert r.status == 201, await r.text()
                ledger.pods[name] = body
            ledger.in_flight = set()
            ledger.acks += 1


def verify(data: Path, ledger: Ledger) -> set[str]:
    """Check the store against the ledger; returns the pod names present."""
    db = data / "cluster.db"
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    store = Store.open(f"sqlite:///{db}")
    try:
        cluster = Cluster(store, SystemClock(), EventBus())
        cluster.load()
        state = cluster.state
        by_name = {p.name: p for p in state.pods.values()}
        for name, body in ledger.pods.items():
            if name in ledger.in_flight:
                continue
            assert name in by_name, f"acknowledged pod {name} was lost"
            spec = by_name[name].spec
            assert [c.name for c in spec.containers] == [c["name"] for c in body["containers"]]
            assert [c.value for c in spec.config] == [c["value"] for c in body["config"]]
            assert len(spec.volumes) == 1
        for name in ledger.deleted - ledger.in_flight:
            assert name not in by_name, f"acknowledged delete of {name} came back"
        for name, pod in by_name.items():
            # Anything present was acknowledged, or was in flight — and is whole.
            assert name in ledger.pods or name in ledger.in_flight, f"{name} appeared from nowhere"
            assert pod.spec.containers, f"{name} is half-written (no containers)"
        assert check_invariants(state) == []
        return set(by_name)
    finally:
        store.close()


async def test_kill_minus_nine_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("KUBE9_CRASH_SEED", "9")))
    data = tmp_path / "data"
    ledger = Ledger()
    proc, url = start_headless(data, *ENGINE_ARGS)
    headers = {"Authorization": "Bearer headless-token"}
    async with aiohttp.ClientSession(headers=headers) as s:
        for n in range(3):
            body = {"name": f"w{n}", "cpu_cores_avail": 64, "max_pods": 1000}  # CPU binds first
            async with s.post(f"{url}/nodes/", json=body) as r:
                assert r.status == 201
        while True:  # wait until the nodes take pods
            async with s.get(f"{url}/nodes/") as r:
                if all(n["health_status"] == "healthy" for n in await r.json()):
                    break
            await asyncio.sleep(0.05)
    kills = 0
    for round_no in range(ROUNDS):
        if round_no:
            proc, url = start_headless(data, *ENGINE_ARGS)
        stream = asyncio.ensure_future(write_stream(url, ledger, rng, f"r{round_no}"))
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        kills += 1
        with contextlib.suppress(aiohttp.ClientError):
            await stream  # the engine died mid-request: that request is the one in flight
        ledger.settle(verify(data, ledger))
    assert kills == ROUNDS
    assert ledger.acks > ROUNDS  # writes were acknowledged between the kills
    print(f"\n{kills} kill -9 rounds, {ledger.acks} writes acknowledged, none lost")
