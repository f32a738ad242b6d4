"""``kubectl logs`` on a real (process-runtime) pod: its printed lines, ``--tail``, ``-f``
receiving a line printed later, ``-c`` and the refusal of a container that is not there,
``--previous`` with no earlier run, a pod that is not there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import NodeStatus
from kube9_desktop.serve import start_engine
from tests.helpers import fast_settings, wait_for
from tests.integration.test_pod_logs import pod_dir, printer_pod
from tests.k8s.conftest import (
    K8sCluster,
    kubectl,
    kubectl_streaming,
    write_kubeconfig,
)
from tests.procs import marker


@pytest.fixture
async def logs_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[K8sCluster, int]]:
    """A process node running the printer pod (five lines now, one more once told)."""
    monkeypatch.delenv("KUBE9_API_TOKEN", raising=False)
    settings = fast_settings(tmp_path / "data", runtime="process", heartbeat_interval=0.2,
                             api_token=None, k8s_port=0)  # fmt: skip
    engine = Engine(settings)
    await start_engine(engine)
    try:
        await engine.create_node_from_json({"name": "w1", "cpu_cores_avail": 2})
        await wait_for(lambda: all(n.status is NodeStatus.HEALTHY for n in engine.nodes()),
                       timeout=30, what="the agent up")  # fmt: skip
        created = await engine.create_pod_from_json(printer_pod(marker()))
        home = tmp_path / "home"
        home.mkdir()
        kubeconfig = write_kubeconfig(engine, tmp_path / "kubeconfig")
        cluster = K8sCluster(engine, None, kubeconfig, home)  # type: ignore[arg-type]
        yield cluster, created.view.id
    finally:
        await engine.stop()


async def lines_of(cluster: K8sCluster, *args: str) -> list[str]:
    return (await kubectl(cluster, "logs", *args)).ok().splitlines()


async def test_logs_tail_and_container(logs_cluster: tuple[K8sCluster, int]) -> None:
    cluster, _ = logs_cluster

    async def five() -> bool:
        out = await kubectl(cluster, "logs", "printer")
        return out.rc == 0 and "line 5" in out.out

    await wait_for(five, timeout=30, what="the printer's five lines")
    out = await lines_of(cluster, "printer")
    assert out[0].startswith("pid ") and out[1:] == [f"line {i}" for i in range(1, 6)]
    assert await lines_of(cluster, "printer", "--tail=2") == ["line 4", "line 5"]
    assert await lines_of(cluster, "printer", "-c", "main", "--tail=1") == ["line 5"]
    wrong = await kubectl(cluster, "logs", "printer", "-c", "nope")
    assert wrong.rc != 0 and "container nope is not valid for pod printer" in wrong.err
    previous = await kubectl(cluster, "logs", "printer", "--previous")
    assert previous.rc != 0 and "previous terminated container main" in previous.err
    missing = await kubectl(cluster, "logs", "ghost")
    assert missing.rc != 0 and 'pods "ghost" not found' in missing.err


async def test_logs_follow_streams_a_later_line(logs_cluster: tuple[K8sCluster, int]) -> None:
    cluster, pod_id = logs_cluster

    async def started() -> bool:
        out = await kubectl(cluster, "logs", "printer")
        return out.rc == 0 and "line 5" in out.out

    await wait_for(started, timeout=30, what="the printer's five lines")
    async with kubectl_streaming(cluster, "logs", "-f", "printer") as lines:
        await wait_for(lambda: "line 5" in lines, timeout=30, what="the lines so far")
        assert "late line" not in lines
        (pod_dir(cluster.engine, pod_id) / "go").touch()
        await wait_for(lambda: "late line" in lines, timeout=30, what="the later line, followed")


async def test_bad_log_parameters_are_400s(logs_cluster: tuple[K8sCluster, int]) -> None:
    cluster, _ = logs_cluster
    for query in ("tailLines=-1", "tailLines=abc", "limitBytes=0", "follow=maybe",
                  "previous=2"):  # fmt: skip
        status, body = await cluster.get(f"/api/v1/namespaces/default/pods/printer/log?{query}")
        assert status == 400 and body["reason"] == "BadRequest", (query, body)

    async def first_bytes() -> bool:
        path = "/api/v1/namespaces/default/pods/printer/log?limitBytes=3"
        status, body = await cluster.get(path)
        assert status == 200, body
        return body == "pid"  # the first three bytes of "pid 1234", once printed

    await wait_for(first_bytes, timeout=30, what="three bytes of output")
