"""The container restart back-off: Kubernetes' 10 s to 5 min by default, a setting the engine
hands to every agent (tests and lessons shorten it)."""

from __future__ import annotations

import pytest

from kube9_desktop.agent.config import load_config
from kube9_desktop.settings import Settings
from main import build_parser, settings_from_args
from tests.integration.conftest import EngineFactory, add_nodes


def test_the_default_is_kubernetes_and_the_flags_change_it() -> None:
    default = Settings()
    assert (default.crash_backoff, default.crash_backoff_cap) == (10.0, 300.0)
    args = build_parser().parse_args(["--crash-backoff", "1", "--crash-backoff-cap", "8"])
    settings = settings_from_args(args).validate()
    assert (settings.crash_backoff, settings.crash_backoff_cap) == (1.0, 8.0)
    with pytest.raises(ValueError, match="crash_backoff: must be 0 or more and not above"):
        default.with_(crash_backoff=400.0).validate()


async def test_every_agent_is_launched_with_the_engines_back_off(
    make_engine: EngineFactory,
) -> None:
    engine = await make_engine(crash_backoff=2.5, crash_backoff_cap=40.0)
    ids = await add_nodes(engine, ("w1", 1))
    launch = engine.supervisor.launch_spec(engine.cluster.state.nodes[ids["w1"]])
    config = load_config(launch.agent_env("/var/lib/kube9"))
    assert (config.crash_backoff_s, config.crash_backoff_cap_s) == (2.5, 40.0)
