"""Live cluster charts (pyqtgraph on ring buffers, redrawn on a timer)."""

from kube9_desktop.ui.charts.panel import ChartsPanel, Marker, NodeBar
from kube9_desktop.ui.charts.ring import RingBuffer

__all__ = ["ChartsPanel", "Marker", "NodeBar", "RingBuffer"]
