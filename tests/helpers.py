"""Shared test helpers: waiting on conditions, an HTTP client for the API, engine factories."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.invariants import check_invariants
from kube9_desktop.settings import Settings

POSTMAN_NODES = (
    {"name": "worker-1", "cpu_cores_avail": 4, "node_type": "worker"},
    {"name": "master-1", "cpu_cores_avail": 8, "node_type": "master"},
)
POSTMAN_PODS = (
    {
        "name": "nginx-pod",
        "cpu_cores_req": 1,
        "containers": [
            {"name": "nginx", "image": "nginx:latest", "cpu_req": 0.5, "memory_req": 256}
        ],
    },
    {
        "name": "web-app",
        "cpu_cores_req": 2,
        "containers": [
            {"name": "web", "image": "nginx:latest", "cpu_req": 1.0, "memory_req": 256},
            {"name": "cache", "image": "redis:latest", "cpu_req": 0.5, "memory_req": 128},
        ],
    },
    {
        "name": "web-app-config",
        "cpu_cores_req": 2,
        "containers": [
            {
                "name": "web",
                "image": "httpd:latest",
                "cpu_req": 1.0,
                "memory_req": 512,
                "command": "/bin/sh",
                "args": "-c 'httpd-foreground'",
            }
        ],
        "volumes": [{"name": "data-volume", "type": "emptyDir", "size": 1, "path": "/data"}],
        "config": [
            {"name": "env-config", "type": "env", "key": "ENV_TYPE", "value": "production"},
            {"name": "secret-config", "type": "secret", "key": "API_KEY", "value": "secret123"},
        ],
    },
    {
        "name": "data-processing-pod",
        "cpu_cores_req": 2,
        "containers": [
            {
                "name": "processor",
                "image": "python:3.9",
                "cpu_req": 1.5,
                "memory_req": 1024,
                "command": "python",
                "args": "-m http.server 8080",
            }
        ],
        "volumes": [
            {"name": "input-volume", "type": "emptyDir", "size": 2, "path": "/input"},
            {"name": "output-volume", "type": "emptyDir", "size": 5, "path": "/output"},
            {"name": "config-volume", "type": "configMap", "size": 1, "path": "/etc/config"},
        ],
        "config": [
            {"name": "processing-config", "type": "env", "key": "PROCESSING_MODE", "value": "batch"}
        ],
    },
)
POSTMAN_HEARTBEAT = {
    "pod_ids": [1, 2],
    "cpu_cores_avail": 2,
    "health_status": "healthy",
    "components": {
        "kubelet": "running",
        "container_runtime": "running",
        "kube_proxy": "running",
        "node_agent": "running",
    },
}


async def wait_for(
    cond: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``cond`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def free_port() -> int:
    """A port nothing on this machine listens on (pod addresses may repeat across engines)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fast_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: virtual runtime, any free port, short intervals."""
    base = {
        "data_dir": data_dir,
        "db_url": None,
        "api_token": "test-admin-token",
        "runtime": "virtual",
        "port": 0,
        "heartbeat_interval": 0.1,
        "recovery_backoff": 0.1,
        # The agent's restart back-off, short: Kubernetes' 10 s to 5 min would stall every test.
        "crash_backoff": 1.0,
        "crash_backoff_cap": 30.0,
        "heartbeat_flush_interval": 0.5,
    }
    base.update(overrides)
    return Settings(**base)


class Api:
    """A tiny client for the engine's HTTP API (real sockets, real auth)."""

    def __init__(self, base_url: str, token: str | None, session: aiohttp.ClientSession) -> None:
        self.base = base_url
        self.token = token
        self.session = session

    def headers(self, token: str | None = ..., **extra: str) -> dict[str, str]:  # type: ignore[assignment]
        token = self.token if token is ... else token
        h = {"Authorization": f"Bearer {token}"} if token else {}
        h.update(extra)
        return h

    async def call(
        self, method: str, path: str, json: Any = None, *, token: Any = ..., **kw: Any
    ) -> tuple[int, Any]:
        headers = self.headers(token, **kw.pop("headers", {}))
        async with self.session.request(
            method, self.base + path, json=json, headers=headers, **kw
        ) as resp:
            text = await resp.text()
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype:
                import json as _json

                return resp.status, _json.loads(text)
            return resp.status, text

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, json, **kw)

    async def delete(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("DELETE", path, **kw)


def assert_invariants(engine: Engine, *, evictions_settled: bool = False) -> None:
    problems = check_invariants(
        engine.cluster.state,
        evictions_settled=evictions_settled,
        eviction_scheduled=lambda node_id: engine.health.evict_at(node_id) is not None,
    )
    assert not problems, "invariants broken:\n" + "\n".join(problems)


def node_named(engine: Engine, name: str) -> Any:
    node = engine.cluster.state.node_by_name(name)
    assert node is not None, f"no node {name}"
    return node


def as_root(argv: list[str]) -> list[str]:
    """``argv`` to run as root: itself when we are, else through sudo without a password
    (``scripts/test`` as a sudo user); skips the test when neither is to be had."""
    if os.geteuid() == 0:
        return argv
    sudo = shutil.which("sudo")
    if sudo is None or subprocess.run([sudo, "-n", "true"], capture_output=True).returncode:
        pytest.skip("needs root, or sudo without a password prompt")
    return [sudo, "-n", *argv]
