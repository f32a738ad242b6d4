"""The node image: offline build, reuse, rebuild on changed sources or base, clear failures."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from kube9_desktop.engine.errors import RuntimeUnavailable
from kube9_desktop.engine.runtime import images
from kube9_desktop.engine.runtime.images import (
    LABEL_AGENT_HASH,
    LABEL_BASE_IMAGE,
    OFFLINE_BASE_IMAGE,
    agent_source_dir,
    agent_source_hash,
    assemble_context,
    build_offline_base,
    ensure_node_image,
)
from tests.engine.docker_helpers import connect_or_skip, ensure_offline_base, pid_alive

pytestmark = pytest.mark.docker

RUN = f"{os.getpid()}-{secrets.token_hex(2)}"
VERSION = f"test-{RUN}"
TAG = f"kube9-node-agent:{VERSION}"
NO_SUCH_BASE = f"kube9-test-nosuchbase-{RUN}:1"


def remove_test_images(client: docker.DockerClient, doomed: Callable[[str], bool]) -> None:
    """Remove images tagged ``kube9-node-agent:test-<pid>-…`` / ``kube9-test-…-<pid>-…``."""
    for image in client.images.list():
        for tag in image.tags:
            match = re.match(r"kube9-(?:node-agent:test|test-[a-z]+)-(\d+)-(\w+)", tag)
            if match and doomed(f"{match.group(1)}-{match.group(2)}"):
                client.images.remove(tag, force=True)


def leftover(run: str) -> bool:
    return not pid_alive(int(run.split("-")[0]))


@pytest.fixture(scope="module")
def dclient() -> Iterator[docker.DockerClient]:
    client = connect_or_skip()
    remove_test_images(client, leftover)
    ensure_offline_base(client)
    try:
        yield client
    finally:
        remove_test_images(client, lambda run: run == RUN)
        client.close()


@pytest.fixture
def agent_copy(tmp_path: Path) -> Path:
    """A private copy of the real agent sources, safe to edit."""
    target = tmp_path / "agent"
    shutil.copytree(agent_source_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_context_holds_the_agent_a_stub_package_and_the_dockerfile(
    agent_copy: Path, tmp_path: Path
) -> None:
    (agent_copy / "__pycache__").mkdir()
    (agent_copy / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    context = tmp_path / "context"
    context.mkdir()

    assemble_context(agent_copy, "9.9.9", context)

    assert (context / "Dockerfile").read_text() == (agent_copy / "Dockerfile").read_text()
    assert '__version__ = "9.9.9"' in (context / "kube9_desktop" / "__init__.py").read_text()
    assert (context / "kube9_desktop" / "agent" / "__main__.py").is_file()
    assert not (context / "kube9_desktop" / "agent" / "__pycache__").exists()
    assert not (context / "kube9_desktop" / "engine").exists()


def test_source_hash_follows_content_and_version(agent_copy: Path) -> None:
    before = agent_source_hash(agent_copy, "1")
    assert agent_source_hash(agent_copy, "1") == before
    assert agent_source_hash(agent_copy, "2") != before
    (agent_copy / "__pycache__").mkdir()
    (agent_copy / "__pycache__" / "m.pyc").write_bytes(b"ignored")
    assert agent_source_hash(agent_copy, "1") == before
    with (agent_copy / "__main__.py").open("a") as f:
        f.write("\n# changed\n")
    assert agent_source_hash(agent_copy, "1") != before


def test_builds_offline_then_reuses_then_rebuilds_on_changed_sources(
    dclient: docker.DockerClient, agent_copy: Path
) -> None:
    steps: list[str] = []

    tag = ensure_node_image(dclient, VERSION, NO_SUCH_BASE, steps.append, agent_dir=agent_copy)

    assert tag == TAG
    assert f"pulling {NO_SUCH_BASE}…" in steps
    assert f"no registry: using offline base {OFFLINE_BASE_IMAGE}" in steps
    assert any(s.startswith(f"building {TAG}: Step ") for s in steps)
    first = dclient.images.get(TAG)
    assert first.labels[LABEL_AGENT_HASH] == agent_source_hash(agent_copy, VERSION)
    assert first.labels[LABEL_BASE_IMAGE] == OFFLINE_BASE_IMAGE
    script = "import kube9_desktop.agent, sys; print(kube9_desktop.agent.__file__, sys.argv)"
    probe = dclient.containers.run(TAG, ["-c", script], entrypoint=["python"], detach=True)
    try:
        assert probe.wait(timeout=30)["StatusCode"] == 0
        assert probe.logs().decode().startswith("/opt/kube9/kube9_desktop/agent/__init__.py")
    finally:
        probe.remove(v=True, force=True)

    steps.clear()
    assert ensure_node_image(dclient, VERSION, NO_SUCH_BASE, steps.append, agent_dir=agent_copy)
    assert dclient.images.get(TAG).id == first.id
    assert steps == []

    with (agent_copy / "__main__.py").open("a") as f:
        f.write("\n# a change\n")
    ensure_node_image(dclient, VERSION, NO_SUCH_BASE, steps.append, agent_dir=agent_copy)

    rebuilt = dclient.images.get(TAG)
    assert rebuilt.id != first.id
    assert rebuilt.labels[LABEL_AGENT_HASH] == agent_source_hash(agent_copy, VERSION)
    assert f"agent sources changed: rebuilding {TAG}" in steps
    with pytest.raises(docker.errors.ImageNotFound):
        dclient.images.get(first.id)


def test_rebuilds_when_the_configured_base_becomes_available(
    dclient: docker.DockerClient, agent_copy: Path
) -> None:
    version = f"{VERSION}-base"
    ensure_node_image(dclient, version, NO_SUCH_BASE, agent_dir=agent_copy)
    dclient.images.get(OFFLINE_BASE_IMAGE).tag(*NO_SUCH_BASE.split(":"))
    steps: list[str] = []

    tag = ensure_node_image(dclient, version, NO_SUCH_BASE, steps.append, agent_dir=agent_copy)

    assert dclient.images.get(tag).labels[LABEL_BASE_IMAGE] == NO_SUCH_BASE
    assert not any(s.startswith("pulling") for s in steps)
    dclient.images.remove(NO_SUCH_BASE)


def test_missing_agent_sources_are_reported(dclient: docker.DockerClient, tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match=r"__main__\.py missing"):
        ensure_node_image(dclient, VERSION, agent_dir=tmp_path)


def test_no_base_and_no_mmdebstrap_says_what_to_run(
    dclient: docker.DockerClient, agent_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeUnavailable) as caught:
        ensure_node_image(
            dclient,
            f"{VERSION}-nobase",
            NO_SUCH_BASE,
            agent_dir=agent_copy,
            offline_base=f"kube9-test-nooffline-{RUN}:1",
        )
    assert "sudo apt-get install mmdebstrap" in caught.value.message
    assert "scripts/build-offline-base.sh" in caught.value.message


def fake_mmdebstrap(bin_dir: Path, rootfs: Path, exit_code: int = 0) -> None:
    """An ``mmdebstrap`` stand-in that tars ``rootfs`` into its last argument."""
    bin_dir.mkdir()
    script = bin_dir / "mmdebstrap"
    script.write_text(
        "#!/bin/sh\n"
        "for arg; do suite=$last; last=$arg; done\n"
        'echo "I: pretending to bootstrap $suite"\n'
        f"[ {exit_code} -eq 0 ] || {{ echo 'E: no mirror'; exit {exit_code}; }}\n"
        'tar -cf "$last" -C ' + str(rootfs) + " .\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_offline_base_is_bootstrapped_and_imported(
    dclient: docker.DockerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "kube9-marker").write_text("fake base\n")
    fake_mmdebstrap(tmp_path / "bin", rootfs)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(images, "_is_root", lambda: True)
    image = f"kube9-test-fakebase-{RUN}:1"
    steps: list[str] = []

    assert build_offline_base(dclient, steps.append, image=image) == image

    assert "offline base: pretending to bootstrap bookworm" in steps
    assert f"importing the offline base as {image}…" in steps
    dclient.images.get(image)


def test_offline_base_failure_and_missing_root_are_explained(
    dclient: docker.DockerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_mmdebstrap(tmp_path / "bin", tmp_path, exit_code=3)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(images, "_is_root", lambda: True)
    with pytest.raises(RuntimeUnavailable, match=r"exit status 3: E: no mirror"):
        build_offline_base(dclient, lambda _: None, image=f"kube9-test-failbase-{RUN}:1")

    monkeypatch.setattr(images, "_is_root", lambda: False)
    with pytest.raises(RuntimeUnavailable, match="needs root") as caught:
        build_offline_base(dclient, lambda _: None, image=f"kube9-test-failbase-{RUN}:1")
    assert "`sudo scripts/build-offline-base.sh`" in caught.value.message
