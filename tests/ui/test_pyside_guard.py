"""PySide6 6.12 on CPython 3.11 drops None's refcount on every void call and aborts the
interpreter (NOTES.md); the dependency pin keeps us off it. This test fails if the pin slips."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QWidget


def test_void_calls_do_not_leak_none_references(qapp: QApplication) -> None:
    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        widget.update()
    after = sys.getrefcount(None)
    assert after >= before - 100, f"None refcount fell by {before - after}: PySide6 bug present"
