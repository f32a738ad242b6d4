"""Pod reports as deltas: send only what the engine has not acknowledged, within its size cap.

The engine keeps each pod's last report. The agent keeps the reports the engine acknowledged
(a 200 reply) and sends only pods whose report differs from that, least recently acknowledged
first, as many as fit in the engine's ``max_report_bytes``; the rest go in the next heartbeats.
A pod is never dropped: one whose report cannot fit even alone goes without its container
detail (logged once). Worked example, cap 16 KiB, 300 new pods of ~150 bytes: the first
heartbeat carries ~105 of them, the next two the rest, and then only changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("kube9.agent.report")

BASE_REPORT_BYTES = 16 * 1024  # what the engine accepts from any node (docs/protocol.md)
MIN_REPORT_BYTES = 1024  # a smaller cap cannot be meant: it is ignored
MAX_REPORT_BYTES = 64 * 1024 * 1024  # larger caps are clamped (the engine's own is 32 MiB)


def encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def pod_digest(pod_ids: Iterable[int]) -> str:
    """The pod set in 16 hex digits: sha256 of the sorted ids joined by ',' (protocol.md)."""
    text = ",".join(str(i) for i in sorted(pod_ids))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def trimmed_forms(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Smaller forms of one pod's report: without pids and reasons (``ready`` stays: without it
    the engine would read a container as ready), then id and phase only."""
    containers = [
        {k: c.get(k) for k in ("name", "state", "exit_code", "restarts", "ready")}
        for c in report.get("containers", [])
    ]
    return [
        {"id": report["id"], "phase": report["phase"], "containers": containers},
        {"id": report["id"], "phase": report["phase"]},
    ]


@dataclass(frozen=True, slots=True)
class ComposedReport:
    """One heartbeat body and what it carries: ``sent`` maps pod ids to their full reports."""

    body: bytes
    sent: dict[int, dict[str, Any]]
    waiting: int  # changed pods left for a later heartbeat


class PodReportBook:
    """What the engine holds of each pod's report, and which reports the next heartbeat carries."""

    def __init__(self) -> None:
        self._acked: dict[int, tuple[int, dict[str, Any]]] = {}  # pod id -> (seq, report)
        self.limit = BASE_REPORT_BYTES
        self._trimmed_logged: set[int] = set()

    def compose(self, envelope: dict[str, Any], pods: Sequence[dict[str, Any]]) -> ComposedReport:
        """The heartbeat body: ``envelope`` (always whole) plus the changed pods that fit."""
        current = {p["id"]: p for p in pods}
        for gone in self._acked.keys() - current.keys():
            del self._acked[gone]
        changed = [p for pod_id, p in current.items() if self._acked.get(pod_id, (0, None))[1] != p]
        changed.sort(key=lambda p: (self._acked.get(p["id"], (-1, None))[0], p["id"]))
        opening = encode(envelope)[:-1] + b"," if envelope else b"{"
        head = opening + b'"pods":['  # the pods go last, closed by "]}"
        room = self.limit - len(head) - 2
        chosen: list[bytes] = []
        sent: dict[int, dict[str, Any]] = {}
        used = 0
        for report in changed:
            encoded = encode(report)
            if len(encoded) > room:  # can never fit, even alone: send less of it
                encoded = next(
                    (e for e in map(encode, trimmed_forms(report)) if len(e) <= room), encoded
                )
                if report["id"] not in self._trimmed_logged:
                    self._trimmed_logged.add(report["id"])
                    log.warning(
                        "pod %d's report (%d bytes) exceeds the engine's report cap of %d bytes: "
                        "sent without container detail",
                        report["id"],
                        len(encode(report)),
                        self.limit,
                    )
            cost = len(encoded) + (1 if chosen else 0)
            if used + cost > room:
                continue
            chosen.append(encoded)
            sent[report["id"]] = report
            used += cost
        body = head + b",".join(chosen) + b"]}"
        return ComposedReport(body, sent, len(changed) - len(sent))

    def acknowledged(self, report: ComposedReport, seq: int, *, report_all: bool) -> None:
        """The engine answered 200 to ``report``; ``report_all``: it holds nothing else."""
        if report_all:
            self._acked.clear()
        for pod_id, pod in report.sent.items():
            self._acked[pod_id] = (seq, pod)

    def set_limit(self, raw: object) -> None:
        """Adopt a reply's ``max_report_bytes`` (16 KiB when absent, as any engine accepts)."""
        if raw is None:
            self.limit = BASE_REPORT_BYTES
        elif type(raw) is int and raw >= MIN_REPORT_BYTES:
            self.limit = min(raw, MAX_REPORT_BYTES)

    def reset_limit(self) -> None:
        """After a heartbeat without a 200: back to what any engine accepts, until told more."""
        self.limit = BASE_REPORT_BYTES
