"""Reading a request's path and query parameters: ASCII digits only, bounded, named errors."""

from __future__ import annotations

import re

from aiohttp import web

from kube9_desktop.engine.errors import NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import namespace_problem
from kube9_desktop.engine.selectors import Selector, parse_selector

MAX_ID = 2**53  # ids never get near this; larger ones cannot exist (and overflow SQL integers)
_ASCII_INT = re.compile(r"[0-9]{1,19}", re.ASCII)  # 19 digits: anything longer is out of range
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def _id(request: web.Request, name: str = "id") -> int:
    """The path's id (ASCII digits by the route pattern); one too long to exist is a 404."""
    raw = request.match_info[name]
    if len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        what = request.path.strip("/").split("/")[0].rstrip("s").capitalize() or "Object"
        shown = raw if len(raw) <= 24 else f"{raw[:20]}… ({len(raw)} digits)"
        raise NotFound(f"{what} {shown} not found: no id is that large")
    return int(raw)


def _int_query(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """?name= as a whole number in ASCII digits within lo..hi; absent or empty: the default."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not _ASCII_INT.fullmatch(raw):
        raise UserError(
            f"{name}: must be a whole number in ASCII digits, between {lo} and {hi}", field=name
        )
    value = int(raw)
    if not lo <= value <= hi:
        raise UserError(f"{name}: must be between {lo} and {hi}", field=name)
    return value


def _bool_query(request: web.Request, name: str) -> bool:
    """?name=true|false (also 1/0, yes/no); anything else is refused, never read as false."""
    raw = request.query.get(name, "")
    if raw.lower() in _TRUE and raw.isascii():
        return True
    if raw.lower() in _FALSE and raw.isascii():
        return False
    raise UserError(f"{name}: must be true or false", field=name)


def _kinds_query(request: web.Request) -> list[str]:
    """?kind=a,b as event kinds; an unknown one is refused so that a typo does not read as
    'no such events'."""
    kinds = [k for k in request.query.get("kind", "").split(",") if k]
    known = {str(k) for k in EventKind}
    for kind in kinds:
        if kind not in known:
            raise UserError(
                f"kind: unknown event kind (known: {', '.join(sorted(known))})", field="kind"
            )
    return kinds


def _selector(request: web.Request) -> Selector:
    return parse_selector(request.query.get("labelSelector"), "labelSelector")


def _namespace_query(request: web.Request) -> str | None:
    raw = request.query.get("namespace")
    if raw is None or raw == "":
        return None
    problem = namespace_problem(raw)
    if problem:
        raise UserError(f"namespace: {problem}", field="namespace")
    return raw
