"""Watches: ``kubectl get -w`` and the official client's ``Watch`` see what the engine does,
from the version a list returned with nothing missed; selectors add and delete as objects
start and stop matching; too old a version is a 410 ERROR event; bookmarks; bad parameters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from kubernetes import client, config, watch

from kube9_desktop.engine.k8s import watch as k8s_watch
from tests.helpers import wait_for
from tests.k8s.conftest import K8sCluster, kubectl_streaming, pod


@pytest.fixture
def kube(cluster: K8sCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


async def stream_lines(
    cluster: K8sCluster, path: str, until: int, accept: str | None = None
) -> list[dict[str, Any]]:
    """The first ``until`` events of a raw watch (the stream is then left)."""
    headers = cluster.headers()
    if accept:
        headers["Accept"] = accept
    events: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(cluster.url + path, headers=headers, ssl=cluster.ssl_context()) as resp,
    ):
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("application/json")
        async for line in resp.content:
            events.append(json.loads(line))
            if len(events) >= until:
                break
    return events


async def test_kubectl_get_w_prints_what_the_engine_does(cluster: K8sCluster) -> None:
    """A pod made and deleted through the engine (as the window does) shows up in a running
    ``kubectl get pods -w`` at default flags: its row when made, running, and deleted."""
    async with kubectl_streaming(cluster, "get", "pods", "-w") as lines:
        await wait_for(lambda: any(ln.startswith("web-a ") for ln in lines), timeout=60,
                       what="kubectl's first rows")  # fmt: skip
        assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        created = await cluster.engine.create_pod_from_json(pod("watched", {"app": "w"}))
        await wait_for(lambda: any(ln.startswith("watched ") and "Running" in ln for ln in lines),
                       timeout=30, what="the new pod running in kubectl -w")  # fmt: skip
        seen = sum(ln.startswith("watched ") for ln in lines)
        await cluster.engine.delete_pod(created.view.id)
        await wait_for(lambda: sum(ln.startswith("watched ") for ln in lines) > seen,
                       timeout=30, what="the deletion in kubectl -w")  # fmt: skip
        assert lines.count(lines[0]) == 1  # the header once, not per event


async def test_the_clients_watch_from_a_lists_version_misses_nothing(
    cluster: K8sCluster, kube: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube)
    listed = await asyncio.to_thread(core.list_namespaced_pod, "default")
    names = [f"burst-{i}" for i in range(20)]
    for name in names:  # made after the list, before the watch starts: none may be lost
        await cluster.engine.create_pod_from_json(pod(name, {"app": "burst"}, cpu=0.05))
    doomed = next(p for p in cluster.engine.pods() if p.name == "web-a")
    await cluster.engine.delete_pod(doomed.id)

    def collect() -> list[tuple[str, str]]:
        seen = []
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_pod, "default", timeout_seconds=30,
                           resource_version=listed.metadata.resource_version):  # fmt: skip
            seen.append((ev["type"], ev["object"].metadata.name))
            added = {n for t, n in seen if t == "ADDED"}
            if added >= set(names) and ("DELETED", "web-a") in seen:
                w.stop()
        return seen

    seen = await asyncio.to_thread(collect)
    assert [n for t, n in seen if t == "ADDED"] == names  # each once, in commit order
    assert ("DELETED", "web-a") in seen
    assert not any(n in {p.metadata.name for p in listed.items} for t, n in seen if t == "ADDED")


async def test_a_watch_without_a_version_starts_with_every_object(cluster: K8sCluster) -> None:
    events = await stream_lines(cluster, "/api/v1/namespaces/default/pods?watch=true", 3)
    assert [e["type"] for e in events] == ["ADDED"] * 3
    names = {e["object"]["metadata"]["name"] for e in events}
    assert names <= {p.name for p in cluster.engine.pods("default")}


async def test_a_selector_adds_an_object_when_it_starts_to_match(cluster: K8sCluster) -> None:
    """``status.phase=Running``: a new pod is ADDED once it runs, not while pending."""
    rv = cluster.engine.resource_version()
    path = (f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}"
            "&fieldSelector=status.phase%3DRunning")  # fmt: skip
    task = asyncio.create_task(stream_lines(cluster, path, 1))
    await cluster.engine.create_pod_from_json(pod("late", {"app": "late"}))
    (event,) = await asyncio.wait_for(task, 60)
    assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "late"
    assert event["object"]["status"]["phase"] == "Running"


async def test_kubectls_table_rows_in_a_watch(cluster: K8sCluster) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    (event,) = await stream_lines(cluster, "/api/v1/nodes?watch=true", 1, accept=accept)
    table = event["object"]
    assert event["type"] == "ADDED" and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Status"]
    (row,) = table["rows"]
    assert row["cells"][0] in {n.name for n in cluster.engine.nodes()}
    assert row["object"]["kind"] == "PartialObjectMetadata"


async def test_too_old_a_version_is_a_410_error_event(
    cluster: K8sCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    (app_hub,) = _hubs(cluster)  # it keeps 100,000 changes: make it keep 3
    monkeypatch.setattr(app_hub, "history", 3)
    old = cluster.engine.resource_version()
    for i in range(5):
        await cluster.engine.create_pod_from_json(pod(f"churn-{i}", {"app": "c"}, cpu=0.05))
    assert app_hub.complete_after > old
    (event,) = await stream_lines(cluster, f"/api/v1/pods?watch=true&resourceVersion={old}", 1)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert "too old resource version" in status["message"]


def _hubs(cluster: K8sCluster) -> list[k8s_watch.WatchHub]:
    """The hub of the engine's running Kubernetes API (found through the bus it listens on)."""
    found = []
    for fn in cluster.engine.bus._change_subscribers:
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, k8s_watch.WatchHub):
            found.append(owner)
    assert found, "no watch hub listens to the engine"
    return found


