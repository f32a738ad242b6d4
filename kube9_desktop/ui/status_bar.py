"""The status bar: the runtime and why, the API address with a copy-token button, node and pod
counts, the heartbeat rate, and a warning while evictions are paused."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QToolButton, QWidget

from kube9_desktop.ui.bridge import EngineBridge


def _label(name: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    return label


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" where its room ends, instead of cutting a word."""

    def shown_text(self) -> str:
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, _event: QPaintEvent) -> None:
        QPainter(self).drawText(self.contentsRect(), int(self.alignment()), self.shown_text())


class ClusterStatusBar(QStatusBar):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.bridge = bridge
        self.runtime = ElidedLabel("Starting the engine…")
        self.runtime.setObjectName("RuntimeLabel")
        # The runtime's reason can be long: it yields space and keeps the full text as tooltip.
        self.runtime.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.api = _label("ApiLabel")
        self.copy_token = QToolButton()
        self.copy_token.setObjectName("CopyTokenButton")
        self.copy_token.setText("Copy token")
        self.copy_token.setToolTip("Copy the API's admin token to the clipboard")
        self.copy_token.setAutoRaise(True)
        self.copy_token.setEnabled(False)
        self.copy_token.clicked.connect(self._on_copy_token_clicked)
        self.engines = _label("EnginesLabel")  # several Docker engines: how many are up
        self.engines.hide()
        self.counts = _label("CountsLabel")
        self.rate = _label("HeartbeatRateLabel")
        self.paused = _label("EvictionsPausedLabel", "evictions paused")
        self.paused.setStyleSheet("color: white; background: #b8860b; padding: 0 6px;")
        self.paused.setToolTip(
            "Every node went silent at once, or the engine itself stalled: evictions wait "
            "instead of emptying the cluster"
        )
        self.paused.hide()
        self.addWidget(self.runtime, 1)
        for widget in (
            self.paused,
            self.engines,
            self.counts,
            self.rate,
            self.api,
            self.copy_token,
        ):
            self.addPermanentWidget(widget)
        bridge.ticked.connect(self.refresh)  # the heartbeat rate has no event
        self._soon = QTimer(self)  # counts follow changes without re-reading on every burst
        self._soon.setSingleShot(True)
        self._soon.setInterval(200)
        self._soon.timeout.connect(self.refresh)
        bridge.engine_attached.connect(self._on_bridge_engine_attached)
        bridge.cluster_changed.connect(self._on_bridge_cluster_changed)
        if bridge.attached:
            self._on_bridge_engine_attached()

    def _on_bridge_engine_attached(self) -> None:
        self.refresh()

    def _on_bridge_cluster_changed(self, _changes: object) -> None:
        self._soon.start()

    def refresh(self) -> None:
        summary = self.bridge.summary()
        if summary is None:
            return
        reason = f" — {summary.runtime_reason}" if summary.runtime_reason else ""
        self.runtime.setText(f"Runtime: {summary.runtime}{reason}")
        self.runtime.setToolTip(
            f"Nodes run on the {summary.runtime} runtime{reason}. Scheduler: {summary.scheduler}."
        )
        url = self.bridge.api_url
        self.api.setText(f"API: {url}" if url else "API: not serving")
        k8s = self.bridge.k8s_url
        self.api.setToolTip(
            f"The Kube-9 API: {url or 'not serving'}\nThe Kubernetes API (kubectl): "
            + (f"{k8s} — File > Copy kubeconfig" if k8s else "not serving")
        )
        self.copy_token.setEnabled(bool(self.bridge.admin_token))
        pending = summary.pods_by_phase.get("pending", 0)
        unhealthy = sum(n for status, n in summary.nodes_by_status.items() if status != "healthy")
        self.counts.setText(
            f"{summary.node_count} node{'s' if summary.node_count != 1 else ''}"
            + (f" ({unhealthy} not healthy)" if unhealthy else "")
            + f" · {summary.pod_count} pod{'s' if summary.pod_count != 1 else ''}"
            + (f" ({pending} pending)" if pending else "")
        )
        self.rate.setText(f"{summary.heartbeats_per_s:.1f} heartbeats/s")
        self._show_engines()
        self.paused.setVisible(summary.evictions_paused)

    def _show_engines(self) -> None:
        """With several Docker engines: "engines 2/3 up", each one's state in the tooltip."""
        engines = self.bridge.engines()
        if len(engines) < 2:
            self.engines.hide()
            return
        up = sum(e.state != "down" for e in engines)
        self.engines.setText(f"engines {up}/{len(engines)} up")
        self.engines.setStyleSheet(
            "" if up == len(engines) else "color: white; background: #b22222; padding: 0 6px;"
        )
        self.engines.setToolTip(
            "\n".join(
                f"{e.name} ({e.url}): {e.state}, {e.nodes} node(s)"
                + (f", agents reach {e.agent_url}" if e.agent_url and e.name != "local" else "")
                + (f"\n    {e.error}" if e.error else "")
                for e in engines
            )
        )
        self.engines.show()

    def _on_copy_token_clicked(self) -> None:
        token = self.bridge.admin_token
        clipboard = QGuiApplication.clipboard()
        if token and clipboard is not None:
            clipboard.setText(token)
            self.showMessage("API token copied to the clipboard", 4000)
