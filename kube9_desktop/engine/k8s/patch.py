"""The patch types of ``kubectl patch`` and ``kubectl apply``, applied to an object's JSON:
JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes' strategic merge patch,
whose list merge keys and strategies come from Kubernetes' own schemas (openapi.py), with the
directives kubectl sends: ``$patch`` (``delete``, ``replace``, ``merge``),
``$setElementOrder/<field>``, ``$deleteFromPrimitiveList/<field>`` and ``$retainKeys``.

Every function returns a new object and leaves its inputs alone; a patch that cannot apply is
a ``PatchError`` naming where.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from kube9_desktop.engine.k8s.openapi import Schemas

Obj = dict[str, Any]
OPS_MAX = 10_000  # JSON patch operations in one patch
COPIED_MAX = 4 * 1024 * 1024  # characters (as JSON) all of a patch's copy operations may copy


class PatchError(ValueError):
    """A patch that does not apply to the object (a bad path, a failed test, a bad directive)."""


# ---- JSON merge patch ------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---- JSON patch ------------------------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"path: {path!r} is not a JSON pointer (it starts with '/')")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _index(container: list[Any], token: str, path: str, *, end_ok: bool = False) -> int:
    if token == "-" and end_ok:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"path {path!r}: {token!r} is not a list index")
    i = int(token)
    if i > len(container) or (i == len(container) and not end_ok):
        raise PatchError(f"path {path!r}: index {i} is past the end of the list")
    return i


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path)]
        else:
            raise PatchError(f"path {path!r}: {token!r} does not exist")
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path)]
    raise PatchError(f"path {path!r}: {last!r} does not exist")


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("path '': the whole object cannot be removed")
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path))
    raise PatchError(f"path {path!r}: {last!r} does not exist")


def _add(doc: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"path {path!r}: {last!r} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, last, path)] = value
        else:
            parent.insert(_index(parent, last, path, end_ok=True), value)
    else:
        raise PatchError(f"path {path!r}: its parent is not an object or a list")
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy, test, in order, all or nothing."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch is a list of operations")
    if len(ops) > OPS_MAX:
        raise PatchError(f"a JSON patch may hold at most {OPS_MAX} operations ({len(ops)} given)")
    doc = copy.deepcopy(target)
    copied = 0  # a copy doubles what it copies: bounded, or a small patch grows without end
    for i, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise PatchError(f"operation {i}: an object with 'op' and 'path'")
        kind, path = op["op"], op.get("path")
        if not isinstance(path, str):
            raise PatchError(f"operation {i} ({kind[:40]}): 'path' must be a JSON pointer string")
        needs_value = kind in ("add", "replace", "test")
        if needs_value and "value" not in op:
            raise PatchError(f"operation {i} ({kind}): 'value' is missing")
        try:
            if kind == "add":
                doc = _add(doc, path, copy.deepcopy(op["value"]))
            elif kind == "remove":
                _remove(doc, path)
            elif kind == "replace":
                doc = _add(doc, path, copy.deepcopy(op["value"]), replace=True)
            elif kind in ("move", "copy"):
                source = op.get("from")
                if not isinstance(source, str):
                    raise PatchError("'from' must be a JSON pointer string")
                if (
                    kind == "move"
                    and isinstance(path, str)
                    and isinstance(source, str)
                    and (path.startswith(source + "/"))
                ):
                    raise PatchError(f"'from' {source!r} cannot move into itself")
                if kind == "copy":
                    copied += len(json.dumps(_get(doc, source)))
                    if copied > COPIED_MAX:
                        raise PatchError(f"the copies would exceed {COPIED_MAX // 1024} KiB")
                value = _remove(doc, source) if kind == "move" else copy.deepcopy(_get(doc, source))
                doc = _add(doc, path, value)
            elif kind == "test":
                if _get(doc, path) != op["value"]:
                    raise PatchError(f"path {path!r}: the value is not the one tested for")
            else:
                raise PatchError(f"'{kind[:40]}' is not an operation (add, remove, replace, "
                                 "move, copy, test)")  # fmt: skip
        except PatchError as exc:
            raise PatchError(f"operation {i} ({kind[:40]}): {exc}") from None
    return doc


# ---- strategic merge patch -------------------------------------------------------------------

ORDER = "$setElementOrder/"
DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"
RETAIN = "$retainKeys"
DIRECTIVE = "$patch"


def strategic_merge_patch(target: Any, patch: Any, schemas: Schemas, schema: Obj | None) -> Any:
    """Kubernetes' strategic merge patch of ``target`` by ``patch`` under ``schema`` (the
    kind's; None: no merge keys known, lists are replaced as in a merge patch)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch is an object")
    return _merge_map(target if isinstance(target, dict) else {}, patch, schemas, schema, "")


