"""Pod reports as deltas within the engine's cap: what is sent, what waits, what is never lost."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from kube9_desktop.agent.report import (
    BASE_REPORT_BYTES,
    MAX_REPORT_BYTES,
    PodReportBook,
    encode,
    pod_digest,
)
from kube9_desktop.engine import heartbeat

ENVELOPE: dict[str, Any] = {
    "health_status": "healthy",
    "components": {"kubelet": "running", "container_runtime": "running"},
    "pod_count": 0,
    "generation": 4,
    "agent": {"version": "0.1.0", "seq": 1},
}


def pod(
    pod_id: int, restarts: int = 0, containers: int = 1, reason: str = "", ready: bool = True
) -> dict[str, Any]:
    entries = [
        {"name": f"c{i}", "state": "running", "exit_code": None, "restarts": restarts,
         "pid": 1000 + pod_id, "ready": ready, **({"reason": reason} if reason else {})}
        for i in range(containers)
    ]  # fmt: skip
    return {"id": pod_id, "phase": "running", "containers": entries}


def ids(body: bytes) -> list[int]:
    return [p["id"] for p in json.loads(body)["pods"]]


def beat(book: PodReportBook, pods: list[dict[str, Any]], seq: int, **kw: bool) -> list[int]:
    """Compose, check the body against the cap, acknowledge it; return the pods it carried."""
    report = book.compose(ENVELOPE, pods)
    assert len(report.body) <= book.limit
    decoded = json.loads(report.body)
    assert {k: decoded[k] for k in ENVELOPE} == ENVELOPE  # the envelope always goes whole
    book.acknowledged(report, seq, report_all=kw.get("report_all", False))
    return ids(report.body)


def test_only_changes_since_the_last_acknowledged_report_are_sent() -> None:
    book = PodReportBook()
    pods = [pod(i) for i in (1, 2, 3)]
    assert beat(book, pods, 1) == [1, 2, 3]
    assert beat(book, pods, 2) == []
    pods[1] = pod(2, restarts=1)
    assert beat(book, pods, 3) == [2]
    assert beat(book, pods, 4) == []


def test_a_readiness_flip_is_a_change() -> None:
    book = PodReportBook()
    pods = [pod(1), pod(2)]
    beat(book, pods, 1)
    pods[0] = pod(
        1, ready=False, reason="Readiness probe failed: HTTP probe failed with statuscode: 500"
    )
    assert beat(book, pods, 2) == [1]
    pods[0] = pod(1)
    assert beat(book, pods, 3) == [1]
    assert beat(book, pods, 4) == []


def test_a_trimmed_report_keeps_readiness() -> None:
    """Without ``ready`` the engine would read a not-ready container as ready."""
    book = PodReportBook()
    big = pod(5, containers=32, reason="Readiness probe failed: " + "é" * 280, ready=False)
    report = book.compose(ENVELOPE, [big])
    (carried,) = json.loads(report.body)["pods"]
    assert "reason" not in json.dumps(carried)
    assert [c["ready"] for c in carried["containers"]] == [False] * 32


def test_a_report_the_engine_did_not_acknowledge_is_sent_again() -> None:
    book = PodReportBook()
    pods = [pod(1), pod(2)]
    first = book.compose(ENVELOPE, pods)  # lost: no 200
    assert ids(first.body) == [1, 2]
    assert ids(book.compose(ENVELOPE, pods).body) == [1, 2]


def test_report_all_resends_everything_the_heartbeat_did_not_carry() -> None:
    book = PodReportBook()
    pods = [pod(i) for i in (1, 2, 3)]
    beat(book, pods, 1)
    pods[0] = pod(1, restarts=1)
    # A new engine session: it holds pod 1 (this heartbeat), nothing else.
    assert beat(book, pods, 2, report_all=True) == [1]
    assert beat(book, pods, 3) == [2, 3]
    assert beat(book, pods, 4) == []


def test_a_removed_pod_is_forgotten_and_reported_again_when_it_returns() -> None:
    book = PodReportBook()
    beat(book, [pod(1), pod(2)], 1)
    assert beat(book, [pod(1)], 2) == []
    assert beat(book, [pod(1), pod(2)], 3) == [2]


def test_changes_beyond_the_cap_are_chunked_never_dropped() -> None:
    """300 pods of ~150 bytes against 16 KiB: three heartbeats, each pod exactly once."""
    book = PodReportBook()
    pods = [pod(i) for i in range(1, 301)]
    sent: list[int] = []
    beats = 0
    while len(sent) < len(pods):
        carried = beat(book, pods, beats + 1)
        assert carried, "a heartbeat with room carried nothing"
        sent += carried
        beats += 1
    assert sorted(sent) == [p["id"] for p in pods]
    assert len(sent) == len(set(sent))
    assert beats == 3
    assert beat(book, pods, 9) == []


def test_the_engines_cap_is_used_once_known() -> None:
    book = PodReportBook()
    pods = [pod(i) for i in range(1, 301)]
    book.set_limit(BASE_REPORT_BYTES + 300 * 1024)
    assert len(beat(book, pods, 1)) == 300


def test_waiting_pods_go_before_pods_that_keep_changing() -> None:
    """Least recently acknowledged first: pods changing at every heartbeat, enough to fill
    it, cannot starve the others (in id order, pods 5-12 would never be sent)."""
    book = PodReportBook()
    size = len(encode(pod(12)))
    book.limit = len(encode({**ENVELOPE, "pods": []})) + 4 * (size + 1)  # four pods fit
    pods = [pod(i) for i in range(1, 13)]
    seen: set[int] = set()
    for seq in range(1, 5):
        pods[:4] = [pod(i, restarts=seq) for i in range(1, 5)]  # change at every heartbeat
        carried = beat(book, pods, seq)
        assert len(carried) == 4
        seen.update(carried)
    assert seen == set(range(1, 13))


def test_a_pod_too_large_to_fit_alone_goes_without_detail_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = PodReportBook()
    huge = pod(5, containers=32, reason="StartError: " + "é" * 280)  # ~55 KiB as JSON
    pods = [pod(1), huge]
    with caplog.at_level(logging.WARNING, logger="kube9.agent.report"):
        report = book.compose(ENVELOPE, pods)
        assert len(report.body) <= BASE_REPORT_BYTES
        carried = {p["id"]: p for p in json.loads(report.body)["pods"]}
        assert set(carried) == {1, 5}
        assert carried[5]["phase"] == "running"
        assert "reason" not in json.dumps(carried[5])
        book.acknowledged(report, 1, report_all=False)
        assert beat(book, pods, 2) == []  # not resent over and over
        pods[1] = pod(5, restarts=1, containers=32, reason="StartError: " + "é" * 280)
        assert beat(book, pods, 3) == [5]
    assert len([r for r in caplog.records if "pod 5's report" in r.message]) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, BASE_REPORT_BYTES),  # an engine that names no cap accepts 16 KiB
        (1_040_384, 1_040_384),
        (100, 77_777),  # too small to be meant: ignored
        ("big", 77_777),
        (True, 77_777),
        (2.5e6, 77_777),
        (10**12, MAX_REPORT_BYTES),
    ],
)
def test_max_report_bytes_is_adopted_when_sane(raw: object, expected: int) -> None:
    book = PodReportBook()
    book.limit = 77_777
    book.set_limit(raw)
    assert book.limit == expected


def test_the_digest_is_the_engines() -> None:
    for pod_ids in ([], [3], [10, 2, 33], list(range(1, 10_001))):
        assert pod_digest(pod_ids) == heartbeat.pod_digest(pod_ids)
    assert pod_digest([1, 2]) != pod_digest([1, 3])
