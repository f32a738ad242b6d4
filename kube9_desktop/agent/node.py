"""The heartbeat loop: report the node, apply the engine's reply, keep a monotonic schedule.

Reports carry only pods whose status changed (``report.PodReportBook``) and desired sets too
large for a reply are fetched in pages between heartbeats (``desired.DesiredDownload``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard

from kube9_desktop.agent import AGENT_VERSION
from kube9_desktop.agent.client import EngineClient, HeartbeatClient, HeartbeatReply
from kube9_desktop.agent.config import AgentConfig, clamp_interval
from kube9_desktop.agent.containers import RestartPolicy
from kube9_desktop.agent.desired import DesiredDownload, PageError, valid_desired_url
from kube9_desktop.agent.pods import PodSupervisor
from kube9_desktop.agent.report import ComposedReport, PodReportBook, pod_digest
from kube9_desktop.agent.spec import SpecError, parse_desired_pods
from kube9_desktop.agent.usage import UsageMeter, own_cgroup

log = logging.getLogger("kube9.agent")

TICK_S = 0.1
FIRST_RETRY_S = 0.25
REQUIRED_COMPONENTS = ("kubelet", "container_runtime")
REPEAT_PROBLEM_EVERY = 30


def request_timeout(interval: float) -> float:
    """HTTP timeout: two intervals, at least 0.5 s, at most 10 s (shorter than the grace)."""
    return max(0.5, min(2 * interval, 10.0))


def fitted_usage(usage: dict[str, Any], room: int) -> dict[str, Any]:
    """``usage`` within ``room`` bytes (half the report cap): pods beyond it wait for a later
    beat, when the engine has raised the cap for the pods it holds (at most ~64 bytes a pod)."""
    pods = usage["pods"]
    if len(pods) * 64 + 100 <= room:
        return usage
    return {**usage, "pods": pods[: max(0, (room - 100) // 64)]}


def next_beat_time(scheduled: float, now: float, interval: float) -> float:
    """The next slot on the ``scheduled + k * interval`` grid strictly after ``now``.

    A slow reply skips missed slots instead of shifting the grid: scheduled 10.0, interval
    1.0, reply back at 12.3 -> next beat at 13.0 (not 13.3).
    """
    upcoming = scheduled + interval
    if upcoming <= now:
        upcoming += (math.floor((now - upcoming) / interval) + 1) * interval
    return upcoming


class NodeAgent:
    """One node's agent: heartbeats, reconciles pods from replies, honours faults and kills."""

    def __init__(
        self,
        config: AgentConfig,
        supervisor: PodSupervisor | None = None,
        client: EngineClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.interval = config.heartbeat_interval
        self.client: EngineClient = client or HeartbeatClient(
            config.api_url,
            config.node_id,
            config.token,
            request_timeout(self.interval),
            ca_pem=config.ca_pem,
        )
        policy = RestartPolicy(config.crash_backoff_s, config.crash_backoff_cap_s)
        self.supervisor = supervisor or PodSupervisor(config.work_dir, policy, clock=clock)
        self.seq = 0
        self.generation: int | None = None
        self.component_faults: dict[str, str] = {}
        self.node_status: str | None = None
        self.deleted = False
        self.reports = PodReportBook()
        self.usage = UsageMeter(cgroup=own_cgroup(config.own_container))
        self.download: DesiredDownload | None = None
        self._download_problem: str | None = None
        self._clock = clock
        self._sleep = sleep
        self._stop_requested = False
        self._failures = 0
        self._problem_count = 0
        self._last_problem: str | None = None
        self._started_at = datetime.now(UTC).isoformat(timespec="seconds")

    def request_stop(self) -> None:
        """Ask the loop to stop pods and return (safe to call from a signal handler)."""
        self._stop_requested = True

    def run(self) -> int:
        """Heartbeat until deleted or asked to stop, then stop every pod; return the exit code."""
        log.info(
            "agent %s for node %s (id %d, %s) reporting to %s every %gs",
            AGENT_VERSION,
            self.config.node_name,
            self.config.node_id,
            self.config.node_type,
            self.config.api_url,
            self.interval,
        )
        next_beat = self._clock()
        try:
            while not self._stop_requested:
                next_beat = self._step(next_beat)
                if self.deleted:
                    break
                if self.download is None and not self.supervisor.starts_waiting:
                    self._sleep(max(0.0, min(TICK_S, next_beat - self._clock())))
        finally:
            log.info("stopping %d pod(s) before exit", len(self.supervisor.active))
            self.supervisor.stop_all(self._sleep)
        log.info("agent stopped")
        return 0

    def _step(self, next_beat: float) -> float:
        """Supervise pods, heartbeat if due, else fetch a desired page if one is pending; return
        when the next heartbeat is due."""
        try:
            self.supervisor.tick()
            if self._clock() < next_beat:
                if self.download is not None:
                    self.continue_download()
                return next_beat
            reply = self.heartbeat()
        except Exception as exc:
            log.error("agent loop error (%s); carrying on", type(exc).__name__, exc_info=True)
            self.download = None  # a download that broke the loop starts afresh
            return self._clock() + self.interval
        if not reply.reached:
            retry_s = min(self.interval, FIRST_RETRY_S * 2.0 ** min(self._failures - 1, 16))
            return self._clock() + retry_s
        return next_beat_time(next_beat, self._clock(), self.interval)

    def heartbeat(self) -> HeartbeatReply:
        """Send one report and act on the reply."""
        self.seq += 1
        report = self.compose_report()
        reply = self.client.send(report.body)
        self._account(report, reply)
        self.handle_reply(reply)
        return reply

    def envelope(self) -> dict[str, Any]:
        """Everything of the heartbeat body of protocol.md except the pod reports."""
        components = {
            name: self.component_faults.get(name, "running") for name in self.config.components
        }
        healthy = all(components[name] == "running" for name in REQUIRED_COMPONENTS)
        cpu_avail = self.config.cpu_m / 1000 - self.supervisor.cpu_requested()
        pod_ids = self.supervisor.pod_ids()
        return {
            "health_status": "healthy" if healthy else "unhealthy",
            "components": components,
            "pod_count": len(pod_ids),
            "pod_digest": pod_digest(pod_ids),
            "cpu_cores_avail": round(max(cpu_avail, 0.0), 3),
            "generation": self.generation,
            "terminating": len(self.supervisor.terminating),
            "agent": {"version": AGENT_VERSION, "started_at": self._started_at, "seq": self.seq},
        }

    def compose_report(self) -> ComposedReport:
        """The next heartbeat body: the envelope and the changed pods that fit the engine's cap."""
        envelope = self.envelope()
        usage = self.usage.sample(self.supervisor.roots())
        if usage is not None:
            envelope["usage"] = fitted_usage(usage, self.reports.limit // 2)
        return self.reports.compose(envelope, self.supervisor.report())

    def _account(self, report: ComposedReport, reply: HeartbeatReply) -> None:
        """A 200 with a readable body acknowledges the pods sent; anything else resends them."""
        if reply.status == 200 and reply.payload is not None:
            payload = reply.payload
            self.reports.acknowledged(
                report, self.seq, report_all=payload.get("report_all") is True
            )
            self.reports.set_limit(payload.get("max_report_bytes"))
        else:
            self.reports.reset_limit()

    def handle_reply(self, reply: HeartbeatReply) -> None:
        """Act on one reply; any bad answer is logged and the loop carries on."""
        if reply.status is None:
            self._failures += 1
            self._problem(f"engine unreachable ({reply.error}); pods keep running, retrying")
            return
        self._failures = 0
        payload, status = reply.payload, reply.status
        if status == 404 and payload is not None and payload.get("should_stop_heartbeat") is True:
            log.warning("the engine deleted this node; stopping pods and exiting")
            self.deleted = True
            return
        if status in (401, 403):
            self._problem(f"engine refused the node token (HTTP {status}); retrying")
            return
        if status != 200:
            self._problem(f"engine answered HTTP {status}{_error_detail(payload)}; retrying")
            return
        if payload is None:
            level = logging.ERROR if reply.too_large else logging.WARNING
            self._problem(f"bad heartbeat reply ({reply.error}); ignoring it", level)
            return
        if self._last_problem is not None:
            log.info("engine answers again")
            self._last_problem, self._problem_count = None, 0
        try:
            self.apply(payload)
        except Exception as exc:
            log.error("could not apply the reply (%s)", type(exc).__name__, exc_info=True)

    def apply(self, payload: Mapping[str, Any]) -> None:
        """Apply a 200 reply: interval, component faults, desired pods, kill requests."""
        self._apply_interval(payload.get("heartbeat_interval_s"))
        self._apply_faults(payload.get("component_faults"))
        if payload.get("desired_pods") is not None:
            self.download, self._download_problem = None, None
            self._apply_desired(payload["desired_pods"], payload.get("generation"))
        elif payload.get("desired_pods_url") is not None:
            self._start_download(payload["desired_pods_url"], payload.get("generation"))
        self._apply_kills(payload.get("kill"))
        status = payload.get("node_status")
        if isinstance(status, str) and status != self.node_status:
            log.info("engine reports node status %s", status[:40])
            self.node_status = status

    def _apply_interval(self, raw: object) -> None:
        if not _is_number(raw) or raw <= 0:
            return
        interval = clamp_interval(float(raw))
        if interval != self.interval:
            log.info("heartbeat interval now %gs", interval)
            self.interval = interval
            self.client.timeout = request_timeout(interval)

    def _apply_faults(self, raw: object) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            log.error("ignoring component_faults: not an object")
            return
        faults = {
            name: value[:40]
            for name, value in raw.items()
            if name in self.config.components and isinstance(value, str)
        }
        if faults != self.component_faults:
            log.info("component faults now %s", faults or "none")
            self.component_faults = faults

    def _apply_desired(self, raw: object, generation: object) -> None:
        try:
            desired = parse_desired_pods(raw)
        except SpecError as exc:
            log.error("ignoring desired pods: %s", exc)
            return
        for error in desired.errors:
            log.error("refusing %s", error)
        keep = set(self.supervisor.active) if desired.refused_without_id else desired.refused_ids
        self.supervisor.reconcile(desired.pods, keep, refusals=desired.reasons)
        if isinstance(generation, int) and not isinstance(generation, bool):
            self.generation = generation

    def _start_download(self, url: object, generation: object) -> None:
        """Begin (or carry on with) fetching the desired set the reply points to."""
        if not valid_desired_url(url) or type(generation) is not int:
            self._download_failed("the reply's desired_pods_url or generation is malformed")
            return
        current = self.download
        if current is not None and (current.url, current.generation) == (url, generation):
            return  # the same set: the download in progress carries on
        self.download = DesiredDownload(url, generation, clock=self._clock)

    def continue_download(self) -> None:
        """Fetch the next page; once the set is complete, apply it like an inline one."""
        download = self.download
        if download is None:
            return
        try:
            download.fetch_next(self.client)
        except PageError as exc:
            self.download = None
            self._download_failed(str(exc))
            return
        if not download.done:
            return
        self.download = None
        log.info(
            "desired pods of generation %d: %d pods in %d pages (%.2fs)",
            download.generation,
            len(download.pods),
            download.pages,
            download.elapsed_s,
        )
        self._download_problem = None
        self._apply_desired(download.pods, download.generation)

    def _download_failed(self, reason: str) -> None:
        """Log a failed download once per distinct reason; the next heartbeat retries."""
        if reason != self._download_problem:
            log.error("desired pods not applied: %s; keeping the current pods, retrying", reason)
            self._download_problem = reason

    def _apply_kills(self, raw: object) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            log.error("ignoring kill: not a list")
            return
        for request in raw:
            pod_id = request.get("pod_id") if isinstance(request, Mapping) else None
            container = request.get("container") if isinstance(request, Mapping) else None
            if type(pod_id) is not int or not isinstance(container, str | None):
                log.error("ignoring a malformed kill request")
                continue
            killed = self.supervisor.kill(pod_id, container)
            log.info("engine asked to kill pod %d: killed %s", pod_id, ", ".join(killed) or "none")

    def _problem(self, message: str, level: int = logging.WARNING) -> None:
        """Log a failing heartbeat once, then every REPEAT_PROBLEM_EVERY repeats."""
        repeated = message == self._last_problem
        self._problem_count = self._problem_count + 1 if repeated else 1
        self._last_problem = message
        if not repeated or self._problem_count % REPEAT_PROBLEM_EVERY == 0:
            suffix = f" (x{self._problem_count})" if repeated else ""
            log.log(level, "heartbeat %d: %s%s", self.seq, message, suffix)


def _error_detail(payload: Mapping[str, Any] | None) -> str:
    error = payload.get("error") if payload is not None else None
    return f": {error[:200]}" if isinstance(error, str) else ""


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
