"""Light and dark palettes (offscreen and Xvfb report no colour scheme, so users choose)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# Status colours shared by the tree, the details panel and the charts.
STATUS_COLORS = {
    "healthy": "#2e9d4f",
    "running": "#2e9d4f",
    "initializing": "#4a7fd6",
    "scheduled": "#4a7fd6",
    "recovering": "#d99a1e",
    "pending": "#d99a1e",
    "unhealthy": "#d9534f",
    "failed": "#9b1c1c",
    "terminating": "#8a8a8a",
    "succeeded": "#6c757d",
}


def _dark_palette() -> QPalette:
    p = QPalette()
    base, alt, text = QColor(37, 39, 43), QColor(48, 51, 56), QColor(222, 224, 228)
    p.setColor(QPalette.ColorRole.Window, QColor(43, 45, 49))
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, alt)
    p.setColor(QPalette.ColorRole.ToolTipBase, alt)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, alt)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor(61, 119, 204))
    p.setColor(QPalette.ColorRole.HighlightedText, Qt.GlobalColor.white)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 143, 148))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 122, 126))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 122, 126))
    return p


def resolve_theme(theme: str) -> str:
    """'light' or 'dark'; 'system' follows the desktop when it says, else light."""
    if theme in ("light", "dark"):
        return theme
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, theme: str) -> str:
    resolved = resolve_theme(theme)
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if resolved == "dark" else app.style().standardPalette())
    return resolved
