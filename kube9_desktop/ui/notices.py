"""What the window says outside the cluster views: a message bar for results and errors, and the
start-up page ("Starting the engine…", its progress, or why it could not start)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

INFO_SECONDS = 8  # results fade away; errors stay until closed
STYLES = {
    "info": "background:#e7f1fb; color:#123a63; border:1px solid #9cc1e8; border-radius:4px;",
    "error": "background:#fbe9e9; color:#6b1111; border:1px solid #e3a1a1; border-radius:4px;",
}


class MessageBar(QFrame):
    """One line at the top of the window: the last result (info) or error, with a close button."""

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

    def show_message(self, level: str, text: str) -> None:
        self.level = level
        self.setStyleSheet(f"#MessageBar {{ {STYLES.get(level, STYLES['info'])} }}")
        self.text.setText(text)
        self.show()
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
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.quit = QPushButton("Quit")
        self.quit.setObjectName("StartupQuit")
        self.quit.hide()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (self.headline, self.busy, self.progress, self.error, self.quit):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.error.setMaximumWidth(720)
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
            f"<p>Details are in the log: <code>{_escape(self.log_path)}</code></p>"
        )
        self.error.show()
        self.quit.show()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
