"""The node image: build ``kube9-node-agent:<version>`` from the agent sources, offline if need be.

Every function here makes blocking docker SDK calls (and may run ``mmdebstrap`` for ~20 s): call
them from a worker thread, never on the event loop. ``progress`` receives human-readable steps
in that worker thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.utils import parse_repository_tag

import kube9_desktop.agent
from kube9_desktop.engine.errors import RuntimeUnavailable

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]

NODE_IMAGE_REPO = "kube9-node-agent"
DEFAULT_BASE_IMAGE = "python:3.12-slim"
OFFLINE_BASE_IMAGE = "kube9-base:bookworm"
OFFLINE_BASE_SUITE = "bookworm"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
WORK_DIR = "/var/lib/kube9"

LABEL_AGENT_HASH = "kube9.agent_hash"
LABEL_BASE_IMAGE = "kube9.base_image"
LABEL_VERSION = "kube9.version"

_SKIPPED_NAMES = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")

_NO_BASE_ADVICE = (
    "build the offline base image once: `sudo apt-get install mmdebstrap`, then run "
    "`scripts/build-offline-base.sh` from the Kube-9 sources (or by hand: `sudo mmdebstrap "
    "--variant=essential --include=python3,ca-certificates bookworm /tmp/base.tar && "
    "docker import /tmp/base.tar kube9-base:bookworm`), then try again"
)


def node_image_tag(version: str) -> str:
    """The node image's tag for an app version, e.g. ``kube9-node-agent:0.1.0``."""
    return f"{NODE_IMAGE_REPO}:{version}"


def agent_source_dir() -> Path:
    """The installed agent package directory (also inside a PyInstaller bundle's data files)."""
    module_file = getattr(kube9_desktop.agent, "__file__", None)
    if module_file:
        return Path(module_file).resolve().parent
    return Path(next(iter(kube9_desktop.agent.__path__))).resolve()


def _agent_files(agent_dir: Path) -> list[Path]:
    """The files that go into the image, relative to ``agent_dir``, in a stable order."""
    files: list[Path] = []
    for path in sorted(agent_dir.rglob("*")):
        rel = path.relative_to(agent_dir)
        if any(part in _SKIPPED_NAMES for part in rel.parts) or path.name.endswith(
            _SKIPPED_SUFFIXES
        ):
            continue
        if path.is_file():
            files.append(rel)
    return files


def _package_init(version: str) -> str:
    """The minimal ``kube9_desktop/__init__.py`` the image gets instead of the whole app."""
    doc = '"""Kube-9 Desktop node image: only the agent is installed."""'
    return f'{doc}\n\n__version__ = "{version}"\n'


def agent_source_hash(agent_dir: Path, version: str) -> str:
    """A sha256 over the agent's file names and contents plus the package stub's version."""
    digest = hashlib.sha256(_package_init(version).encode())
    for rel in _agent_files(agent_dir):
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update((agent_dir / rel).read_bytes() + b"\0")
    return digest.hexdigest()


def _check_agent_dir(agent_dir: Path) -> None:
    """Refuse to build from an incomplete installation, with a message saying what is missing."""
    missing = [n for n in ("Dockerfile", "__main__.py") if not (agent_dir / n).is_file()]
    if missing:
        raise RuntimeUnavailable(
            f"cannot build the node image: {', '.join(missing)} missing from the agent "
            f"sources in {agent_dir}; reinstall Kube-9 Desktop"
        )


def assemble_context(agent_dir: Path, version: str, dest: Path) -> None:
    """Lay out a build context in ``dest``: Dockerfile, package stub and the agent sources."""
    package = dest / "kube9_desktop"
    (package / "agent").mkdir(parents=True)
    (package / "__init__.py").write_text(_package_init(version))
    for rel in _agent_files(agent_dir):
        target = package / "agent" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(agent_dir / rel, target)
    shutil.copyfile(agent_dir / "Dockerfile", dest / "Dockerfile")


def _image_or_none(client: docker.DockerClient, name: str) -> Any:
    """The local image called ``name``, or None."""
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def _pull(client: docker.DockerClient, image: str, progress: ProgressFn) -> bool:
    """Try to pull ``image``; False (at once, without a registry) when it cannot be had."""
    repo, tag = parse_repository_tag(image)
    progress(f"pulling {image}…")
    error = None
    try:
        for event in client.api.pull(repo, tag=tag or "latest", stream=True, decode=True):
            error = error or event.get("error")
            status = str(event.get("status", ""))
            if status.startswith(("Digest:", "Status:")):
                progress(f"pulling {image}: {status}")
    except docker.errors.APIError as exc:
        error = exc.explanation or str(exc)
    if error:
        log.info("pull of %s failed: %s", image, error)
        return False
    return _image_or_none(client, image) is not None


