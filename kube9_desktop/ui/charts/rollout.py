"""A rollout over time: each ReplicaSet's replicas (solid) and available pods (dashed).

``RolloutSampler`` keeps one ring buffer per Deployment, sampled on every change set that
names the Deployment or one of its ReplicaSets (a rollout's steps, 50 ms apart at most) and on
the bridge's ``ticked`` (what time alone moves: minReadySeconds); a ReplicaSet that appears
mid-way gets a column of its own, NaN before it existed. ``RolloutChart`` draws one
Deployment from its buffer on a redraw timer, one PlotDataItem per series, never per event.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kube9_desktop.engine.changes import Kind
from kube9_desktop.ui.bridge import ChangeSet, EngineBridge
from kube9_desktop.ui.charts.ring import FloatArray, RingBuffer

SAMPLES = 2000  # per Deployment: ten minutes at one a second, plus the steps' bursts
REDRAW_MS = 250
CURRENT_COLOR = "#2e9d4f"
OLD_COLORS = ("#d99a1e", "#8e5bd0", "#4a7fd6", "#8a8a8a")


class RolloutSampler(QObject):
    """Per Deployment, the replicas and available pods of each ReplicaSet over time."""

    sampled = Signal(int)  # Deployment id

    def __init__(
        self, bridge: EngineBridge, parent: QObject | None = None, *, samples: int = SAMPLES
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.samples = samples
        self._rings: dict[int, RingBuffer] = {}
        self._revisions: dict[int, dict[int, int]] = {}  # Deployment -> RS id -> revision
        self._current: dict[int, int] = {}  # Deployment -> its current revision
        bridge.ticked.connect(self.sample_all)
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        bridge.engine_attached.connect(self.clear)

    def clear(self) -> None:
        self._rings.clear()
        self._revisions.clear()
        self._current.clear()

    def sample_all(self) -> None:
        for d in self.bridge.deployments():
            self.sample(d.id)

    def _on_bridge_cluster_changed(self, changes: ChangeSet) -> None:
        ids = set(changes.ids(Kind.DEPLOYMENT))
        for rs_id in changes.ids(Kind.REPLICASET):
            owner = next((d for d, revs in self._revisions.items() if rs_id in revs), None)
            if owner is None:
                rs = self.bridge.replicaset(rs_id)
                owner = rs.owner.id if rs is not None and rs.owner is not None else None
            if owner is not None:
                ids.add(owner)
        for d_id in sorted(ids):
            self.sample(d_id)

    def sample(self, deployment_id: int) -> None:
        """One sample of one Deployment now; a deleted one's history is dropped."""
        d = self.bridge.deployment(deployment_id)
        if d is None:
            self._rings.pop(deployment_id, None)
            self._revisions.pop(deployment_id, None)
            return
        ring = self._rings.get(deployment_id)
        if ring is None:
            ring = self._rings[deployment_id] = RingBuffer(("t",), self.samples)
        revisions = self._revisions.setdefault(deployment_id, {})
        values = {"t": time.time()}
        for rs_id in d.replicaset_ids:
            rs = self.bridge.replicaset(rs_id)
            if rs is None:
                continue
            revisions[rs_id] = rs.revision
            for what, value in (("replicas", rs.replicas), ("available", rs.status.available)):
                name = f"{rs_id}:{what}"
                ring.add_series(name)
                values[name] = float(value)
        self._current[deployment_id] = d.revision
        ring.append(values)
        self.sampled.emit(deployment_id)

    # ---- reads -------------------------------------------------------------------------

    def size(self, deployment_id: int) -> int:
        ring = self._rings.get(deployment_id)
        return ring.size if ring is not None else 0

    def times(self, deployment_id: int) -> FloatArray:
        ring = self._rings.get(deployment_id)
        return ring.series("t") if ring is not None else np.empty(0)

    def series(self, deployment_id: int, rs_id: int, what: str) -> FloatArray:
        """``what`` is "replicas" or "available"; oldest first, NaN before the RS existed."""
        ring = self._rings.get(deployment_id)
        name = f"{rs_id}:{what}"
        if ring is None or name not in ring:
            return np.empty(0)
        return ring.series(name)

    def replicasets(self, deployment_id: int) -> dict[int, int]:
        """{ReplicaSet id: revision} of every ReplicaSet sampled for the Deployment."""
        return dict(self._revisions.get(deployment_id, {}))

    def current_revision(self, deployment_id: int) -> int:
        return self._current.get(deployment_id, 0)


