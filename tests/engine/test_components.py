"""component_states: the agent's report and the fault injector's books as one state and why."""

from __future__ import annotations

import pytest

from kube9_desktop.engine.components import (
    ENDED,
    INJECTED,
    NOT_YET_REPORTED,
    REPORTED,
    ComponentState,
    component_states,
)


@pytest.mark.parametrize(
    ("reported", "books", "shown"),
    [
        # Injected, its agent not yet told (or not yet reporting): the books decide at once.
        ("running", "failed", ComponentState("kubelet", "failed", INJECTED + NOT_YET_REPORTED)),
        ("unknown", "failed", ComponentState("kubelet", "failed", INJECTED + NOT_YET_REPORTED)),
        ("failed", "failed", ComponentState("kubelet", "failed", INJECTED)),
        # Healed: the agent still reports it failed for a beat or two.
        ("failed", "ended", ComponentState("kubelet", "recovering", ENDED)),
        ("running", "ended", ComponentState("kubelet", "running")),
        # No fault in the books: the report as it stands.
        ("failed", None, ComponentState("kubelet", "failed", REPORTED)),
        ("running", None, ComponentState("kubelet", "running")),
        ("unknown", None, ComponentState("kubelet", "unknown")),
    ],
)
def test_one_component(reported: str, books: str | None, shown: ComponentState) -> None:
    faults = {} if books is None else {"kubelet": books}
    assert component_states({"kubelet": reported}, faults) == (shown,)


def test_the_reports_order_is_kept() -> None:
    reported = {"kubelet": "running", "container_runtime": "running", "kube_proxy": "running"}
    states = component_states(reported, {"kube_proxy": "failed"})
    assert [(c.name, c.state) for c in states] == [
        ("kubelet", "running"), ("container_runtime", "running"), ("kube_proxy", "failed"),
    ]  # fmt: skip
