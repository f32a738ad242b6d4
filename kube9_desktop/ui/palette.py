"""The command palette (Ctrl+K or Ctrl+Shift+P): every action of the window, by name, with its
shortcut; typing filters fuzzily (the letters in order), Enter runs the chosen action."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

PALETTE_KEYS = ("Ctrl+K", "Ctrl+Shift+P")


def action_label(action: QAction) -> str:
    """The action's text without mnemonics or a trailing ellipsis."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def window_actions(window: QWidget) -> list[QAction]:
    """Every named action of ``window`` (menus, toolbars, context menus), each once."""
    seen: set[int] = set()
    out: list[QAction] = []
    for action in window.findChildren(QAction):
        if action.isSeparator() or action.menu() is not None or not action_label(action):
            continue
        if id(action) in seen:
            continue
        seen.add(id(action))
        out.append(action)
    out.sort(key=lambda a: action_label(a).lower())
    return out


def fuzzy_score(query: str, text: str) -> int | None:
    """None unless the query's letters appear in ``text`` in order; lower is a better match
    (a contiguous match or one at a word start beats a scattered one)."""
    query, text = query.lower().replace(" ", ""), text.lower()
    if not query:
        return 0
    if query in text:
        return text.index(query)
    pos, gaps, last = 0, 0, -1
    for ch in query:
        found = text.find(ch, pos)
        if found < 0:
            return None
        if last >= 0:
            gaps += found - last - 1
        last, pos = found, found + 1
    return 100 + gaps


class CommandPalette(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("CommandPalette")
        self.setWindowTitle("Command palette")
        self.window_ = window
        self.filter = QLineEdit(placeholderText="Type a command…")
        self.filter.setObjectName("PaletteFilter")
        self.list = QListWidget()
        self.list.setObjectName("PaletteList")
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.resize(520, 420)
        self.filter.textChanged.connect(self.refill)
        self.filter.returnPressed.connect(self.run_current)
        self.list.itemActivated.connect(lambda _item: self.run_current())
        self.filter.installEventFilter(self)
        self.refill("")

    def refill(self, query: str) -> None:
        self.list.clear()
        scored = []
        for action in window_actions(self.window_):
            label = action_label(action)
            score = fuzzy_score(query, label)
            if score is not None:
                scored.append((score, label.lower(), label, action))
        for _score, _key, label, action in sorted(scored, key=lambda t: t[:2]):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            item = QListWidgetItem(f"{label}  ·  {keys}" if keys else label)
            item.setData(Qt.ItemDataRole.UserRole, action)
            item.setToolTip(action.toolTip())
            if not action.isEnabled():
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        for row in range(self.list.count()):
            if self.list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
                self.list.setCurrentRow(row)
                break

    def eventFilter(self, watched: object, event: object) -> bool:
        """Up and Down in the filter move through the list."""
        if (
            watched is self.filter
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down)
        ):
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
            self.list.setCurrentRow(row)
            return True
        return False

    def run_current(self) -> None:
        item = self.list.currentItem()
        action = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.accept()
        if isinstance(action, QAction) and action.isEnabled():
            action.trigger()


def install_palette(window: QMainWindow) -> QAction:
    """Add the "Command palette…" action (Ctrl+K, Ctrl+Shift+P) to ``window``."""
    action = QAction("Command palette…", window)
    action.setObjectName("CommandPaletteAction")
    action.setShortcuts([QKeySequence(k) for k in PALETTE_KEYS])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def open_palette() -> None:
        palette = CommandPalette(window)
        palette.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        palette.open()
        palette.filter.setFocus()

    action.triggered.connect(open_palette)
    window.addAction(action)
    return action
