"""Query and path parameters, each declared once: the handler reads it with ``read`` and the
OpenAPI document shows its ``schema``, built from the same bounds and patterns.

A bad value is a 400 naming the parameter (``?limit=abc``), so is one given twice (and one the
route does not take: app._check_query); a path value that cannot name an object (an id too
large to exist, a namespace name that is not a DNS label) is a 404.
An absent or empty parameter takes its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kube9_desktop.engine.errors import NotFound, UserError
from kube9_desktop.engine.events import EventKind
from kube9_desktop.engine.meta import DNS_LABEL, NAME_MAX, namespace_problem
from kube9_desktop.engine.selectors import SELECTOR_MAX, SELECTOR_PATTERN, Selector, parse_selector

MAX_ID = 2**53  # ids never get near this; larger ones cannot exist (and overflow SQL integers)
_ASCII_INT = re.compile(r"[0-9]{1,19}", re.ASCII)  # 19 digits: anything longer is out of range
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def _one(request: web.Request, name: str) -> str | None:
    """The parameter's value; given twice it is refused, not read as the first or the last."""
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise UserError(f"{name}: given {len(values)} times; give it once", field=name)
    return values[0] if values else None


def _any_case(word: str) -> str:
    """'no' -> '[nN][oO]': ECMA patterns have no inline (?i)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


@dataclass(frozen=True)
class IntQuery:
    """``?name=`` as a whole number in ASCII digits within lo..hi."""

    name: str
    lo: int
    hi: int
    default: int
    description: str

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi, "default": self.default}

    def read(self, request: web.Request) -> int:
        raw = _one(request, self.name)
        if raw is None or raw == "":
            return self.default
        lo, hi = self.lo, self.hi
        if not _ASCII_INT.fullmatch(raw):
            raise UserError(
                f"{self.name}: must be a whole number in ASCII digits, between {lo} and {hi}",
                field=self.name,
            )
        value = int(raw)
        if not lo <= value <= hi:
            raise UserError(f"{self.name}: must be between {lo} and {hi}", field=self.name)
        return value


@dataclass(frozen=True)
class OptionalIntQuery:
    """``?name=`` as a whole number within lo..hi; absent or empty: None (no bound)."""

    name: str
    lo: int
    hi: int
    description: str

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}

    def read(self, request: web.Request) -> int | None:
        raw = _one(request, self.name)
        if raw is None or raw == "":
            return None
        return IntQuery(self.name, self.lo, self.hi, self.lo, self.description).read(request)


@dataclass(frozen=True)
class NameQuery:
    """``?name=`` as an object name (a DNS label, e.g. a container); absent or empty: None."""

    name: str
    description: str

    def schema(self) -> dict[str, Any]:
        pattern = DNS_LABEL.pattern.removeprefix("^").removesuffix("$")
        return {"type": "string", "maxLength": NAME_MAX, "pattern": f"^(?:{pattern})?$"}

    def problem(self, raw: str) -> str | None:
        if len(raw) > NAME_MAX or not DNS_LABEL.fullmatch(raw):
            shown = raw[:NAME_MAX].encode("ascii", "backslashreplace").decode()
            return (
                f"{shown!r} is not a valid name (lower-case letters, digits and '-', at most "
                f"{NAME_MAX} characters)"
            )
        return None

    def read(self, request: web.Request) -> str | None:
        raw = _one(request, self.name)
        if raw is None or raw == "":
            return None
        problem = self.problem(raw)
        if problem:
            raise UserError(f"{self.name}: {problem}", field=self.name)
        return raw


@dataclass(frozen=True)
class BoolQuery:
    """``?name=true|false`` (also 1/0, yes/no, any case); anything else is refused, never
    read as false."""

    name: str
    description: str

    def schema(self) -> dict[str, Any]:
        words = "|".join(_any_case(w) for w in (*_TRUE, *_FALSE) if w)
        return {"type": "string", "pattern": f"^(?:{words})?$", "default": "false"}

    def read(self, request: web.Request) -> bool:
        raw = _one(request, self.name) or ""
        if raw.isascii() and raw.lower() in _TRUE:
            return True
        if raw.isascii() and raw.lower() in _FALSE:
            return False
        raise UserError(f"{self.name}: must be true or false", field=self.name)


@dataclass(frozen=True)
class KindsQuery:
    """``?kind=a,b`` as event kinds; an unknown one is refused so that a typo does not read as
    'no such events'."""

    name: str
    description: str

    def schema(self) -> dict[str, Any]:
        kinds = "|".join(sorted(str(k) for k in EventKind))
        return {"type": "string", "pattern": f"^,*(?:(?:{kinds})(?:,+(?:{kinds}))*)?,*$"}

    def read(self, request: web.Request) -> list[str]:
        kinds = [k for k in (_one(request, self.name) or "").split(",") if k]
        known = {str(k) for k in EventKind}
        for kind in kinds:
            if kind not in known:
                raise UserError(
                    f"{self.name}: unknown event kind (known: {', '.join(sorted(known))})",
                    field=self.name,
                )
        return kinds


@dataclass(frozen=True)
class SelectorQuery:
    """``?labelSelector=app=web,tier!=db`` in Kubernetes syntax."""

    name: str = "labelSelector"
    description: str = "Kubernetes label selector, e.g. app=web,tier!=db"

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": SELECTOR_MAX, "pattern": SELECTOR_PATTERN}

    def read(self, request: web.Request) -> Selector:
        return parse_selector(_one(request, self.name), self.name)


@dataclass(frozen=True)
class NamespaceQuery(NameQuery):
    """``?namespace=team-a``; absent or empty: every namespace."""

    def problem(self, raw: str) -> str | None:
        return namespace_problem(raw)


@dataclass(frozen=True)
class ChoiceQuery:
    """``?name=`` one of ``choices``; absent or empty: the first."""

    name: str
    choices: tuple[str, ...]
    description: str

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": ["", *self.choices], "default": self.choices[0]}

    def read(self, request: web.Request) -> str:
        raw = _one(request, self.name) or self.choices[0]
        if raw not in self.choices:
            raise UserError(
                f"{self.name}: must be one of {', '.join(self.choices)}", field=self.name
            )
        return raw


Query = (
    IntQuery
    | OptionalIntQuery
    | NameQuery
    | BoolQuery
    | KindsQuery
    | SelectorQuery
    | NamespaceQuery
    | ChoiceQuery
)

# ---- path parameters -------------------------------------------------------------------

ID = r"{id:[0-9]+}"  # not \d, which matches "١" and "２" too
NS = r"{name:[^/]+}"
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": DNS_LABEL.pattern},
}


def path_id(request: web.Request, name: str = "id") -> int:
    """The path's id (ASCII digits by the route pattern); one too long to exist is a 404."""
    raw = request.match_info[name]
    if len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        what = request.path.strip("/").split("/")[0].rstrip("s").capitalize() or "Object"
        shown = raw if len(raw) <= 24 else f"{raw[:20]}… ({len(raw)} digits)"
        raise NotFound(f"{what} {shown} not found: no id is that large")
    return int(raw)


def path_namespace(request: web.Request) -> str:
    """The path's namespace name; one that is not a DNS label cannot exist (404)."""
    name = request.match_info["name"]
    if namespace_problem(name):
        raise NotFound(f"Namespace '{name[:63]}' not found")
    return name
