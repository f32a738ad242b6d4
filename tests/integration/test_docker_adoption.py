"""An app restart adopts running node containers instead of duplicating them."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.api.test_headless import start_headless, stop
from tests.engine.docker_helpers import connect_or_skip, ensure_offline_base, remove_clusters
from tests.helpers import Api, free_port, wait_for
from tests.procs import marker, pids_with, sleeper_pod

pytestmark = pytest.mark.docker


async def test_restart_adopts_running_containers(tmp_path: Path) -> None:
    client = connect_or_skip()
    ensure_offline_base(client)
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    port = str(free_port())
    args = ("--runtime", "docker", "--cluster-name", cluster, "--heartbeat-interval", "0.25")
    mine = {"label": f"kube9.cluster={cluster}"}
    mark = marker()
    try:
        proc, url = start_headless(tmp_path / "data", *args, port=port)
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(url, "headless-token", session)
                for name in ("w1", "w2"):
                    assert (await api.post("/nodes/", {"name": name, "cpu_cores_avail": 1}))[
                        0
                    ] == 201

                async def healthy() -> bool:
                    _, nodes = await api.get("/nodes/")
                    return all(n["health_status"] == "healthy" for n in nodes)

                await wait_for(healthy, timeout=60, what="containers heartbeating")
                assert (await api.post("/pods/", sleeper_pod("p", mark)))[0] == 201
                await wait_for(lambda: len(pids_with(mark)) == 1, timeout=30, what="pod process")
        finally:
            proc.send_signal(signal.SIGKILL)  # the app dies; its containers keep running
            proc.communicate(timeout=30)
        before = {c.id for c in client.containers.list(filters=mine)}
        pod_pid = pids_with(mark)
        assert len(before) == 2 and len(pod_pid) == 1

        proc, url = start_headless(tmp_path / "data", *args, port=port)
        try:
            async with aiohttp.ClientSession() as session:
                api = Api(url, "headless-token", session)
                await wait_for(healthy, timeout=60, what="adopted nodes heartbeating")
                _, events = await api.get("/events?kind=engine")
                assert "2 adopted" in events[-1]["message"]
            after = {c.id for c in client.containers.list(all=True, filters=mine)}
            assert after == before, "containers were recreated or duplicated"
            assert pids_with(mark) == pod_pid, "the pod was restarted instead of adopted"
        finally:
            stop(proc)
        assert client.containers.list(filters=mine) == [], "quitting stops the nodes"
    finally:
        remove_clusters(client, lambda c: c == cluster)
        client.close()
