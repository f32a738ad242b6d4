"""A headless engine on virtual nodes serving the Kubernetes API, a small cluster in it, and a
kubeconfig written by ``kube9-desktop kubeconfig``; the real kubectl and the official client.

kubectl is ``/usr/bin/kubectl`` (or on PATH); without it the kubectl tests skip, unless
``KUBE9_REQUIRE_KUBECTL=1`` (scripts/test sets it) makes that a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

import main
from kube9_desktop.engine.core import Engine
from kube9_desktop.serve import start_engine
from tests.helpers import Api, fast_settings, wait_for

NODES = (
    {"name": "worker-1", "cpu_cores_avail": 4, "memory_mb": 8192, "labels": {"disk": "ssd"}},
    {"name": "worker-2", "cpu_cores_avail": 4, "memory_mb": 8192},
    {"name": "master-1", "cpu_cores_avail": 2, "node_type": "master"},
)


def pod(name: str, labels: dict[str, str], cpu: float = 0.5, **extra: Any) -> dict[str, Any]:
    return {
        "name": name, "cpu_cores_req": cpu, "labels": labels,
        "containers": [{"name": "main", "image": "nginx:1.25", "memory_req": 128}], **extra,
    }  # fmt: skip


PODS = (
    pod("web-a", {"app": "web", "tier": "front"}),
    pod("web-b", {"app": "web", "tier": "front"}, cpu=1.5),
    pod("db", {"app": "db"}, cpu=2),
    pod("tool", {"app": "tool"}, namespace="team"),
)
DEPLOYMENT = {
    "name": "api",
    "replicas": 2,
    "template": {
        "labels": {"app": "api"},
        "cpu_cores_req": 0.25,
        "containers": [{"name": "api", "image": "python:3.12", "memory_req": 64}],
    },
}
SERVICE = {"name": "web", "selector": {"app": "web"}, "ports": [{"port": 8080, "target_port": 80}]}


@dataclass
class K8sCluster:
    engine: Engine
    api: Api  # the Kube-9 API, to build the cluster and to compare with
    kubeconfig: Path
    home: Path  # kubectl's HOME (its discovery cache), one per test

    @property
    def url(self) -> str:
        return self.engine.k8s_url

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.engine.settings.data_dir / "k8s/ca.crt"))

    def headers(self, token: str | None = ...) -> dict[str, str]:  # type: ignore[assignment]
        token = self.engine.admin_token if token is ... else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def get(
        self,
        path: str,
        *,
        token: str | None = ...,
        accept: str | None = None,  # type: ignore[assignment]
        method: str = "GET",
    ) -> tuple[int, Any]:
        """One request to the Kubernetes API; JSON answers parsed."""
        headers = self.headers(token)
        if accept:
            headers["Accept"] = accept
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, headers=headers,
                            ssl=self.ssl_context()) as resp,
        ):  # fmt: skip
            text = await resp.text()
            if "json" in resp.headers.get("Content-Type", ""):
                return resp.status, json.loads(text)
            return resp.status, text


def kubectl_path() -> str:
    found = shutil.which("kubectl") or (
        "/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None
    )
    if found is None:
        if os.environ.get("KUBE9_REQUIRE_KUBECTL") == "1":
            pytest.fail("KUBE9_REQUIRE_KUBECTL=1 but kubectl is not installed")
        pytest.skip("kubectl is not installed")
    return found


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def ok(self) -> str:
        assert self.rc == 0, f"kubectl failed ({self.rc}): {self.err}"
        return self.out

    def rows(self) -> list[list[str]]:
        """Table output split into cells (columns are separated by 3+ spaces or more)."""
        import re

        lines = [ln for ln in self.ok().splitlines() if ln.strip()]
        return [re.split(r"\s{3,}", ln.strip()) for ln in lines]

    def json(self) -> Any:
        return json.loads(self.ok())

    def yaml(self) -> Any:
        return yaml.safe_load(self.ok())


async def kubectl(cluster: K8sCluster, *args: str, kubeconfig: Path | None = None) -> Result:
    """Run the real kubectl at its default flags against the cluster (the loop keeps serving)."""
    env = {
        **os.environ,
        "HOME": str(cluster.home),
        "KUBECONFIG": str(kubeconfig or cluster.kubeconfig),
    }
    proc = await asyncio.create_subprocess_exec(
        kubectl_path(), *args, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


@contextlib.asynccontextmanager
async def kubectl_streaming(cluster: K8sCluster, *args: str) -> AsyncIterator[list[str]]:
    """A running kubectl that keeps printing (``get -w``, ``logs -f``): the lines it printed
    so far, growing while the block runs; it is stopped at the end."""
    env = {"HOME": str(cluster.home), "KUBECONFIG": str(cluster.kubeconfig), "PATH": "/usr/bin"}
    proc = await asyncio.create_subprocess_exec(
        kubectl_path(), *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            lines.append(raw.decode().rstrip())

    reader = asyncio.create_task(read())
    try:
        yield lines
    finally:
        proc.terminate()
        await proc.wait()
        reader.cancel()


def write_kubeconfig(engine: Engine, output: Path) -> Path:
    """Through the real subcommand, as a user would run it."""
    port = engine.k8s_url.rsplit(":", 1)[1]
    data_dir = str(engine.settings.data_dir)
    rc = main.main(
        ["kubeconfig", "--data-dir", data_dir, "--k8s-port", port, "--output", str(output)]
    )
    assert rc == 0
    return output


async def build_cluster(api: Api, engine: Engine) -> None:
    for node in NODES:
        status, body = await api.post("/nodes/", node)
        assert status == 201, body
    await wait_for(lambda: all(n.status == "healthy" for n in engine.nodes()), what="healthy nodes")
    assert (await api.post("/namespaces/", {"name": "team"}))[0] == 201
    for p in PODS:
        status, body = await api.post("/pods/", p)
        assert status == 201, body
    assert (await api.post("/deployments/", DEPLOYMENT))[0] == 201
    assert (await api.post("/services/", SERVICE))[0] == 201
    await wait_for(
        lambda: (
            len(engine.pods()) == len(PODS) + 2
            and all(p.ready for p in engine.pods())
            and all(d.status.available == 2 for d in engine.deployments())
        ),
        what="every pod running and ready",
    )


@pytest.fixture
async def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[K8sCluster]:
    # The admin token in the data directory (not the settings), as a user's engine has it:
    # the kubeconfig subcommand reads it from there.
    monkeypatch.delenv("KUBE9_API_TOKEN", raising=False)
    engine = Engine(fast_settings(tmp_path / "data", api_token=None, k8s_port=0))
    await start_engine(engine)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(engine.api_url, engine.admin_token, session)
            await build_cluster(api, engine)
            home = tmp_path / "home"
            home.mkdir()
            kubeconfig = write_kubeconfig(engine, tmp_path / "kubeconfig")
            yield K8sCluster(engine, api, kubeconfig, home)
    finally:
        await engine.stop()
