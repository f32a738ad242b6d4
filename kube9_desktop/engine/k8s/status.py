"""Kubernetes ``Status`` errors: every refusal of the Kubernetes API is one of these.

``kubectl`` prints ``Error from server (<reason>): <message>``, so each message is written the
way Kubernetes words it (``pods "web" not found``) and, where Kube-9 differs, says so.
"""

from __future__ import annotations

from typing import Any


class K8sError(Exception):
    """A refusal answered as a ``Status`` object (kind Status, status Failure)."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_object(self.code, self.reason, self.message, self.details)


class BadRequest(K8sError):
    code = 400
    reason = "BadRequest"


class Unauthorized(K8sError):
    code = 401
    reason = "Unauthorized"


class Forbidden(K8sError):
    code = 403
    reason = "Forbidden"


class NotFound(K8sError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(K8sError):
    code = 405
    reason = "MethodNotAllowed"


class Expired(K8sError):
    code = 410
    reason = "Expired"


class Conflict(K8sError):
    code = 409
    reason = "Conflict"


class Invalid(K8sError):
    code = 422
    reason = "Invalid"


class UnsupportedMediaType(K8sError):
    code = 415
    reason = "UnsupportedMediaType"


# metav1.StatusReason per code, for refusals that come as the engine's own errors
REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
    503: "ServiceUnavailable",
}  # fmt: skip


def status_error(code: int, message: str) -> K8sError:
    """A refusal with ``code`` and metav1's reason for it."""
    error = K8sError(message)
    error.code = code
    error.reason = REASONS.get(code, "BadRequest" if code < 500 else "InternalError")
    return error


def status_object(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        out["details"] = details
    out["code"] = code
    return out


def not_found(plural: str, name: str, group: str = "") -> NotFound:
    """``pods "web" not found``, with the details Kubernetes gives (kind is the plural)."""
    what = f"{plural}.{group}" if group else plural
    details: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return NotFound(f'{what} "{name}" not found', details=details)


def no_route() -> NotFound:
    return NotFound("the server could not find the requested resource", details={})
