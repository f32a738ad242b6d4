"""Error taxonomy: the user's fault (4xx), the environment's fault (5xx with advice), or a bug.

Every message is written for a person: what went wrong and what they can do about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Kube9Error(Exception):
    """Base of every error the engine raises on purpose."""

    status = 500

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = extra

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


class UserError(Kube9Error):
    """Bad input: the request can be fixed by the person who sent it (400)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        if field is not None:
            extra["field"] = field
        super().__init__(message, **extra)
        self.field = field


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    """The name is taken or the object is in a state that forbids the operation (409)."""

    status = 409


class Unschedulable(UserError):
    """No node can take the pod right now; ``reasons`` says why for every node."""

    def __init__(self, message: str, reasons: Mapping[str, list[str]], **extra: Any) -> None:
        super().__init__(message, reasons=dict(reasons), **extra)
        self.reasons = dict(reasons)


class Forbidden(Kube9Error):
    status = 403


class Unauthorized(Kube9Error):
    status = 401


class EnvironmentProblem(Kube9Error):
    """The machine, not the user or the code: Docker down, disk full, port busy (503)."""

    status = 503


class RuntimeUnavailable(EnvironmentProblem):
    """The node runtime (Docker daemon, process spawner) cannot be reached right now."""


class StoreUnavailable(EnvironmentProblem):
    """The database cannot be written or read (disk full, read-only, server gone)."""


class StoreInUse(EnvironmentProblem):
    """Another engine runs on this store or data directory (see store/lock.py for who)."""
