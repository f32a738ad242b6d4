"""The headless engine's collection policy: start-up's objects frozen, thresholds raised."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from kube9_desktop.engine import gc_policy


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_apply_freezes_what_lives_and_raises_the_thresholds() -> None:
    gc.unfreeze()
    kept = [object() for _ in range(10)]  # noqa: F841 (alive while apply runs)
    gc_policy.apply()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (gc_policy.YOUNG, gc_policy.MIDDLE, gc_policy.OLD)
    assert gc.isenabled()  # collections still happen, only in larger batches


@pytest.mark.usefixtures("restored_gc")
def test_cycles_made_after_apply_are_still_collected() -> None:
    gc_policy.apply()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
