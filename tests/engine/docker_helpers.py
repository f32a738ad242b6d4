"""Shared by the Docker tests: reach the daemon (or skip/fail), the offline base, leftovers."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import docker
import docker.errors
import pytest

from kube9_desktop.engine.runtime.docker_support import release_frames
from kube9_desktop.engine.runtime.images import OFFLINE_BASE_IMAGE
from tests.procs import alive as pid_alive

REPO = Path(__file__).resolve().parents[2]


def connect_or_skip() -> docker.DockerClient:
    """A client to the local daemon; skip without one, fail when KUBE9_REQUIRE_DOCKER=1."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            release_frames(exc)
        reason = f"no Docker daemon reachable ({exc})"
        if os.environ.get("KUBE9_REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}; KUBE9_REQUIRE_DOCKER=1 requires one")
        pytest.skip(reason)
    return client


def ensure_offline_base(client: docker.DockerClient) -> None:
    """Build kube9-base:bookworm with the project's script if this engine lacks it (~20 s)."""
    try:
        client.images.get(OFFLINE_BASE_IMAGE)
    except docker.errors.ImageNotFound:
        script = REPO / "scripts" / "build-offline-base.sh"
        subprocess.run([str(script)], check=True, timeout=300)


def leftover(cluster: str) -> bool:
    """A test cluster from an earlier session: ``test-<pid>-…`` whose pytest has ended."""
    if not cluster.startswith("test-"):
        return False
    match = re.match(r"test-(\d+)-", cluster)
    # Whether the test session that named it ``test-<pid>-…`` still runs.
    return match is None or not pid_alive(int(match.group(1)))


def cluster_of(labels: dict[str, str] | None, name: str) -> str:
    """A resource's cluster: its label, else what its name says (implicitly created volumes)."""
    if labels and "kube9.cluster" in labels:
        return labels["kube9.cluster"]
    match = re.match(r"kube9-(test-\d+-[0-9a-f]+)-", name)
    return match.group(1) if match else ""


def remove_clusters(client: docker.DockerClient, doomed: Callable[[str], bool]) -> None:
    """Remove the containers, volumes and networks of every cluster ``doomed`` picks."""
    for container in client.containers.list(all=True, filters={"label": "kube9.cluster"}):
        if doomed(cluster_of(container.labels, container.name)):
            container.remove(force=True)
    for volume in client.volumes.list():
        if doomed(cluster_of(volume.attrs.get("Labels"), volume.name)):
            volume.remove(force=True)
    for network in client.networks.list(filters={"label": "kube9.cluster"}):
        if doomed(cluster_of(network.attrs.get("Labels"), network.name)):
            network.remove()


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20) -> None:
    """Poll ``check`` until true; fail naming ``what`` when the deadline passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
