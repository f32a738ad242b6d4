"""The agent's environment contract: required variables, defaults, exit code 2 when bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from kube9_desktop.agent import AGENT_VERSION, main
from kube9_desktop.agent.config import (
    MASTER_COMPONENTS,
    WORKER_COMPONENTS,
    ConfigError,
    load_config,
)
from kube9_desktop.agent.usage import own_cgroup
from tests.agent.helpers import TOKEN, agent_env


def test_full_environment_is_parsed(tmp_path: Path) -> None:
    config = load_config(agent_env("http://127.0.0.1:5000/", tmp_path))
    assert config.node_id == 7
    assert config.node_name == "worker-1"
    assert config.api_url == "http://127.0.0.1:5000"
    assert config.token == TOKEN
    assert config.work_dir == tmp_path
    assert config.heartbeat_interval == pytest.approx(0.2)
    assert (config.cpu_m, config.mem_mi) == (2000, 4096)
    assert (config.crash_backoff_s, config.crash_backoff_cap_s) == (1.0, 30.0)
    assert config.components == WORKER_COMPONENTS


def test_token_never_appears_in_repr(tmp_path: Path) -> None:
    assert TOKEN not in repr(load_config(agent_env("http://127.0.0.1:5000", tmp_path)))


def test_optional_variables_have_defaults(tmp_path: Path) -> None:
    env = agent_env("http://127.0.0.1:5000", tmp_path)
    for name in ("KUBE9_NODE_TYPE", "KUBE9_HEARTBEAT_INTERVAL", "KUBE9_CPU_M", "KUBE9_MEM_MI",
                 "KUBE9_CRASH_BACKOFF", "KUBE9_CRASH_BACKOFF_CAP"):  # fmt: skip
        del env[name]
    config = load_config(env)
    assert config.node_type == "worker"
    assert config.heartbeat_interval == 1.0
    assert (config.crash_backoff_s, config.crash_backoff_cap_s) == (10.0, 300.0)  # Kubernetes'
    assert config.cpu_m >= 1000


def test_only_a_node_the_runtime_calls_its_own_container_reads_its_cgroup(tmp_path: Path) -> None:
    """An agent inside some container (the process runtime in a CI container) must not report
    that whole container as its node's usage: only the Docker runtime's word counts."""
    plain = load_config(agent_env("http://127.0.0.1:5000", tmp_path))
    assert not plain.own_container and own_cgroup(plain.own_container) is None
    docker = load_config(agent_env("http://127.0.0.1:5000", tmp_path, KUBE9_OWN_CONTAINER="1"))
    assert docker.own_container


def test_master_reports_control_plane_components(tmp_path: Path) -> None:
    env = agent_env("http://127.0.0.1:5000", tmp_path, KUBE9_NODE_TYPE="master")
    assert load_config(env).components == MASTER_COMPONENTS


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KUBE9_NODE_ID", "", "KUBE9_NODE_ID is required"),
        ("KUBE9_NODE_ID", "seven", "KUBE9_NODE_ID must be an integer"),
        ("KUBE9_NODE_TOKEN", "", "KUBE9_NODE_TOKEN is required"),
        ("KUBE9_WORK_DIR", "", "KUBE9_WORK_DIR is required"),
        ("KUBE9_API_URL", "ftp://host", "KUBE9_API_URL must be an http(s) URL"),
        ("KUBE9_NODE_TYPE", "boss", "KUBE9_NODE_TYPE must be worker or master"),
        ("KUBE9_HEARTBEAT_INTERVAL", "0", "KUBE9_HEARTBEAT_INTERVAL must be a positive"),
        ("KUBE9_HEARTBEAT_INTERVAL", "nan", "KUBE9_HEARTBEAT_INTERVAL must be a positive"),
        ("KUBE9_CRASH_BACKOFF", "-1", "KUBE9_CRASH_BACKOFF must be a number of seconds"),
        ("KUBE9_CRASH_BACKOFF", "soon", "KUBE9_CRASH_BACKOFF must be a number of seconds"),
        ("KUBE9_CRASH_BACKOFF", "60", "must not be below KUBE9_CRASH_BACKOFF (60)"),
        ("KUBE9_CPU_M", "-5", "KUBE9_CPU_M must be at least 0"),
        ("KUBE9_OWN_CONTAINER", "yes", "KUBE9_OWN_CONTAINER must be 0 or 1"),
    ],
)
def test_bad_variable_is_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = agent_env("http://127.0.0.1:5000", tmp_path, **{name: value})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(env)


def test_every_missing_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({})
    for name in ("KUBE9_NODE_ID", "KUBE9_NODE_NAME", "KUBE9_API_URL", "KUBE9_NODE_TOKEN"):
        assert name in str(caught.value)


def test_main_exits_2_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in agent_env("http://x", Path()):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    assert "configuration error" in capsys.readouterr().err


def test_main_prints_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert AGENT_VERSION in capsys.readouterr().out


def test_main_rejects_unknown_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bogus"]) == 2
    capsys.readouterr()
