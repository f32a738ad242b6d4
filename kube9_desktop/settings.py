"""Every setting, declared once: type, default and a one-line description side by side.

The command line, environment variables and the GUI's settings dialog all fill this one
declaration; nothing else in the code invents a default.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RUNTIMES = ("auto", "docker", "process", "virtual")
SCHEDULERS = ("best-fit", "first-fit", "worst-fit")
THEMES = ("system", "light", "dark")


LOCAL_ENGINE = "local"  # this machine's Docker engine (DOCKER_HOST): always there
_SCHEMES = ("unix", "tcp", "ssh", "context")
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789-._")


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """One engine as the settings name it; ``url`` "" is this machine's (``DOCKER_HOST``)."""

    name: str
    url: str = ""
    tls_dir: str | None = None

    @property
    def shown_url(self) -> str:
        if self.url:
            return self.url
        return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def parse_engine(text: str) -> EngineSpec:
    """``NAME=URL[,tls=DIR]`` as an EngineSpec; ValueError saying what is wrong."""
    name, sep, rest = text.strip().partition("=")
    name = name.strip()
    if not sep or not rest.strip():
        raise ValueError(f"docker engine {text!r}: give it as NAME=URL (e.g. lab=ssh://me@lab)")
    if not name or not set(name) <= _NAME_OK or not name[0].isalnum():
        raise ValueError(
            f"docker engine {text!r}: the name {name!r} must be lower-case letters, digits, "
            "'-', '.' or '_', starting with a letter or digit"
        )
    if name == LOCAL_ENGINE:
        raise ValueError(
            f"docker engine {text!r}: 'local' is always this machine's engine (DOCKER_HOST); "
            "name the other one differently"
        )
    url, *options = (part.strip() for part in rest.split(","))
    tls_dir: str | None = None
    for option in options:
        key, _, value = option.partition("=")
        if key != "tls" or not value:
            raise ValueError(f"docker engine {name}: unknown option {option!r} (only tls=DIR)")
        tls_dir = value
    scheme = url.split(":", 1)[0]
    if scheme not in _SCHEMES or ":" not in url:
        raise ValueError(
            f"docker engine {name}: {url!r} is not unix:///path, tcp://host:port, "
            "ssh://[user@]host[:port] or context:NAME"
        )
    if scheme in ("tcp", "ssh") and not urlsplit(url).hostname:
        raise ValueError(f"docker engine {name}: {url!r} names no host")
    if scheme == "unix" and not url.removeprefix("unix://").startswith("/"):
        raise ValueError(f"docker engine {name}: {url!r} is not unix:///absolute/path")
    if tls_dir is not None and scheme != "tcp":
        raise ValueError(f"docker engine {name}: tls=DIR goes with tcp:// only")
    return EngineSpec(name, url, tls_dir)


def engine_specs(texts: Iterable[str]) -> list[EngineSpec]:
    """``local`` first, then the named engines; ValueError for a bad one or a repeated name."""
    specs = [EngineSpec(LOCAL_ENGINE)]
    for text in texts:
        spec = parse_engine(text)
        if any(s.name == spec.name for s in specs):
            raise ValueError(f"docker engine {spec.name}: named twice")
        specs.append(spec)
    return specs


def check_engine_settings(engines: Iterable[str], advertise_url: str | None) -> None:
    """Settings.validate's check of ``docker_engines`` and ``advertise_url``."""
    try:
        engine_specs(engines)
    except ValueError as exc:
        raise ValueError(f"docker_engines: {exc}") from None
    if advertise_url:
        parts = urlsplit(advertise_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"advertise_url: {advertise_url!r} is not http(s)://host[:port]")


def _doc(text: str, **extra: Any) -> dict[str, Any]:
    return {"doc": text, **extra}


