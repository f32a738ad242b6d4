"""The Kube-9 node agent: heartbeats to the engine and runs the node's pods as processes.

Standard library only: this package is copied alone into a bare node image, so it imports
nothing outside the standard library and nothing from ``kube9_desktop.engine``. The wire
protocol it speaks is ``docs/protocol.md``.
"""

from __future__ import annotations

AGENT_VERSION = "0.1.0"


def main(argv: list[str] | None = None) -> int:
    """Run the agent until the engine deletes the node or a signal stops it (exit code)."""
    from kube9_desktop.agent.run import run

    return run(argv)


__all__ = ["AGENT_VERSION", "main"]
