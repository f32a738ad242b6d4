"""A second Docker engine in a network namespace of its own, for the remote-engine test and
bench: a veth pair (10.213.0.1/30 on this side, .2 inside), dockerd started in the namespace
with its own data root, exec root, pidfile and socket, the offline base loaded into it.
Everything it makes (netns, veth, dockerd, its mounts, the clusters' containers) is removed on
the way out, also on failure. Needs root, dockerd, ip and nsenter.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from kube9_desktop.engine.runtime.images import OFFLINE_BASE_IMAGE


def usable() -> bool:
    import os

    return os.geteuid() == 0 and all(map(shutil.which, ("dockerd", "ip", "nsenter", "docker")))


def remove_clusters(client: docker.DockerClient, prefix: str) -> None:
    """Remove the containers and volumes of every cluster whose name starts with ``prefix``."""
    for container in client.containers.list(all=True, filters={"label": "kube9.cluster"}):
        if (container.labels or {}).get("kube9.cluster", "").startswith(prefix):
            container.remove(force=True)
    for volume in client.volumes.list(filters={"label": "kube9.cluster"}):
        if (volume.attrs.get("Labels") or {}).get("kube9.cluster", "").startswith(prefix):
            volume.remove(force=True)


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def mounts_under(root: Path) -> list[str]:
    """Mount points below ``root``, deepest first."""
    found = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in found if m.startswith(f"{root}/")), reverse=True)


@dataclass
class RemoteEngine:
    netns: str
    sock: str
    root: Path
    host_ip: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        self.proc = subprocess.Popen(
            # nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds no cgroups
            ["nsenter", f"--net=/run/netns/{self.netns}", "dockerd",
             "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "--pidfile", str(self.root / "dockerd.pid"), "-H", self.url,
             "--bridge=none", "--iptables=false", "--ip6tables=false",
             "--config-file", str(self.root / "daemon.json")],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=30)

    def answers(self) -> bool:
        try:
            c = self.client()
            try:
                return bool(c.ping())
            finally:
                c.close()
        except Exception:
            return False

    def wait_answering(self, timeout: float) -> bool:
        """Until it answers a ping (True), it exits or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@contextlib.contextmanager
def netns_engine(prefix: str) -> Iterator[RemoteEngine]:
    """The second engine, up and with the offline base; ``prefix``: its clusters' names,
    whose containers are removed at the end."""
    tag = uuid.uuid4().hex[:6]
    netns, host_if, ns_if = f"k9t{tag}", f"k9h{tag}", f"k9n{tag}"
    root = Path(f"/tmp/k9r-{tag}")  # short: the socket path must fit in sun_path
    root.mkdir()
    (root / "daemon.json").write_text("{}")
    engine = RemoteEngine(netns, str(root / "d.sock"), root, "10.213.0.1")
    try:
        run("ip", "netns", "add", netns)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        run("ip", "link", "set", ns_if, "netns", netns)
        run("ip", "addr", "add", "10.213.0.1/30", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        run("ip", "netns", "exec", netns, "ip", "addr", "add", "10.213.0.2/30", "dev", ns_if)
        run("ip", "netns", "exec", netns, "ip", "link", "set", ns_if, "up")
        run("ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up")
        engine.start()
        if not engine.wait_answering(60):
            raise RuntimeError((root / "dockerd.log").read_text()[-2000:])
        # The offline base, as the node image's build wants it (no registry there).
        saved = subprocess.Popen(["docker", "save", OFFLINE_BASE_IMAGE], stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", engine.url, "load"], stdin=saved.stdout, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        if saved.wait(60) != 0:
            raise RuntimeError(f"docker save {OFFLINE_BASE_IMAGE} failed")
        yield engine
    finally:
        if engine.proc is None:
            engine.start()  # its containers are removed below, through it
            engine.wait_answering(30)
        try:
            if engine.answers():
                c = engine.client()
                remove_clusters(c, prefix)
                c.close()
        finally:
            engine.stop()
            subprocess.run(["ip", "link", "del", host_if], capture_output=True)
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
            for mounted in mounts_under(root):  # dockerd's own netns file, say
                subprocess.run(["umount", "-l", mounted], capture_output=True)
            shutil.rmtree(root, ignore_errors=True)
