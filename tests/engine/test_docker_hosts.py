"""Docker engines named by DOCKER_HOST that are not this machine's socket: reached the way the
docker CLI reaches them, and a failure reported with its real cause, never "not running".

No daemon is needed: each engine here is one that cannot answer, on loopback.
"""

from __future__ import annotations

import socket

import docker
import pytest

from kube9_desktop.engine.runtime.docker_support import (
    describe_docker_error,
    docker_available,
    docker_client,
    ssh_failure,
)

# docker-py leaves a failed connection's socket to the collector.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return port


async def test_an_ssh_engine_that_refuses_is_reported_with_ssh_s_own_words(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    host = f"ssh://nobody@127.0.0.1:{closed_port}"
    monkeypatch.setenv("DOCKER_HOST", host)
    ok, why = await docker_available(timeout=2.0)
    assert not ok
    assert why.startswith(f"the Docker engine at {host} cannot be reached over SSH: ")
    assert "Connection refused" in why
    assert "not running" not in why


def test_ssh_failure_names_the_port_it_tried(closed_port: int) -> None:
    why = ssh_failure(f"ssh://nobody@127.0.0.1:{closed_port}", 2.0)
    assert why is not None and f"port {closed_port}" in why and "Connection refused" in why


def test_an_ssh_url_without_a_host_is_named() -> None:
    assert ssh_failure("ssh://", 1.0) == "'ssh://' names no host"


async def test_without_an_ssh_program_the_cause_is_the_missing_program(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    host = f"ssh://nobody@127.0.0.1:{closed_port}"
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(docker.errors.DockerException, match="there is no ssh program"):
        docker_client()
    ok, why = await docker_available(timeout=1.0)
    assert not ok
    assert why == (
        f"DOCKER_HOST is {host}, an engine reached over SSH, and there is no ssh program "
        "(`sudo apt-get install openssh-client`)"
    )


def test_an_ssh_engine_goes_through_the_system_ssh_client(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    host = f"ssh://nobody@127.0.0.1:{closed_port}"
    monkeypatch.setenv("DOCKER_HOST", host)
    made: list[dict[str, object]] = []

    class Client:
        def __init__(self, **kwargs: object) -> None:
            made.append(kwargs)

    monkeypatch.setattr(docker, "DockerClient", Client)
    docker_client(timeout=1.0)
    assert made == [{"base_url": host, "use_ssh_client": True, "timeout": 1.0}]


async def test_a_tcp_engine_that_does_not_answer_is_named_with_the_error(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    host = f"tcp://127.0.0.1:{closed_port}"
    monkeypatch.setenv("DOCKER_HOST", host)
    ok, why = await docker_available(timeout=1.0)
    assert not ok
    assert why.startswith(f"the Docker engine at {host} did not answer: ")
    assert "refused" in why.lower()
    problem = describe_docker_error(ConnectionRefusedError(111, "Connection refused"), "ping")
    assert problem.message.startswith(f"The Docker engine at {host} did not answer: ")
    assert problem.message.endswith("(while trying to ping)")
