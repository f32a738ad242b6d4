"""How cluster values read to people: shared by the tree, the details panel and the status bar."""

from __future__ import annotations

from datetime import datetime

from kube9_desktop.engine.model import (
    ContainerStatus,
    NodeStatus,
    NodeView,
    PodView,
    format_cpu,
)

# Container states mapped onto the status colours.
CONTAINER_COLORS = {
    "waiting": "scheduled",
    "running": "running",
    "crashloop": "unhealthy",
    "unknown": "terminating",
}


def age(seconds: float | None) -> str:
    """Seconds since something, for people: None -> "never", 0.34 -> "0.3 s ago"."""
    if seconds is None:
        return "never"
    if seconds < 10:
        return f"{seconds:.1f} s ago"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago"


def short_age(seconds: float) -> str:
    """An age as kubectl's AGE column shows it: 42 -> "42s", 600 -> "10m", 7200 -> "2h",
    259200 -> "3d" (seconds below 2 min, minutes below 2 h, hours below 2 days)."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds // 60:.0f}m"
    if seconds < 172_800:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86_400:.0f}d"


def clock(at: datetime | None) -> str:
    """A timestamp as local wall-clock time with milliseconds."""
    if at is None:
        return "—"
    return at.astimezone().strftime("%H:%M:%S.%f")[:-3]


def cores(cpu_m: int) -> str:
    return f"{format_cpu(cpu_m)} CPU"


def node_status(view: NodeView) -> str:
    """The status with fault labels beside it: "unhealthy · partitioned"."""
    return " · ".join((str(view.status), *view.faults))


def node_heartbeat(view: NodeView) -> str:
    if view.seconds_since_heartbeat is None:
        return "no heartbeat yet" if view.status is NodeStatus.INITIALIZING else "no heartbeat"
    return f"heartbeat {age(view.seconds_since_heartbeat)}"


def container_color(status: ContainerStatus) -> str:
    if status.crashing:
        return "failed"
    if status.state == "terminated":
        return "succeeded" if status.exit_code == 0 else "failed"
    return CONTAINER_COLORS.get(status.state, "terminating")


def container_state(status: ContainerStatus) -> str:
    """The state as kubectl shows it: a container waiting out its restart back-off is in
    CrashLoopBackOff, with how long it waits and how its last run ended."""
    if not status.crashing:
        return status.state
    why = f", last {status.last_reason}" if status.last_reason else ""
    wait = f"back-off {status.backoff_s:g} s" if status.backoff_s is not None else ""
    return f"CrashLoopBackOff ({wait}{why})" if wait or why else "CrashLoopBackOff"


def container_summary(status: ContainerStatus) -> str:
    """ "restarts 2 · exit 137 · OOMKilled" (empty when there is nothing to say)."""
    parts = []
    if status.restarts:
        parts.append(f"restarts {status.restarts}")
    if status.exit_code is not None:
        parts.append(f"exit {status.exit_code}")
    if status.last_reason and status.last_reason != status.reason:
        parts.append(status.last_reason)
    if status.reason:
        parts.append(status.reason)
    if status.crashing and status.backoff_s is not None:
        parts.append(f"back-off {status.backoff_s:g} s")
    return " · ".join(parts)


def pod_summary(view: PodView) -> str:
    """IP, readiness of its containers and restarts: "127.244.0.3 · 1/2 running · restarts 3"."""
    running = sum(1 for c in view.containers if c.state == "running")
    restarts = sum(c.restarts for c in view.containers)
    parts = [view.ip] if view.node_id is not None else [view.reason or "waiting for capacity"]
    parts.append(f"{running}/{len(view.containers)} running")
    if restarts:
        parts.append(f"restarts {restarts}")
    return " · ".join(parts)
