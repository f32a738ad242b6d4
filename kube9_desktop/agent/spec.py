"""Desired pods as the engine sends them, checked strictly before anything touches the disk.

The engine's reply is untrusted input: a pod with a bad field is refused whole (and named in
the log without any value), so a malformed entry can neither crash the agent nor let a name
escape the work directory.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

FIXED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLACEHOLDER_NAME = "pause"
MAX_SEGMENT_LENGTH = 200


class SpecError(ValueError):
    """A desired pod the agent refuses to run; the message names the field, never its value."""


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container: the argv to exec (``command`` + ``args``; empty means a placeholder)."""

    name: str
    image: str
    argv: tuple[str, ...]
    cpu_req: float = 0.0

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

    @property
    def dir_name(self) -> str:
        return f"{self.id}-{self.name}"

    @property
    def cpu_req(self) -> float:
        if self.pod_cpu_req is not None:
            return self.pod_cpu_req
        return sum(container.cpu_req for container in self.containers)

    def environment(self, home: Path) -> dict[str, str]:
        """The whole environment of the pod's processes: a fixed PATH, HOME, its own items."""
        env = {"PATH": FIXED_PATH, "HOME": str(home)}
        env.update((item.name, item.value) for item in self.env)
        return env


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
    return PodSpec(
        pod_id, name, containers, env, volumes, None if pod_cpu is None else _non_negative(pod_cpu)
    )


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
    return ContainerSpec(name, image, tuple(argv), _non_negative(raw.get("cpu_req")))


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


def _list_or_empty(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{key} must be a list")
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
