"""Naming Docker engines: ``--docker-engine NAME=URL[,tls=DIR]`` (repeatable) and
``--advertise-url``, parsed into settings, each mistake refused naming what is wrong; the
spread rule and the advertised address agents on a remote engine are told."""

from __future__ import annotations

import pytest

from kube9_desktop.engine.runtime.engines import advertised_url, route_source_address
from kube9_desktop.settings import EngineSpec, Settings, engine_specs, parse_engine
from main import build_parser, settings_from_args


def test_the_flags_name_engines_and_the_advertised_address() -> None:
    args = build_parser().parse_args([
        "--docker-engine", "lab=ssh://me@lab.example",
        "--docker-engine", "gpu=tcp://10.1.2.3:2376,tls=/etc/kube9/gpu",
        "--advertise-url", "https://192.0.2.10",
    ])  # fmt: skip
    settings = settings_from_args(args).validate()
    assert settings.docker_engines == (
        "lab=ssh://me@lab.example", "gpu=tcp://10.1.2.3:2376,tls=/etc/kube9/gpu",
    )  # fmt: skip
    assert settings.advertise_url == "https://192.0.2.10"
    assert [s.name for s in engine_specs(settings.docker_engines)] == ["local", "lab", "gpu"]
    assert parse_engine("gpu=tcp://10.1.2.3:2376,tls=/d") == EngineSpec(
        "gpu", "tcp://10.1.2.3:2376", "/d"
    )
    assert parse_engine("ci=context:ci").url == "context:ci"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("lab", "give it as NAME=URL"),
        ("Lab=ssh://me@lab", "must be lower-case"),
        ("local=unix:///run/x.sock", "'local' is always this machine's engine"),
        ("lab=http://lab:2375", "is not unix:///path, tcp://host:port"),
        ("lab=tcp://:2375", "names no host"),
        ("lab=unix://relative.sock", "unix:///absolute/path"),
        ("lab=ssh://me@lab,tls=/d", "tls=DIR goes with tcp:// only"),
        ("lab=tcp://lab:2376,verify=no", "unknown option 'verify=no'"),
    ],
)
def test_a_bad_engine_is_refused_naming_the_problem(given: str, said: str) -> None:
    with pytest.raises(ValueError, match="docker_engines: ") as refused:
        Settings(docker_engines=(given,)).validate()
    assert said in str(refused.value)


def test_an_engine_named_twice_and_a_bad_advertised_url_are_refused() -> None:
    with pytest.raises(ValueError, match="lab: named twice"):
        Settings(docker_engines=("lab=ssh://a", "lab=ssh://b")).validate()
    with pytest.raises(ValueError, match="advertise_url: 'lab:5000' is not http"):
        Settings(docker_engines=("lab=ssh://a",), advertise_url="lab:5000").validate()


def test_agents_are_told_loopback_locally_and_the_advertised_or_routed_address_remotely() -> None:
    api = "http://127.0.0.1:5123"
    assert advertised_url(api, EngineSpec("local"), "http://192.0.2.10") == api
    lab = EngineSpec("lab", "ssh://me@127.0.0.7")
    assert advertised_url(api, lab, "https://192.0.2.10") == "https://192.0.2.10:5123"
    assert advertised_url(api, lab, "http://192.0.2.10:6000") == "http://192.0.2.10:6000"
    # no --advertise-url: this machine's address on the route to the engine's host
    assert route_source_address("127.0.0.7") == "127.0.0.1"
    assert advertised_url(api, lab, None) == "http://127.0.0.1:5123"
    # a socket names no host: no address is known (the launch says to give --advertise-url)
    assert advertised_url(api, EngineSpec("alt", "unix:///run/alt.sock"), None) == ""
