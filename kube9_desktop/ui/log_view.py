"""Container logs in a window of their own per (pod, container), as Lens and k9s show them.

The text comes from the engine's ``PodLogs`` through the bridge, never on the GUI thread: one
read of the last lines, then ``PodLogs.follow`` as a task that appends each chunk as it comes.
Following through the engine's own iterator (rather than polling offsets here) keeps one
reading of rotation and restarts, the one the API's ``follow`` streams too; stopping it is
cancelling the task (closing the window, turning Follow off, choosing another container).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QFontDatabase,
    QGuiApplication,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.core import Engine
from kube9_desktop.engine.errors import Kube9Error, NotFound
from kube9_desktop.engine.model import PodView
from kube9_desktop.engine.pod_logs import LogTarget
from kube9_desktop.ui.bridge import EngineBridge
from kube9_desktop.ui.dialogs._fields import error_label, show_error
from kube9_desktop.ui.theme import match_colors

MAX_LINES = 10_000  # kept in the view; older lines are dropped (and the status says so)
MAX_HIGHLIGHTS = 1_000  # matches painted at once: more would slow every keystroke
HIGHLIGHT_DELAY_MS = 300  # new lines get their matches painted at most this often

ReadResult = tuple[LogTarget, bytes, int]


class LogView(QWidget):
    """One container's output: follow, previous run, wrap, search, copy and save."""

    def __init__(
        self, bridge: EngineBridge, pod: PodView, container: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("LogView")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.bridge = bridge
        self.pod_id, self.pod_name = pod.id, pod.name
        self._generation = 0  # bumped by every reload: late answers of an older one are dropped
        self._tasks: list[Any] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._received = 0  # lines received since the last reload (the view keeps MAX_LINES)
        self._older_cut = False  # the first read had more than MAX_LINES
        self._state = ""  # what the status line says besides the counts
        self.resize(900, 600)

        self.containers = QComboBox()
        self.containers.setObjectName("log_container")
        self.containers.addItems([c.name for c in pod.spec.containers])
        self.containers.setCurrentText(container)
        self.containers.setToolTip("Which container's output to show")
        container_label = QLabel("&Container:")
        container_label.setBuddy(self.containers)
        many = len(pod.spec.containers) > 1
        container_label.setVisible(many)
        self.containers.setVisible(many)
        self.follow = self._check("Follow", "log_follow", True,
                                  "Show new lines as the container prints them")  # fmt: skip
        self.previous = self._check("Previous run", "log_previous", False,
                                    "The output of the run before the last restart")  # fmt: skip
        self.wrap = self._check("Wrap", "log_wrap", False, "Wrap long lines")
        self.copy = self._button("Copy", "log_copy", self._on_copy_clicked,
                                 "Copy the selected text, or all of it")  # fmt: skip
        self.save = self._button("Save…", "log_save", self._on_save_clicked,
                                 "Save the text shown to a file")  # fmt: skip
        top = QHBoxLayout()
        for w in (container_label, self.containers, self.follow, self.previous, self.wrap):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.copy)
        top.addWidget(self.save)

        self.search = QLineEdit(placeholderText="Find in the log (Enter: next, Shift+Enter: back)")
        self.search.setObjectName("log_search")
        self.search.setClearButtonEnabled(True)
        find_label = QLabel("&Find:")
        find_label.setBuddy(self.search)
        self.find_previous = self._button(
            "Previous", "log_find_previous", lambda: self.find_match(backward=True), "Shift+F3"
        )
        self.find_next = self._button("Next", "log_find_next", self.find_match, "F3")
        self.matches = QLabel()
        self.matches.setObjectName("log_matches")
        self.matches.setMinimumWidth(self.fontMetrics().horizontalAdvance("10,000 matches"))
        bottom = QHBoxLayout()
        bottom.addWidget(find_label)
        bottom.addWidget(self.search, 1)
        bottom.addWidget(self.find_previous)
        bottom.addWidget(self.find_next)
        bottom.addWidget(self.matches)

        self.text = QPlainTextEdit()
        self.text.setObjectName("log_text")
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setMaximumBlockCount(MAX_LINES + 1)  # the last line's newline opens one more
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.status = QLabel()
        self.status.setObjectName("log_status")
        self.status.setWordWrap(True)
        self.error = error_label("log_view", self)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.error)
        layout.addWidget(self.status)

        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.setInterval(HIGHLIGHT_DELAY_MS)
        self._highlight_timer.timeout.connect(self._highlight)
        self._apply_wrap()
        self.containers.currentTextChanged.connect(lambda _t: self.reload())
        self.follow.toggled.connect(lambda _on: self.reload())
        self.previous.toggled.connect(lambda _on: self.reload())
        self.wrap.toggled.connect(lambda _on: self._apply_wrap())
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self.find_match)
        back = QShortcut(QKeySequence("Shift+Return"), self.search)
        back.setContext(Qt.ShortcutContext.WidgetShortcut)
        back.activated.connect(lambda: self.find_match(backward=True))
        for keys, slot in (
            ("F3", self.find_match),
            ("Shift+F3", lambda: self.find_match(backward=True)),
            (QKeySequence.StandardKey.Find, self._focus_search),
        ):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        self.text.verticalScrollBar().valueChanged.connect(lambda _v: self._show_status())
        self.reload()

    def _check(self, text: str, name: str, on: bool, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setChecked(on)
        box.setToolTip(tip)
        return box

    def _button(self, text: str, name: str, slot: Callable[[], Any], tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.setToolTip(tip)
        button.clicked.connect(lambda _c=False: slot())
        return button

    @property
    def container(self) -> str:
        return self.containers.currentText()

    @property
    def key(self) -> tuple[int, str]:
        return (self.pod_id, self.container)

    # ---- reading ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the container's last lines again (its previous run's, with Previous run),
        then follow it if Follow is on."""
        self._stop()
        self._generation += 1
        generation = self._generation
        pod_id, container, previous = self.pod_id, self.container, self.previous.isChecked()
        self.follow.setEnabled(not previous)
        self.follow.setToolTip(
            "A previous run is over: nothing to follow"
            if previous
            else "Show new lines as the container prints them"
        )
        what = "previous run of " if previous else ""
        self.setWindowTitle(f"Logs — {self.pod_name}/{container}{' (previous run)' * previous}")
        self.text.clear()
        self.text.setPlaceholderText(f"Reading the {what}container's output…")
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._received, self._older_cut = 0, False
        self._highlight()  # the old text's matches are gone with it
        show_error(self.error, "")
        self._state = "reading…"
        self._show_status()

        async def read(engine: Engine) -> ReadResult:
            target = engine.pod_logs.target(pod_id, container, previous)
            data, offset = await engine.pod_logs.read(target, MAX_LINES + 1)
            return target, data, offset

        self._tasks.append(
            self.bridge.run(
                f"Read the logs of {self.pod_name}/{container}",
                read,
                lambda result: self._on_read(generation, result),
                lambda exc: self._on_read_failed(generation, exc),
            )
        )

    def _on_read(self, generation: int, result: ReadResult) -> None:
        if generation != self._generation:
            return
        target, data, offset = result
        lines = data.splitlines(keepends=True)
        if len(lines) > MAX_LINES:
            data, self._older_cut = b"".join(lines[-MAX_LINES:]), True
        self.text.setPlaceholderText(
            "Virtual nodes run no processes, so this container has no output."
            if target.note
            else "No output yet"
            if not self.previous.isChecked()
            else "The previous run printed nothing"
        )
        self.append(data)
        if self.follow.isChecked() and not self.previous.isChecked() and target.note is None:
            self._state = "following"
            self._tasks.append(self._follow(generation, target, offset))
        else:
            self._state = "" if target.note is None else target.note
        self._show_status()

    def _follow(self, generation: int, target: LogTarget, offset: int) -> Any:
        async def follow(engine: Engine) -> None:
            async for chunk in engine.pod_logs.follow(target, offset):
                if generation == self._generation:
                    self.append(chunk)

        return self.bridge.run(
            f"Follow the logs of {self.pod_name}/{target.container}",
            follow,
            lambda _none: self._on_follow_ended(generation),
            lambda exc: self._on_read_failed(generation, exc),
        )

    def _on_follow_ended(self, generation: int) -> None:
        if generation == self._generation:
            self._state = "the pod was deleted: following stopped"
            self._show_status()

    def _on_read_failed(self, generation: int, exc: Kube9Error) -> None:
        if generation != self._generation:
            return
        if isinstance(exc, NotFound) and self.previous.isChecked():
            message = (
                f"No previous run: container {self.container} has not restarted "
                "(or its earlier output is gone)."
            )
        else:
            message = exc.message
        self.text.setPlaceholderText(message)
        self._state = "no previous run" if self.previous.isChecked() else "could not read"
        show_error(self.error, "" if self.previous.isChecked() else message)
        self._show_status()

    def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    def append(self, data: bytes) -> None:
        """Add output at the end (bytes that are not UTF-8 show as U+FFFD); the view stays at
        the bottom unless the user scrolled up."""
        text = self._decoder.decode(data)
        if not text:
            return
        bar = self.text.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._received += text.count("\n")
        if at_bottom:
            bar.setValue(bar.maximum())
        if self.search.text():
            self._highlight_timer.start()
        self._show_status()

    # ---- status ----------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._state == "following"

    @property
    def scrolled_up(self) -> bool:
        bar = self.text.verticalScrollBar()
        return bar.value() < bar.maximum()

    @property
    def shown_lines(self) -> int:
        """Lines in the view (a last line still waiting for its newline counts)."""
        document = self.text.document()
        return document.blockCount() - (document.lastBlock().length() <= 1)

    @property
    def dropped(self) -> int:
        """Lines no longer shown: beyond MAX_LINES, the oldest go first."""
        return max(0, self._received - self.shown_lines)

    def _show_status(self) -> None:
        shown = self.shown_lines
        parts = [f"{shown:,} line{'s' * (shown != 1)}"]
        if self.dropped or self._older_cut:
            parts.append(f"older lines dropped: showing the last {MAX_LINES:,}")
        state = self._state
        if state == "following" and self.scrolled_up:
            state = "following; scrolled up, so the view holds still (scroll to the end to go on)"
        if state:
            parts.append(state)
        self.status.setText(" · ".join(parts))

    # ---- wrap, search ----------------------------------------------------------------

    def _apply_wrap(self) -> None:
        mode = QPlainTextEdit.LineWrapMode
        self.text.setLineWrapMode(mode.WidgetWidth if self.wrap.isChecked() else mode.NoWrap)

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _on_search_text_changed(self, _text: str) -> None:
        """Search as the user types, from where the current match starts."""
        cursor = self.text.textCursor()
        cursor.setPosition(cursor.selectionStart())
        self.text.setTextCursor(cursor)
        self.find_match()

    def find_match(self, backward: bool = False) -> bool:
        """Select the next (or previous) match, wrapping round; paint every match."""
        query = self.search.text()
        self._highlight()
        if not query:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.text.find(query, flags)
        if not found:
            cursor = self.text.textCursor()
            end = QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
            cursor.movePosition(end)
            self.text.setTextCursor(cursor)
            found = self.text.find(query, flags)
        return found

    def _highlight(self) -> None:
        query = self.search.text()
        selections: list[QTextEdit.ExtraSelection] = []
        if query:
            background, foreground = match_colors()
            fmt = QTextCharFormat()
            fmt.setBackground(background)
            fmt.setForeground(foreground)
            document = self.text.document()
            cursor = document.find(query)
            while not cursor.isNull() and len(selections) < MAX_HIGHLIGHTS:
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
                cursor = document.find(query, cursor)
        self.text.setExtraSelections(selections)
        n = len(selections)
        self.matches.setText(
            ""
            if not query
            else "no match"
            if n == 0
            else f"{n:,}{'+' * (n >= MAX_HIGHLIGHTS)} match{'es' * (n != 1)}"
        )

    # ---- copy, save, close -----------------------------------------------------------

    def selected_or_all(self) -> str:
        selected = self.text.textCursor().selectedText()
        if selected:
            return selected.replace("\u2029", "\n")  # Qt's paragraph separator
        return self.text.toPlainText()

    def _on_copy_clicked(self) -> None:
        text = self.selected_or_all()
        QGuiApplication.clipboard().setText(text)
        lines = text.count("\n") + (not text.endswith("\n") and bool(text))
        self._flash(f"copied {lines:,} line{'s' * (lines != 1)} to the clipboard")

    def save_to(self, path: Path) -> None:
        path.write_text(self.text.toPlainText(), encoding="utf-8")

    def _on_save_clicked(self) -> None:
        suffix = "-previous" if self.previous.isChecked() else ""
        name, _ = QFileDialog.getSaveFileName(
            self, "Save log", f"{self.pod_name}-{self.container}{suffix}.log",
            "Logs (*.log *.txt);;All files (*)",
        )  # fmt: skip
        if not name:
            return
        try:
            self.save_to(Path(name))
        except OSError as exc:
            show_error(self.error, f"Could not save {name}: {exc.strerror or exc}")
            return
        show_error(self.error, "")
        self._flash(f"saved to {name}")

    def _flash(self, message: str) -> None:
        self._show_status()
        self.status.setText(f"{self.status.text()} · {message}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop()  # closing the window stops following
        self._generation += 1
        super().closeEvent(event)
