"""Several Docker engines in one cluster: the engines a cluster may use, and the runtime that
sends each node's calls to the engine it runs on.

An engine is named in the settings as ``NAME=URL[,tls=DIR]``; this machine's engine (the one
``DOCKER_HOST`` names, else the local socket) is always ``local``. URLs:

- ``unix:///path/docker.sock``: a socket on this machine (another dockerd, a rootless one);
- ``tcp://host:2376`` with ``tls=DIR``: ``ca.pem``, ``cert.pem`` and ``key.pem`` in DIR, as
  ``DOCKER_CERT_PATH`` holds them (the server's certificate is verified against ``ca.pem``);
  ``tcp://`` without ``tls=`` is plain HTTP, for a lab network only;
- ``ssh://user@host[:port]``: through the system ``ssh`` client (docker_support.py says why);
- ``context:NAME``: the endpoint (and TLS files) of a ``docker context``.

``DockerEngines`` is one ``DockerRuntime`` per engine, each with its own client, events
thread and node image, behind the ``NodeRuntime`` protocol. Each engine's state (up, down
with its cause) is kept from the answers of its own calls and probes, so an engine that goes
away makes only its own nodes' calls fail (with the engine's name and the real cause), and
the others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import docker
import docker.errors
import docker.tls

from kube9_desktop.engine.errors import Conflict, RuntimeUnavailable
from kube9_desktop.engine.runtime.base import (
    ExitFn,
    FoundNode,
    NodeHandle,
    NodeHome,
    NodeLaunch,
    ProgressFn,
    RuntimeState,
)
from kube9_desktop.engine.runtime.docker import DockerRuntime
from kube9_desktop.engine.runtime.docker_support import (
    describe_docker_error,
    docker_client,
    release_frames,
    ssh_failure,
)
from kube9_desktop.engine.runtime.images import DEFAULT_BASE_IMAGE
from kube9_desktop.settings import LOCAL_ENGINE as LOCAL
from kube9_desktop.settings import EngineSpec, check_engine_settings, engine_specs, parse_engine

log = logging.getLogger(__name__)

_PROBE_TIMEOUT = 3.0


# ---- reaching an engine ------------------------------------------------------------------


def _tls_config(spec: EngineSpec, tls_dir: str) -> docker.tls.TLSConfig:
    folder = Path(tls_dir).expanduser()
    missing = [n for n in ("ca.pem", "cert.pem", "key.pem") if not (folder / n).is_file()]
    if missing:
        raise docker.errors.DockerException(
            f"the TLS directory {folder} of engine {spec.name} lacks {', '.join(missing)}"
        )
    return docker.tls.TLSConfig(
        client_cert=(str(folder / "cert.pem"), str(folder / "key.pem")),
        ca_cert=str(folder / "ca.pem"),
        verify=True,
    )


def resolve(spec: EngineSpec) -> tuple[str, docker.tls.TLSConfig | None]:
    """The engine's base URL and TLS settings (a ``context:`` looked up in docker's config)."""
    url = spec.url
    if url.startswith("context:"):
        from docker.context import ContextAPI

        name = url.removeprefix("context:")
        try:
            context = ContextAPI.get_context(name)
        except Exception as exc:
            raise docker.errors.DockerException(f"docker context {name!r}: {exc}") from exc
        if context is None:
            raise docker.errors.DockerException(f"there is no docker context named {name!r}")
        return str(context.Host), context.TLSConfig or None
    tls = _tls_config(spec, spec.tls_dir) if spec.tls_dir else None
    return url, tls


def client_factory(spec: EngineSpec) -> Callable[..., docker.DockerClient]:
    """A ``(timeout=None) -> DockerClient`` for the engine, as DockerRuntime wants one."""
    if not spec.url:
        return docker_client

    def make(timeout: float | None = None) -> docker.DockerClient:
        url, tls = resolve(spec)
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        if url.startswith("ssh://"):
            return docker.DockerClient(base_url=url, use_ssh_client=True, **kwargs)
        if url.startswith("tcp://") and tls is not None:
            url = "https://" + url.removeprefix("tcp://")
        return docker.DockerClient(base_url=url, tls=tls or False, **kwargs)

    return make


def route_source_address(host: str) -> str | None:
    """This machine's source address on the route to ``host`` (a UDP connect sends nothing:
    it only makes the kernel pick the route and the address); None when there is no route."""
    try:
        infos = socket.getaddrinfo(host, 9, type=socket.SOCK_DGRAM)
    except OSError:
        return None
    for family, kind, proto, _name, address in infos:
        with contextlib.suppress(OSError), socket.socket(family, kind, proto) as s:
            s.connect(address)
            return str(s.getsockname()[0])
    return None


def engine_host(spec: EngineSpec) -> str | None:
    """The machine an engine runs on, if its URL names one (tcp://, ssh://, a tcp context)."""
    url = spec.url
    if url.startswith("context:"):
        with contextlib.suppress(Exception):
            url = resolve(spec)[0]
    if url.startswith(("tcp://", "ssh://", "https://", "http://")):
        return urlsplit(url).hostname
    return None


def advertised_url(api_url: str, spec: EngineSpec, advertise: str | None) -> str:
    """The API's URL as agents on ``spec`` reach it: loopback for the local engine; for a
    remote one ``advertise`` (its port defaults to the API's), else this machine's address on
    the route to the engine. "" when neither is known (say so: --advertise-url)."""
    api = urlsplit(api_url)
    if spec.name == LOCAL:
        return api_url
    if advertise:
        parts = urlsplit(advertise)
        port = parts.port or api.port
        netloc = f"{_bracket(parts.hostname or '')}" + (f":{port}" if port else "")
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    host = engine_host(spec)
    source = route_source_address(host) if host else None
    if source is None:
        return ""
    return urlunsplit((api.scheme, f"{_bracket(source)}:{api.port}", api.path, "", ""))


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# ---- the multiplexer -----------------------------------------------------------------------


@dataclass(slots=True)
class EngineStatus:
    """What is known of one engine: up or down and why, and since when (monotonic)."""

    spec: EngineSpec
    up: bool | None = None  # None: not asked yet
    error: str = ""
    since: float = field(default_factory=time.monotonic)
    agent_url: str = ""


EngineChangeFn = Callable[[str, bool, str], None]


class DockerEngines:
    """One DockerRuntime per engine behind the NodeRuntime protocol; calls go to the engine
    the node runs on (its launch says which; node-id-only calls ask ``locate``)."""

    name = "docker"

    def __init__(
        self,
        specs: list[EngineSpec],
        *,
        cluster: str = "default",
        base_image: str | None = None,
        progress: ProgressFn | None = None,
        advertise_url: str | None = None,
        runtime_factory: Callable[[EngineSpec, ProgressFn | None], DockerRuntime] | None = None,
    ) -> None:
        self.cluster = cluster
        self.advertise_url = advertise_url
        self.engines: dict[str, EngineStatus] = {s.name: EngineStatus(s) for s in specs}
        self.runtimes: dict[str, DockerRuntime] = {}
        self._placed: dict[int, str] = {}
        self.locate: Callable[[int], str | None] = lambda _node_id: None
        self.on_change: EngineChangeFn = lambda _name, _up, _why: None
        self.ca_pem = ""  # the cluster CA, for agents told an https:// advertised URL
        for spec in specs:

            def report(message: str, _name: str = spec.name) -> None:
                if progress is not None:
                    progress(message if _name == LOCAL else f"engine {_name}: {message}")

            if runtime_factory is not None:
                runtime = runtime_factory(spec, report)
            else:
                runtime = DockerRuntime(
                    cluster=cluster, base_image=base_image or DEFAULT_BASE_IMAGE,
                    progress=report, client_factory=client_factory(spec),
                    engine_url=spec.url or None,
                )  # fmt: skip
            self.runtimes[spec.name] = runtime

    # -- engine state -------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.engines)

    def is_up(self, name: str) -> bool:
        """False only for an engine known to be down (one never asked counts as up)."""
        found = self.engines.get(name)
        return found is None or found.up is not False

    def _mark(self, name: str, up: bool, error: str = "") -> None:
        status = self.engines[name]
        if status.up is up and status.error == error:
            return
        changed = status.up is not None and status.up is not up
        first_down = status.up is None and not up
        status.up, status.error, status.since = up, error, time.monotonic()
        if changed or first_down:
            self.on_change(name, up, error)

    def _error(self, name: str, exc: BaseException) -> RuntimeUnavailable:
        """``exc`` from engine ``name`` as a RuntimeUnavailable naming the engine."""
        spec = self.engines[name].spec
        message = getattr(exc, "message", None) or str(exc)
        if name != LOCAL or spec.url:
            message = f"Docker engine {name} ({spec.shown_url}): {message}"
        return RuntimeUnavailable(message, engine=name)

    async def probe(self, name: str, timeout: float = _PROBE_TIMEOUT) -> str:
        """Ask engine ``name`` for its version; "" when it answers, else the real cause (SSH
        refused, TLS failure, permission denied on the socket…). Updates its state."""
        spec = self.engines[name].spec
        url = spec.url or os.environ.get("DOCKER_HOST", "")
        why = ""
        if url.startswith("ssh://") and self.engines[name].up is not True:
            # Asked of ssh itself first: docker-py would say only that its stream closed (and
            # leave the failed ssh child behind). An engine that is up is only pinged.
            said = await asyncio.to_thread(ssh_failure, url, timeout)
            why = f"cannot be reached over SSH: {said}" if said else ""
        if not why:
            why = await asyncio.to_thread(self._ping, spec, timeout)
        if why:
            message = f"Docker engine {name} ({spec.shown_url}) {why}"
            self._mark(name, False, message)
            return message
        self._mark(name, True)
        return ""

    def _ping(self, spec: EngineSpec, timeout: float) -> str:
        client = None
        try:
            client = client_factory(spec)(timeout=timeout)
            client.ping()
        except Exception as exc:
            release_frames(exc)
            shown = describe_docker_error(exc, "answer a ping", host=spec.shown_url)
            return f"did not answer: {shown.message}"
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
        return ""

    async def probe_all(self) -> dict[str, str]:
        names = self.names
        found = await asyncio.gather(*(self.probe(n) for n in names))
        return dict(zip(names, found, strict=True))

    def agent_url(self, name: str, api_url: str) -> str:
        return advertised_url(api_url, self.engines[name].spec, self.advertise_url)

    def choose(self, counts: dict[str, int]) -> str:
        """The spread rule: the engine with the fewest nodes among those up, ties by name
        (an engine never asked counts as up)."""
        up = [n for n in self.names if self.is_up(n)] or self.names
        return min(up, key=lambda n: (counts.get(n, 0), n))

    # -- routing --------------------------------------------------------------------------

    def _where(self, node_id: int) -> str:
        name = self._placed.get(node_id) or self.locate(node_id) or LOCAL
        return name if name in self.runtimes else LOCAL

    async def _call(self, name: str, fn: Callable[[DockerRuntime], Any]) -> Any:
        """``fn`` on engine ``name``'s runtime. An engine known to be down is asked again
        first (and not troubled further if it still is); a call that finds it gone raises
        the probe's words, the real cause (docker-py's would often be "stream closed")."""
        if self.engines[name].up is False:
            why = await self.probe(name)
            if why:
                raise RuntimeUnavailable(why, engine=name)
        try:
            result = await fn(self.runtimes[name])
        except RuntimeUnavailable as exc:
            error = self._error(name, exc)
            if isinstance(exc.__cause__, docker.errors.APIError) or exc.__cause__ is None:
                raise error from exc  # the engine answered: refused, or a failed build
            why = await self.probe(name)
            raise RuntimeUnavailable(why or error.message, engine=name) from exc
        except (Conflict, ValueError):
            raise
        self._mark(name, True)
        return result

    def _launch(self, launch: NodeLaunch) -> tuple[str, NodeLaunch]:
        name = launch.engine if launch.engine in self.runtimes else LOCAL
        if launch.engine not in self.runtimes:
            log.warning("node %s names engine %r, which is not configured: using local",
                        launch.name, launch.engine)  # fmt: skip
        self._placed[launch.node_id] = name
        if name == LOCAL:
            return name, launch
        url = self.agent_url(name, launch.api_url)
        if not url:
            raise RuntimeUnavailable(
                f"Docker engine {name} ({self.engines[name].spec.shown_url}): no address its "
                "agents could reach this machine at is known; give --advertise-url",
                engine=name,
            )
        ca = self.ca_pem if url.startswith("https://") else ""
        return name, replace(launch, api_url=url, ca_pem=ca)

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        name, there = self._launch(launch)
        handle: NodeHandle = await self._call(name, lambda r: r.start(there))
        return handle

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        name, there = self._launch(launch)
        handle: NodeHandle = await self._call(name, lambda r: r.restart(there))
        return handle

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        name, there = self._launch(replace(launch, engine=found.engine))
        handle: NodeHandle = await self._call(name, lambda r: r.adopt(there, found))
        return handle

    async def stop(self, node_id: int) -> None:
        await self._call(self._where(node_id), lambda r: r.stop(node_id))

    async def kill(self, node_id: int) -> None:
        await self._call(self._where(node_id), lambda r: r.kill(node_id))

    async def pause(self, node_id: int) -> None:
        await self._call(self._where(node_id), lambda r: r.pause(node_id))

    async def resume(self, node_id: int) -> None:
        await self._call(self._where(node_id), lambda r: r.resume(node_id))

    async def remove(self, node_id: int) -> None:
        await self._call(self._where(node_id), lambda r: r.remove(node_id))
        self._placed.pop(node_id, None)

    async def status(self, node_id: int) -> RuntimeState:
        name = self._where(node_id)
        state: RuntimeState = await self.runtimes[name].status(node_id)
        return state

    async def discover(self) -> list[FoundNode]:
        """Every engine's nodes of this cluster; an engine that is down is marked so and
        skipped (its nodes are found when it is back). All down: RuntimeUnavailable."""
        names = self.names
        results = await asyncio.gather(
            *(self._call(n, lambda r: r.discover()) for n in names), return_exceptions=True
        )
        found: list[FoundNode] = []
        errors: list[BaseException] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                errors.append(result)
                continue
            for f in result:
                if f.node_id is not None:
                    self._placed[f.node_id] = name
                found.append(replace(f, engine=name))
        if errors and len(errors) == len(names):
            raise errors[0]
        return found

    def watch_exits(self, on_exit: ExitFn) -> None:
        for runtime in self.runtimes.values():
            runtime.watch_exits(on_exit)

    def node_home(self, node_id: int, name: str) -> NodeHome:
        return self.runtimes[self._where(node_id)].node_home(node_id, name)

    async def read_node_file(
        self, node_id: int, relative: str, start: int, limit: int
    ) -> tuple[bytes, int] | None:
        where = self._where(node_id)
        read: tuple[bytes, int] | None = await self._call(
            where, lambda r: r.read_node_file(node_id, relative, start, limit)
        )
        return read

    async def write_hosts(self, node_id: int, block: str) -> None:
        await self._call(self._where(node_id), lambda r: r.write_hosts(node_id, block))

    async def close(self) -> None:
        await asyncio.gather(*(r.close() for r in self.runtimes.values()))


__all__ = [
    "LOCAL",
    "DockerEngines",
    "EngineSpec",
    "EngineStatus",
    "advertised_url",
    "check_engine_settings",
    "client_factory",
    "engine_specs",
    "parse_engine",
    "route_source_address",
]
