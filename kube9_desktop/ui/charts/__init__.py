"""Live cluster charts (pyqtgraph on ring buffers, redrawn on a timer)."""

from kube9_desktop.ui.charts.markers import Marker
from kube9_desktop.ui.charts.nodes import NodeBar
from kube9_desktop.ui.charts.panel import ChartsPanel
from kube9_desktop.ui.charts.ring import RingBuffer

__all__ = ["ChartsPanel", "Marker", "NodeBar", "RingBuffer"]
