"""A list request's query: label and field selectors, ``limit`` and ``continue`` paging.

Lists are in key order (namespace, then name), as etcd returns them. A page ends with an
opaque ``continue`` token: base64url JSON naming the resource, the namespace asked for and
the last key served; the next page starts after that key, so objects created or deleted
between pages shift nothing already served (Kubernetes serves later pages from a snapshot;
here they show the cluster as it is then: see docs/kubernetes.md). Every bad input is a 400
``Status`` saying what was wrong, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.k8s.resources import Resource
from kube9_desktop.engine.k8s.status import BadRequest
from kube9_desktop.engine.selectors import Selector, parse_selector

Obj = dict[str, Any]
FIELD_SELECTOR_MAX = 4096
LIMIT_MAX = 2**63 - 1  # int64, as Kubernetes' ListOptions.limit
CONTINUE_MAX = 4096


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    equal: bool
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.field, "") == self.value) == self.equal


def parse_field_selector(text: str, resource: Resource) -> tuple[FieldRequirement, ...]:
    """``spec.nodeName=node-1,status.phase!=Running`` (``=``, ``==``, ``!=``; a ``\\`` escapes
    ``,``, ``=``, ``!`` and itself, as ``fields.ParseSelector``)."""
    if not text.strip():
        return ()
    if len(text) > FIELD_SELECTOR_MAX:
        raise BadRequest(f"fieldSelector: longer than {FIELD_SELECTOR_MAX} characters")
    if not text.isprintable():
        raise BadRequest("fieldSelector: contains control characters")
    terms: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        raise BadRequest(f"fieldSelector: ends in an unfinished escape: {text[:200]!r}")
    terms.append("".join(current))
    out = []
    for term in terms:
        out.append(_field_term(term, text, resource))
    return tuple(out)


def _field_term(term: str, text: str, resource: Resource) -> FieldRequirement:
    for op, is_equal in (("!=", False), ("==", True), ("=", True)):
        at = _unescaped_find(term, op)
        if at >= 0:
            field, value, equal = term[:at].strip(), _unescape(term[at + len(op) :]), is_equal
            break
    else:
        raise BadRequest(
            f"invalid selector: {text[:200]!r}; can't understand {term[:100]!r} "
            "(a term is field=value, field==value or field!=value)"
        )
    if field not in resource.field_names:
        raise BadRequest(
            f"field label not supported: {field[:100]!r} ({resource.plural} take: "
            f"{', '.join(resource.field_names)})"
        )
    return FieldRequirement(field, equal, value)


def _unescaped_find(term: str, op: str) -> int:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        if term.startswith(op, i):
            return i
        i += 1
    return -1


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_label_selector(text: str) -> Selector:
    try:
        return parse_selector(text, "labelSelector")
    except UserError as exc:
        raise BadRequest(f"unable to parse requirement: {exc.message}") from None


def parse_limit(text: str | None) -> int:
    """``limit``: 0 or absent is all; a whole number up to int64, else a 400."""
    if text is None or text == "":
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > LIMIT_MAX:
        shown = text[:40] if text.isascii() and text.isprintable() else "(unprintable)"
        raise BadRequest(f"limit: must be a whole number from 0 to {LIMIT_MAX} (got {shown!r})")
    return int(text)


def continue_token(resource: Resource, namespace: str | None, key: tuple[str, str]) -> str:
    raw = json.dumps({"v": 1, "r": resource.plural, "n": namespace, "k": list(key)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_continue(
    text: str | None, resource: Resource, namespace: str | None
) -> tuple[str, str] | None:
    """The key after which the page starts, from a token this server gave."""
    if not text:
        return None
    bad = BadRequest(
        "continue: the token is not valid (it must be the metadata.continue of an earlier "
        f"page of this {resource.plural} list, unchanged)"
    )
    if len(text) > CONTINUE_MAX or not text.isascii():
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("v") != 1:
        raise bad
    key = data.get("k")
    if (
        data.get("r") != resource.plural
        or data.get("n") != namespace
        or not isinstance(key, list)
        or len(key) != 2
        or not all(isinstance(k, str) for k in key)
    ):
        raise bad
    return key[0], key[1]


def object_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def page(
    objects: list[Obj],
    resource: Resource,
    namespace: str | None,
    *,
    limit: int,
    after: tuple[str, str] | None,
) -> tuple[list[Obj], Obj]:
    """Sort, skip past ``after``, cut at ``limit``; the items and the ListMeta's paging part."""
    objects.sort(key=object_key)
    if after is not None:
        objects = [o for o in objects if object_key(o) > after]
    meta: Obj = {}
    if limit and len(objects) > limit:
        rest = len(objects) - limit
        objects = objects[:limit]
        meta["continue"] = continue_token(resource, namespace, object_key(objects[-1]))
        meta["remainingItemCount"] = rest
    return objects, meta
