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


@pytest.mark.parametrize(
    ("value", "mib"),
    [("2048", 2048), ("0.5", 1), ("2e3", 2000), (" 512 ", 512), ("+64", 64), ("2048.5", 2049)],
)
def test_memory_strings_without_a_unit_are_mb_like_numbers(value: str, mib: int) -> None:
    assert parse_memory(value) == mib
    assert parse_memory(value) == parse_memory(float(value))


HOSTILE_QUANTITIES = [
    "1e999999", "1e-999999", "1e" + "9" * 5000, "9" * 5000, "0." + "0" * 5000 + "1",
    "nan", "NaN", "inf", "-inf", "Infinity", "0x10", "0b1", "1_000", "２", "１Gi", "٣",
    "1e19", "1e-10", "-1", "-1Gi", "1 Gi", "\x002", "2\x00", "1e", "e3", ".", "",
]  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE_QUANTITIES)
def test_hostile_quantity_strings_are_refused(value: str) -> None:
    with pytest.raises(QuantityError):
        parse_cpu(value)
    with pytest.raises(QuantityError):
        parse_memory(value)


def test_exponents_span_the_suffixes() -> None:
    assert parse_quantity("1e18") == parse_quantity("1E")
    assert parse_quantity("1e-9") == parse_quantity("1n")
    assert parse_cpu("5e-1") == 500


@pytest.mark.parametrize("value", [10**4000, -(10**4000), 1e308, -1e308])
def test_huge_numbers_are_refused_not_overflowed(value: object) -> None:
    with pytest.raises(QuantityError, match=r"at most|greater than 0"):
        parse_cpu(value)
    with pytest.raises(QuantityError, match=r"at most|greater than 0"):
        parse_memory(value)


def test_a_bare_number_in_a_pod_manifest_still_means_bytes() -> None:
    """The API reads "2048" as MB; a Kubernetes manifest's bare sizeLimit stays bytes."""
    from kube9_desktop.ui.dialogs.pod_manifest import read_manifest

    draft = read_manifest(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: c, image: x}]\n"
        "  volumes: [{name: a, emptyDir: {sizeLimit: 3000000000}}]\n"
    )
    assert draft.volumes[0]["size"] == "3"  # 3e9 bytes is 2862 MiB: 3 GB, not 2.8 million
