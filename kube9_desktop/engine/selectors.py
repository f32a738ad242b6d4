"""Label selectors in Kubernetes syntax: parse ``app=web,tier!=db,env in (a,b),!canary``, match.

Requirements are ANDed. ``k=v``/``k==v`` need the label equal to v; ``k!=v`` matches when the
label is absent or different; ``k in (a,b)`` needs one of the values, ``k notin (a,b)`` matches
when absent or none of them; ``k`` needs the key, ``!k`` its absence; ``k>3``/``k<3`` compare
integer values (absent or non-integer labels do not match). The empty selector matches all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kube9_desktop.engine.errors import UserError
from kube9_desktop.engine.meta import (
    LABEL_VALUE_RE,
    QUALIFIED_NAME_RE,
    label_value_problem,
    qualified_name_problem,
)

IN, NOT_IN, EXISTS, DOES_NOT_EXIST, GT, LT = "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"
OPERATORS = (IN, NOT_IN, EXISTS, DOES_NOT_EXIST, GT, LT)
SELECTOR_MAX = 4096
_INT = re.compile(r"-?[0-9]{1,18}")  # fullmatch


def _selector_pattern() -> str:
    """What parse_selector accepts, as one JSON-schema pattern (ECMA syntax) for the document.

    Spaces only (other whitespace is refused as a control character); ``k>3`` takes digits
    (a label value cannot start with '-'); ``in``/``notin`` lists may end in one ','. Only a
    key prefix longer than 253 characters is left to the parser.
    """
    s, key, value = " *", QUALIFIED_NAME_RE, LABEL_VALUE_RE
    listed = rf"\({s}{value}(?:{s},{s}{value})*(?:{s},)?{s}\)"
    requirement = (
        rf"(?:!{s}{key}|{key}(?:{s}(?:==|!=|=)(?:{s}{value})?|{s}[<>]{s}[0-9]{{1,18}}"
        rf"| +(?:in|notin){s}{listed})?)"
    )
    return rf"^{s}(?:{requirement}(?:{s},{s}{requirement})*)?{s}$"


SELECTOR_PATTERN = _selector_pattern()


class SelectorError(UserError):
    """A selector that cannot be parsed; the message points at the offending part."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == IN:
            return labels.get(self.key) in self.values
        if op == NOT_IN:
            return labels.get(self.key) not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        value = labels.get(self.key)
        if value is None or not _INT.fullmatch(value):
            return False
        limit = int(self.values[0])
        return int(value) > limit if op == GT else int(value) < limit

    def __str__(self) -> str:
        op, key = self.operator, self.key
        if op == EXISTS:
            return key
        if op == DOES_NOT_EXIST:
            return f"!{key}"
        if op == IN and len(self.values) == 1:
            return f"{key}={self.values[0]}"
        if op == NOT_IN and len(self.values) == 1:
            return f"{key}!={self.values[0]}"
        if op in (GT, LT):
            return f"{key}{'>' if op == GT else '<'}{self.values[0]}"
        word = "in" if op == IN else "notin"
        return f"{key} {word} ({','.join(self.values)})"