def _merge_map(target: Obj, patch: Obj, schemas: Schemas, schema: Obj | None, at: str) -> Obj:
    directive = patch.get(DIRECTIVE)
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != DIRECTIVE}
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"{at or '(object)'}: unknown $patch {str(directive)[:40]!r}")
    out = dict(target)
    if RETAIN in patch:
        keep = patch[RETAIN]
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise PatchError(f"{at}.$retainKeys: a list of field names")
        out = {k: v for k, v in out.items() if k in keep}
    orders: dict[str, Any] = {}
    for key, value in patch.items():
        if key in (DIRECTIVE, RETAIN):
            continue
        if key.startswith(ORDER):
            orders[key.removeprefix(ORDER)] = value
            continue
        if key.startswith(DELETE_PRIMITIVES):
            field = key.removeprefix(DELETE_PRIMITIVES)
            if not isinstance(value, list) or not isinstance(out.get(field, []), list):
                raise PatchError(f"{at}.{key}: a list")
            out[field] = [x for x in out.get(field, []) if x not in value]
            continue
        where = f"{at}.{key}" if at else key
        prop, sub = schemas.field(schema, key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            current = out.get(key)
            out[key] = _merge_map(current if isinstance(current, dict) else {}, value, schemas,
                                  sub, where)  # fmt: skip
        elif isinstance(value, list):
            current = out.get(key)
            out[key] = _merge_list(current if isinstance(current, list) else [], value, prop,
                                   schemas, sub, where)  # fmt: skip
        else:
            out[key] = value
    for field, order in orders.items():
        if isinstance(out.get(field), list) and isinstance(order, list):
            prop, _ = schemas.field(schema, field)
            out[field] = _ordered(
                out[field], order, (prop or {}).get("x-kubernetes-patch-merge-key")
            )
    return out


def _merge_list(
    target: list[Any], patch: list[Any], prop: Obj | None, schemas: Schemas, schema: Obj | None,
    at: str,
) -> list[Any]:  # fmt: skip
    strategy = (prop or {}).get("x-kubernetes-patch-strategy", "")
    key = (prop or {}).get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(","):
        if any(isinstance(x, dict) and x.get(DIRECTIVE) == "replace" for x in patch):
            patch = [x for x in patch if not (isinstance(x, dict) and DIRECTIVE in x)]
        return copy.deepcopy(patch)
    if key is None:  # a merged list of scalars: a set union, in order
        if any(isinstance(x, dict) and x.get(DIRECTIVE) == "replace" for x in patch):
            return [x for x in patch if not isinstance(x, dict)]
        return list(target) + [x for x in patch if x not in target]
    if any(isinstance(x, dict) and x.get(DIRECTIVE) == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and DIRECTIVE in x)]
    out = [copy.deepcopy(x) for x in target]
    item_schema = schemas.items(prop) if prop else None
    for i, item in enumerate(patch):
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"{at}[{i}]: an object with its merge key {key!r}")
        match = next((j for j, x in enumerate(out) if isinstance(x, dict)
                      and x.get(key) == item[key]), None)  # fmt: skip
        if item.get(DIRECTIVE) == "delete":
            out = [x for x in out if not (isinstance(x, dict) and x.get(key) == item[key])]
        elif match is None:
            out.append(_merge_map({}, item, schemas, item_schema, f"{at}[{i}]"))
        else:
            out[match] = _merge_map(out[match], item, schemas, item_schema, f"{at}[{i}]")
    return out


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """``items`` in the order ``$setElementOrder`` gives; items it does not name keep their
    place after those it does."""

    def ident(x: Any) -> Any:
        return x.get(key) if key and isinstance(x, dict) else x

    wanted = [ident(x) for x in order]
    rank = {repr(w): i for i, w in enumerate(wanted)}
    named = sorted((x for x in items if repr(ident(x)) in rank), key=lambda x: rank[repr(ident(x))])
    return named + [x for x in items if repr(ident(x)) not in rank]
