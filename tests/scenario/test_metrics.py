"""The report's pure figures, by table (docs/scenarios.md defines them)."""

from __future__ import annotations

import pytest

from kube9_desktop.scenario.metrics import (
    Free,
    availability,
    median_request,
    percentile,
    reason_keys,
    stranded,
)

A = Free(1000, 4096, 10)  # 1 core, 4 GiB
B = Free(3000, 512, 10)  # 3 cores, 512 MiB
FULL = Free(4000, 8192, 0)  # room, but at its pod limit


@pytest.mark.parametrize(
    ("nodes", "probes", "expected"),
    [
        ([A, B], [(2000, 1024)], (4000, 4608)),  # fits neither: all free capacity is stranded
        ([A, B], [(500, 256)], (0, 0)),  # fits both: nothing is
        ([A, B], [(2000, 256)], (1000, 4096)),  # fits B only: A's room is stranded
        ([A, B], [(2000, 256), (500, 2048)], (0, 0)),  # each node takes one of the shapes
        ([A, FULL], [(500, 256)], (4000, 8192)),  # a node at its pod limit strands all it has
        ([A, B], [], (0, 0)),  # nothing to probe with: nothing is counted stranded
        ([], [(1, 1)], (0, 0)),
        ([Free(0, 0, 5)], [(100, 100)], (0, 0)),  # a full node has nothing to strand
    ],
)
def test_stranded(
    nodes: list[Free], probes: list[tuple[int, int]], expected: tuple[int, int]
) -> None:
    assert stranded(nodes, probes) == expected


@pytest.mark.parametrize(
    ("requests", "expected"),
    [
        ([], None),
        ([(500, 256)], (500, 256)),
        ([(100, 900), (300, 100), (200, 500)], (200, 500)),  # each resource on its own
        ([(100, 1), (200, 2), (300, 3), (400, 4)], (200, 2)),  # even count: the lower middle
    ],
)
def test_median_request(requests: list[tuple[int, int]], expected: tuple[int, int] | None) -> None:
    assert median_request(requests) == expected


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 99, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 99, 4.0),
        ([4.0, 1.0, 3.0, 2.0], 75, 3.0),  # order of arrival does not matter
        ([float(i) for i in range(1, 101)], 99, 99.0),  # nearest rank: 99th of 100
        ([float(i) for i in range(1, 101)], 50, 50.0),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_availability() -> None:
    assert availability([], []) == {
        "mean": None, "fully_available_share": None, "min_available": None,
    }  # fmt: skip
    got = availability([4, 3, 4, 0], [4, 4, 4, 0])  # the last sample wants nothing
    assert got == {"mean": 0.9375, "fully_available_share": 0.75, "min_available": 0}
    assert availability([6], [4])["mean"] == 1.0  # surge above desired caps at 1


def test_reasons_lose_their_figures_and_count_once_per_decision() -> None:
    reasons = {
        "w-1": ["insufficient cpu: requested 2, free 1", "Too many pods"],
        "w-2": ["insufficient cpu: requested 2, free 0.5", "insufficient memory: requested 1Gi, "
                "free 512Mi"],
        "m-1": ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"],
    }  # fmt: skip
    assert reason_keys(reasons) == [
        "Too many pods",
        "insufficient cpu",
        "insufficient memory",
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
    ]
