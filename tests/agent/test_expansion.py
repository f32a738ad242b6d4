"""$(VAR) expansion in command, args and exec probes: Kubernetes' rules, case by case."""

from __future__ import annotations

import pytest

from kube9_desktop.agent.expansion import expand, expand_all

VARS = {"POD_IP": "127.244.0.5", "PORT": "8080", "EMPTY": "", "ODD": "$(PORT)"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--bind $(POD_IP)", "--bind 127.244.0.5"),
        ("$(POD_IP):$(PORT)", "127.244.0.5:8080"),
        ("$(NOPE)", "$(NOPE)"),  # undefined: stays as written
        ("$$(POD_IP)", "$(POD_IP)"),  # escaped: the literal reference
        ("$$$(POD_IP)", "$127.244.0.5"),  # an escaped $, then a reference
        ("$$$$(POD_IP)", "$$(POD_IP)"),
        ("$$", "$"),  # $$ is always one $
        ("cost $5", "cost $5"),  # $ before anything else stays
        ("$", "$"),  # a trailing $ stays
        ("x$", "x$"),
        ("$(", "$("),  # an unclosed reference stays
        ("$(POD_IP", "$(POD_IP"),
        ("$()", "$()"),  # the empty name is undefined
        ("$(EMPTY)x", "x"),  # defined but empty
        ("$(ODD)", "$(PORT)"),  # a value is not expanded again
        ("$(POD_IP)$(POD_IP)", "127.244.0.5127.244.0.5"),
        ("$(A$(PORT))", "$(A$(PORT))"),  # the name runs to the first ')': "A$(PORT"
        ("(POD_IP)", "(POD_IP)"),
        ("no references", "no references"),
        ("", ""),
    ],
)
def test_expand_table(text: str, expected: str) -> None:
    assert expand(text, VARS) == expected


def test_each_word_expands_alone_and_never_splits() -> None:
    assert expand_all(["sh", "-c", "echo $(POD_IP) $HOME"], {"POD_IP": "a b"}) == [
        "sh",
        "-c",
        "echo a b $HOME",
    ]
