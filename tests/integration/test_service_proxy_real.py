"""Real traffic through the Service proxy on process nodes: three ``python3 -m http.server``
pods bound to their own addresses, curled from this machine through the cluster IP and the
node port; a fourth pod that is ready but listens on nothing refuses, and its turns are
retried on the others, so no request fails. The pods, started after the Service, serve the
``WEB_SERVICE_HOST``/``_PORT`` variables kubelet would have given them."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from typing import Any

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.service_specs import ServiceCreate
from kube9_desktop.engine.specs import parse_body
from tests.helpers import wait_for
from tests.integration.conftest import EngineFactory, add_nodes
from tests.integration.test_probes import FAST

PORT = 18411  # pod addresses repeat across engines: a port other tests do not use


def server_pod(name: str, *, serve: bool = True) -> dict[str, Any]:
    """A pod serving its name at /name.txt and its service variables at /env.txt on
    $(POD_IP):PORT (or, not serving, asleep)."""
    files = 'echo "$POD_NAME" > name.txt && echo "$WEB_SERVICE_HOST:$WEB_SERVICE_PORT:$WEB_SERVICE_PORT_HTTP" > env.txt'
    serving = f"{files} && exec python3 -m http.server {PORT} --bind $(POD_IP)"
    script = serving if serve else "exec sleep 3600"
    return {
        "name": name, "cpu_cores_req": 0.2, "labels": {"app": "web"},
        "containers": [{
            "name": "web", "image": "python:3", "command": "sh", "args": ["-c", script],
            "ports": [{"name": "http", "container_port": PORT}],
        }],
    }  # fmt: skip


async def curl(url: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--max-time", "5", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"curl {url} failed ({proc.returncode}): {err.decode().strip()}")
    return out.decode().strip()


async def answers(url: str) -> bool:
    try:
        await curl(url)
    except AssertionError:
        return False
    return True


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_curl_through_the_cluster_ip_and_the_node_port(make_engine: EngineFactory) -> None:
    engine: Engine = await make_engine(runtime="process", **FAST)
    await add_nodes(engine, ("w1", 2), ("w2", 2))
    body = {"name": "web", "selector": {"app": "web"}, "type": "NodePort",
            "ports": [{"name": "http", "port": 18090, "target_port": "http"}]}  # fmt: skip
    svc = (await engine.create_service(parse_body(ServiceCreate, body).to_spec())).view
    for i in range(3):
        await engine.create_pod_from_json(server_pod(f"web-{i}"))
    await engine.create_pod_from_json(server_pod("mute", serve=False))
    await wait_for(lambda: len(engine.service(svc.id).ready_endpoints) == 4, timeout=30,
                   what="4 ready endpoints")  # fmt: skip
    node_port = svc.spec.ports[0].node_port
    cluster_url = f"http://{svc.cluster_ip}:18090/name.txt"
    # Ready is "running" here (no probe): wait until every server has bound its address.
    for pod in engine.pods():
        if pod.name != "mute":
            url = f"http://{pod.ip}:{PORT}/name.txt"
            await wait_for(lambda url=url: answers(url), timeout=30, what=f"{pod.name} serving")
    seen = Counter([await curl(cluster_url) for _ in range(9)])
    assert seen == {"web-0": 3, "web-1": 3, "web-2": 3}  # round robin; mute's turns retried
    via_node_port = Counter(
        [await curl(f"http://127.0.0.1:{node_port}/name.txt") for _ in range(6)]
    )
    assert set(via_node_port) == {"web-0", "web-1", "web-2"}
    env = await curl(f"http://{svc.cluster_ip}:18090/env.txt")
    assert env == f"{svc.cluster_ip}:18090:18090"
