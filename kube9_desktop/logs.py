"""Logging to stderr and to ``<data-dir>/logs/kube9.log``; the crash dialog points at the file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_FILE = "kube9.log"


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_FILE


def setup_logging(data_dir: Path, level: str = "INFO", *, console: bool = True) -> Path | None:
    """Configure the root logger once; returns the log file (None if it cannot be written)."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in list(root.handlers):
        if getattr(h, "_kube9", False):
            root.removeHandler(h)
    if console:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(fmt)
        handler._kube9 = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    path = log_path(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3)
    except OSError:
        return None
    fh.setFormatter(fmt)
    fh._kube9 = True  # type: ignore[attr-defined]
    root.addHandler(fh)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return path
