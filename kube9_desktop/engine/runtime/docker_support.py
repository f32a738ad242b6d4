"""Names, labels, error messages and the daemon probe shared by the docker runtime."""

from __future__ import annotations

import asyncio
import os
import shutil
import traceback
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import docker
import docker.errors

from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.runtime.base import FoundNode, RuntimeState

LABEL_CLUSTER = "kube9.cluster"
LABEL_NODE = "kube9.node"
LABEL_NODE_ID = "kube9.node_id"
LABEL_VERSION = "kube9.version"
DOCKER_DESKTOP_HOST = "host.docker.internal"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_NOT_RUNNING = (
    "Docker is not running (or not answering): start it with `sudo systemctl start docker` "
    "(Docker Desktop: start the app), or choose the process runtime, then try again"
)
_NO_PERMISSION = (
    "Docker is running but this user may not use it: run `sudo usermod -aG docker $USER`, "
    "log out and in again, or choose the process runtime"
)


def describe_docker_error(exc: BaseException, doing: str) -> RuntimeUnavailable:
    """Turn a docker SDK / requests failure into a RuntimeUnavailable a person can act on."""
    if isinstance(exc, docker.errors.APIError):
        return RuntimeUnavailable(f"Docker could not {doing}: {exc.explanation or exc}")
    if "Permission denied" in str(exc) or isinstance(exc, PermissionError):
        return RuntimeUnavailable(f"{_NO_PERMISSION} (while trying to {doing})")
    if isinstance(exc, OSError) or "Error while fetching server API version" in str(exc):
        return RuntimeUnavailable(f"{_NOT_RUNNING}. (While trying to {doing}: {exc})")
    return RuntimeUnavailable(f"Docker could not {doing}: {exc}")


def is_connection_problem(exc: BaseException) -> bool:
    """True when the daemon did not answer at all (the client is then rebuilt next time)."""
    if isinstance(exc, docker.errors.APIError):
        return False
    return isinstance(exc, OSError | docker.errors.DockerException)


def release_frames(exc: BaseException) -> None:
    """Free a failed call's frames now: docker-py leaves the unconnected socket in them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


async def docker_available(timeout: float = 2.0) -> tuple[bool, str]:
    """Whether a Docker daemon answers a ping (for ``--runtime auto``), and why not if not."""

    def probe() -> str:
        client = docker.from_env(timeout=timeout)
        try:
            client.ping()
            return str(client.version().get("Version", "?"))
        finally:
            client.close()

    try:
        version = await asyncio.wait_for(asyncio.to_thread(probe), timeout + 1.0)
    except TimeoutError:
        return False, f"Docker did not answer within {timeout:g} s"
    except Exception as exc:
        release_frames(exc)
        return False, _short_reason(exc)
    return True, f"Docker {version} is running"


def _short_reason(exc: BaseException) -> str:
    """A status-bar sized reason why the daemon probe failed."""
    if isinstance(exc, docker.errors.APIError):
        return f"Docker answered with an error: {exc.explanation or exc}"
    if "Permission denied" in str(exc) or isinstance(exc, PermissionError):
        return "this user may not use Docker (`sudo usermod -aG docker $USER`, then log in again)"
    host = os.environ.get("DOCKER_HOST")
    if _not_installed(host):
        return "Docker is not installed (`sudo apt-get install docker.io`)"
    where = f" at {host}" if host else ""
    return f"Docker is not running{where} (start it with `sudo systemctl start docker`)"


def _not_installed(host: str | None) -> bool:
    """No daemon socket where the client looks and no Docker program: it was never installed."""
    if host and not host.startswith("unix://"):
        return False
    socket = host.removeprefix("unix://") if host else "/var/run/docker.sock"
    return not os.path.exists(socket) and not any(map(shutil.which, ("docker", "dockerd")))


def container_name(cluster: str, node: str) -> str:
    """``kube9-node-<name>`` for the default cluster, ``kube9-node-<cluster>-<name>`` otherwise."""
    return f"kube9-node-{node}" if cluster == "default" else f"kube9-node-{cluster}-{node}"


def volume_name(cluster: str, node: str) -> str:
    """The node's work volume, mounted at the agent's work dir so a restarted node keeps it."""
    return f"kube9-{cluster}-{node}-work"


def network_name(cluster: str) -> str:
    """The cluster's bridge network, used only where host networking cannot reach the app."""
    return f"kube9-{cluster}"


def bridge_api_url(url: str) -> str:
    """Point a loopback API URL at the Docker host, as seen from a bridged container."""
    parts = urlsplit(url)
    if parts.hostname not in _LOOPBACK_HOSTS:
        return url
    netloc = DOCKER_DESKTOP_HOST + (f":{parts.port}" if parts.port else "")
    if parts.username:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    return urlunsplit(parts._replace(netloc=netloc))


_STATES = {
    "running": RuntimeState.RUNNING,
    "restarting": RuntimeState.RUNNING,
    "paused": RuntimeState.PAUSED,
    "created": RuntimeState.EXITED,
    "exited": RuntimeState.EXITED,
    "dead": RuntimeState.EXITED,
    "removing": RuntimeState.MISSING,
}


def container_state(container: Any) -> RuntimeState:
    """The RuntimeState for a docker container's status string."""
    return _STATES.get(str(container.status), RuntimeState.EXITED)


def found_node(container: Any) -> FoundNode:
    """A FoundNode from a labelled node container."""
    labels = container.labels or {}
    raw_id = labels.get(LABEL_NODE_ID, "")
    return FoundNode(
        node_id=int(raw_id) if raw_id.isdigit() else None,
        name=labels.get(LABEL_NODE, container.name),
        handle=str(container.id),
        state=container_state(container),
    )


__all__ = [
    "DOCKER_DESKTOP_HOST",
    "LABEL_CLUSTER",
    "LABEL_NODE",
    "LABEL_NODE_ID",
    "LABEL_VERSION",
    "bridge_api_url",
    "container_name",
    "container_state",
    "describe_docker_error",
    "docker_available",
    "found_node",
    "is_connection_problem",
    "network_name",
    "release_frames",
    "volume_name",
]
