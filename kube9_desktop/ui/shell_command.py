"""The shell commands of "Open a Shell", and the terminal that runs them: plain functions with
no Qt, so tests hold them to tables (and the real-runtime tests run them).

Docker nodes and their pods: ``docker exec -it`` into the node's container (in the pod's
directory, with its environment, for a pod). Process nodes: a shell in the node's or the pod's
directory on this machine (``env -i -C``: the pod's environment and nothing of the app's).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from kube9_desktop.engine.node_shell import ShellPlace

SHELL = "sh"  # every node image and every machine has it
# Terminal emulators in the order tried after $TERMINAL, each with how it takes a command.
TERMINALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),  # Debian's alternative: -e then the argv
    ("gnome-terminal", ("--",)),
    ("konsole", ("-e",)),
    ("xfce4-terminal", ("-x",)),
    ("alacritty", ("-e",)),
    ("kitty", ()),
    ("xterm", ("-e",)),
)
RUN_FORMS = dict(TERMINALS)
TRIED = ", ".join(["$TERMINAL", *(name for name, _ in TERMINALS)])
Which = Callable[[str, str | None], str | None]


def which_on(program: str, path: str | None) -> str | None:
    """``shutil.which`` on a given ``PATH`` (None: the process's own)."""
    return shutil.which(program, path=path)


def shell_argv(place: ShellPlace) -> list[str]:
    """The argv that opens an interactive shell at ``place``.

    >>> shell_argv(ShellPlace("node w1", "/var/lib/kube9", "kube9-node-w1"))
    ['docker', 'exec', '-it', '-w', '/var/lib/kube9', 'kube9-node-w1', 'sh']
    """
    env = [] if place.env is None else ["env", "-i", *(f"{k}={v}" for k, v in place.env)]
    if place.container is not None:
        return ["docker", "exec", "-it", "-w", place.directory, place.container, *env, SHELL]
    if not env:
        return ["env", "-C", place.directory, SHELL]
    return [env[0], env[1], "-C", place.directory, *env[2:], SHELL]


def shell_command(place: ShellPlace) -> str:
    """The argv as one line to paste into a terminal."""
    return shlex.join(shell_argv(place))


def terminal_argv(
    command: list[str], environ: Mapping[str, str], which: Which = which_on
) -> list[str] | None:
    """The argv that runs ``command`` in the first terminal emulator found on ``PATH``:
    ``$TERMINAL`` (which may carry its own options) first, then ``TERMINALS``; None if none."""
    path = environ.get("PATH")
    candidates = [environ["TERMINAL"]] if environ.get("TERMINAL", "").strip() else []
    candidates += [name for name, _ in TERMINALS]
    for candidate in candidates:
        try:
            program, *options = shlex.split(candidate)
        except ValueError:
            continue  # an unbalanced quote in $TERMINAL: try the next one
        found = which(program, path)
        if found is not None:
            form = RUN_FORMS.get(Path(program).name, ("-e",))
            return [found, *options, *form, *command]
    return None


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a terminal starts with: the user's (a frozen app's library path, which
    would load our bundled libraries into the terminal, is put back as it was)."""
    env = dict(environ)
    if getattr(sys, "frozen", False):
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
        else:
            env.pop("LD_LIBRARY_PATH", None)
    return env


def launch(argv: list[str], env: Mapping[str, str]) -> None:
    """Start ``argv`` in a session of its own, detached from ours; a thread reaps it when it
    ends (a terminal can stay open for hours), so the window never waits on it."""
    process = subprocess.Popen(
        argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
    )  # fmt: skip
    threading.Thread(target=process.wait, name="terminal-reaper", daemon=True).start()
