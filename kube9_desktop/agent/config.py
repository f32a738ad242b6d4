"""The agent's configuration, read from the ``KUBE9_*`` variables of docs/protocol.md."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WORKER_COMPONENTS: tuple[str, ...] = ("kubelet", "container_runtime", "kube_proxy", "node_agent")
MASTER_COMPONENTS: tuple[str, ...] = (
    *WORKER_COMPONENTS,
    "api_server",
    "scheduler",
    "controller_manager",
    "etcd",
)
NODE_TYPES: tuple[str, ...] = ("worker", "master")
MIN_INTERVAL_S = 0.05
MAX_INTERVAL_S = 60.0


class ConfigError(Exception):
    """The environment does not describe a node the agent can serve; the message says why."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Everything the agent needs to know about its node and its engine."""

    node_id: int
    node_name: str
    api_url: str
    token: str = field(repr=False)
    work_dir: Path
    node_type: str = "worker"
    heartbeat_interval: float = 1.0
    cpu_m: int = 0
    mem_mi: int = 0
    crash_backoff_s: float = 10.0  # a crashed container's first restart delay (doubles)
    crash_backoff_cap_s: float = 300.0  # its longest
    # The node is a container of its own (the Docker runtime says so): its usage figure is
    # the container's cgroup; otherwise the sum of its pods' processes.
    own_container: bool = False
    # The cluster CA (PEM) an https:// api_url is verified with (remote Docker engines)
    ca_pem: str = field(default="", repr=False)

    @property
    def components(self) -> tuple[str, ...]:
        return MASTER_COMPONENTS if self.node_type == "master" else WORKER_COMPONENTS


def clamp_interval(seconds: float) -> float:
    """Keep a heartbeat interval within what the loop can honour (50 ms to a minute)."""
    return min(max(seconds, MIN_INTERVAL_S), MAX_INTERVAL_S)


def load_config(environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Parse and validate the environment; raise ConfigError naming every bad variable."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def required(name: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            problems.append(f"{name} is required but not set")
        return value

    def integer(name: str, raw: str, minimum: int) -> int:
        try:
            value = int(raw)
        except ValueError:
            problems.append(f"{name} must be an integer, got {raw!r}")
            return minimum
        if value < minimum:
            problems.append(f"{name} must be at least {minimum}, got {value}")
        return value

    raw_id = required("KUBE9_NODE_ID")
    node_id = integer("KUBE9_NODE_ID", raw_id, 0) if raw_id else 0
    node_name = required("KUBE9_NODE_NAME")
    api_url = required("KUBE9_API_URL").rstrip("/")
    if api_url:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"KUBE9_API_URL must be an http(s) URL, got {api_url!r}")
    token = required("KUBE9_NODE_TOKEN")
    work_dir = required("KUBE9_WORK_DIR")
    node_type = env.get("KUBE9_NODE_TYPE", "worker").strip() or "worker"
    if node_type not in NODE_TYPES:
        problems.append(f"KUBE9_NODE_TYPE must be worker or master, got {node_type!r}")
    interval = 1.0
    raw_interval = env.get("KUBE9_HEARTBEAT_INTERVAL", "").strip()
    if raw_interval:
        try:
            interval = float(raw_interval)
        except ValueError:
            interval = math.nan
        if not math.isfinite(interval) or interval <= 0:
            problems.append(
                f"KUBE9_HEARTBEAT_INTERVAL must be a positive number of seconds, "
                f"got {raw_interval!r}"
            )

    def seconds(name: str, default: float) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            problems.append(f"{name} must be a number of seconds, 0 or more, got {raw!r}")
            return default
        return value

    backoff = seconds("KUBE9_CRASH_BACKOFF", 10.0)
    backoff_cap = seconds("KUBE9_CRASH_BACKOFF_CAP", 300.0)
    if backoff_cap < backoff:
        problems.append(
            f"KUBE9_CRASH_BACKOFF_CAP ({backoff_cap:g}) must not be below "
            f"KUBE9_CRASH_BACKOFF ({backoff:g})"
        )
    raw_cpu = env.get("KUBE9_CPU_M", "").strip()
    cpu_m = integer("KUBE9_CPU_M", raw_cpu, 0) if raw_cpu else (os.cpu_count() or 1) * 1000
    raw_mem = env.get("KUBE9_MEM_MI", "").strip()
    mem_mi = integer("KUBE9_MEM_MI", raw_mem, 0) if raw_mem else 0
    raw_own = env.get("KUBE9_OWN_CONTAINER", "").strip()
    if raw_own not in ("", "0", "1"):
        problems.append(f"KUBE9_OWN_CONTAINER must be 0 or 1, got {raw_own!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    return AgentConfig(
        node_id=node_id,
        node_name=node_name,
        api_url=api_url,
        token=token,
        work_dir=Path(work_dir).absolute(),
        node_type=node_type,
        heartbeat_interval=clamp_interval(interval),
        cpu_m=cpu_m,
        mem_mi=mem_mi,
        crash_backoff_s=backoff,
        crash_backoff_cap_s=backoff_cap,
        own_container=raw_own == "1",
        ca_pem=env.get("KUBE9_CA_PEM", "").strip(),
    )
