from __future__ import annotations

import pytest

from kube9_desktop.engine.quantity import QuantityError, parse_cpu, parse_memory, parse_quantity


@pytest.mark.parametrize(
    ("value", "millicores"),
    [
        (1, 1000),
        (4, 4000),
        (0.5, 500),
        (1.25, 1250),
        ("2", 2000),
        ("500m", 500),
        ("0.25", 250),
        ("1500m", 1500),
        ("1e0", 1000),
        ("100u", 1),  # rounds up to the smallest unit the engine counts
        (0.0001, 1),
    ],
)
def test_cpu_to_millicores(value: object, millicores: int) -> None:
    assert parse_cpu(value) == millicores


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        (256, 256),
        ("256Mi", 256),
        ("1Gi", 1024),
        ("1.5Gi", 1536),
        ("1G", 954),  # 10^9 bytes is 953.67 MiB, rounded up
        ("512M", 489),
        ("1048576Ki", 1024),
        ("1Ti", 1024 * 1024),
    ],
)
def test_memory_to_mib(value: object, mib: int) -> None:
    assert parse_memory(value) == mib


@pytest.mark.parametrize(
    "value",
    [0, -1, "0", "-500m", "abc", "", "5x", "1.2.3", True, None, [], {}, float("nan"),
     float("inf"), 10**9, "2000"],
)  # fmt: skip
def test_cpu_rejects(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_cpu(value)


@pytest.mark.parametrize("value", [0, -5, "0Mi", "lots", False, "1Qi", 10**12])
def test_memory_rejects(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_memory(value)


def test_memory_zero_allowed_for_container_requests() -> None:
    assert parse_memory(0, allow_zero=True) == 0


def test_quantity_is_exact() -> None:
    assert parse_quantity("1Ki") == 1024
    assert parse_quantity("1k") == 1000
    assert parse_quantity("250m") * 4 == 1
