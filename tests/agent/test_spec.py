"""Desired pods from the engine: argv splitting, safe names, env, refusal without leaking values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent.pods import PodDirectoryError, contained_path
from kube9_desktop.agent.spec import (
    FIXED_PATH,
    PortSpec,
    ProbeSpec,
    SpecError,
    is_safe_segment,
    parse_desired_pods,
    parse_pod,
    split_argv,
)
from tests.agent.helpers import SECRET, container, pod, sleeper


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-c 'httpd-foreground'", ["-c", "httpd-foreground"]),
        ('-c "echo a b"', ["-c", "echo a b"]),
        (["-c", "echo $HOME; rm -rf /"], ["-c", "echo $HOME; rm -rf /"]),
        ("", []),
        (None, []),
        ([], []),
    ],
)
def test_split_argv(value: object, expected: list[str]) -> None:
    assert split_argv(value, "args") == expected


@pytest.mark.parametrize("value", ["'unbalanced", [1, 2], {"a": 1}, 3, ["ok", "nul\0"]])
def test_split_argv_refuses(value: object) -> None:
    with pytest.raises(SpecError):
        split_argv(value, "args")


def test_argv_is_command_then_args() -> None:
    spec = parse_pod(pod(3, "web", container("web", ["/bin/sh"], "-c 'httpd-foreground'")))
    assert spec.containers[0].argv == ("/bin/sh", "-c", "httpd-foreground")


def test_no_command_means_placeholder_named_after_image() -> None:
    spec = parse_pod(pod(3, "web", {"name": "web", "image": "nginx:latest"}))
    assert spec.containers[0].argv == ()
    assert spec.containers[0].process_name == "nginx:latest"


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "../etc", "x\0y", "a\\b", "new\nline", 5])
def test_unsafe_names_are_refused(name: Any) -> None:
    assert not is_safe_segment(name)
    with pytest.raises(SpecError):
        parse_pod(pod(3, name, sleeper()))
    with pytest.raises(SpecError):
        parse_pod(pod(3, "ok", sleeper(name)))
    with pytest.raises(SpecError):
        parse_pod(pod(3, "ok", sleeper(), volumes=[{"name": name, "type": "emptyDir"}]))


def test_contained_path_refuses_escape_and_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "pods"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    assert contained_path(root, "3-web") == root / "3-web"
    for bad in ("..", "../x", "link"):
        with pytest.raises(PodDirectoryError):
            contained_path(root, bad)


def test_environment_is_only_path_home_pod_name_and_pod_items(tmp_path: Path) -> None:
    spec = parse_pod(
        pod(
            3,
            "web",
            sleeper(),
            env=[
                {"name": "ENV_TYPE", "value": "production", "secret": False},
                {"name": "API_KEY", "value": SECRET, "secret": True},
                {"name": "PORT", "value": 8080},
            ],
        )
    )
    assert spec.environment(tmp_path) == {
        "PATH": FIXED_PATH,
        "HOME": str(tmp_path),
        "POD_NAME": "web",
        "POD_NAMESPACE": "default",
        "ENV_TYPE": "production",
        "API_KEY": SECRET,
        "PORT": "8080",
    }
    assert SECRET not in repr(spec)


@pytest.mark.parametrize(
    "bad_pod",
    [
        pod(3, "web", sleeper(), env=[{"name": "A=B", "value": SECRET}]),
        pod(3, "web", sleeper(), env=[{"name": "A", "value": [SECRET]}]),
        pod(3, "web", sleeper(), env=[{"name": "A", "value": SECRET + "\0"}]),
        pod(3, "web", sleeper(), sleeper()),
        pod(3, "web"),
        {"id": True, "name": "web", "containers": [sleeper()]},
        {"id": 0, "name": "web", "containers": [sleeper()]},
        {"id": 3, "name": "web", "containers": "sleep"},
        {"id": 3, "name": "web", "containers": [sleeper()], "env": "A=1"},
    ],
)
def test_bad_pods_are_refused_without_showing_values(bad_pod: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as caught:
        parse_pod(bad_pod)
    assert SECRET not in str(caught.value)


def test_desired_pods_keep_valid_entries_and_name_refused_ones() -> None:
    desired = parse_desired_pods(
        [pod(3, "good", sleeper()), pod(4, "../bad", sleeper()), pod(3, "twice", sleeper())]
    )
    assert [p.id for p in desired.pods] == [3]
    assert desired.refused_ids == {3, 4}
    assert not desired.refused_without_id
    assert len(desired.errors) == 2


def test_desired_entry_without_id_is_flagged() -> None:
    desired = parse_desired_pods([None, {"name": "x"}])
    assert desired.pods == []
    assert desired.refused_without_id


def test_desired_pods_must_be_a_list() -> None:
    with pytest.raises(SpecError):
        parse_desired_pods({"id": 3})


def test_pod_level_cpu_request_is_what_the_books_charge() -> None:
    from kube9_desktop.agent.spec import parse_pod

    raw = {"id": 1, "name": "p", "cpu_req": 2.0,
           "containers": [{"name": "c", "image": "x", "cpu_req": 0.5}]}  # fmt: skip
    assert parse_pod(raw).cpu_req == 2.0
    del raw["cpu_req"]
    assert parse_pod(raw).cpu_req == 0.5


def probe(**fields: Any) -> dict[str, Any]:
    return {"http_get": {"path": "/healthz", "port": 8080}, **fields}


def test_probes_and_ports_parse_with_kubernetes_defaults() -> None:
    raw = pod(
        3,
        "web",
        sleeper() | {
            "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}],
            "readiness": {"http_get": {"path": "/ready", "port": "http"}, "period_s": 0.5,
                          "timeout_s": 0.2, "failure_threshold": 2, "success_threshold": 3,
                          "initial_delay_s": 1.5},
            "liveness": {"exec": {"command": ["test", "-f", "$(POD_IP).ok"]}},
        },
        ip="127.244.0.5",
        namespace="shop",
    )  # fmt: skip
    spec = parse_pod(raw)
    c = spec.containers[0]
    assert c.ports == (PortSpec(8080, "http", "TCP"),)
    assert c.readiness == ProbeSpec("http_get", (), 8080, "/ready", 1.5, 0.5, 0.2, 2, 3)
    assert c.liveness == ProbeSpec("exec", ("test", "-f", "$(POD_IP).ok"))
    assert (c.liveness.period_s, c.liveness.timeout_s, c.liveness.failure_threshold) == (10, 1, 3)
    assert (spec.ip, spec.namespace, spec.probe_host) == ("127.244.0.5", "shop", "127.244.0.5")


def test_tcp_probe_by_number_and_no_probes_at_all() -> None:
    spec = parse_pod(pod(3, "web", sleeper() | {"readiness": {"tcp_socket": {"port": 5432}},
                                                  "liveness": None}))  # fmt: skip
    assert spec.containers[0].readiness == ProbeSpec("tcp_socket", port=5432)
    assert spec.containers[0].liveness is None
    assert parse_pod(pod(3, "web", sleeper())).containers[0].readiness is None


@pytest.mark.parametrize(
    ("ip", "host"),
    [
        (None, "127.0.0.1"),  # an engine that sends no address
        ("10.244.0.7", "127.0.0.1"),  # an address from before the loopback network: unbindable
        ("127.244.1.2", "127.244.1.2"),
    ],
)
def test_probes_connect_to_the_pod_address_when_this_machine_has_it(
    ip: str | None, host: str
) -> None:
    extra: dict[str, Any] = {} if ip is None else {"ip": ip}
    assert parse_pod(pod(3, "web", sleeper(), **extra)).probe_host == host


@pytest.mark.parametrize(
    ("path", "sent"),
    [("/", "/"), ("", "/"), ("/a?b=1", "/a?b=1"), ("/caf\u00e9", "/caf%C3%A9"), ("/x#frag", "/x")],
)
def test_http_path_is_safe_for_the_request_line(path: str, sent: str) -> None:
    spec = parse_pod(
        pod(3, "web", sleeper() | {"readiness": probe(http_get={"path": path, "port": 80})})
    )
    assert spec.containers[0].readiness is not None
    assert spec.containers[0].readiness.path == sent


@pytest.mark.parametrize(
    ("container_extra", "message"),
    [
        ({"readiness": "http"}, "readiness must be an object"),
        ({"readiness": {}}, "exactly one of exec, tcp_socket or http_get"),
        ({"readiness": {"exec": {"command": ["true"]}, "tcp_socket": {"port": 1}}}, "exactly one"),
        ({"readiness": {"exec": {"command": []}}}, "exec command must name a program"),
        ({"readiness": {"exec": ["true"]}}, "exec must be an object"),
        ({"readiness": {"tcp_socket": {"port": 0}}}, "port must be a port number"),
        ({"readiness": {"tcp_socket": {"port": 70000}}}, "port must be a port number"),
        ({"readiness": {"tcp_socket": {"port": True}}}, "port must be a port number"),
        (
            {"readiness": {"tcp_socket": {"port": "http"}}},
            "names a port the container does not declare",
        ),
        ({"readiness": probe(http_get={"path": "/a b", "port": 80})}, "whitespace or control"),
        (
            {"readiness": probe(http_get={"path": "/a\r\nX-Evil: 1", "port": 80})},
            "whitespace or control",
        ),
        ({"readiness": probe(http_get={"path": "relative", "port": 80})}, "absolute path"),
        ({"readiness": probe(period_s=0)}, "period_s must be a number of seconds from 0.1"),
        ({"readiness": probe(period_s=float("nan"))}, "period_s"),
        ({"readiness": probe(timeout_s="1")}, "timeout_s"),
        ({"readiness": probe(initial_delay_s=-1)}, "initial_delay_s"),
        ({"readiness": probe(failure_threshold=0)}, "failure_threshold must be an integer"),
        ({"readiness": probe(success_threshold=1.5)}, "success_threshold"),
        ({"liveness": probe(success_threshold=2)}, "liveness: success_threshold must be 1"),
        ({"ports": [{"container_port": "80"}]}, "container_port must be a port number"),
        (
            {"ports": [{"name": "a", "container_port": 80}, {"name": "a", "container_port": 81}]},
            "port names must be unique",
        ),
        ({"ports": "80"}, "ports must be a list"),
    ],
)
def test_malformed_probes_and_ports_refuse_the_pod(
    container_extra: dict[str, Any], message: str
) -> None:
    desired = parse_desired_pods([pod(3, "web", sleeper() | container_extra)])
    assert desired.pods == []
    assert desired.refused_ids == {3}
    assert message in desired.errors[0]
    assert desired.errors[0].startswith("desired pod #0 (id 3): container #0: ")


@pytest.mark.parametrize("ip", ["127.244.0.300", "fe80::1", 5, ""])
def test_a_pod_with_a_bad_address_is_refused(ip: object) -> None:
    with pytest.raises(SpecError, match="ip must be an IPv4 address"):
        parse_pod(pod(3, "web", sleeper(), ip=ip))


def test_pod_variables_and_its_own_items_win() -> None:
    spec = parse_pod(
        pod(3, "web", sleeper(), ip="127.244.0.5", env=[{"name": "POD_NAME", "value": "mine"}])
    )
    assert spec.variables() == {
        "POD_NAME": "mine",
        "POD_NAMESPACE": "default",
        "POD_IP": "127.244.0.5",
    }
