"""The real command: kube9-desktop --headless, stopped and started on the same data directory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.helpers import POSTMAN_PODS, Api, wait_for

ROOT = Path(__file__).resolve().parents[2]


def start_headless(
    data_dir: Path, *extra: str, port: str = "0"
) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "KUBE9_API_TOKEN": "headless-token", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--headless", "--port", port, "--k8s-port", "0",
         "--runtime", "virtual", "--data-dir", str(data_dir), "--heartbeat-interval", "0.2",
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if m := re.search(r"listening on (http://\S+)", line):
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("headless engine did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


async def test_restart_brings_back_every_node_and_pod(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, url = start_headless(data)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(url, "headless-token", session)
            for n in range(3):
                assert (await api.post("/nodes/", {"name": f"w{n}", "cpu_cores_avail": 4}))[
                    0
                ] == 201
            await api.post("/nodes/", {"name": "m0", "cpu_cores_avail": 2, "node_type": "master"})

            async def healthy() -> bool:
                return all(n["health_status"] == "healthy" for n in (await api.get("/nodes/"))[1])

            await wait_for(healthy, what="nodes healthy")
            for body in POSTMAN_PODS:
                assert (await api.post("/pods/", body))[0] == 201
            _, nodes_before = await api.get("/nodes/")
            _, pods_before = await api.get("/pods/")
    finally:
        out = stop(proc)
    assert "Stopping" in out

    proc, url = start_headless(data)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(url, "headless-token", session)
            _, nodes_after = await api.get("/nodes/")
            _, pods_after = await api.get("/pods/")
            key = ("id", "name", "node_type", "cpu_cores_total", "cpu_cores_avail", "pod_ids")
            assert [{k: n[k] for k in key} for n in nodes_after] == [
                {k: n[k] for k in key} for n in nodes_before
            ]
            pkey = ("id", "name", "node", "ip_address", "cpu_cores_req", "config", "volumes")
            assert [{k: p[k] for k in pkey} for p in pods_after] == [
                {k: p[k] for k in pkey} for p in pods_before
            ]

            async def healthy_again() -> bool:
                return all(n["health_status"] == "healthy" for n in (await api.get("/nodes/"))[1])

            await wait_for(healthy_again, what="restarted nodes heartbeat")
    finally:
        stop(proc)


def test_refuses_a_non_loopback_host_without_allow_remote(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--headless", "--host", "0.0.0.0", "--port", "0",
         "--runtime", "virtual", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 2
    assert "--allow-remote" in out.stderr


def test_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--headless", "--port", str(port),
             "--runtime", "virtual", "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert out.returncode == 2
    assert "already in use" in out.stderr and "--port 0" in out.stderr
