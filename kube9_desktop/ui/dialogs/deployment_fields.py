"""The Deployment form's vocabulary: its fields, where a request path's problem belongs among
them, how field text becomes request values, and the example manifest."""

from __future__ import annotations

import re

from kube9_desktop.ui.dialogs._fields import FORM, keyed_error

EXAMPLE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        resources:
          requests: {cpu: 250m, memory: 128Mi}
        ports:
        - {containerPort: 80, name: http}
        readinessProbe:
          httpGet: {path: /, port: http}
"""
TEMPLATE = "template:"  # the prefix of a problem that belongs to the pod template tab
FIELDS = ("name", "namespace", "replicas", "labels", "strategy", "selector", "max_surge",
          "max_unavailable", "min_ready_seconds", "progress_deadline_seconds",
          "revision_history_limit")  # fmt: skip
_KEYED = re.compile(r"^(selector)\[(.*)\]$")
_WHOLE = re.compile(r"^[0-9]+$")


def whole(text: str) -> int | str | None:
    """Form text as the request reads it: "" -> None (not given), "3" -> 3, else the text
    (the request model then says what is wrong with it)."""
    text = text.strip()
    if not text:
        return None
    return int(text) if _WHOLE.match(text) else text


def field_of(path: str, message: str) -> tuple[str, str]:
    """A request path as this form's field ("strategy.max_surge" -> "max_surge"); a problem
    of the pod template as "template:<the editor's path>" (the caller maps that part)."""
    path, message = keyed_error(path, message)
    m = _KEYED.match(path)
    if m is not None:
        path, message = m.group(1), f"{m.group(2)}: {message}"
    if path == "(body)":  # a rule over several fields names the first one in its message
        head, sep, rest = message.partition(": ")
        if sep and head in FIELDS:
            return head, rest
        return FORM, message
    if path.startswith("template."):
        return TEMPLATE + path.removeprefix("template."), message
    if path == "template":
        return FORM, f"template: {message}"
    if path == "strategy" or path.startswith("strategy."):
        rest = path.removeprefix("strategy").removeprefix(".")
        field = "strategy" if rest in ("", "type") else rest
        return field, message.removeprefix("strategy: ")  # the engine's own prefix
    head = path.split(".")[0].split("[")[0]
    return (head if head in FIELDS else FORM), message
