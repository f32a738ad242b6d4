"""Building blocks for the JSON shapes the engine and its API send.

Each shape is a TypedDict, written once: mypy holds the code that builds it to its keys and
types, and pydantic turns it into the JSON schema the OpenAPI document shows. ``closed``
shapes list every key (``additionalProperties: false``), so a key added to a reply and not to
its shape fails the type check or the response-schema tests, never drifts silently.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, WithJsonSchema, with_config

closed = with_config(ConfigDict(extra="forbid"))

Timestamp = Annotated[
    str, WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO-8601, UTC"})
]
Cores = Annotated[float, WithJsonSchema({"type": "number", "minimum": 0, "description": "cores"})]
Digits = Annotated[str, WithJsonSchema({"type": "string", "pattern": "^[0-9]+$"})]


class TextChecked(dict[str, Any]):
    """A JSON object none of whose strings holds a NUL or a lone surrogate, so validation need
    not look for them (specs.parse_body skips its walk). Either decoded from UTF-8 text with
    no ``\\u`` escape and no NUL byte (JSON can write those only as such an escape: the API's
    read_json marks it), or built by the engine from text it validated before (a virtual
    node's report)."""

    __slots__ = ()


def one_of(*values: str | type[StrEnum]) -> WithJsonSchema:
    """A string schema listing the values (or every member of the enums) a field can hold."""
    out: list[str] = []
    for value in values:
        out += [str(m) for m in value] if isinstance(value, type) else [value]
    return WithJsonSchema({"type": "string", "enum": out})


JsonObject = dict[str, Any]
