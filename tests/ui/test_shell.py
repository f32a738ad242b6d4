"""A shell on a node or in a pod: the command per runtime (run for real on the process
runtime), the terminal it opens (a fake terminal on PATH records its argv), the message when
there is none, and the copied command."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.model import PodPhase
from kube9_desktop.engine.node_shell import NO_PROCESSES, ShellPlace, shell_place
from kube9_desktop.engine.runtime.docker import DockerRuntime
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.main_window import MainWindow
from kube9_desktop.ui.models.tree_cells import ItemKind, TreeItem
from kube9_desktop.ui.preferences import Preferences
from kube9_desktop.ui.shell import ShellActions
from kube9_desktop.ui.shell_command import shell_argv, shell_command, terminal_argv
from tests.ui.helpers import FakeBridge, open_window, process_engine_fixture, select, start_pod

__all__ = ["process_engine_fixture"]  # the fixture used below

POD_ENV = (("PATH", "/usr/bin:/bin"), ("HOME", "/w/pods/3-web"), ("MODE", "a b"))


@pytest.mark.parametrize(
    ("place", "argv"),
    [
        (  # a Docker node: into its container, at the agent's work directory
            ShellPlace("node w1", "/var/lib/kube9", "kube9-node-w1"),
            ["docker", "exec", "-it", "-w", "/var/lib/kube9", "kube9-node-w1", "sh"],
        ),
        (  # a pod on a Docker node: its directory there, its environment and nothing else
            ShellPlace("pod web", "/var/lib/kube9/pods/3-web", "kube9-node-w1", POD_ENV),
            ["docker", "exec", "-it", "-w", "/var/lib/kube9/pods/3-web", "kube9-node-w1",
             "env", "-i", "PATH=/usr/bin:/bin", "HOME=/w/pods/3-web", "MODE=a b", "sh"],
        ),
        (  # a process node: its work directory, the user's own environment
            ShellPlace("node w1", "/data/nodes/1-w1"),
            ["env", "-C", "/data/nodes/1-w1", "sh"],
        ),
        (  # a pod on a process node: its directory, its environment only
            ShellPlace("pod web", "/w/pods/3-web", None, POD_ENV),
            ["env", "-i", "-C", "/w/pods/3-web", "PATH=/usr/bin:/bin", "HOME=/w/pods/3-web",
             "MODE=a b", "sh"],
        ),
    ],
)  # fmt: skip
def test_the_shell_command_per_runtime(place: ShellPlace, argv: list[str]) -> None:
    assert shell_argv(place) == argv
    assert shell_command(place).endswith(" sh")
    if place.env is not None:
        assert "'MODE=a b'" in shell_command(place)  # quoted for pasting


def fake_which(*present: str) -> Callable[[str, str | None], str | None]:
    return lambda program, _path: f"/usr/bin/{program}" if program in present else None


@pytest.mark.parametrize(
    ("environ", "present", "argv"),
    [
        ({}, ("x-terminal-emulator", "xterm"), ["/usr/bin/x-terminal-emulator", "-e", "sh"]),
        ({}, ("gnome-terminal",), ["/usr/bin/gnome-terminal", "--", "sh"]),
        ({}, ("konsole",), ["/usr/bin/konsole", "-e", "sh"]),
        ({}, ("xfce4-terminal",), ["/usr/bin/xfce4-terminal", "-x", "sh"]),
        ({}, ("alacritty",), ["/usr/bin/alacritty", "-e", "sh"]),
        ({}, ("kitty",), ["/usr/bin/kitty", "sh"]),
        ({}, ("xterm",), ["/usr/bin/xterm", "-e", "sh"]),
        # $TERMINAL comes first, with its own options; a known one keeps its own form
        ({"TERMINAL": "kitty --single-instance"}, ("kitty", "xterm"),
         ["/usr/bin/kitty", "--single-instance", "sh"]),
        ({"TERMINAL": "foot"}, ("foot", "xterm"), ["/usr/bin/foot", "-e", "sh"]),
        # $TERMINAL not found (or unparseable): the list goes on
        ({"TERMINAL": "nowhere"}, ("xterm",), ["/usr/bin/xterm", "-e", "sh"]),
        ({"TERMINAL": "'unbalanced"}, ("xterm",), ["/usr/bin/xterm", "-e", "sh"]),
        ({}, (), None),
    ],
)  # fmt: skip
def test_terminal_discovery(
    environ: dict[str, str], present: tuple[str, ...], argv: list[str] | None
) -> None:
    assert terminal_argv(["sh"], environ, fake_which(*present)) == argv


def test_a_docker_pod_shell_goes_into_its_node_container() -> None:
    bridge = FakeBridge()
    node_id = bridge.add_node("w1")
    pod_id = bridge.add_pod("web", node_id)
    node, pod = bridge.node(node_id), bridge.pod(pod_id)
    assert node is not None and pod is not None
    runtime = DockerRuntime(cluster="blue")  # no daemon asked: names only
    place = shell_place(runtime, node, pod)
    assert place.container == "kube9-node-blue-w1"
    assert place.directory == f"/var/lib/kube9/pods/{pod_id}-web"
    assert dict(place.env or ())["POD_NAME"] == "web"
    assert shell_place(runtime, node).container == "kube9-node-blue-w1"


def test_virtual_nodes_have_no_shell(
    qtbot: QtBot, bridge: EngineBridge, ui_engine: Engine, run_async: Callable[..., Any]
) -> None:
    node = run_async(ui_engine.create_node_from_json({"name": "v1", "cpu_cores_avail": 1})).view
    parent = QPushButton()  # any widget stands in for the window
    qtbot.addWidget(parent)
    shells = ShellActions(bridge, parent)
    assert (
        not shells.open_shell.isEnabled()
        and "select a node or a pod" in shells.open_shell.toolTip()
    )
    shells.set_selection(TreeItem(ItemKind.NODE, node.id))
    for action in (shells.open_shell, shells.copy_command):
        assert not action.isEnabled()
        assert NO_PROCESSES in action.toolTip()


@pytest.fixture
def pod_window(
    qtbot: QtBot, process_engine: Engine, run_async: Callable[..., Any], prefs: Preferences
) -> tuple[MainWindow, ShellPlace]:
    """The window over a process node running pod ``web`` (with an env and a secret item),
    the pod selected; and where its shell goes."""
    engine = process_engine
    pod_id = start_pod(qtbot, engine, run_async, "web", "", config=[
        {"name": "mode", "type": "env", "key": "MODE", "value": "batch run"},
        {"name": "token", "type": "secret", "key": "TOKEN", "value": "s3cr3t"},
    ]).id  # fmt: skip
    qtbot.waitUntil(lambda: engine.pod(pod_id).phase is PodPhase.RUNNING, timeout=30_000)
    bridge = EngineBridge()
    bridge.attach(engine)
    window = open_window(qtbot, bridge, prefs, engine.settings)
    window.cluster.tree.expandAll()
    qtbot.waitUntil(lambda: window.cluster.select(TreeItem(ItemKind.POD, pod_id)))
    select(qtbot, window, "web")
    return window, bridge.pod_shell(pod_id)


def test_a_process_pod_shell_is_its_directory_and_environment(
    pod_window: tuple[MainWindow, ShellPlace], process_engine: Engine
) -> None:
    _window, place = pod_window
    pod = process_engine.pods()[0]
    node_dir = process_engine.settings.data_dir / "nodes" / f"{pod.node_id}-w1"
    assert place.container is None
    assert place.directory == str(node_dir / "pods" / f"{pod.id}-web")
    env = dict(place.env or ())
    assert (
        env["MODE"] == "batch run" and env["POD_NAME"] == "web" and env["HOME"] == place.directory
    )
    assert "TOKEN" not in env and place.secrets_left_out == ("TOKEN",)
    assert "s3cr3t" not in shell_command(place)
    # The command works: the same argv with a command for the shell, run for real.
    argv = [*shell_argv(place), "-c", 'pwd; echo "$MODE/$POD_NAME"; env | wc -l']
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    cwd, values, count = out.splitlines()
    assert Path(cwd) == Path(place.directory) and values == "batch run/web"
    assert int(count) == len(env) + 1  # its environment and sh's own PWD, nothing of ours


def test_copy_shell_command_puts_it_on_the_clipboard_and_says_so(
    pod_window: tuple[MainWindow, ShellPlace],
) -> None:
    window, place = pod_window
    assert window.shells.copy_command in window.commands.context_menu.actions()
    assert window.shells.copy_command.isEnabled()
    window.shells.copy_command.trigger()
    assert QApplication.clipboard().text() == shell_command(place)
    message = window.status.currentMessage()
    assert "Copied the shell command for pod web" in message and "TOKEN" in message
    assert "s3cr3t" not in message


def test_no_terminal_emulator_says_so_and_copies_the_command(
    qtbot: QtBot,
    pod_window: tuple[MainWindow, ShellPlace],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, place = pod_window
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("TERMINAL", raising=False)
    window.shells.open_shell.trigger()
    box = window.findChild(QMessageBox, "NoTerminalDialog")
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible)
    assert "No terminal emulator was found" in box.text() and "xterm" in box.text()
    assert "on the clipboard" in box.text()
    assert shell_command(place) in box.informativeText()
    assert QApplication.clipboard().text() == shell_command(place)
    box.close()


def fake_terminal(bin_dir: Path, name: str, record: Path) -> None:
    """A terminal emulator that only writes its arguments down, one a line."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(
        f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}.part\nmv {record}.part {record}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    ("terminal_env", "name", "before"),
    [
        (None, "x-terminal-emulator", ["-e"]),  # the first of the list
        ("my-term --hold", "my-term", ["--hold", "-e"]),  # $TERMINAL with an option
    ],
)
def test_open_a_shell_starts_the_terminal_on_the_command(
    qtbot: QtBot,
    pod_window: tuple[MainWindow, ShellPlace],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    terminal_env: str | None,
    name: str,
    before: list[str],
) -> None:
    window, place = pod_window
    record = tmp_path / "argv.txt"
    fake_terminal(tmp_path / "bin", name, record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    if terminal_env is None:
        monkeypatch.delenv("TERMINAL", raising=False)
    else:
        monkeypatch.setenv("TERMINAL", terminal_env)
    window.shells.open_shell.trigger()
    qtbot.waitUntil(record.exists, timeout=10_000)
    assert record.read_text().splitlines() == [*before, *shell_argv(place)]
    assert f"Opened a shell on pod web in {name}" in window.status.currentMessage()
