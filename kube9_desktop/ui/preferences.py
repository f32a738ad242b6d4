"""User preferences persisted with QSettings: the engine settings the Settings dialog edits,
the theme, the window's geometry and dock layout, the pod list's columns and sort order, and
the charts' time range.

Command-line flags win over stored preferences for that run, without overwriting them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from kube9_desktop.settings import Settings


def _flag(value: Any) -> bool:
    """QSettings gives a stored bool back as "true"/"false" from its INI files."""
    if isinstance(value, str):
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError(value)
        return value.lower() in ("true", "1")
    return bool(value)


def _lines(value: Any) -> tuple[str, ...]:
    """A list of settings stored as one text, a line each (QSettings' INI has no lists)."""
    if not isinstance(value, str):
        raise TypeError(value)
    return tuple(line.strip() for line in value.splitlines() if line.strip())


# Settings fields the dialog edits, with how to read back what QSettings stored.
EDITABLE: dict[str, Callable[[Any], Any]] = {
    "heartbeat_interval": float,
    "grace_period": float,
    "detect_from_runtime": _flag,
    "kubernetes_default_tolerations": _flag,
    "scheduler": str,
    "runtime": str,
    "port": int,
    "theme": str,
    "docker_engines": _lines,
    "advertise_url": str,
}
# Command-line attributes that override a preference (argparse dest -> settings field).
CLI_OVERRIDES = {
    "heartbeat_interval": "heartbeat_interval",
    "grace_period": "grace_period",
    "detect_from_runtime": "detect_from_runtime",
    "kubernetes_defaults": "kubernetes_default_tolerations",
    "scheduler": "scheduler",
    "runtime": "runtime",
    "port": "port",
    "advertise_url": "advertise_url",
}


class Preferences:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings()

    def load(self) -> dict[str, Any]:
        """Stored values for the editable settings (absent ones are left out)."""
        out: dict[str, Any] = {}
        for name, kind in EDITABLE.items():
            value = self.q.value(f"engine/{name}")
            if value is None or value == "":
                continue
            try:
                out[name] = kind(value)
            except (TypeError, ValueError):
                continue
        return out

    def save(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in EDITABLE:
                if isinstance(value, tuple):
                    value = "\n".join(value)
                self.q.setValue(f"engine/{name}", "" if value is None else value)
        self.q.sync()

    def apply_to(self, settings: Settings, explicit: Any = None) -> Settings:
        """``settings`` with stored preferences, except what the command line set."""
        stored = self.load()
        for dest, name in CLI_OVERRIDES.items():
            if explicit is not None and getattr(explicit, dest, None) is not None:
                stored.pop(name, None)
        if explicit is not None and getattr(explicit, "docker_engine", None):
            stored.pop("docker_engines", None)  # --docker-engine given: those, for this run
        if explicit is not None and getattr(explicit, "demo", False) and explicit.runtime is None:
            stored["runtime"] = "virtual"  # --demo runs on virtual nodes unless told otherwise
        try:
            return settings.with_(**stored).validate()
        except ValueError:
            return settings  # a corrupt preference never stops the app from starting

    # ---- window layout -----------------------------------------------------------------

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.q.value("window/geometry")
        state = self.q.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
        self.q.sync()

    def pod_list_header(self) -> QByteArray | None:
        """The pod list's header: columns shown, their order and widths, the sort order."""
        state = self.q.value("podlist/header")
        return state if isinstance(state, QByteArray) else None

    def save_pod_list_header(self, state: QByteArray) -> None:
        self.q.setValue("podlist/header", state)
        self.q.sync()

    # ---- charts ------------------------------------------------------------------------

    def chart_range(self) -> str | None:
        """The time charts' window as last chosen ("1m", "5m", "15m", "all"), if ever."""
        value = self.q.value("charts/range")
        return value if isinstance(value, str) else None

    def save_chart_range(self, key: str) -> None:
        self.q.setValue("charts/range", key)
        self.q.sync()
