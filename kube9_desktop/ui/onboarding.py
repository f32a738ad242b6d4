"""What an empty cluster offers: add a node, or start the demo cluster (over the empty tree)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from kube9_desktop.engine.errors import Kube9Error
from kube9_desktop.ui.bridge import EngineBridge


class EmptyClusterHint(QWidget):
    """Centred over a tree's viewport while the cluster has no nodes. "Add a node" asks the
    window (its Add Node action, Ctrl+N); "Start the demo cluster" creates the demo's nodes
    and pods through the engine, as ``--demo`` does."""

    add_node_requested = Signal()

    def __init__(self, bridge: EngineBridge, viewport: QWidget) -> None:
        super().__init__(viewport)
        self.setObjectName("EmptyClusterHint")
        self.bridge = bridge
        self.title = QLabel("<b>No nodes yet</b>", self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel("A cluster needs a node to run pods on.", self)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.add_node = QPushButton("Add a node (Ctrl+N)", self)
        self.add_node.setObjectName("HintAddNode")
        self.demo = QPushButton("Start the demo cluster", self)
        self.demo.setObjectName("HintStartDemo")
        self.demo.setToolTip("Three workers, a master and six pods on this cluster's runtime")
        layout = QVBoxLayout(self)
        for widget in (self.title, self.text, self.add_node, self.demo):
            layout.addWidget(widget)
        self.add_node.clicked.connect(self.add_node_requested)
        self.demo.clicked.connect(self._on_demo_clicked)
        viewport.installEventFilter(self)
        self._place()

    def _on_demo_clicked(self) -> None:
        from kube9_desktop.engine.demo import create_demo_cluster

        self.demo.setEnabled(False)
        self.demo.setText("Starting the demo cluster…")

        def done(_: object = None) -> None:
            self.demo.setEnabled(True)
            self.demo.setText("Start the demo cluster")

        def failed(exc: Kube9Error) -> None:
            done()
            self.bridge.operation_failed.emit("Start the demo cluster", exc.message)

        self.bridge.run("Start the demo cluster", create_demo_cluster, done, failed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        self.adjustSize()
        width = min(max(self.sizeHint().width(), 260), parent.width())
        height = self.sizeHint().height()
        self.setGeometry(
            (parent.width() - width) // 2, max(0, (parent.height() - height) // 2), width, height
        )
