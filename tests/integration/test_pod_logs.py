"""GET /pods/{id}/logs over real HTTP on the process runtime: a pod's printed lines appear,
tail bounds them, follow streams a line printed later, previous shows the run before a kill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for
from tests.procs import marker

# Prints its pid and five lines, then one more line once a file "go" appears in its directory.
PRINTER = (
    "import os, sys, time\n"
    "print('pid', os.getpid(), flush=True)\n"
    "for i in range(1, 6): print('line', i, flush=True)\n"
    "while not os.path.exists('go'): time.sleep(0.05)\n"
    "print('late line', flush=True)\n"
    "time.sleep(3600)\n"
)


def printer_pod(mark: str, containers: int = 1) -> dict[str, object]:
    return {
        "name": "printer",
        "cpu_cores_req": 0.5,
        "containers": [
            {"name": f"c{i}" if i else "main", "image": "python:3", "command": "python3",
             "args": ["-u", "-c", PRINTER, mark]}
            for i in range(containers)
        ],
    }  # fmt: skip


@pytest.fixture
async def process_api(tmp_path: Path) -> AsyncIterator[tuple[Engine, Api]]:
    engine = Engine(fast_settings(tmp_path / "data", runtime="process", heartbeat_interval=0.2))
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(engine.api_url, engine.admin_token, session)
            await api.post("/nodes/", {"name": "w1", "cpu_cores_avail": 2})
            await wait_for(
                lambda: all(n.status is NodeStatus.HEALTHY for n in engine.cluster.state.nodes.values()),
                timeout=30, what="agent up",
            )  # fmt: skip
            yield engine, api
    finally:
        await engine.stop()


def pod_dir(engine: Engine, pod_id: int) -> Path:
    return next((engine.settings.data_dir / "nodes").glob(f"*/pods/{pod_id}-printer"))


async def test_logs_tail_follow_and_previous(process_api: tuple[Engine, Api]) -> None:
    engine, api = process_api
    mark = marker()
    status, created = await api.post("/pods/", printer_pod(mark))
    assert status == 201
    pod_id = created["pod_details"]["id"]

    async def text(query: str = "") -> str:
        status, body = await api.get(f"/pods/{pod_id}/logs{query}")
        assert status == 200, body
        return str(body)

    async def has(needle: str, query: str = "") -> bool:
        return needle in await text(query)

    await wait_for(lambda: has("line 5"), timeout=20, what="the pod's lines")
    first = await text()
    assert first.splitlines()[1:] == [f"line {i}" for i in range(1, 6)]
    assert await text("?tail=2") == "line 4\nline 5\n"
    assert await text("?tail=0") == ""
    assert await text("?container=main&tail=1") == "line 5\n"

    # follow: the first lines at once, then a line printed later on the same response
    url = f"{api.base}/pods/{pod_id}/logs?follow=true&tail=1"
    async with api.session.get(url, headers=api.headers()) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert await resp.content.readline() == b"line 5\n"
        (pod_dir(engine, pod_id) / "go").touch()
        assert await resp.content.readline() == b"late line\n"

    # previous: after a kill the agent restarts the container; the old run is kept apart
    old_pid = first.splitlines()[0]
    (pod_dir(engine, pod_id) / "go").unlink()
    status, _ = await api.post(f"/pods/{pod_id}/simulate/failure", {})
    assert status == 200

    async def restarted() -> bool:
        now = await text()
        return old_pid not in now and "line 5" in now

    await wait_for(restarted, timeout=30, what="the restarted run's lines")
    previous = await text("?previous=true")
    assert previous.splitlines()[0] == old_pid and "late line" in previous


async def test_logs_refusals(process_api: tuple[Engine, Api]) -> None:
    _engine, api = process_api
    status, created = await api.post("/pods/", printer_pod(marker(), containers=2))
    assert status == 201
    pod_id = created["pod_details"]["id"]
    status, body = await api.get(f"/pods/{pod_id}/logs")
    assert status == 400 and "choose one of: [main c1]" in body["error"]
    status, body = await api.get(f"/pods/{pod_id}/logs?container=nope")
    assert status == 400 and "nope" in body["error"]
    for bad in ("tail=-1", "tail=100001", "tail=abc", "tail=%D9%A1", "tail=1&tail=2",
                "follow=maybe", "container=%C3%A9", "container=" + "a" * 64):  # fmt: skip
        status, body = await api.get(f"/pods/{pod_id}/logs?container=main&{bad}")
        assert status == 400, bad
    status, body = await api.get(f"/pods/{pod_id}/logs?container=main&previous=true")
    assert status == 404 and "previous" in body["error"]
    status, body = await api.get("/pods/999999/logs")
    assert status == 404
