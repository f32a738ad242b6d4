"""The JSON-schema patterns the OpenAPI document shows say what the parsers accept, both ways.

Strings drawn from a pattern parse (but for the ranges the pattern leaves to the parser);
strings the parser accepts match the pattern. The patterns are checked by jsonschema_rs, an
ECMA-regex engine like the clients' validators, not by Python's ``re``.
"""

from __future__ import annotations

import re

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from kube9_desktop.engine.meta import (
    LABEL_VALUE_PATTERN,
    QUALIFIED_NAME_PATTERN,
    label_value_problem,
    qualified_name_problem,
)
from kube9_desktop.engine.quantity import QUANTITY_PATTERN, QuantityError, parse_memory
from kube9_desktop.engine.selectors import SELECTOR_PATTERN, SelectorError, parse_selector

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def matches(pattern: str, text: str) -> bool:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid(text)


def selector_parses(text: str) -> bool:
    try:
        parse_selector(text)
    except SelectorError as exc:
        problem = exc.message
    else:
        return True
    assert "prefix must be at most" not in problem  # the one rule left to the parser
    return False


SELECTOR_ALPHABET = st.sampled_from([*"ab-_.Z9/ =!<>(),\t", "in", "notin", "é"])


@settings(EXAMPLES, max_examples=100)  # drawing from a 1 kB regex is slow
@given(st.from_regex(re.compile(SELECTOR_PATTERN), fullmatch=True))
def test_every_selector_the_pattern_allows_parses(text: str) -> None:
    assert matches(SELECTOR_PATTERN, text)
    assert selector_parses(text), text


@EXAMPLES
@given(st.lists(SELECTOR_ALPHABET, max_size=12).map("".join))
def test_every_selector_that_parses_matches_the_pattern(text: str) -> None:
    assert selector_parses(text) == matches(SELECTOR_PATTERN, text), text


@EXAMPLES
@given(st.from_regex(re.compile(QUANTITY_PATTERN), fullmatch=True).filter(lambda t: len(t) <= 64))
def test_every_quantity_the_pattern_allows_is_read_up_to_its_range(text: str) -> None:
    try:
        parse_memory(text, allow_zero=True)
    except QuantityError as exc:
        problem = str(exc)
    else:
        return
    assert re.search("at most|greater than 0|exponent is out of range", problem), text  # range


@EXAMPLES
@given(st.lists(st.sampled_from(list("0123456789.+-eEmMKiGn x")), max_size=8).map("".join))
def test_every_quantity_that_parses_matches_the_pattern(text: str) -> None:
    try:
        parse_memory(text, allow_zero=True)
    except QuantityError:
        return
    assert matches(QUANTITY_PATTERN, text), text


KEY_ALPHABET = st.sampled_from([*"aZ9-_./\n", "é"])


@EXAMPLES
@given(st.lists(KEY_ALPHABET, max_size=10).map("".join))
def test_label_keys_and_values_match_their_patterns_exactly(text: str) -> None:
    assert (qualified_name_problem(text) is None) == matches(QUALIFIED_NAME_PATTERN, text), text
    assert (label_value_problem(text) is None) == matches(LABEL_VALUE_PATTERN, text), text


def test_a_final_newline_is_not_a_match() -> None:
    """Python's $ matches before a final newline; neither the parsers nor the patterns do."""
    for pattern, text, ok in (
        (QUALIFIED_NAME_PATTERN, "app\n", qualified_name_problem("app\n") is None),
        (LABEL_VALUE_PATTERN, "web\n", label_value_problem("web\n") is None),
        (SELECTOR_PATTERN, "app=web\n", selector_parses("app=web\n")),
    ):
        assert not ok and not matches(pattern, text)
