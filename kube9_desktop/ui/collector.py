"""The window's side of the garbage collection policy: what it loaded stays out of collections.

The app collects on a GUI-thread timer (pyqtgraph's ``GarbageCollector``, ``app.py``); a
collection walks every object of its generations. Attaching an engine of 20,000 pods loads
hundreds of thousands of long-lived objects (the engine's records, the views and rows the
models keep), and the next generation-1 collection walked them all: a 224 ms stall in
``bench/ui_stall.py``. Once the window has loaded, ``gc.freeze()`` sets them aside for good;
later collections walk only what was made since. Detaching gives them back to the collector,
so a closed engine's objects are collected as usual.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from kube9_desktop.ui.bridge import EngineBridge


class LoadedObjects(QObject):
    """Freezes what is alive once an attached engine's cluster is loaded; unfreezes on detach."""

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._after_load = QTimer(self)
        self._after_load.setSingleShot(True)
        self._after_load.setInterval(0)  # attach() fills the models before returning
        self._after_load.timeout.connect(self._on_after_load_timeout)
        bridge.engine_attached.connect(self._after_load.start)
        bridge.engine_detached.connect(self._on_bridge_engine_detached)
        if bridge.attached:
            self._after_load.start()

    def _on_after_load_timeout(self) -> None:
        if self._bridge.engine is not None:  # a running engine, not a test's fake cluster
            gc.freeze()

    def _on_bridge_engine_detached(self) -> None:
        self._after_load.stop()
        gc.unfreeze()
