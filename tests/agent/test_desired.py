"""Desired sets too large for a reply: fetched in pages between heartbeats, applied whole."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kube9_desktop.agent.client import HeartbeatReply
from kube9_desktop.agent.node import NodeAgent
from kube9_desktop.agent.pods import PodSupervisor
from tests.agent.helpers import (
    TOKEN,
    FakeEngine,
    agent_config,
    container_pid,
    pod,
    sleeper,
    wait_for,
)


def sleepers(*pod_ids: int, env_bytes: int = 0) -> list[dict[str, Any]]:
    env = [{"name": "BIG", "value": "x" * env_bytes, "secret": False}] if env_bytes else []
    return [pod(i, f"p{i}", sleeper(), env=env) for i in pod_ids]


def download_all(agent: NodeAgent, steps: int = 100) -> None:
    """Step the download until it is applied or abandoned."""
    for _ in range(steps):
        if agent.download is None:
            return
        agent.continue_download()
    pytest.fail("the download never ended")


def queries(fake: FakeEngine) -> list[dict[str, Any]]:
    return [r.report for r in fake.pages]


@pytest.fixture
def paged(fake_engine: FakeEngine) -> FakeEngine:
    """An engine that sends any desired set over 100 bytes as pages."""
    fake_engine.inline_limit = 100
    return fake_engine


def test_a_large_set_comes_in_pages_and_is_applied_whole(
    agent: NodeAgent, paged: FakeEngine
) -> None:
    paged.set_desired(*sleepers(1, 2, 3, 4, 5))
    agent.heartbeat()
    assert agent.download is not None and agent.supervisor.active == {}
    agent.download.limit = 2
    agent.continue_download()
    agent.continue_download()
    assert agent.supervisor.active == {} and agent.generation is None  # not before the last page
    agent.continue_download()
    assert agent.download is None
    assert agent.supervisor.pod_ids() == [1, 2, 3, 4, 5]
    assert agent.generation == paged.generation
    assert [(q["offset"], q["limit"]) for q in queries(paged)] == [
        ("0", "2"),
        ("2", "2"),
        ("4", "2"),
    ]
    assert {r.headers["Authorization"] for r in paged.pages} == {f"Bearer {TOKEN}"}
    assert {urlsplit(r.path).path for r in paged.pages} == {"/nodes/7/desired"}
    container_pid(agent, 5, "main")
    agent.heartbeat()
    assert paged.reports()[-1]["generation"] == paged.generation
    assert agent.download is None  # the engine saw the generation: no more pages


def test_a_stale_generation_keeps_the_pods_and_the_next_heartbeat_retries(
    agent: NodeAgent, fake_engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    fake_engine.set_desired(*sleepers(1))
    agent.heartbeat()
    pid = container_pid(agent, 1, "main")
    applied = agent.generation
    fake_engine.inline_limit = 100
    fake_engine.set_desired(*sleepers(1, 2, 3))
    agent.heartbeat()
    assert agent.download is not None
    agent.download.limit = 1
    agent.continue_download()
    fake_engine.set_desired(*sleepers(1, 2, 3, 4))  # the set moves on mid-download
    with caplog.at_level(logging.ERROR, logger="kube9.agent"):
        agent.continue_download()
    assert agent.download is None
    assert (agent.supervisor.pod_ids(), agent.generation) == ([1], applied)
    assert container_pid(agent, 1, "main") == pid
    assert "is stale" in caplog.text
    agent.heartbeat()
    download_all(agent)
    assert agent.supervisor.pod_ids() == [1, 2, 3, 4]
    assert container_pid(agent, 1, "main") == pid  # an unchanged pod is not restarted


def test_an_oversized_page_is_asked_for_again_with_fewer_pods(
    agent: NodeAgent, paged: FakeEngine
) -> None:
    paged.set_desired(*sleepers(*range(1, 9), env_bytes=1000))  # ~1.2 KB per pod
    agent.heartbeat()
    assert agent.download is not None
    agent.download.max_page_bytes = 3000  # two pods fit, three do not
    download_all(agent)
    assert agent.supervisor.pod_ids() == list(range(1, 9))
    limits = [int(q["limit"]) for q in queries(paged)]
    assert limits == [500, 250, 125, 62, 31, 15, 7, 3] + [1] * 8  # then it keeps to what fits


def test_a_pod_larger_than_a_page_is_an_error_logged_once(
    agent: NodeAgent, paged: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    paged.set_desired(*sleepers(1, env_bytes=5000))
    with caplog.at_level(logging.ERROR, logger="kube9.agent"):
        for _ in range(3):  # every heartbeat retries, the log says it once
            agent.heartbeat()
            assert agent.download is not None
            agent.download.max_page_bytes = 3000
            download_all(agent)
    assert agent.supervisor.active == {} and agent.generation is None
    errors = [r.message for r in caplog.records if "desired pods not applied" in r.message]
    assert len(errors) == 1 and "larger than 3000 bytes" in errors[0]


def page_body(gen: int, **changes: Any) -> dict[str, Any]:
    body = {
        "generation": gen,
        "total": 3,
        "offset": 0,
        "pods": sleepers(1, 2, 3),
        "next_offset": None,
    }
    return {**body, **changes}


BAD_PAGES: list[Callable[[int], tuple[int, Any]]] = [
    lambda gen: (500, {"error": "boom"}),
    lambda gen: (403, {"error": "forbidden"}),
    lambda gen: (200, b"not json"),
    lambda gen: (200, [1, 2]),
    lambda gen: (200, page_body(gen - 1)),  # another generation
    lambda gen: (200, page_body(gen, offset=5)),
    lambda gen: (200, page_body(gen, pods="all")),
    lambda gen: (200, page_body(gen, total=None)),
    lambda gen: (200, page_body(gen, next_offset=0)),  # no progress: would loop forever
    lambda gen: (200, page_body(gen, next_offset="3")),
    lambda gen: (200, page_body(gen, total=9)),  # ends with fewer pods than announced
    lambda gen: (200, page_body(gen, total=2)),  # more pods than announced
]


@pytest.mark.parametrize("bad", BAD_PAGES)
def test_a_bad_page_abandons_the_download_and_keeps_the_pods(
    agent: NodeAgent, paged: FakeEngine, bad: Callable[[int], tuple[int, Any]]
) -> None:
    paged.inline_limit = 10_000
    paged.set_desired(*sleepers(7))
    agent.heartbeat()
    pid = container_pid(agent, 7, "main")
    applied = agent.generation
    paged.inline_limit = 100
    paged.set_desired(*sleepers(1, 2, 3))
    paged.script_page(*bad(paged.generation))
    agent.heartbeat()
    download_all(agent)
    assert (agent.supervisor.pod_ids(), agent.generation) == ([7], applied)
    assert container_pid(agent, 7, "main") == pid
    agent.heartbeat()  # the next heartbeat starts over, and this time the pages are good
    download_all(agent)
    assert agent.supervisor.pod_ids() == [1, 2, 3]


def test_an_inline_set_replaces_a_download_in_progress(agent: NodeAgent, paged: FakeEngine) -> None:
    paged.set_desired(*sleepers(1, 2, 3))
    agent.heartbeat()
    assert agent.download is not None
    paged.inline_limit = 10_000
    paged.set_desired(*sleepers(9))
    agent.heartbeat()
    assert agent.download is None
    assert agent.supervisor.pod_ids() == [9]


@pytest.mark.parametrize(
    "url", ["http://elsewhere/nodes/7/desired", "//elsewhere/x", "nodes/7/desired", 5, "/a b"]
)
def test_a_desired_url_off_the_api_is_refused(
    agent: NodeAgent, fake_engine: FakeEngine, url: object, caplog: pytest.LogCaptureFixture
) -> None:
    fake_engine.script(200, {"desired_pods_url": url, "generation": 5, "component_faults": {}})
    with caplog.at_level(logging.ERROR, logger="kube9.agent"):
        agent.heartbeat()
    assert agent.download is None and fake_engine.pages == []
    assert "malformed" in caplog.text


class PagingClient:
    """Replies with a desired_pods_url until the generation is applied; each page takes 0.6 s
    of the fake clock. The pods are refused by the agent (no name), so nothing is spawned."""

    def __init__(self, clock: list[float], pages: int) -> None:
        self.timeout = 1.0
        self.sent_at: list[float] = []
        self.pages_at: list[float] = []
        self._clock, self._pages = clock, pages

    def send(self, report: bytes) -> HeartbeatReply:
        self.sent_at.append(round(self._clock[0], 6))
        payload: dict[str, Any] = {"generation": 2, "component_faults": {}}
        if b'"generation":2' not in report:
            payload["desired_pods_url"] = "/nodes/7/desired?generation=2"
        return HeartbeatReply(200, payload)

    def get(self, path: str, max_bytes: int = 0) -> HeartbeatReply:
        self.pages_at.append(round(self._clock[0], 6))
        self._clock[0] += 0.6
        offset = int(parse_qs(urlsplit(path).query)["offset"][0])
        last = offset + 1 >= self._pages
        page = {"generation": 2, "total": self._pages, "offset": offset,
                "pods": [{"id": offset + 1}], "next_offset": None if last else offset + 1}  # fmt: skip
        return HeartbeatReply(200, page)


def test_heartbeats_keep_their_schedule_during_a_long_download(work_dir: Path) -> None:
    """Ten pages of 0.6 s each: the download takes 6 s, heartbeats still go out every second."""
    now = [0.0]
    client = PagingClient(now, pages=10)
    agents: list[NodeAgent] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if len(client.sent_at) >= 9:
            agents[0].request_stop()

    agent = NodeAgent(
        replace(agent_config("http://127.0.0.1:9", work_dir), heartbeat_interval=1.0),
        supervisor=PodSupervisor(work_dir, clock=lambda: now[0]),
        client=client,
        clock=lambda: now[0],
        sleep=sleep,
    )
    agents.append(agent)
    assert agent.run() == 0
    # Every slot of the grid is served, late by at most the one page in flight.
    lateness = [t - i for i, t in enumerate(client.sent_at[:9])]
    assert all(0 <= late <= 0.6 + 1e-9 for late in lateness), lateness
    assert len(client.pages_at) == 10
    assert client.pages_at[-1] - client.pages_at[0] > 5  # the download spanned many beats
    assert agent.generation == 2


def test_the_real_agent_pages_through_a_large_set(
    paged: FakeEngine, start_agent: Callable[..., Any]
) -> None:
    """The agent as a process: 40 pods with ~1 KB of env each, fetched in pages over HTTP."""
    paged.set_desired(*sleepers(*range(1, 41), env_bytes=1000))
    start_agent()

    def all_running() -> bool:
        return all((paged.pod_report(i) or {}).get("phase") == "running" for i in range(1, 41))

    wait_for(all_running, timeout=30, what="40 paged pods running")
    assert paged.pages and paged.reports()[-1]["pod_count"] == 40
    assert paged.too_large == []
