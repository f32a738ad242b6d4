"""Desired pods from the engine: argv splitting, safe names, env, refusal without leaking values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kube9_desktop.agent.pods import PodDirectoryError, contained_path
from kube9_desktop.agent.spec import (
    FIXED_PATH,
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


def test_environment_is_only_path_home_and_pod_items(tmp_path: Path) -> None:
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
