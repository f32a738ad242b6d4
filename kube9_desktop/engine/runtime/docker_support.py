"""Names, labels, error messages and the daemon probe shared by the docker runtime."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
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


def docker_client(timeout: float | None = None) -> docker.DockerClient:
    """A client for the engine ``DOCKER_HOST`` names (else the local socket), as ``docker``'s
    own command reaches it.

    An ``ssh://`` engine goes through the system ``ssh`` client (``docker system dial-stdio``
    on the far side), as the docker CLI does: it uses the user's keys, agent and
    ``~/.ssh/config`` as they are, and needs no paramiko, which docker-py would otherwise
    require (and which the app does not ship). Without an ``ssh`` program the engine cannot
    be reached at all, and that is the error, not "Docker is not running".
    """
    host = os.environ.get("DOCKER_HOST", "")
    kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if host.startswith("ssh://"):
        if shutil.which("ssh") is None:
            raise docker.errors.DockerException(_NO_SSH.format(host=host))
        return docker.DockerClient(base_url=host, use_ssh_client=True, **kwargs)
    return docker.from_env(**kwargs)


_NO_SSH = (
    "DOCKER_HOST is {host}, an engine reached over SSH, and there is no ssh program "
    "(`sudo apt-get install openssh-client`)"
)


def _remote_cause(exc: BaseException, host: str | None = None) -> str | None:
    """For an engine that is not this machine's socket: the failure as it happened (an SSH
    refusal, a TLS failure, an unreachable address), since "not running" would only guess.
    ``host`` is the engine's URL (default: ``DOCKER_HOST``); a named engine on a unix socket
    other than the default one gets its cause too."""
    named = host is not None
    host = os.environ.get("DOCKER_HOST", "") if host is None else host
    if not host or (host.startswith("unix://") and not named):
        return None
    text = " ".join(str(exc).split())
    if text.startswith("DOCKER_HOST is"):
        return text
    return f"the Docker engine at {host} did not answer: {text[:300]}"


def describe_docker_error(
    exc: BaseException, doing: str, *, host: str | None = None
) -> RuntimeUnavailable:
    """Turn a docker SDK / requests failure into a RuntimeUnavailable a person can act on;
    ``host``: the engine's URL when it is a named engine (engines.py), not ``DOCKER_HOST``."""
    if isinstance(exc, docker.errors.APIError):
        return RuntimeUnavailable(f"Docker could not {doing}: {exc.explanation or exc}")
    if host is not None and ("Permission denied" in str(exc) or isinstance(exc, PermissionError)):
        return RuntimeUnavailable(f"permission denied on {host} (while trying to {doing})")
    remote = _remote_cause(exc, host)
    if remote is not None:
        return RuntimeUnavailable(f"{remote[0].upper()}{remote[1:]} (while trying to {doing})")
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
        client = docker_client(timeout=timeout)
        try:
            client.ping()
            return str(client.version().get("Version", "?"))
        finally:
            client.close()

    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("ssh://") and shutil.which("ssh") is not None:
        # Asked of ssh itself first: docker-py's error would say only that its stream closed
        # (and leave the failed ssh child behind).
        why = await asyncio.to_thread(ssh_failure, host, timeout)
        if why is not None:
            return False, f"the Docker engine at {host} cannot be reached over SSH: {why}"
    try:
        version = await asyncio.wait_for(asyncio.to_thread(probe), timeout + 1.0)
    except TimeoutError:
        return False, f"Docker did not answer within {timeout:g} s"
    except Exception as exc:
        release_frames(exc)
        return False, _short_reason(exc)
    return True, f"Docker {version} is running"


def ssh_failure(host: str, timeout: float) -> str | None:
    """What ``ssh`` says when it cannot run ``docker`` at ``host`` (``ssh://[user@]host[:port]``):
    its last line of errors ("Connection refused", "Permission denied (publickey)", "Could not
    resolve hostname"…), or None when it can. Never prompts (BatchMode)."""
    parts = urlsplit(host)
    if not parts.hostname:
        return f"{host!r} names no host"
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, round(timeout))}"]
    if parts.port:
        cmd += ["-p", str(parts.port)]
    target = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
    cmd += ["--", target, "docker", "version", "--format", "{{.Server.Version}}"]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout + 2, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ssh did not finish ({exc})"
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"ssh exited with status {done.returncode}"


def _short_reason(exc: BaseException) -> str:
    """A status-bar sized reason why the daemon probe failed."""
    if isinstance(exc, docker.errors.APIError):
        return f"Docker answered with an error: {exc.explanation or exc}"
    if "Permission denied" in str(exc) or isinstance(exc, PermissionError):
        return "this user may not use Docker (`sudo usermod -aG docker $USER`, then log in again)"
    remote = _remote_cause(exc)
    if remote is not None:
        return remote
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
