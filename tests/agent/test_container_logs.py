"""A container's log on disk: rotated past its cap (one generation kept), and the previous run
kept apart at a restart; a real process writes it."""

from __future__ import annotations

import time
from pathlib import Path

from kube9_desktop.agent.containers import (
    RestartPolicy,
    SupervisedContainer,
    previous_path,
    rotate_log,
    rotated_path,
)
from kube9_desktop.agent.spec import ContainerSpec


def test_rotation_keeps_one_generation_and_the_process_writes_on(tmp_path: Path) -> None:
    log = tmp_path / "main.log"
    with open(log, "ab") as out:  # as the agent opens it for the process: O_APPEND
        out.write(b"x" * 100 + b"\n")
        out.flush()
        assert not rotate_log(log, cap_bytes=200)  # under the cap: untouched
        out.write(b"y" * 150 + b"\n")
        out.flush()
        assert rotate_log(log, cap_bytes=200)
        assert rotated_path(log).read_bytes() == b"x" * 100 + b"\n" + b"y" * 150 + b"\n"
        assert log.read_bytes() == b""
        out.write(b"after\n")  # the writer's offset does not leave a hole
        out.flush()
    assert log.read_bytes() == b"after\n"
    log.write_bytes(b"z" * 300)
    assert rotate_log(log, cap_bytes=200)
    assert rotated_path(log).read_bytes() == b"z" * 300  # the older generation is replaced


def test_restart_moves_the_run_to_previous(tmp_path: Path) -> None:
    now = [0.0]
    spec = ContainerSpec(name="main", image="sh", argv=("/bin/sh", "-c", "echo run-$$$$; exit 1"))
    container = SupervisedContainer(
        spec, tmp_path, {"PATH": "/usr/bin:/bin"}, RestartPolicy(base_s=0.0), lambda: now[0],
        log_cap_bytes=64,
    )  # fmt: skip
    runs: list[str] = []
    for _ in range(3):
        container.start_if_due()
        assert container.process is not None
        container.process.wait(timeout=10)
        container.poll()
        runs.append(container.log_path.read_text())
        now[0] += 1.0
    assert all(r.startswith("run-") for r in runs) and len(set(runs)) == 3
    container.start_if_due()
    assert container.process is not None
    container.process.wait(timeout=10)
    assert previous_path(container.log_path).read_text() == runs[2]
    assert not rotated_path(previous_path(container.log_path)).exists()


def test_a_running_container_is_rotated_by_its_poll(tmp_path: Path) -> None:
    now = [0.0]
    script = "i=0; while [ $i -lt 50 ]; do echo line-$i; i=$((i+1)); done; exec sleep 30"
    spec = ContainerSpec(name="main", image="sh", argv=("/bin/sh", "-c", script))
    container = SupervisedContainer(
        spec, tmp_path, {"PATH": "/usr/bin:/bin"}, RestartPolicy(), lambda: now[0],
        log_cap_bytes=100,
    )  # fmt: skip
    container.start_if_due()
    try:
        deadline = time.monotonic() + 10
        while b"line-49" not in container.log_path.read_bytes():
            assert time.monotonic() < deadline, "the process wrote nothing"
            time.sleep(0.01)  # the poll interval of this wait, not a fixed delay
        now[0] += 5.0
        container.poll()
        assert b"line-49" in rotated_path(container.log_path).read_bytes()
        assert container.log_path.stat().st_size == 0
    finally:
        container.kill()
        if container.process is not None:
            container.process.wait(timeout=10)
