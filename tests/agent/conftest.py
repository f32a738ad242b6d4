"""Fixtures for the agent tests; the helpers themselves live in ``helpers``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kube9_desktop.agent.node import NodeAgent
from tests.agent.helpers import AgentProcess, FakeEngine, agent_env, make_agent


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    yield fake
    fake.close()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    path.mkdir()
    return path


@pytest.fixture
def agent(fake_engine: FakeEngine, work_dir: Path) -> Iterator[NodeAgent]:
    """An in-process agent of node 7 heartbeating to ``fake_engine``; its pods stop after."""
    node = make_agent(fake_engine.url, work_dir)
    yield node
    node.supervisor.stop_all()


@pytest.fixture
def start_agent(fake_engine: FakeEngine, work_dir: Path) -> Iterator[Callable[..., AgentProcess]]:
    started: list[AgentProcess] = []

    def start(**overrides: str) -> AgentProcess:
        agent = AgentProcess(agent_env(fake_engine.url, work_dir, **overrides), work_dir)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.kill()
