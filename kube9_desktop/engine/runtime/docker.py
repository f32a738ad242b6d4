"""The docker runtime: each node is a container ``kube9-node-<name>`` running the node agent.

Every docker SDK call runs in a worker thread (``asyncio.to_thread``). Daemon trouble surfaces
as ``RuntimeUnavailable`` with advice, never as a docker or requests exception; the client is
recreated lazily, so calls work again once the daemon is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors

import kube9_desktop
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
from kube9_desktop.engine.runtime.docker_support import (
    DOCKER_DESKTOP_HOST,
    LABEL_CLUSTER,
    LABEL_NODE,
    LABEL_NODE_ID,
    LABEL_VERSION,
    bridge_api_url,
    container_name,
    container_state,
    describe_docker_error,
    docker_available,
    docker_client,
    found_node,
    is_connection_problem,
    network_name,
    release_frames,
    volume_name,
)
from kube9_desktop.engine.runtime.images import DEFAULT_BASE_IMAGE, WORK_DIR, ensure_node_image

log = logging.getLogger(__name__)

T = TypeVar("T")
ClientFactory = Callable[[], docker.DockerClient]

_MIN_MEMORY_MI = 6


# $1 path, $2 first byte (1-based), $3 byte count: prints the size, a newline, then the bytes.
READ_SLICE_SH = '[ -f "$1" ] || exit 3; stat -c %s "$1" && tail -c +"$2" "$1" | head -c "$3"'
# Replaces the lines between the markers in /etc/hosts (in place: Docker bind-mounts it) with
# argv[1]; Docker's own lines stay. The node image has python3 (agent/ runs on it).
WRITE_HOSTS_PY = """
import sys
begin, end = "# kube9 services begin", "# kube9 services end"
kept, inside = [], False
for line in open("/etc/hosts").read().splitlines():
    if line == begin:
        inside = True
    elif line == end:
        inside = False
    elif not inside:
        kept.append(line)
