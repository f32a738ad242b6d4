"""Light and dark palettes (offscreen and Xvfb report no colour scheme, so users choose)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

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
    p.setColor(QPalette.ColorRole.Highlight, QColor(52, 104, 184))
    p.setColor(QPalette.ColorRole.HighlightedText, Qt.GlobalColor.white)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(150, 153, 158))
    p.setColor(QPalette.ColorRole.Link, QColor(138, 180, 248))
    p.setColor(QPalette.ColorRole.LinkVisited, QColor(190, 160, 240))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 122, 126))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 122, 126))
    return p


def _light_palette(app: QApplication) -> QPalette:
    """Fusion's own palette, with a selection dark enough for white text (AA: 4.5:1)."""
    p = app.style().standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor(38, 110, 168))
    return p


# The message bar's colours per theme and level: (background, text, border).
BANNER_COLORS = {
    "light": {
        "info": ("#e7f1fb", "#123a63", "#9cc1e8"),
        "error": ("#fbe9e9", "#6b1111", "#e3a1a1"),
    },
    "dark": {
        "info": ("#1d3550", "#e3eefa", "#3f6f9f"),
        "error": ("#4a1f1f", "#fbe4e4", "#9b4a4a"),
    },
}
# Usage bars (tree cells and details): fills behind the text by level, the track (the whole
# capacity), its frame and the request marker, per theme. Text is drawn over the fills.
USAGE_COLORS = {
    "light": {
        "ok": "#c6e7cf",
        "warn": "#f5e0ad",
        "high": "#f4c3bf",
        "track": "#eef0f3",
        "frame": "#a9afb8",
        "marker": "#1f4e8c",
    },
    "dark": {
        "ok": "#2c5838",
        "warn": "#67501a",
        "high": "#6b2a2a",
        "track": "#30343a",
        "frame": "#646a73",
        "marker": "#9cc3ff",
    },
}
# Inline error text on the window background, per theme.
ERROR_TEXT = {"light": "#b52b27", "dark": "#ff8a80"}
# Search matches in the log view: (background, text), per theme.
MATCH_COLORS = {"light": ("#ffe27a", "#1a1a1a"), "dark": ("#7a5c00", "#ffffff")}


# The edge of check boxes and radio buttons, per theme: Fusion draws it from the window colour
# made darker, which on the dark window is invisible and on the light one faint. WCAG 1.4.11
# asks 3:1 against what it sits on (the Base fill inside, the window around).
INDICATOR_EDGE = {"light": "#767676", "dark": "#8f949c"}
_INDICATORS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    QStyle.PrimitiveElement.PE_IndicatorRadioButton,
)


class IndicatorStyle(QProxyStyle):
    """Fusion, with check box and radio button edges you can see in either theme."""

    def __init__(self, theme: str) -> None:
        super().__init__("Fusion")
        self.edge = QColor(INDICATOR_EDGE[theme])

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _INDICATORS:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self.edge)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = option.rect
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            # Fusion's own circle: centred one pixel in, radius half the width less one.
            radius = (rect.width() + (rect.width() + 1) % 2) / 2.0 - 1
            painter.drawEllipse(QPointF(rect.center()) + QPointF(1, 1), radius, radius)
        else:
            painter.translate(0.5, 0.5)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()


def current_theme() -> str:
    """'dark' when the application's window colour is dark, else 'light'."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return "light"
    return "dark" if app.palette().color(QPalette.ColorRole.Window).lightness() < 128 else "light"


def banner_style(level: str, theme: str | None = None) -> str:
    """Style sheet of the message bar (the frame and every label and button in it)."""
    colors = BANNER_COLORS[theme or current_theme()]
    bg, fg, border = colors.get(level, colors["info"])
    return (
        f"#MessageBar {{ background:{bg}; border:1px solid {border}; border-radius:4px; }}"
        f" #MessageBar QLabel, #MessageBar QToolButton {{ color:{fg}; background:transparent; }}"
    )


def error_color(theme: str | None = None) -> str:
    return ERROR_TEXT[theme or current_theme()]


def match_colors(theme: str | None = None) -> tuple[QColor, QColor]:
    """(background, text) of a search match in the current (or the given) theme."""
    bg, fg = MATCH_COLORS[theme or current_theme()]
    return QColor(bg), QColor(fg)


def palette_for(app: QApplication, theme: str) -> QPalette:
    return _dark_palette() if theme == "dark" else _light_palette(app)


_R = QPalette.ColorRole
PALETTE_TEXT_PAIRS = [
    (_R.WindowText, _R.Window),
    (_R.Text, _R.Base),
    (_R.Text, _R.AlternateBase),
    (_R.ButtonText, _R.Button),
    (_R.HighlightedText, _R.Highlight),
    (_R.ToolTipText, _R.ToolTipBase),
    (_R.PlaceholderText, _R.Base),
    (_R.Link, _R.Base),
]


def text_pairs(app: QApplication, theme: str) -> list[tuple[str, QColor, QColor]]:
    """Every (what, text colour, background) pair the theme defines, for contrast checks."""
    p = palette_for(app, theme)
    out = [(f"{f.name}/{b.name}", p.color(f), p.color(b)) for f, b in PALETTE_TEXT_PAIRS]
    for level, (bg, fg, _border) in BANNER_COLORS[theme].items():
        out.append((f"banner {level}", QColor(fg), QColor(bg)))
    out.append(("error text/Window", QColor(ERROR_TEXT[theme]), p.color(_R.Window)))
    match_bg, match_fg = MATCH_COLORS[theme]
    out.append(("search match", QColor(match_fg), QColor(match_bg)))
    usage = USAGE_COLORS[theme]
    for level in ("ok", "warn", "high", "track"):
        out.append((f"usage bar {level}/Text", p.color(_R.Text), QColor(usage[level])))
    return out


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def resolve_theme(theme: str) -> str:
    """'light' or 'dark'; 'system' follows the desktop when it says, else light."""
    if theme in ("light", "dark"):
        return theme
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, theme: str) -> str:
    resolved = resolve_theme(theme)
    app.setStyle(IndicatorStyle(resolved))
    app.setPalette(palette_for(app, resolved))
    return resolved
