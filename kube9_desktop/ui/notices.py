"""What the window says outside the cluster views: a message bar for results and errors, and the
start-up page ("Starting the engine…", its progress, or why it could not start)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.ui.theme import banner_style

INFO_SECONDS = 8  # results fade away; errors stay until closed
OVERLAY_MARGIN = 8


class MessageBar(QFrame):
    """The last result (info) or error, with a close button.

    With a parent it floats over the parent's bottom edge (a toast) instead of taking a place
    in a layout: appearing and fading away never moves the rows under the pointer.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.text = QLabel()
        self.text.setObjectName("MessageText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setObjectName("MessageClose")
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(close)
        self.level = ""
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.setInterval(INFO_SECONDS * 1000)
        self._fade.timeout.connect(self.hide)
        self.hide()
        if parent is not None:
            parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.place()
        return False

    def place(self) -> None:
        """Over the bottom of the parent, its full width less a margin."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = max(100, parent.width() - 2 * OVERLAY_MARGIN)
        layout = self.layout()
        height = layout.heightForWidth(width) if layout is not None else -1
        if height <= 0:
            height = self.sizeHint().height()
        self.setGeometry(OVERLAY_MARGIN, parent.height() - height - OVERLAY_MARGIN, width, height)
        self.raise_()

    def show_message(self, level: str, text: str) -> None:
        self.level = level
        self.setStyleSheet(banner_style(level))
        self.text.setText(text)
        self.show()
        self.place()
        if level == "info":
            self._fade.start()
        else:
            self._fade.stop()


class StartupPage(QWidget):
    """Shown until the engine is attached: progress while it starts, what to do if it fails."""

    def __init__(self, log_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StartupPage")
        self.log_path = log_path
        self.headline = QLabel("Starting the engine…")
        self.headline.setObjectName("StartupHeadline")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        self.headline.setFont(font)
        self.busy = QProgressBar()
        self.busy.setObjectName("StartupBusy")
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumWidth(360)
        self.progress = QLabel("Choosing where nodes run…")
        self.progress.setObjectName("StartupProgress")
        self.progress.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("StartupError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.RichText)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        selectable = (
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.error.setTextInteractionFlags(selectable)
        self.log_label = QLabel(log_path)
        self.log_label.setObjectName("StartupLogPath")
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(selectable)
        self.log_label.setToolTip("Select to copy the log's path")
        # The message can be long: it wraps to the page's width and scrolls, never clips.
        body = QWidget()
        stack = QVBoxLayout(body)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addWidget(self.error)
        stack.addWidget(QLabel("Details are in the log:"))
        stack.addWidget(self.log_label)
        stack.addStretch(1)
        self.error_area = QScrollArea()
        self.error_area.setObjectName("StartupScroll")
        self.error_area.setWidgetResizable(True)
        self.error_area.setFrameShape(QFrame.Shape.NoFrame)
        self.error_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.error_area.setWidget(body)
        self.error_area.setMaximumWidth(760)
        self.error_area.hide()
        self.quit = QPushButton("Quit")
        self.quit.setObjectName("StartupQuit")
        self.quit.hide()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.headline, self.busy, self.progress):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.error_area, 8)
        row.addStretch(1)
        layout.addLayout(row, 6)
        layout.addWidget(self.quit, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.progress.setMaximumWidth(720)

    def set_progress(self, text: str) -> None:
        self.progress.setText(text)

    def show_error(self, message: str) -> None:
        self.headline.setText("The engine could not start")
        self.busy.hide()
        self.progress.hide()
        self.error.setText(
            f"<p><b>{_escape(message)}</b></p>"
            "<p>What you can do: fix the cause above and start Kube-9 Desktop again. Without "
            "Docker, <code>--runtime process</code> runs nodes as local processes and "
            "<code>--runtime virtual</code> needs nothing at all; a busy port is avoided with "
            "<code>--port 0</code>.</p>"
        )
        self.error_area.show()
        self.quit.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