@dataclass(frozen=True, slots=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    @staticmethod
    def from_labels(labels: Mapping[str, str]) -> Selector:
        """The selector that matches exactly these labels (a Deployment's matchLabels)."""
        return Selector(tuple(Requirement(k, IN, (v,)) for k, v in sorted(labels.items())))

    @staticmethod
    def from_expressions(
        match_labels: Mapping[str, str] | None,
        expressions: Sequence[Mapping[str, object]] | None,
        what: str = "selector",
    ) -> Selector:
        """``matchLabels`` and ``matchExpressions`` as Kubernetes writes them in objects."""
        reqs = list(Selector.from_labels(match_labels or {}).requirements)
        for i, expr in enumerate(expressions or ()):
            where = f"{what}.matchExpressions[{i}]"
            key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
            if op not in (IN, NOT_IN, EXISTS, DOES_NOT_EXIST):
                raise SelectorError(
                    f"{where}.operator: must be In, NotIn, Exists or DoesNotExist", field=where
                )
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise SelectorError(f"{where}.values: must be a list of strings", field=where)
            if op in (IN, NOT_IN) and not values:
                raise SelectorError(f"{where}.values: must not be empty for {op}", field=where)
            if op in (EXISTS, DOES_NOT_EXIST) and values:
                raise SelectorError(f"{where}.values: must be empty for {op}", field=where)
            reqs.append(_requirement(key, str(op), values, where))
        return Selector(tuple(reqs))


def _requirement(key: object, op: str, values: Sequence[str], where: str) -> Requirement:
    problem = qualified_name_problem(key)
    if problem:
        raise SelectorError(f"{where}: {problem} (got {str(key)[:80]!r})", field=where)
    for v in values:
        vp = label_value_problem(v)
        if op in (GT, LT) and not _INT.fullmatch(v):
            vp = "value must be an integer"
        if vp:
            raise SelectorError(f"{where}: {vp} (got {v[:80]!r})", field=where)
    assert isinstance(key, str)
    return Requirement(key, op, tuple(sorted(set(values))) if op in (IN, NOT_IN) else tuple(values))


_TOKEN = re.compile(r"\s*(!=|==|=|>|<|\(|\)|,|!|[^\s!=<>(),]+)")


def parse_selector(text: str | None, what: str = "labelSelector") -> Selector:
    """Parse a selector string; a SelectorError names the parameter and the bad part."""
    if text is None or not text.strip(" "):  # a tab is not blank here: it is refused below
        return Selector()
    if len(text) > SELECTOR_MAX:
        raise SelectorError(f"{what}: longer than {SELECTOR_MAX} characters", field=what)
    if not text.isprintable() or "\x00" in text:
        raise SelectorError(f"{what}: contains control characters", field=what)
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                break
            raise SelectorError(f"{what}: cannot parse {text[pos:][:40]!r}", field=what)
        tokens.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    reqs: list[Requirement] = []
    i = 0

    def bad(msg: str) -> SelectorError:
        return SelectorError(f"{what}: {msg} in {text[:200]!r}", field=what)

    def word(j: int) -> str:
        if j >= len(tokens) or tokens[j] in ("!=", "==", "=", ">", "<", "(", ")", ",", "!"):
            raise bad("expected a key or value" + (f" at {tokens[j]!r}" if j < len(tokens) else ""))
        return tokens[j]

    while i < len(tokens):
        if tokens[i] == "!":
            key = word(i + 1)
            reqs.append(_requirement(key, DOES_NOT_EXIST, (), what))
            i += 2
        else:
            key = word(i)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ","
            if nxt == ",":
                reqs.append(_requirement(key, EXISTS, (), what))
                i += 1
            elif nxt in ("=", "==", "!=", ">", "<"):
                if i + 2 < len(tokens) and tokens[i + 2] not in (",",):
                    value = word(i + 2)
                    i += 3
                else:
                    value = ""  # "k=" selects an empty value, as Kubernetes allows
                    i += 2
                op = {"=": IN, "==": IN, "!=": NOT_IN, ">": GT, "<": LT}[nxt]
                reqs.append(_requirement(key, op, (value,), what))
            elif nxt in ("in", "notin"):
                if i + 2 >= len(tokens) or tokens[i + 2] != "(":
                    raise bad(f"expected '(' after {nxt}")
                j = i + 3
                values: list[str] = []
                while True:
                    if j >= len(tokens):
                        raise bad("missing ')'")
                    if tokens[j] == ")":
                        j += 1
                        break
                    values.append(word(j))
                    j += 1
                    if j < len(tokens) and tokens[j] == ",":
                        j += 1
                    elif j < len(tokens) and tokens[j] != ")":
                        raise bad(f"expected ',' or ')' at {tokens[j]!r}")
                if not values:
                    raise bad(f"{nxt} needs at least one value")
                reqs.append(_requirement(key, IN if nxt == "in" else NOT_IN, values, what))
                i = j
            else:
                raise bad(f"unexpected {nxt!r} after {key!r}")
        if i < len(tokens):
            if tokens[i] != ",":
                raise bad(f"expected ',' at {tokens[i]!r}")
            i += 1
            if i == len(tokens):
                raise bad("trailing ','")
    return Selector(tuple(reqs))
