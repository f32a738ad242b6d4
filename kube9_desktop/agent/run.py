"""The agent's entry point: parse the environment, set up logs and signals, run the loop."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from kube9_desktop.agent import AGENT_VERSION
from kube9_desktop.agent.config import ConfigError, load_config
from kube9_desktop.agent.logs import setup_logging, teardown_logging
from kube9_desktop.agent.node import NodeAgent

EXIT_CONFIG = 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run(argv: list[str] | None = None) -> int:
    """``kube9-desktop agent`` / ``python -m kube9_desktop.agent``; configured by KUBE9_* vars."""
    parser = argparse.ArgumentParser(
        prog="kube9-desktop agent",
        description="Kube-9 node agent: heartbeats to the engine and runs this node's pods. "
        "Configured by the KUBE9_* environment variables (docs/protocol.md).",
    )
    parser.add_argument("--version", action="version", version=AGENT_VERSION)
    try:
        parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_CONFIG
    try:
        config = load_config()
        config.work_dir.mkdir(parents=True, exist_ok=True)
    except ConfigError as exc:
        print(f"kube9 agent: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"kube9 agent: cannot create the work directory: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    handlers = setup_logging(config.work_dir)
    try:
        agent = NodeAgent(config)
        with _stop_on_signals(agent):
            return agent.run()
    finally:
        teardown_logging(handlers)


@contextmanager
def _stop_on_signals(agent: NodeAgent) -> Iterator[None]:
    """Turn SIGTERM/SIGINT into a graceful stop while the loop runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        agent.request_stop()

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
