"""Keep Python's cyclic garbage collector on the GUI thread during a UI test.

The engine and qasync run Python code in executor threads; a collection that starts there
destroys any Qt object caught in a reference cycle (pyqtgraph items, a bridge a panel holds)
on the wrong thread, and its still-registered timers later crash the event loop. Tests that
use this fixture collect only on the GUI thread, after their widgets are gone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture
def main_thread_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()
