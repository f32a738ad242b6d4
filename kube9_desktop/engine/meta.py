"""Object metadata as Kubernetes has it: uid, namespace, labels, annotations, resource version.

Label and annotation keys are qualified names (``[prefix/]name``: a DNS-subdomain prefix of at
most 253 characters, a name of at most 63 alphanumerics, ``-``, ``_`` and ``.`` that starts
and ends alphanumeric); label values are empty or such a name; annotation values are any
text, all keys and values together at most 256 KiB. Every check raises a ``UserError`` naming
the offending key, so ``labels: {"-bad": "x"}`` answers ``labels['-bad']: key must …``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from typing_extensions import TypedDict

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.jsontypes import closed

# Written ^...$ but always used with fullmatch: Python's $ also matches before a final "\n".
NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 63
PREFIX_MAX = 253
ANNOTATIONS_MAX_BYTES = 256 * 1024
LABELS_MAX = 64  # not a Kubernetes limit: a bound on what one object may carry here
QUALIFIED_NAME_MAX = PREFIX_MAX + 1 + NAME_MAX

# The same rules as JSON-schema patterns (ECMA syntax), for the OpenAPI document and selectors;
# the name part's length is in the pattern, the prefix's only in QUALIFIED_NAME_MAX.
_NAME_PART_BOUNDED = rf"[A-Za-z0-9](?:[-A-Za-z0-9_.]{{0,{NAME_MAX - 2}}}[A-Za-z0-9])?"
_SUBDOMAIN = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"
QUALIFIED_NAME_RE = rf"(?:{_SUBDOMAIN}/)?{_NAME_PART_BOUNDED}"
LABEL_VALUE_RE = _NAME_PART_BOUNDED
QUALIFIED_NAME_PATTERN = f"^{QUALIFIED_NAME_RE}$"
LABEL_VALUE_PATTERN = f"^(?:{LABEL_VALUE_RE})?$"

DEFAULT_NAMESPACE = "default"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def new_uid() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` makes it in a third of the
    time (every create pays it): 122 random bits, the version nibble 4, the variant 10xx."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def qualified_name_problem(key: object) -> str | None:
    """Why ``key`` is not a valid label/annotation key, or None when it is."""
    if not isinstance(key, str):
        return "key must be a string"
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "key prefix must not be empty"
        if len(prefix) > PREFIX_MAX:
            return f"key prefix must be at most {PREFIX_MAX} characters"
        if not DNS_SUBDOMAIN.fullmatch(prefix):
            return "key prefix must be a DNS subdomain (lowercase, e.g. 'example.com')"
    if not name:
        return "key name must not be empty"
    if len(name) > NAME_MAX:
        return f"key name must be at most {NAME_MAX} characters"
    if not NAME_PART.fullmatch(name):
        return (
            "key name must be alphanumerics, '-', '_' or '.', starting and ending with an "
            "alphanumeric (e.g. 'app' or 'example.com/tier')"
        )
    return None


def label_value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "value must be a string"
    if value == "":
        return None
    if len(value) > NAME_MAX:
        return f"value must be at most {NAME_MAX} characters"
    if not NAME_PART.fullmatch(value):
        return (
            "value must be empty or alphanumerics, '-', '_' or '.', starting and ending "
            "with an alphanumeric"
        )
    return None


def _keyed(what: str, key: object) -> str:
    shown = key if isinstance(key, str) else repr(key)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"{what}[{shown!r}]"


def validate_labels(raw: object, what: str = "labels") -> dict[str, str]:
    """A checked copy of ``raw`` as labels; a UserError names the first bad key or value."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise UserError(f"{what}: must be an object of string keys and values", field=what)
    if len(raw) > LABELS_MAX:
        raise UserError(f"{what}: at most {LABELS_MAX} labels (got {len(raw)})", field=what)
    out: dict[str, str] = {}
    for key, value in raw.items():
        problem = qualified_name_problem(key) or label_value_problem(value)
        if problem:
            raise UserError(f"{_keyed(what, key)}: {problem}", field=_keyed(what, key))
        out[key] = value
    return out


def validate_annotations(raw: object, what: str = "annotations") -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise UserError(f"{what}: must be an object of string keys and values", field=what)
    out: dict[str, str] = {}
    size = 0
    for key, value in raw.items():
        problem = qualified_name_problem(key)
        if problem is None and not isinstance(value, str):
            problem = "value must be a string"
        if problem is None and "\x00" in value:
            problem = "value must not contain NUL characters"
        if problem:
            raise UserError(f"{_keyed(what, key)}: {problem}", field=_keyed(what, key))
        size += len(key.encode()) + len(value.encode())
        out[key] = value
    if size > ANNOTATIONS_MAX_BYTES:
        raise UserError(
            f"{what}: keys and values together must be at most 256 KiB (got {size} bytes)",
            field=what,
        )
    return out


def namespace_problem(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > NAME_MAX:
        return f"must be at most {NAME_MAX} characters"
    if not DNS_LABEL.fullmatch(name):
        return "must be a DNS label: lowercase letters, digits and '-' (e.g. 'team-a')"
    return None


@closed
class ObjectRefJson(TypedDict):
    kind: str
    id: int
    uid: str
    name: str
    namespace: str | None


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Which object an event (or an owner reference) is about, by kind, id and uid."""

    kind: str
    id: int
    uid: str
    name: str
    namespace: str | None = None

    def to_json(self) -> ObjectRefJson:
        return {
            "kind": self.kind,
            "id": self.id,
            "uid": self.uid,
            "name": self.name,
            "namespace": self.namespace,
        }


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """What every object carries besides its spec and status."""

    uid: str
    namespace: str | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    creation_timestamp: datetime
    resource_version: int
