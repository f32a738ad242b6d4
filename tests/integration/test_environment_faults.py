"""The machine misbehaves: a full disk, a read-only data directory, the Docker daemon going
away and coming back. The engine says so clearly, keeps serving, and loses nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from tests.engine.docker_helpers import connect_or_skip, ensure_offline_base, remove_clusters
from tests.helpers import Api, as_root, fast_settings, wait_for

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs owned by us: a disk that really fills up (mounted as root, or with sudo)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    options = f"size=4m,mode=0755,uid={os.getuid()},gid={os.getgid()}"
    subprocess.run(
        as_root(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)]), check=True
    )
    try:
        yield mount
    finally:
        subprocess.run(as_root(["umount", "-l", str(mount)]), check=False)


@pytest.fixture
async def full_disk_engine(small_disk: Path) -> AsyncIterator[tuple[Engine, Path]]:
    engine = Engine(fast_settings(small_disk / "data"))
    await start_engine(engine)
    try:
        yield engine, small_disk
    finally:
        (small_disk / "filler").unlink(missing_ok=True)
        await engine.stop()


def fill(disk: Path) -> None:
    """Take every free byte of the disk."""
    with open(disk / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


async def test_disk_full_is_a_clear_error_and_nothing_is_corrupted(
    full_disk_engine: tuple[Engine, Path],
) -> None:
    engine, disk = full_disk_engine
    async with aiohttp.ClientSession() as session:
        api = Api(engine.api_url, engine.admin_token, session)
        assert (await api.post("/nodes/", {"name": "w1", "cpu_cores_avail": 64}))[0] == 201
        await wait_for(lambda: engine.cluster.node_views()[0].schedulable, what="ready")
        acked = []
        for i in range(5):
            body = {
                "name": f"p{i}",
                "cpu_cores_req": 0.1,
                "containers": [{"name": "c", "image": "x"}],
            }
            assert (await api.post("/pods/", body))[0] == 201
            acked.append(f"p{i}")
        fill(disk)
        refused = None
        for i in range(5, 400):
            pad = [
                {"name": f"k{j}", "type": "env", "key": f"K{j}", "value": "v" * 900}
                for j in range(40)
            ]
            body = {"name": f"p{i}", "cpu_cores_req": 0.1, "containers": [{"name": "c", "image": "x"}],
                    "config": pad}  # fmt: skip
            status, reply = await api.post("/pods/", body)
            if status == 201:
                acked.append(f"p{i}")
                continue
            refused = (status, reply, f"p{i}")
            break
        assert refused is not None, "the disk never filled up"
        status, reply, name = refused
        assert status == 503
        assert "disk" in reply["error"] and "full" in reply["error"]
        assert "not saved" in reply["error"]
        # The engine keeps serving, and the refused pod is nowhere (not half-written).
        status, pods = await api.get("/pods/")
        assert status == 200 and name not in {p["name"] for p in pods}
        assert name not in engine.cluster.state.pod_ids
        # Space comes back: writes work again.
        (disk / "filler").unlink()
        body = {"name": "after", "cpu_cores_req": 0.1, "containers": [{"name": "c", "image": "x"}]}
        assert (await api.post("/pods/", body))[0] == 201
    assert check_invariants(engine.cluster.state) == []
    db = engine.settings.data_dir / "cluster.db"
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in raw.execute("SELECT name FROM pods")}
    assert set(acked) | {"after"} <= stored and name not in stored


def test_read_only_data_dir_is_a_clear_error(small_disk: Path) -> None:
    data = small_disk / "data"
    data.mkdir()
    subprocess.run(as_root(["mount", "-o", "remount,ro", str(small_disk)]), check=True)
    out = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--headless", "--port", "0", "--runtime",
         "virtual", "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "data-dir" in out.stderr or "cannot be written" in out.stderr
    assert "Traceback" not in out.stderr


def dockerd_pid() -> int | None:
    out = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=False)
    return int(out.stdout.split()[0]) if out.stdout.strip() else None


def docker_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.mark.docker
@pytest.mark.skipif(
    os.environ.get("KUBE9_DOCKER_RESTART_OK") != "1",
    reason="stops and restarts this machine's dockerd: only where scripts/test started it "
    "(KUBE9_DOCKER_RESTART_OK=1)",
)
async def test_docker_daemon_stops_and_comes_back(tmp_path: Path) -> None:
    client = connect_or_skip()
    ensure_offline_base(client)
    client.close()
    cluster = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    engine = Engine(fast_settings(tmp_path / "data", runtime="docker", cluster_name=cluster,
                                  heartbeat_interval=0.25, grace_period=1.5))  # fmt: skip
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(engine.api_url, engine.admin_token, session)
            for name in ("w1", "w2"):
                assert (await api.post("/nodes/", {"name": name, "cpu_cores_avail": 1}))[0] == 201
            await wait_for(lambda: all(n.status is NodeStatus.HEALTHY for n in engine.cluster.state.nodes.values()),
                           timeout=60, what="containers healthy")  # fmt: skip
            body = {"name": "p", "cpu_cores_req": 0.5, "containers": [{"name": "c", "image": "x"}]}
            assert (await api.post("/pods/", body))[0] == 201

            pid = dockerd_pid()
            assert pid is not None, "no dockerd process to stop"
            subprocess.run(as_root(["kill", "-TERM", str(pid)]), check=True)
            await wait_for(lambda: not docker_answers(), timeout=60, what="dockerd gone")
            await wait_for(lambda: not engine.supervisor.runtime_available, timeout=60,
                           what="runtime marked unavailable")  # fmt: skip
            # The engine keeps serving and says what is wrong.
            status, nodes = await api.get("/nodes/")
            assert status == 200 and len(nodes) == 2
            status, reply = await api.post("/nodes/", {"name": "w3", "cpu_cores_avail": 1})
            assert status == 503 and "Docker" in reply["error"]
            _, summary = await api.get("/cluster/summary")
            assert summary["runtime_available"] is False

            # Started detached, as scripts/test does: the daemon outlives this test, so not with
            # this test's environment (its COLUMNS=80 cut the commands of every later docker top).
            restart = "nohup dockerd >>/tmp/kube9-dockerd.log 2>&1 &"
            subprocess.run(as_root(["env", "-i", f"PATH={SYSTEM_PATH}", "sh", "-c", restart]),
                           check=True)  # fmt: skip
            await wait_for(docker_answers, timeout=60, what="dockerd back")
            await wait_for(lambda: engine.supervisor.runtime_available, timeout=60,
                           what="runtime available again")  # fmt: skip
            await wait_for(lambda: all(n.status is NodeStatus.HEALTHY for n in engine.cluster.state.nodes.values()),
                           timeout=90, what="nodes recovered")  # fmt: skip
            _, pods = await api.get("/pods/")
            assert [p["name"] for p in pods] == ["p"] and pods[0]["node"] is not None
            assert check_invariants(engine.cluster.state) == []
    finally:
        await engine.stop()
        client = connect_or_skip()
        remove_clusters(client, lambda c: c == cluster)
        client.close()