def _child_env() -> dict[str, str]:
    """The environment for helper processes; undoes a PyInstaller bundle's library path."""
    env = dict(os.environ)
    if getattr(sys, "frozen", False):
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is None:
            env.pop("LD_LIBRARY_PATH", None)
        else:
            env["LD_LIBRARY_PATH"] = original
    return env


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def build_offline_base(
    client: docker.DockerClient,
    progress: ProgressFn,
    image: str = OFFLINE_BASE_IMAGE,
    suite: str = OFFLINE_BASE_SUITE,
) -> str:
    """Bootstrap Debian with python3 (mmdebstrap, as root) and ``docker import`` it as ``image``."""
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise RuntimeUnavailable(f"no node base image and no registry: {_NO_BASE_ADVICE}")
    if not _is_root():
        raise RuntimeUnavailable(
            "no node base image and no registry, and building one needs root: "
            + _NO_BASE_ADVICE.replace("`scripts/", "`sudo scripts/")
        )
    progress(f"no registry: building the offline base {image} with mmdebstrap (about 20 s)…")
    with tempfile.TemporaryDirectory(prefix="kube9-base-") as tmp:
        tarball = Path(tmp) / "base.tar"
        argv = [mmdebstrap, "--variant=essential", "--include=python3,ca-certificates"]
        if Path(DEBIAN_KEYRING).exists():  # Ubuntu trusts no Debian key unless told
            argv.append(f"--keyring={DEBIAN_KEYRING}")
        tail = _run_logged([*argv, suite, str(tarball)], progress, prefix="offline base: ")
        if tail is not None:
            raise RuntimeUnavailable(
                f"building the offline base image failed (mmdebstrap: {tail}); check that a "
                "Debian mirror is reachable, or run `sudo scripts/build-offline-base.sh` to "
                "see the whole output"
            )
        progress(f"importing the offline base as {image}…")
        repo, tag = parse_repository_tag(image)
        client.api.import_image_from_file(str(tarball), repository=repo, tag=tag or "latest")
    if _image_or_none(client, image) is None:
        raise RuntimeUnavailable(f"docker import did not create {image}; " + _NO_BASE_ADVICE)
    progress(f"offline base {image} is ready")
    return image


def _run_logged(argv: list[str], progress: ProgressFn, prefix: str) -> str | None:
    """Run ``argv`` forwarding its ``I:`` lines as progress; None on success, else the last line."""
    last = ""
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_child_env(),
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.strip()
            if line:
                last = line
                log.debug("%s", line)
                if line.startswith("I: "):
                    progress(prefix + line[3:])
        code = proc.wait()
    return None if code == 0 else f"exit status {code}: {last}"


def choose_base(
    client: docker.DockerClient,
    base_image: str,
    progress: ProgressFn,
    offline_base: str = OFFLINE_BASE_IMAGE,
) -> str:
    """The configured base if local or pullable, else the offline base (built if we can)."""
    if _image_or_none(client, base_image) is not None:
        return base_image
    if _pull(client, base_image, progress):
        return base_image
    if _image_or_none(client, offline_base) is not None:
        progress(f"no registry: using offline base {offline_base}")
        return offline_base
    return build_offline_base(client, progress, image=offline_base)


def _build_events(events: Iterable[dict[str, Any]], tag: str, progress: ProgressFn) -> None:
    """Consume a build stream, report its steps, raise RuntimeUnavailable on a build error."""
    lines: list[str] = []
    error: str | None = None
    for event in events:
        if "error" in event and error is None:
            error = str(event["error"]).strip()
        for line in str(event.get("stream", "")).splitlines():
            line = line.strip()
            if line:
                lines.append(line)
                if line.startswith("Step "):
                    progress(f"building {tag}: {line}")
    if error is not None:
        detail = "\n".join(lines[-5:])
        raise RuntimeUnavailable(
            f"building the node image {tag} failed: {error}" + (f"\n{detail}" if detail else "")
        )


def ensure_node_image(
    client: docker.DockerClient,
    version: str,
    base_image: str = DEFAULT_BASE_IMAGE,
    progress: ProgressFn | None = None,
    *,
    agent_dir: Path | None = None,
    offline_base: str = OFFLINE_BASE_IMAGE,
) -> str:
    """The node image tag, (re)built when missing, its agent hash is stale, or its base changed."""
    report: ProgressFn = progress if progress is not None else _log_progress
    source = agent_dir if agent_dir is not None else agent_source_dir()
    _check_agent_dir(source)
    tag = node_image_tag(version)
    digest = agent_source_hash(source, version)
    current = _image_or_none(client, tag)
    if current is not None:
        labels = current.labels or {}
        built_from = labels.get(LABEL_BASE_IMAGE)
        if labels.get(LABEL_AGENT_HASH) != digest:
            report(f"agent sources changed: rebuilding {tag}")
        elif built_from == base_image or _image_or_none(client, base_image) is None:
            return tag
        else:
            report(f"{base_image} is now available: rebuilding {tag} on it")
    base = choose_base(client, base_image, report, offline_base)
    report(f"building {tag} from {base}…")
    with tempfile.TemporaryDirectory(prefix="kube9-node-image-") as tmp:
        assemble_context(source, version, Path(tmp))
        events: Iterator[dict[str, Any]] = client.api.build(
            path=tmp,
            tag=tag,
            buildargs={"BASE_IMAGE": base},
            labels={LABEL_AGENT_HASH: digest, LABEL_BASE_IMAGE: base, LABEL_VERSION: version},
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        _build_events(events, tag, report)
    built = _image_or_none(client, tag)
    if built is None:
        raise RuntimeUnavailable(f"docker build finished but {tag} is missing; try again")
    if current is not None and current.id != built.id:
        _remove_quietly(client, current.id)
    report(f"built {tag}")
    return tag


def _remove_quietly(client: docker.DockerClient, image_id: str) -> None:
    """Drop the image a rebuild replaced, unless a container still uses it."""
    try:
        client.images.remove(image_id, noprune=False)
    except docker.errors.APIError as exc:
        log.debug("keeping replaced image %s: %s", image_id, exc.explanation or exc)


def _log_progress(message: str) -> None:
    log.info("%s", message)


__all__ = [
    "DEFAULT_BASE_IMAGE",
    "LABEL_AGENT_HASH",
    "LABEL_BASE_IMAGE",
    "LABEL_VERSION",
    "NODE_IMAGE_REPO",
    "OFFLINE_BASE_IMAGE",
    "WORK_DIR",
    "agent_source_dir",
    "agent_source_hash",
    "assemble_context",
    "build_offline_base",
    "choose_base",
    "ensure_node_image",
    "node_image_tag",
]