async def test_bookmarks_carry_the_current_version(
    cluster: K8sCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(k8s_watch, "BOOKMARK_EVERY_S", 0.05)
    rv = cluster.engine.resource_version()
    path = f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
    (event,) = await stream_lines(cluster, path, 1)
    assert event["type"] == "BOOKMARK" and event["object"]["kind"] == "Pod"
    assert int(event["object"]["metadata"]["resourceVersion"]) >= rv


async def test_a_watch_ends_at_its_timeout(cluster: K8sCluster) -> None:
    rv = cluster.engine.resource_version()
    path = f"/api/v1/pods?watch=true&resourceVersion={rv}&timeoutSeconds=0"
    assert await stream_lines(cluster, path, 1) == []  # over at once, without an event


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("resourceVersion=abc", "resourceVersion: must be"),
        ("resourceVersion=-5", "resourceVersion: must be"),
        ("resourceVersion=" + "9" * 40, "resourceVersion: must be"),
        ("timeoutSeconds=-1", "timeoutSeconds: must be"),
        ("timeoutSeconds=1e9", "timeoutSeconds: must be"),
        ("fieldSelector=spec.bogus%3Dx", "field label not supported"),
        ("labelSelector=a%20in%20(", "unable to parse requirement"),
        ("includeObject=All", "includeObject"),
    ],
)
async def test_bad_watch_parameters_are_400_statuses(
    cluster: K8sCluster, query: str, words: str
) -> None:
    status, body = await cluster.get(f"/api/v1/pods?watch=true&{query}")
    assert status == 400 and body["kind"] == "Status" and body["reason"] == "BadRequest", body
    assert words in body["message"], body


async def test_stopping_the_engine_ends_every_watch(cluster: K8sCluster) -> None:
    """An open watch must not hold the server's shutdown (aiohttp waits up to 60 s)."""
    rv = cluster.engine.resource_version()
    reading = asyncio.create_task(
        stream_lines(cluster, f"/api/v1/pods?watch=true&resourceVersion={rv}", 1)
    )
    await wait_for(lambda: _watchers(cluster) > 0, what="the watch open")
    await asyncio.wait_for(cluster.engine.stop(), 20)
    (ended,) = await asyncio.wait_for(asyncio.gather(reading, return_exceptions=True), 20)
    assert ended == [] or isinstance(ended, aiohttp.ClientError), ended  # over, no event


def _watchers(cluster: K8sCluster) -> int:
    return sum(h.watchers for h in _hubs(cluster))


async def test_a_deleted_deployment_is_a_deleted_event_with_its_last_object(
    cluster: K8sCluster,
) -> None:
    """The engine publishes a Deployment's (and a Service's) removal without its last view:
    the watch sends the object as it last sent it."""
    rv = cluster.engine.resource_version()
    path = f"/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion={rv}"
    task = asyncio.create_task(stream_lines(cluster, path, 1))
    await wait_for(lambda: sum(h.watchers for h in _hubs(cluster)) > 0, what="the watch open")
    api = next(d for d in cluster.engine.deployments() if d.name == "api")
    await cluster.engine.delete_deployment(api.id)
    (event,) = await asyncio.wait_for(task, 30)
    assert event["type"] == "DELETED" and event["object"]["metadata"]["name"] == "api"
    assert event["object"]["metadata"]["uid"] == api.uid
