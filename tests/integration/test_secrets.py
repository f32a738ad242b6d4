"""A secret canary reaches the pod's process and nothing else: not the API, not events or
timelines, not the engine's log, not the agent's log. Token and database files are private."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import aiohttp

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.logs import setup_logging
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for
from tests.procs import environ_of, marker, pids_with, sleeper_pod

CANARY = "canary-5e7d1b9a-never-show-me"


async def test_secret_reaches_the_pod_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log_file = setup_logging(data, "DEBUG", console=False)
    assert log_file is not None
    engine = Engine(fast_settings(data, runtime="process", heartbeat_interval=0.25,
                                  grace_period=1.5, recovery_backoff=0.2))  # fmt: skip
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(engine.api_url, engine.admin_token, session)
            for name in ("w1", "w2"):
                await api.post("/nodes/", {"name": name, "cpu_cores_avail": 2})
            await wait_for(
                lambda: all(n.status is NodeStatus.HEALTHY for n in engine.cluster.state.nodes.values()),
                timeout=30, what="agents up",
            )  # fmt: skip
            mark = marker()
            body = sleeper_pod("p", mark, config=[
                {"name": "s", "type": "secret", "key": "API_KEY", "value": CANARY}])  # fmt: skip
            status, created = await api.post("/pods/", body)
            assert status == 201 and CANARY not in str(created)
            await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod process")
            assert environ_of(pids_with(mark)[0])["API_KEY"] == CANARY
            pod_id = created["pod_details"]["id"]
            # A failure, so events, incidents and timelines have something to say.
            await engine.inject_fault(created["pod_details"]["node_id"], "crash")
            await wait_for(lambda: engine.store.incidents() and engine.store.incidents()[0].outcome == "recovered",
                           timeout=30, what="recovered")  # fmt: skip
            await wait_for(lambda: len(pids_with(mark)) == 1, timeout=20, what="pod moved")
            answers = []
            for path in ("/nodes/", "/pods/", f"/pods/{pod_id}", f"/pods/{pod_id}/health",
                         "/nodes/health", "/cluster/summary", "/events?limit=5000", "/incidents",
                         f"/incidents/{engine.store.incidents()[0].id}", "/openapi.json",
                         f"/nodes/{created['pod_details']['node_id']}"):  # fmt: skip
                status, answer = await api.get(path)
                assert status == 200, path
                answers.append(str(answer))
            assert "******" in "".join(answers)
            for text in answers:
                assert CANARY not in text
    finally:
        await engine.stop()
        for h in list(logging.getLogger().handlers):
            if getattr(h, "_kube9", False):
                logging.getLogger().removeHandler(h)
                h.close()
    logs = b"".join(p.read_bytes() for p in data.rglob("*.log*") if p.is_file())
    assert logs, "no logs were written at all"
    assert CANARY.encode() not in logs


async def test_token_and_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = Engine(fast_settings(data, api_token=None))
    await start_engine(engine)
    try:
        token_file = data / "api-token"
        assert token_file.read_text().strip() == engine.admin_token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "cluster.db").stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
    finally:
        await engine.stop()
    # The same token comes back on the next start.
    again = Engine(fast_settings(data, api_token=None))
    await again.start()
    try:
        assert again.admin_token == engine.admin_token
    finally:
        await again.stop()
