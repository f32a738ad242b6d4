"""Desired pods as the engine sends them, checked strictly before anything touches the disk.

The engine's reply is untrusted input: a pod with a bad field is refused whole (and named in
the log without any value), so a malformed entry can neither crash the agent nor let a name
escape the work directory.
"""

from __future__ import annotations

import ipaddress
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import quote

FIXED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLACEHOLDER_NAME = "pause"
MAX_SEGMENT_LENGTH = 200
DEFAULT_NAMESPACE = "default"
PROBE_KINDS = ("exec", "tcp_socket", "http_get")
MAX_PROBE_PATH = 1024
MIN_PROBE_PERIOD_S = 0.1  # the engine's own floor: a faster probe would busy the loop
MAX_PROBE_SECONDS = 86_400.0
MAX_THRESHOLD = 1000


class SpecError(ValueError):
    """A desired pod the agent refuses to run; the message names the field, never its value."""


GRACE_MAX_S = 3600.0


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A port the container declares; probes may name it instead of giving the number."""

    container_port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """A readiness or liveness probe with Kubernetes' defaults; ``port`` is already a number.

    ``kind`` is ``exec`` (run ``command``, pass on exit 0), ``tcp_socket`` (a connection to
    the pod's address and ``port`` opens) or ``http_get`` (GET ``path`` answers 200-399).
    """

    kind: str
    command: tuple[str, ...] = ()
    port: int = 0
    path: str = "/"
    initial_delay_s: float = 0.0
    period_s: float = 10.0
    timeout_s: float = 1.0
    failure_threshold: int = 3
    success_threshold: int = 1


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container: the argv to exec (``command`` + ``args``; empty means a placeholder)."""

    name: str
    image: str
    argv: tuple[str, ...]
    cpu_req: float = 0.0
    readiness: ProbeSpec | None = None
    liveness: ProbeSpec | None = None
    ports: tuple[PortSpec, ...] = ()

    @property
    def process_name(self) -> str:
        """argv[0] of the placeholder process: the image, like ``docker ps`` shows it."""
        return self.image or PLACEHOLDER_NAME


@dataclass(frozen=True, slots=True)
class EnvItem:
    """An environment variable of the pod; ``value`` stays out of every repr and log."""

    name: str
    value: str = field(repr=False)
    secret: bool = False


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    name: str
    type: str = "emptyDir"
    path: str = ""


@dataclass(frozen=True, slots=True)
class PodSpec:
    """A pod the node must run; equal specs mean nothing to restart."""

    id: int
    name: str
    containers: tuple[ContainerSpec, ...]
    env: tuple[EnvItem, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    pod_cpu_req: float | None = None  # the pod's whole request, what the engine's books charge
    namespace: str = DEFAULT_NAMESPACE
    ip: str | None = None  # the pod's address (None from an engine that does not send it)
    # SIGTERM to SIGKILL when it stops (None: the agent's own); what runs does not depend on it
    grace_s: float | None = field(default=None, compare=False)

    @property
    def dir_name(self) -> str:
        return f"{self.id}-{self.name}"

    @property
    def cpu_req(self) -> float:
        if self.pod_cpu_req is not None:
            return self.pod_cpu_req
        return sum(container.cpu_req for container in self.containers)

    def variables(self) -> dict[str, str]:
        """What ``$(VAR)`` may name: POD_NAME, POD_NAMESPACE, POD_IP, then the pod's own items
        (which win over the three, as a variable the pod defines itself would in Kubernetes)."""
        found = {"POD_NAME": self.name, "POD_NAMESPACE": self.namespace}
        if self.ip is not None:
            found["POD_IP"] = self.ip
        found.update((item.name, item.value) for item in self.env)
        return found

    def environment(self, home: Path) -> dict[str, str]:
        """The whole environment of the pod's processes: a fixed PATH, HOME, its variables."""
        return {"PATH": FIXED_PATH, "HOME": str(home), **self.variables()}

    @property
    def probe_host(self) -> str:
        """Where tcp and http probes connect: the pod's address when this machine has it
        (loopback, 127.244.0.0/14), else 127.0.0.1 (an engine without addresses, or an old
        10.244 address nothing can bind)."""
        if self.ip is not None and ipaddress.IPv4Address(self.ip).is_loopback:
            return self.ip
        return "127.0.0.1"


@dataclass(slots=True)
class DesiredPods:
    """The parsed ``desired_pods``: the pods to run, and what was refused.

    ``refused_ids`` holds the ids of refused entries (their running pods are kept);
    ``refused_without_id`` is set when an entry had no usable id, so any pod might be it.
    """

    pods: list[PodSpec]
    refused_ids: set[int]
    errors: list[str]
    refused_without_id: bool = False
    reasons: dict[int, str] = field(default_factory=dict)  # refused id -> why, for its report


def is_safe_segment(name: object) -> TypeGuard[str]:
    """True for a name usable as one path component: no separator, no ``..``, no NUL."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= MAX_SEGMENT_LENGTH
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()
    )


def split_argv(value: object, what: str) -> list[str]:
    """An argv list from a list of strings, or from one string split like a shell would."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise SpecError(f"{what} cannot be split into words ({exc})") from None
    elif isinstance(value, list):
        if not all(isinstance(word, str) for word in value):
            raise SpecError(f"{what} must be a list of strings")
        words = list(value)
    else:
        raise SpecError(f"{what} must be a list of strings or a string")
    if any("\0" in word for word in words):
        raise SpecError(f"{what} contains a NUL character")
    return words


def parse_desired_pods(raw: object) -> DesiredPods:
    """Parse the reply's ``desired_pods`` list, refusing bad entries one by one."""
    if not isinstance(raw, list):
        raise SpecError("desired_pods must be a list")
    result = DesiredPods([], set(), [])
    seen: set[int] = set()
    for index, entry in enumerate(raw):
        pod_id = entry.get("id") if isinstance(entry, Mapping) else None
        label = f"desired pod #{index}" + (f" (id {pod_id})" if _is_int(pod_id) else "")
        try:
            spec = parse_pod(entry)
            if spec.id in seen:
                raise SpecError("id appears twice")
        except SpecError as exc:
            result.errors.append(f"{label}: {exc}")
            if _is_int(pod_id):
                result.refused_ids.add(pod_id)
                result.reasons.setdefault(pod_id, str(exc))
            else:
                result.refused_without_id = True
            continue
        seen.add(spec.id)
        result.pods.append(spec)
    return result


def parse_pod(raw: object) -> PodSpec:
    """One desired pod; raise SpecError on the first field that is missing or unsafe."""
    if not isinstance(raw, Mapping):
        raise SpecError("must be an object")
    pod_id = raw.get("id")
    if not _is_int(pod_id) or pod_id < 1:
        raise SpecError("id must be a positive integer")
    name = raw.get("name")
    if not is_safe_segment(name):
        raise SpecError("name must be a single safe path segment")
    containers_raw = raw.get("containers")
    if not isinstance(containers_raw, list) or not containers_raw:
        raise SpecError("containers must be a non-empty list")
    containers = tuple(_parse_container(item, i) for i, item in enumerate(containers_raw))
    _require_unique([c.name for c in containers], "container name")
    env = tuple(_parse_env(item, i) for i, item in enumerate(_list_or_empty(raw, "env")))
    volumes = tuple(_parse_volume(item, i) for i, item in enumerate(_list_or_empty(raw, "volumes")))
    _require_unique([v.name for v in volumes], "volume name")
    pod_cpu = raw.get("cpu_req")
    namespace = raw.get("namespace") or DEFAULT_NAMESPACE
    if not isinstance(namespace, str) or not namespace.isprintable():
        raise SpecError("namespace must be a string")
    return PodSpec(
        pod_id,
        name,
        containers,
        env,
        volumes,
        None if pod_cpu is None else _non_negative(pod_cpu),
        namespace,
        _parse_ip(raw.get("ip")),
        _grace(raw.get("termination_grace_s")),
    )


def _grace(value: object) -> float | None:
    """The pod's termination grace in seconds, at most an hour (the engine's limit too)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= GRACE_MAX_S
    ):
        raise SpecError(
            f"termination_grace_s must be a number of seconds from 0 to {GRACE_MAX_S:g}"
        )
    return float(value)


def _parse_ip(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            pass
    raise SpecError("ip must be an IPv4 address")


def _named_object(raw: object, where: str) -> tuple[Mapping[str, Any], str]:
    """An object whose ``name`` is usable as one path segment (containers, volumes)."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object")
    name = raw.get("name")
    if not is_safe_segment(name):
        raise SpecError(f"{where}: name must be a single safe path segment")
    return raw, name


def _parse_container(item: object, index: int) -> ContainerSpec:
    where = f"container #{index}"
    raw, name = _named_object(item, where)
    image = raw.get("image") or ""
    if not isinstance(image, str) or "\0" in image:
        raise SpecError(f"{where}: image must be a string")
    argv = split_argv(raw.get("command"), f"{where}: command") + split_argv(
        raw.get("args"), f"{where}: args"
    )
    ports = tuple(
        _parse_port(p, f"{where}: port #{i}")
        for i, p in enumerate(_list_or_empty(raw, "ports", where))
    )
    _require_unique([p.name for p in ports if p.name], f"{where}: port name")
    readiness = _parse_probe(raw.get("readiness"), ports, f"{where}: readiness")
    liveness = _parse_probe(raw.get("liveness"), ports, f"{where}: liveness")
    if liveness is not None and liveness.success_threshold != 1:
        raise SpecError(f"{where}: liveness: success_threshold must be 1 (as in Kubernetes)")
    return ContainerSpec(
        name, image, tuple(argv), _non_negative(raw.get("cpu_req")), readiness, liveness, ports
    )


def _parse_port(raw: object, where: str) -> PortSpec:
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object")
    number = raw.get("container_port")
    if not _is_port(number):
        raise SpecError(f"{where}: container_port must be a port number (1-65535)")
    name = raw.get("name") or ""
    protocol = raw.get("protocol") or "TCP"
    if not isinstance(name, str) or not isinstance(protocol, str) or not name.isprintable():
        raise SpecError(f"{where}: name and protocol must be strings")
    return PortSpec(number, name, protocol)


def _parse_probe(raw: object, ports: tuple[PortSpec, ...], where: str) -> ProbeSpec | None:
    """One probe as protocol.md gives it: exactly one of exec, tcp_socket, http_get, plus
    timing fields (Kubernetes' defaults when absent); a named port becomes its number."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object")
    given = [k for k in PROBE_KINDS if raw.get(k) is not None]
    if len(given) != 1:
        raise SpecError(f"{where} must have exactly one of exec, tcp_socket or http_get")
    kind = given[0]
    handler = raw[kind]
    if not isinstance(handler, Mapping):
        raise SpecError(f"{where}: {kind} must be an object")
    command: tuple[str, ...] = ()
    port, path = 0, "/"
    if kind == "exec":
        command = tuple(split_argv(handler.get("command"), f"{where}: exec command"))
        if not command:
            raise SpecError(f"{where}: exec command must name a program")
    else:
        port = _resolve_port(handler.get("port"), ports, f"{where}: {kind} port")
    if kind == "http_get":
        path = _probe_path(handler.get("path", "/"), f"{where}: http_get path")
    return ProbeSpec(
        kind,
        command,
        port,
        path,
        initial_delay_s=_seconds(raw, "initial_delay_s", 0.0, 0.0, where),
        period_s=_seconds(raw, "period_s", 10.0, MIN_PROBE_PERIOD_S, where),
        timeout_s=_seconds(raw, "timeout_s", 1.0, MIN_PROBE_PERIOD_S, where),
        failure_threshold=_threshold(raw, "failure_threshold", 3, where),
        success_threshold=_threshold(raw, "success_threshold", 1, where),
    )


def _resolve_port(value: object, ports: tuple[PortSpec, ...], where: str) -> int:
    if _is_port(value):
        return value
    if isinstance(value, str) and value:
        for port in ports:
            if port.name == value:
                return port.container_port
        raise SpecError(f"{where} names a port the container does not declare")
    raise SpecError(f"{where} must be a port number (1-65535) or a declared port's name")


def _probe_path(value: object, where: str) -> str:
    """An absolute path for the request line: no whitespace or control characters (they would
    end the line), non-ASCII percent-encoded, a ``#fragment`` dropped as a URL client does."""
    if value is None or value == "":
        return "/"
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_PROBE_PATH:
        raise SpecError(f"{where} must be an absolute path of at most {MAX_PROBE_PATH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise SpecError(f"{where} must not contain whitespace or control characters")
    path = value.split("#", 1)[0] or "/"
    return "".join(ch if ord(ch) < 128 else quote(ch) for ch in path)


def _seconds(raw: Mapping[str, Any], key: str, default: float, least: float, where: str) -> float:
    value = raw.get(key)
    if value is None:
        return default
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and least <= value <= MAX_PROBE_SECONDS
    ):
        return float(value)
    raise SpecError(
        f"{where}: {key} must be a number of seconds from {least:g} to {MAX_PROBE_SECONDS:g}"
    )


def _threshold(raw: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = raw.get(key)
    if value is None:
        return default
    if _is_int(value) and 1 <= value <= MAX_THRESHOLD:
        return value
    raise SpecError(f"{where}: {key} must be an integer from 1 to {MAX_THRESHOLD}")


def _parse_env(raw: object, index: int) -> EnvItem:
    where = f"env item #{index}"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name or "=" in name or "\0" in name:
        raise SpecError(f"{where}: name must be a variable name without '=' or NUL")
    value = raw.get("value")
    if value is None:
        value = ""
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or "\0" in value:
        raise SpecError(f"{where} ({name}): value must be a string without NUL")
    return EnvItem(name, value, raw.get("secret") is True)


def _parse_volume(item: object, index: int) -> VolumeSpec:
    where = f"volume #{index}"
    raw, name = _named_object(item, where)
    kind = raw.get("type") or "emptyDir"
    path = raw.get("path") or ""
    if not isinstance(kind, str) or not isinstance(path, str):
        raise SpecError(f"{where}: type and path must be strings")
    return VolumeSpec(name, kind, path)


def _list_or_empty(raw: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{where}: {key} must be a list" if where else f"{key} must be a list")
    return value


def _require_unique(names: list[str], what: str) -> None:
    if len(set(names)) != len(names):
        raise SpecError(f"{what}s must be unique within the pod")


def _non_negative(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and number >= 0:
            return number
    return 0.0


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_port(value: object) -> TypeGuard[int]:
    return _is_int(value) and 1 <= value <= 65535
