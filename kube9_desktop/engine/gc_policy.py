"""The headless engine's garbage-collection policy: what start-up made stays out of collections.

CPython's collector walks every tracked object of the generations it collects. A started
engine holds tens of thousands of long-lived objects before the first request (its modules,
aiohttp's and pydantic's tables, the Kubernetes API's schemas, the loaded cluster), and with
the default thresholds (700, 10, 10) a burst of pod creates triggered a full collection every
few thousand pods, each walking all of them: 110 µs of every create's 550 µs went to the
collector in ``bench/api.py``'s pod creates (gc callbacks' time, 6,000 creates on 10 nodes).

``apply`` freezes what is alive once the engine serves (``gc.freeze``: never walked again,
still freed by reference counting) and raises the thresholds so that young objects, which a
request makes and drops by the hundred, are collected in batches of 10,000 and a full
collection waits for a thousand of those. Cycles are still collected; they wait longer.

The window keeps its own policy (``ui/collector.py``: it collects on a GUI-thread timer).
"""

from __future__ import annotations

import gc

YOUNG = 10_000  # allocations between young collections (CPython's default: 700)
MIDDLE = 50  # young collections per middle one (default 10)
OLD = 20  # middle collections per full one (default 10; CPython also waits for 25 % growth)


def apply() -> None:
    """Freeze what start-up made and set the thresholds; call once the engine serves."""
    gc.collect()  # start-up's own garbage goes first, rather than into the frozen set
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