def default_data_dir() -> Path:
    """``$KUBE9_DATA_DIR``, else ``$XDG_DATA_HOME/kube9-desktop``, else ``~/.local/share/...``."""
    if env := os.environ.get("KUBE9_DATA_DIR"):
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kube9-desktop"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default_factory=default_data_dir,
        metadata=_doc("Directory holding cluster.db, the API token, node work dirs and logs."),
    )
    db_url: str | None = field(
        default_factory=lambda: os.environ.get("KUBE9_DATABASE_URL") or None,
        metadata=_doc("SQLAlchemy URL of the store; default: SQLite cluster.db in data_dir."),
    )
    host: str = field(default="127.0.0.1", metadata=_doc("Address the API binds to."))
    port: int = field(default=5000, metadata=_doc("API port; 0 picks a free one."))
    k8s_port: int | None = field(
        default=None,
        metadata=_doc(
            "Kubernetes API port (HTTPS, for kubectl); default 6443, or a free one when the "
            "API port is 0; 0 picks a free one."
        ),
    )
    allow_remote: bool = field(
        default=False,
        metadata=_doc("Allow binding the API to a non-loopback address (exposes the cluster)."),
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(), metadata=_doc("Extra Host header names the API accepts (DNS rebinding guard).")
    )
    api_token: str | None = field(
        default_factory=lambda: os.environ.get("KUBE9_API_TOKEN") or None,
        metadata=_doc("Admin token; default: generated once into data_dir/api-token."),
    )
    runtime: str = field(
        default="auto",
        metadata=_doc("Where nodes run: docker, process, virtual, or auto.", choices=RUNTIMES),
    )
    scheduler: str = field(
        default="best-fit",
        metadata=_doc("Scheduling strategy for new and displaced pods.", choices=SCHEDULERS),
    )
    cluster_name: str = field(
        default="default", metadata=_doc("Cluster name used in Docker labels and names.")
    )
    heartbeat_interval: float = field(
        default=1.0, metadata=_doc("Seconds between node heartbeats.", minimum=0.05)
    )
    grace_period: float | None = field(
        default=None,
        metadata=_doc("Seconds without a heartbeat before a node is unhealthy (3 intervals)."),
    )
    detect_from_runtime: bool = field(
        default=False,
        metadata=_doc(
            "Also learn of a node's death from its runtime (Docker die/oom events, the agent "
            "process's exit): detected in milliseconds instead of a grace period."
        ),
    )
    eviction_delay: float = field(
        default=0.0, metadata=_doc("Seconds an unhealthy node keeps its pods before eviction.")
    )
    kubernetes_default_tolerations: bool = field(
        default=False,
        metadata=_doc(
            "Kubernetes defaults: every pod tolerates the not-ready and unreachable NoExecute "
            "taints for 300 s (kube-apiserver's admission), so an unhealthy node keeps its pods "
            "5 minutes; off, they are evicted as soon as the node is found unhealthy."
        ),
    )
    max_recovery_attempts: int = field(
        default=3, metadata=_doc("Restarts in a row before a node is marked failed.")
    )
    recovery_backoff: float = field(
        default=1.0, metadata=_doc("First recovery back-off in seconds; doubles per attempt.")
    )
    recovery_backoff_cap: float = field(
        default=30.0, metadata=_doc("Longest recovery back-off in seconds.")
    )
    recovery_reset_after: float = field(
        default=60.0, metadata=_doc("Seconds of health after which the attempt count resets.")
    )
    crash_backoff: float = field(
        default=10.0,
        metadata=_doc("Seconds before a crashed container restarts; doubles per crash (as K8s)."),
    )
    crash_backoff_cap: float = field(
        default=300.0, metadata=_doc("Longest container restart back-off in seconds (as K8s).")
    )
    startup_timeout: float = field(
        default=60.0, metadata=_doc("Seconds a new or restarted node may take to heartbeat.")
    )
    restart_timeout: float | None = field(
        default=None,
        metadata=_doc("Seconds a restarted node may take to heartbeat (3 grace periods)."),
    )
    monitor_ticks_per_interval: int = field(
        default=4, metadata=_doc("Health monitor ticks per heartbeat interval.")
    )
    heartbeat_flush_interval: float = field(
        default=5.0, metadata=_doc("Seconds between batched writes of heartbeat times.")
    )
    base_image: str = field(
        default="python:3.12-slim", metadata=_doc("Base image of the Docker node image.")
    )
    docker_engines: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "More Docker engines nodes may run on, each NAME=URL[,tls=DIR]: unix:///path, "
            "tcp://host:2376 (tls=DIR: ca.pem, cert.pem, key.pem), ssh://user@host, or "
            "context:NAME (a docker context). This machine's engine is always 'local'."
        ),
    )
    advertise_url: str | None = field(
        default=None,
        metadata=_doc(
            "The address agents on remote engines reach the API at (http(s)://host[:port]); "
            "default: this machine's source address on the route to each engine."
        ),
    )
    demo: bool = field(default=False, metadata=_doc("Start with a demo cluster if empty."))
    theme: str = field(default="system", metadata=_doc("GUI theme.", choices=THEMES))

    @property
    def effective_grace_period(self) -> float:
        """The grace period, defaulting to three heartbeat intervals."""
        if self.grace_period is not None:
            return self.grace_period
        return 3 * self.heartbeat_interval

    @property
    def effective_k8s_port(self) -> int:
        """The Kubernetes API's port: as set, else 6443 (any free one when ``port`` is 0, so
        an engine asked for free ports never contends for 6443 with another)."""
        if self.k8s_port is not None:
            return self.k8s_port
        return 0 if self.port == 0 else 6443

    @property
    def effective_restart_timeout(self) -> float:
        if self.restart_timeout is not None:
            return self.restart_timeout
        return 3 * self.effective_grace_period

    @property
    def monitor_tick(self) -> float:
        return self.heartbeat_interval / max(1, self.monitor_ticks_per_interval)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'cluster.db'}"

    def validate(self) -> Settings:
        """Raise ValueError naming the first setting that makes no sense."""
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ValueError(f"{f.name}: {value!r} is not one of {', '.join(choices)}")
        if self.heartbeat_interval < 0.05:
            raise ValueError("heartbeat_interval: must be at least 0.05 s")
        if self.grace_period is not None and self.grace_period <= self.heartbeat_interval:
            raise ValueError("grace_period: must be longer than the heartbeat interval")
        if not 0 <= self.port <= 65535:
            raise ValueError("port: must be between 0 and 65535")
        if self.k8s_port is not None and not 0 <= self.k8s_port <= 65535:
            raise ValueError("k8s_port: must be between 0 and 65535")
        if self.max_recovery_attempts < 0:
            raise ValueError("max_recovery_attempts: must be 0 or more")
        if not 0 <= self.crash_backoff <= self.crash_backoff_cap:
            raise ValueError("crash_backoff: must be 0 or more and not above crash_backoff_cap")
        if self.eviction_delay < 0:
            raise ValueError("eviction_delay: must be 0 or more")
        if self.docker_engines or self.advertise_url:
            check_engine_settings(self.docker_engines, self.advertise_url)
        return self

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
