"""One engine per store, with real headless engines: a second one is refused while the first
keeps working, and a kill -9 of the first lets the next one start on what it stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.api.test_headless import ROOT, start_headless, stop
from tests.helpers import Api, wait_for

TOKEN = "headless-token"  # what start_headless gives its engines


def run_second(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--headless", "--port", "0", "--runtime",
         "virtual", "--data-dir", str(data_dir), *extra],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "KUBE9_API_TOKEN": TOKEN},
    )  # fmt: skip


async def node_names(api: Api) -> list[str]:
    status, nodes = await api.get("/nodes/")
    assert status == 200
    return sorted(n["name"] for n in nodes)


async def test_second_engine_is_refused_and_kill_9_frees_the_store(
    tmp_path: Path, db_url: str | None
) -> None:
    db = ("--db", db_url) if db_url else ()
    data = tmp_path / "data"
    first, url = start_headless(data, *db)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(url, TOKEN, session)
            assert (await api.post("/nodes/", {"name": "before", "cpu_cores_avail": 2}))[0] == 201

            # SQLite: the same data directory. PostgreSQL: another data dir, the same database.
            began = time.monotonic()
            second = run_second(tmp_path / "other" if db_url else data, *db)
            took = time.monotonic() - began
            assert second.returncode == 2, second.stdout + second.stderr
            assert f"pid {first.pid}" in second.stderr
            assert url in second.stderr
            assert "stop that instance" in second.stderr
            assert "Traceback" not in second.stderr + second.stdout
            assert "listening on" not in second.stdout
            assert took < 30, f"refusal took {took:.1f} s"

            # The first engine never noticed: it answers and still changes its cluster.
            assert await api.get("/healthz", token=None) == (200, {"status": "ok"})
            assert (await api.post("/nodes/", {"name": "after", "cpu_cores_avail": 2}))[0] == 201

            async def healthy() -> bool:
                return all(n["health_status"] == "healthy" for n in (await api.get("/nodes/"))[1])

            await wait_for(healthy, what="the first engine's nodes healthy")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.stdout is not None
        first.stdout.close()

    # Straight after the kill -9: no stale lock, and the record is all there.
    third, url = start_headless(data, *db)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(url, TOKEN, session)
            assert await node_names(api) == ["after", "before"]
    finally:
        stop(third)


def test_same_data_dir_with_another_database_is_refused(tmp_path: Path) -> None:
    """Node work dirs and the admin token live in the data directory: it is one engine's too."""
    data = tmp_path / "data"
    first, url = start_headless(data)
    try:
        second = run_second(data, "--db", f"sqlite:///{tmp_path / 'elsewhere.db'}")
        assert second.returncode == 2
        assert f"the data directory {data}" in second.stderr
        assert url in second.stderr and "--data-dir" in second.stderr
        assert "Traceback" not in second.stderr
        assert not (tmp_path / "elsewhere.db").exists()  # refused before it touched anything
    finally:
        stop(first)
