"""Where the app's resource files (icon, .desktop entry) are, wherever the app runs from.

``resources/`` lives at the top of the source tree. A PyInstaller bundle carries it as data
(``<bundle>/_internal/resources``, i.e. ``sys._MEIPASS``); an installed package finds the icon
in the hicolor theme the .deb (or a wheel's data files) installed. No Qt here: the UI turns
the path into a QIcon (``QIcon(str(icon_path()))``).
"""

from __future__ import annotations

import sys
from pathlib import Path

APP_ID = "kube9-desktop"
ICON_FILE = f"{APP_ID}.svg"
DESKTOP_FILE = f"{APP_ID}.desktop"


def resource_dirs() -> list[Path]:
    """Candidate ``resources`` folders, most specific first (only those that exist)."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")  # source tree
    for prefix in dict.fromkeys((sys.prefix, "/usr/local", "/usr")):
        candidates.append(Path(prefix) / "share" / APP_ID)
    return [c for c in candidates if c.is_dir()]


def resource_path(name: str) -> Path | None:
    """The first ``resources/<name>`` found, or None."""
    for folder in resource_dirs():
        path = folder / name
        if path.is_file():
            return path
    return None


def icon_path() -> Path | None:
    """The app icon (SVG): from the bundle or source tree, else the installed hicolor theme."""
    found = resource_path(ICON_FILE)
    if found is not None:
        return found
    for prefix in dict.fromkeys((sys.prefix, "/usr/local", "/usr")):
        themed = Path(prefix) / "share" / "icons" / "hicolor" / "scalable" / "apps" / ICON_FILE
        if themed.is_file():
            return themed
    return None