block = sys.argv[1]
text = "\\n".join(kept) + "\\n" + (begin + "\\n" + block + end + "\\n" if block else "")
open("/etc/hosts", "w").write(text)
"""


class DockerRuntime:
    """Nodes as Docker containers from ``kube9-node-agent:<version>``, one per node."""

    name = "docker"
    stop_timeout = 3

    def __init__(
        self,
        cluster: str = "default",
        base_image: str = DEFAULT_BASE_IMAGE,
        version: str = kube9_desktop.__version__,
        progress: ProgressFn | None = None,
        client_factory: ClientFactory = docker_client,
        *,
        host_network: bool | None = None,
        agent_dir: Path | None = None,
        engine_url: str | None = None,
    ) -> None:
        """``host_network=None`` detects it; ``agent_dir`` overrides the agent sources (tests);
        ``engine_url``: a named engine's URL (engines.py), for its errors' real cause."""
        self.engine_url = engine_url
        self.cluster = cluster
        self.base_image = base_image
        self.version = version
        self._progress = progress
        self._factory = client_factory
        self._agent_dir = agent_dir
        self._host_network = host_network
        self._ncpu: int | None = None
        self._client: docker.DockerClient | None = None
        self._client_lock = threading.Lock()
        self._network_lock = threading.Lock()
        self._image: str | None = None
        self._image_lock = asyncio.Lock()
        # containers the engine is stopping or replacing: their next 'die' is no news
        self._expected: set[str] = set()
        self._expected_lock = threading.Lock()
        self._events_closed = threading.Event()
        self._events_stream: Any = None
        self._events_thread: threading.Thread | None = None

    # -- exits, from Docker's event stream ---------------------------------------------------

    def watch_exits(self, on_exit: ExitFn) -> None:
        """Follow Docker's events for this cluster's containers in a thread of its own: a
        ``die`` the engine did not cause (and the ``oom`` before it) is reported at once."""
        if self._events_thread is not None:
            return
        loop = asyncio.get_running_loop()
        self._events_thread = threading.Thread(
            target=self._follow_events, args=(loop, on_exit), name="docker-events", daemon=True
        )
        self._events_thread.start()

    def _expect_exit(self, container: Any) -> None:
        with self._expected_lock:
            self._expected.add(container.id)

    def _follow_events(self, loop: asyncio.AbstractEventLoop, on_exit: ExitFn) -> None:
        since: int | None = None
        oom: set[str] = set()
        while not self._events_closed.is_set():
            client = None
            try:
                client = self._factory()
                stream = client.events(
                    decode=True,
                    since=since,
                    filters={
                        "type": "container",
                        "label": f"{LABEL_CLUSTER}={self.cluster}",
                        "event": ["start", "die", "oom"],
                    },
                )
                self._events_stream = stream
                if self._events_closed.is_set():
                    break
                for event in stream:
                    since = int(event.get("time") or 0) or since
                    self._on_event(event, oom, loop, on_exit)
            except Exception as exc:  # the daemon went away: follow again once it is back
                log.debug("docker events: %s", exc)
            finally:
                self._events_stream = None
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
            self._events_closed.wait(1.0)

    def _on_event(
        self, event: dict[str, Any], oom: set[str], loop: asyncio.AbstractEventLoop, on_exit: ExitFn
    ) -> None:
        action = event.get("Action") or event.get("status")
        cid = str(event.get("id") or event.get("Actor", {}).get("ID") or "")
        attributes = event.get("Actor", {}).get("Attributes") or {}
        with self._expected_lock:
            if action == "start":
                self._expected.discard(cid)
                oom.discard(cid)
                return
            expected = cid in self._expected
        if action == "oom":
            oom.add(cid)
            return
        if action != "die" or expected:
            return
        try:
            node_id = int(attributes.get(LABEL_NODE_ID, ""))
        except ValueError:
            return
        how = f"its container died (exit code {attributes.get('exitCode', '?')}"
        how += ", out of memory)" if cid in oom else ")"
        with contextlib.suppress(RuntimeError):  # the loop is closed: the engine is gone
            loop.call_soon_threadsafe(on_exit, node_id, how)

    # -- plumbing ---------------------------------------------------------------------------

    def _get_client(self) -> docker.DockerClient:
        with self._client_lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def _drop_client(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _in_thread(self, fn: Callable[[docker.DockerClient], T]) -> T:
        try:
            return fn(self._get_client())
        except Exception as exc:
            if is_connection_problem(exc):
                release_frames(exc)
                self._drop_client()
            raise

    async def _run(self, doing: str, fn: Callable[[docker.DockerClient], T]) -> T:
        """Run ``fn(client)`` in a worker thread; daemon trouble becomes RuntimeUnavailable."""
        try:
            return await asyncio.to_thread(self._in_thread, fn)
        except (RuntimeUnavailable, Conflict):
            raise
        except (docker.errors.DockerException, OSError) as exc:
            raise describe_docker_error(exc, doing, host=self.engine_url) from exc

    def _labels(self, launch: NodeLaunch) -> dict[str, str]:
        return {
            LABEL_CLUSTER: self.cluster,
            LABEL_NODE: launch.name,
            LABEL_NODE_ID: str(launch.node_id),
            LABEL_VERSION: self.version,
        }

    def _find(self, client: docker.DockerClient, node_id: int) -> Any:
        """This cluster's container for ``node_id``, or None."""
        labels = [f"{LABEL_CLUSTER}={self.cluster}", f"{LABEL_NODE_ID}={node_id}"]
        try:
            found = client.containers.list(all=True, filters={"label": labels})
        except docker.errors.NotFound:
            return None
        return found[0] if found else None

    def _detect(self, client: docker.DockerClient) -> bool:
        """Whether host networking reaches the app's loopback (plain Linux engine)."""
        if self._host_network is None or self._ncpu is None:
            info = client.info()
            self._ncpu = int(info.get("NCPU") or 1)
            if self._host_network is None:
                desktop = "Docker Desktop" in str(info.get("OperatingSystem", ""))
                linux = sys.platform.startswith("linux") and info.get("OSType") == "linux"
                self._host_network = linux and not desktop
        return self._host_network

    def _ensure_network(self, client: docker.DockerClient) -> str:
        name = network_name(self.cluster)
        with self._network_lock:
            if not any(n.name == name for n in client.networks.list(names=[name])):
                labels = {LABEL_CLUSTER: self.cluster}
                client.networks.create(name, driver="bridge", labels=labels, check_duplicate=True)
        return name

    def _handle(self, launch: NodeLaunch, container: Any, host: bool) -> NodeHandle:
        ip = "127.0.0.1"
        network = "host"
        if not host:
            container.reload()
            network = network_name(self.cluster)
            networks = container.attrs.get("NetworkSettings", {}).get("Networks", {})
            ip = networks.get(network, {}).get("IPAddress") or ip
        image = container.attrs.get("Config", {}).get("Image", "")
        return NodeHandle(
            node_id=launch.node_id,
            name=launch.name,
            handle=str(container.id),
            ip=ip,
            detail={"image": image, "network": network, "container": container.name},
        )

    # -- creating ---------------------------------------------------------------------------

    async def _ensure_image(self) -> str:
        """Build or reuse the node image once per runtime; progress goes to the loop thread."""
        async with self._image_lock:
            if self._image is None:
                loop = asyncio.get_running_loop()
                callback = self._progress

                def report(message: str) -> None:
                    log.info("%s", message)
                    if callback is not None:
                        loop.call_soon_threadsafe(callback, message)

                self._image = await self._run(
                    "prepare the node image",
                    lambda c: ensure_node_image(
                        c, self.version, self.base_image, report, agent_dir=self._agent_dir
                    ),
                )
            return self._image

    def _create(self, client: docker.DockerClient, launch: NodeLaunch, image: str) -> NodeHandle:
        name = container_name(self.cluster, launch.name)
        with contextlib.suppress(docker.errors.NotFound):
            leftover = client.containers.get(name)
            self._expect_exit(leftover)
            leftover.remove(force=True)
            log.info("removed leftover container %s", name)
        host = self._detect(client)
        env = self._agent_env(launch, host)
        volume = volume_name(self.cluster, launch.name)
        client.volumes.create(volume, labels=self._labels(launch))
        options: dict[str, Any] = {}
        if host:
            options["network_mode"] = "host"
        else:
            options["network"] = self._ensure_network(client)
            options["hostname"] = launch.name
            options["extra_hosts"] = {DOCKER_DESKTOP_HOST: "host-gateway"}
        cpu_m = max(10, min(launch.cpu_m, (self._ncpu or 1) * 1000))
        container = client.containers.create(
            image,
            name=name,
            environment=env,
            labels=self._labels(launch),
            init=True,
            restart_policy={"Name": "no"},
            nano_cpus=cpu_m * 1_000_000,
            mem_limit=max(launch.mem_mi, _MIN_MEMORY_MI) * 1024 * 1024,
            volumes={volume: {"bind": WORK_DIR, "mode": "rw"}},
            **options,
        )
        container.start()
        return self._handle(launch, container, host)

    def _agent_env(self, launch: NodeLaunch, host: bool) -> dict[str, str]:
        """The agent's contract, the engine's address as the container reaches it, and word
        that the node is a container of its own (its usage is the container's cgroup)."""
        env = launch.agent_env(WORK_DIR)
        env["KUBE9_OWN_CONTAINER"] = "1"
        if not host:
            env["KUBE9_API_URL"] = bridge_api_url(launch.api_url)
        return env

    def _wanted(self, launch: NodeLaunch, host: bool) -> set[str]:
        return {f"{key}={value}" for key, value in self._agent_env(launch, host).items()}

    def _restart(self, client: docker.DockerClient, launch: NodeLaunch, image: str) -> NodeHandle:
        """Restart in place when the container still fits the launch, else recreate it."""
        container = self._find(client, launch.node_id)
        host = self._detect(client)
        if container is not None:
            env = set(container.attrs.get("Config", {}).get("Env") or [])
            same_image = container.attrs.get("Image") == client.images.get(image).id
            if same_image and self._wanted(launch, host) <= env:
                try:
                    self._expect_exit(container)
                    container.restart(timeout=0)
                    return self._handle(launch, container, host)
                except docker.errors.APIError as exc:
                    log.info("recreating %s: restart failed: %s", container.name, exc)
        return self._create(client, launch, image)

    async def _with_image(
        self, doing: str, fn: Callable[[docker.DockerClient, str], NodeHandle]
    ) -> NodeHandle:
        image = await self._ensure_image()
        try:
            return await self._run(doing, lambda c: fn(c, image))
        except RuntimeUnavailable as exc:
            if not isinstance(exc.__cause__, docker.errors.ImageNotFound):
                raise
        self._image = None
        image = await self._ensure_image()
        return await self._run(doing, lambda c: fn(c, image))

    def _check_cluster(self, launch: NodeLaunch) -> None:
        if launch.cluster != self.cluster:
            raise ValueError(f"launch for cluster {launch.cluster!r} given to {self.cluster!r}")

    # -- NodeRuntime ------------------------------------------------------------------------

    async def start(self, launch: NodeLaunch) -> NodeHandle:
        """Create and start the node's container, replacing any leftover of the same name."""
        self._check_cluster(launch)
        return await self._with_image(
            f"start node {launch.name}", lambda c, image: self._create(c, launch, image)
        )

    async def restart(self, launch: NodeLaunch) -> NodeHandle:
        """Bring the node back from any state; its work volume (its disk) is kept."""
        self._check_cluster(launch)
        return await self._with_image(
            f"restart node {launch.name}", lambda c, image: self._restart(c, launch, image)
        )

    async def stop(self, node_id: int) -> None:
        """``docker stop`` with a short timeout; a missing or stopped node is left as it is."""

        def stop(client: docker.DockerClient) -> None:
            container = self._find(client, node_id)
            if container is not None and container_state(container) is not RuntimeState.EXITED:
                self._expect_exit(container)
                container.stop(timeout=self.stop_timeout)

        await self._run(f"stop node {node_id}", stop)

    async def kill(self, node_id: int) -> None:
        """``docker kill`` (also of a paused container); a dead or missing node is left alone."""

        def kill(client: docker.DockerClient) -> None:
            container = self._find(client, node_id)
            if container is None or container_state(container) is RuntimeState.EXITED:
                return
            try:
                container.kill()
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):
                    raise

        await self._run(f"kill node {node_id}", kill)

    async def pause(self, node_id: int) -> None:
        """``docker pause``: the agent lives but is silent; Conflict unless it runs."""
        await self._run(f"pause node {node_id}", lambda c: self._freeze(c, node_id, True))

    async def resume(self, node_id: int) -> None:
        """``docker unpause``; Conflict unless the node is paused or already running."""
        await self._run(f"resume node {node_id}", lambda c: self._freeze(c, node_id, False))

    def _freeze(self, client: docker.DockerClient, node_id: int, frozen: bool) -> None:
        container = self._find(client, node_id)
        state = RuntimeState.MISSING if container is None else container_state(container)
        if state is (RuntimeState.PAUSED if frozen else RuntimeState.RUNNING):
            return
        if state is not (RuntimeState.RUNNING if frozen else RuntimeState.PAUSED):
            verb = "pause" if frozen else "resume"
            raise Conflict(f"cannot {verb} node {node_id}: its container is {state.value}")
        if frozen:
            container.pause()
        else:
            container.unpause()

    async def remove(self, node_id: int) -> None:
        """Remove the container and its work volume; nothing to remove is fine."""

        def remove(client: docker.DockerClient) -> None:
            container = self._find(client, node_id)
            labels = [f"{LABEL_CLUSTER}={self.cluster}", f"{LABEL_NODE_ID}={node_id}"]
            volumes = {v.name for v in client.volumes.list(filters={"label": labels})}
            if container is not None:
                node = (container.labels or {}).get(LABEL_NODE)
                if node:
                    volumes.add(volume_name(self.cluster, node))
                self._expect_exit(container)
                container.remove(force=True)
            for volume in volumes:
                with contextlib.suppress(docker.errors.NotFound):
                    client.volumes.get(volume).remove(force=True)

        await self._run(f"remove node {node_id}", remove)

    async def status(self, node_id: int) -> RuntimeState:
        """The container's state; UNKNOWN (not an exception) while the daemon cannot be asked."""

        def status(client: docker.DockerClient) -> RuntimeState:
            container = self._find(client, node_id)
            return RuntimeState.MISSING if container is None else container_state(container)

        try:
            return await self._run(f"read the state of node {node_id}", status)
        except RuntimeUnavailable as exc:
            log.warning("%s", exc.message)
            return RuntimeState.UNKNOWN

    async def discover(self) -> list[FoundNode]:
        """Every container labelled with this cluster, running or not."""

        def discover(client: docker.DockerClient) -> list[FoundNode]:
            found = client.containers.list(
                all=True, filters={"label": f"{LABEL_CLUSTER}={self.cluster}"}
            )
            return [found_node(container) for container in found]

        return await self._run("list the nodes' containers", discover)

    async def adopt(self, launch: NodeLaunch, found: FoundNode) -> NodeHandle:
        """Take over a container found by ``discover`` as it is, without restarting it."""
        self._check_cluster(launch)

        def adopt(client: docker.DockerClient) -> NodeHandle:
            try:
                container = client.containers.get(found.handle)
            except docker.errors.NotFound:
                raise Conflict(
                    f"cannot adopt node {launch.name}: its container {found.handle[:12]} is gone"
                ) from None
            labels = container.labels or {}
            if labels.get(LABEL_CLUSTER) != self.cluster or labels.get(LABEL_NODE_ID) != str(
                launch.node_id
            ):
                raise Conflict(
                    f"cannot adopt node {launch.name}: container {found.handle[:12]} "
                    "belongs to another node or cluster"
                )
            network_mode = container.attrs.get("HostConfig", {}).get("NetworkMode")
            return self._handle(launch, container, network_mode == "host")

        return await self._run(f"adopt node {launch.name}", adopt)

    def node_home(self, node_id: int, name: str) -> NodeHome:
        """The agent's work directory inside the node's container (``docker exec`` goes there)."""
        return NodeHome(WORK_DIR, container_name(self.cluster, name))

    async def read_node_file(
        self, node_id: int, relative: str, start: int, limit: int
    ) -> tuple[bytes, int] | None:
        """Up to ``limit`` bytes from ``start`` of a file under the node's work directory (its
        volume) and the file's size, read by ``docker exec`` in the node's container; None if
        there is no such file. The node must be running (a stopped one cannot exec)."""
        path = f"{WORK_DIR}/{relative}"

        def read(client: docker.DockerClient) -> tuple[bytes, int] | None:
            container = self._find(client, node_id)
            if container is None or container.status != "running":
                raise RuntimeUnavailable(
                    f"Node {node_id}'s container is not running: its files cannot be read now."
                )
            code, (out, _err) = container.exec_run(
                ["sh", "-c", READ_SLICE_SH, "sh", path, str(start + 1), str(limit)],
                demux=True,
            )
            if code == 3:
                return None
            if code != 0 or out is None or b"\n" not in out:
                raise RuntimeUnavailable(f"Cannot read {relative} on node {node_id} (exit {code}).")
            size, _, data = out.partition(b"\n")
            return data, int(size)

        return await self._run("reading a node's file", read)

    async def write_hosts(self, node_id: int, block: str) -> None:
        """Make ``block`` (``ip name…`` lines) the node container's Service entries in its
        /etc/hosts, which its pods share (host networking: one file per node)."""

        def write(client: docker.DockerClient) -> None:
            container = self._find(client, node_id)
            if container is None or container.status != "running":
                raise RuntimeUnavailable(f"Node {node_id}'s container is not running.")
            code, out = container.exec_run(["python3", "-c", WRITE_HOSTS_PY, block])
            if code != 0:
                tail = (out or b"").decode(errors="replace").strip().splitlines()[-1:]
                raise RuntimeUnavailable(
                    f"Cannot write node {node_id}'s /etc/hosts (exit {code}): {' '.join(tail)}"
                )

        await self._run("writing a node's /etc/hosts", write)

    async def close(self) -> None:
        """Close the docker client and stop following events; the containers keep running."""
        self._events_closed.set()
        stream = self._events_stream
        if stream is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(stream.close)
        await asyncio.to_thread(self._drop_client)


__all__ = [
    "DockerRuntime",
    "bridge_api_url",
    "container_name",
    "describe_docker_error",
    "docker_available",
    "network_name",
    "volume_name",
]