class RolloutChart(QWidget):
    """The selected Deployment's ReplicaSets over time (replicas solid, available dashed)."""

    def __init__(
        self, sampler: RolloutSampler, parent: QWidget | None = None, *, redraw_ms: int = REDRAW_MS
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RolloutChart")
        self.sampler = sampler
        self.deployment_id: int | None = None
        self._curves: dict[str, pg.PlotDataItem] = {}  # "<rs id>:<what>" -> its line
        self._labels: dict[str, str] = {}  # the same keys -> "rev 2 replicas"
        self._dirty = False
        self.view = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.view.setObjectName("rollout_view")
        self.plot = self.view.getPlotItem()
        self.plot.setLabel("left", "pods")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().setDefaultPadding(0.08)
        self.legend = self.plot.addLegend(
            offset=(6, 2), colCount=2, labelTextSize="7pt", brush=pg.mkBrush(128, 128, 128, 40)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setMinimumHeight(170)
        self.setMaximumHeight(230)  # the details below it stay in view
        self._apply_palette()
        sampler.sampled.connect(self._on_sampler_sampled)
        self._redraw = QTimer(self)
        self._redraw.setInterval(redraw_ms)
        self._redraw.timeout.connect(self._on_redraw_timeout)
        self._redraw.start()

    def show_deployment(self, deployment_id: int | None) -> None:
        if deployment_id == self.deployment_id:
            return
        self.deployment_id = deployment_id
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self._curves.clear()
        self._labels.clear()
        self.legend.clear()
        self._dirty = True
        self.redraw()

    def curve_names(self) -> list[str]:
        """The series drawn as the legend names them ("rev 2 replicas", …)."""
        return sorted(self._labels.values())

    def _on_sampler_sampled(self, deployment_id: int) -> None:
        if deployment_id == self.deployment_id:
            self._dirty = True

    def _on_redraw_timeout(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw()

    def redraw(self) -> None:
        self._dirty = False
        d_id = self.deployment_id
        if d_id is None:
            return
        t = self.sampler.times(d_id)
        current = self.sampler.current_revision(d_id)
        olds = 0
        top = 0.0
        for rs_id, revision in sorted(
            self.sampler.replicasets(d_id).items(), key=lambda kv: -kv[1]
        ):
            if revision == current:
                color = CURRENT_COLOR
            else:
                color = OLD_COLORS[olds % len(OLD_COLORS)]
                olds += 1
            for what, style in (
                ("replicas", Qt.PenStyle.SolidLine),
                ("available", Qt.PenStyle.DashLine),
            ):
                key, label = f"{rs_id}:{what}", f"rev {revision} {what}"
                pen = pg.mkPen(color, width=1, style=style)
                curve = self._curves.get(key)
                if curve is None:
                    item = self.plot.plot(pen=pen, name=label, antialias=False)
                    assert isinstance(item, pg.PlotDataItem)
                    curve = self._curves[key] = item
                else:
                    if self._labels[key] != label:  # a rollback renumbered it
                        self.legend.removeItem(curve)
                        curve.opts["name"] = label
                        self.legend.addItem(curve, label)
                    curve.setPen(pen)  # a new rollout made the current one old
                self._labels[key] = label
                values = self.sampler.series(d_id, rs_id, what)
                if len(values) == len(t):
                    curve.setData(t, values, connect="finite")
                    if len(values) and not np.isnan(values).all():
                        top = max(top, float(np.nanmax(values)))
        # Room above the lines for the legend, which sits at the top.
        self.plot.setYRange(0, max(1.0, top) * 1.6, padding=0)

    def _apply_palette(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)
