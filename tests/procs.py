"""Finding real processes by a marker in their command line (pods we started in a test)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.helpers import as_root


def marker() -> str:
    return f"kube9-test-{uuid.uuid4().hex[:12]}"


def pids_with(mark: str) -> list[int]:
    """Live (not zombie) processes whose argv contains ``mark``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state = stat[stat.rfind(")") + 2 :].split(" ", 1)[0]
        if state != "Z" and any(mark.encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def environ_of(pid: int) -> dict[str, str]:
    """The environment ``pid`` started with; through sudo for another user's process (a pod in
    a container runs as root)."""
    path = f"/proc/{pid}/environ"
    try:
        raw = Path(path).read_bytes()
    except PermissionError:
        raw = subprocess.run(as_root(["cat", path]), capture_output=True, check=True).stdout
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def sleeper_pod(name: str, mark: str, cpu: float = 0.5, **extra: object) -> dict[str, object]:
    """A pod whose one container sleeps, findable by ``mark`` in its argv."""
    return {
        "name": name,
        "cpu_cores_req": cpu,
        "containers": [
            {"name": "main", "image": "python:3", "command": "python3",
             "args": ["-c", "import time; time.sleep(3600)", mark]}
        ],
        **extra,
    }  # fmt: skip


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie: an orphan that died stays one where PID 1 does not
    reap (a container without an init), and is gone for every purpose of these tests."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split(" ", 1)[0] not in ("Z", "X")


def wait_sync(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
