"""The agent's log: stderr plus a size-capped ``<work>/agent.log``; never an env value."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER_NAME = "kube9.agent"
LOG_FILE = "agent.log"
MAX_LOG_BYTES = 1024 * 1024
LOG_BACKUPS = 2
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(work_dir: Path, level: int = logging.INFO) -> list[logging.Handler]:
    """Send the agent's records to stderr and to the rotating work-dir log; return the handlers."""
    logger = logging.getLogger(LOGGER_NAME)
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    try:
        handlers.append(
            RotatingFileHandler(
                work_dir / LOG_FILE,
                maxBytes=MAX_LOG_BYTES,
                backupCount=LOG_BACKUPS,
                encoding="utf-8",
            )
        )
    except OSError as exc:
        print(f"kube9 agent: cannot write {work_dir / LOG_FILE}: {exc}", file=sys.stderr)
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handlers


def teardown_logging(handlers: list[logging.Handler]) -> None:
    """Detach and close what ``setup_logging`` attached (main() may run more than once)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = True
