"""A strict JSON Schema checker for the subset ``resources/scenario.schema.json`` uses, for
when the ``jsonschema`` package is not installed (it is not one of the app's dependencies).

Strict: a keyword it does not know in the schema is an error, so the schema cannot grow a
rule this checker would silently skip. Its messages follow jsonschema's wording;
``tests/scenario/test_format.py`` holds both to the same verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

KNOWN = frozenset({
    "$schema", "$id", "$ref", "$defs", "title", "description", "type", "required",
    "additionalProperties", "properties", "enum", "minimum", "maximum", "minLength",
    "maxLength", "pattern", "items", "minItems", "anyOf", "minProperties", "maxProperties",
    "uniqueItems",
})  # fmt: skip
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@dataclass(frozen=True)
class SchemaError:
    path: tuple[str | int, ...]
    message: str
    validator: str
    instance: Any


class SchemaChecker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self._check_keywords(schema)

    def _check_keywords(self, node: Any) -> None:
        if isinstance(node, dict):
            unknown = set(node) - KNOWN
            if unknown:
                raise ValueError(f"schema keyword(s) {sorted(unknown)} are not supported")
            for key in ("properties", "$defs"):
                for sub in (node.get(key) or {}).values():
                    self._check_keywords(sub)
            for key in ("items", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    self._check_keywords(node[key])
            for sub in node.get("anyOf") or ():
                self._check_keywords(sub)

    def _resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"only local $refs (#/$defs/...) are supported, not {ref}")
        found: dict[str, Any] = self.root["$defs"][ref.removeprefix("#/$defs/")]
        return found

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        yield from self._errors(instance, self.root, ())

    def _errors(
        self, value: Any, schema: dict[str, Any], path: tuple[str | int, ...]
    ) -> Iterator[SchemaError]:
        if "$ref" in schema:
            yield from self._errors(value, self._resolve(schema["$ref"]), path)
            return
        if "anyOf" in schema:
            if not any(not list(self._errors(value, s, path)) for s in schema["anyOf"]):
                yield SchemaError(path, f"{value!r} is not valid under any of the given schemas",
                                  "anyOf", value)  # fmt: skip
            return
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(TYPES[k](value) for k in kinds):
                shown = ", ".join(repr(k) for k in kinds)
                yield SchemaError(path, f"{value!r} is not of type {shown}", "type", value)
                return
        if "enum" in schema and value not in schema["enum"]:
            yield SchemaError(path, f"{value!r} is not one of {schema['enum']!r}", "enum", value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                yield SchemaError(path, f"{value!r} is less than the minimum of "
                                  f"{schema['minimum']!r}", "minimum", value)  # fmt: skip
            if "maximum" in schema and value > schema["maximum"]:
                yield SchemaError(path, f"{value!r} is greater than the maximum of "
                                  f"{schema['maximum']!r}", "maximum", value)  # fmt: skip
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                yield SchemaError(path, f"{value!r} is too short", "minLength", value)
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                yield SchemaError(path, f"{value!r} is too long", "maxLength", value)
            if "pattern" in schema and not re.search(schema["pattern"], value):
                yield SchemaError(path, f"{value!r} does not match {schema['pattern']!r}",
                                  "pattern", value)  # fmt: skip
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield SchemaError(path, f"{value!r} should be non-empty" if schema["minItems"] == 1
                                  else f"{value!r} is too short", "minItems", value)  # fmt: skip
            if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
                yield SchemaError(path, f"{value!r} has non-unique elements", "uniqueItems",
                                  value)  # fmt: skip
            if isinstance(schema.get("items"), dict):
                for i, item in enumerate(value):
                    yield from self._errors(item, schema["items"], (*path, i))
        if isinstance(value, dict):
            yield from self._object_errors(value, schema, path)

    def _object_errors(
        self, value: dict[str, Any], schema: dict[str, Any], path: tuple[str | int, ...]
    ) -> Iterator[SchemaError]:
        props = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                yield SchemaError(path, f"{name!r} is a required property", "required", value)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            yield SchemaError(path, f"{value!r} should be non-empty", "minProperties", value)
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            yield SchemaError(path, f"{value!r} has too many properties", "maxProperties", value)
        if schema.get("additionalProperties") is False:
            extra = [k for k in value if k not in props]
            if extra:
                listed = ", ".join(repr(k) for k in extra)
                verb = "was" if len(extra) == 1 else "were"
                yield SchemaError(path, f"Additional properties are not allowed ({listed} {verb} "
                                  "unexpected)", "additionalProperties", value)  # fmt: skip
        for name, sub in props.items():
            if name in value:
                yield from self._errors(value[name], sub, (*path, name))
