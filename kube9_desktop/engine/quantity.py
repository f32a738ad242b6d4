"""Strict parsing of CPU and memory amounts: API numbers (cores, MB) and Kubernetes quantities.

CPU becomes integer millicores, memory integer MiB. Examples::

    parse_cpu(2) == 2000           parse_cpu("500m") == 500       parse_cpu("0.25") == 250
    parse_memory(256) == 256       parse_memory("1Gi") == 1024    parse_memory("1G") == 954
    parse_memory("2048") == 2048   (a string without a unit means MB, like the number)

Only ASCII digits are digits ("２" is refused), exponents stay within the suffixes' range
(1e-9 to 1e18) and a quantity is at most 64 characters, so no input can overflow Decimal or
take long to read.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_QUANTITY = re.compile(rf"({_NUMBER})(?:[eE]([+-]?[0-9]+)|([a-zA-Z]{{0,2}}))", re.ASCII)
_EXPONENTS = range(-9, 19)  # the span of the decimal suffixes, n (1e-9) to E (1e18)
QUANTITY_MAX_LEN = 64
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
# The strings _split and parse_quantity accept, as a JSON-schema pattern (ECMA syntax): the
# same number, an exponent of at most 4 characters or a known suffix, spaces around. Only the
# range (> 0, at most the maximum, exponent -9..18) is left to the parser.
_SUFFIXES = "|".join(sorted((k for k in (*_BINARY, *_DECIMAL) if k), key=len, reverse=True))
QUANTITY_PATTERN = rf"^ *{_NUMBER}(?:[eE](?:[+-]?[0-9]{{1,3}}|[0-9]{{4}})|{_SUFFIXES})? *$"
MAX_CPU_M = 1_024_000  # 1024 cores
MAX_MEM_MI = 16 * 1024 * 1024  # 16 TiB


class QuantityError(ValueError):
    """A quantity that is not a number, has an unknown suffix, or is out of range."""


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes quantity string as an exact Decimal in base units ("1Ki" -> 1024)."""
    number, exponent, suffix = _split(text)
    value = _decimal(number, text)
    if exponent is not None:
        return value.scaleb(exponent)
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix in _DECIMAL:
        return value * _DECIMAL[suffix]
    raise QuantityError(f"{text!r} has an unknown suffix {suffix!r} (use m, k, M, G, Ki, Mi, Gi…)")


def _split(text: str) -> tuple[str, int | None, str]:
    """("1.5", None, "Gi") from "1.5Gi"; ("2", 3, "") from "2e3"; QuantityError otherwise."""
    if len(text) > QUANTITY_MAX_LEN:
        raise QuantityError(
            f"is not a quantity: {len(text)} characters (at most {QUANTITY_MAX_LEN})"
        )
    m = _QUANTITY.fullmatch(text.strip(" "))
    if not m:
        raise QuantityError(
            f"{text!r} is not a quantity (examples: 2, 0.5, 500m, 256Mi, 1Gi; ASCII digits only)"
        )
    number, exponent, suffix = m.groups()
    if exponent is None:
        return number, None, suffix or ""
    if len(exponent) > 4 or int(exponent) not in _EXPONENTS:
        raise QuantityError(f"{text!r}: the exponent is out of range (1e-9 to 1e18)")
    return number, int(exponent), ""


def _decimal(number: str, text: str) -> Decimal:
    try:
        return Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise QuantityError(f"{text!r} is not a number") from exc


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        raise QuantityError("must be a number or a quantity string, not a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError("must be a finite number")
        return Decimal(repr(value))
    return None


def parse_cpu(value: object) -> int:
    """Cores (number) or a quantity string to millicores, rounded up; must be at least 1m."""
    amount = _number(value)
    if amount is None:
        if not isinstance(value, str):
            raise QuantityError("must be a number of cores or a quantity like '500m'")
        amount = parse_quantity(value)
    millis = (amount * 1000).to_integral_value(rounding=ROUND_CEILING)
    if amount <= 0:
        raise QuantityError("must be greater than 0")
    if millis > MAX_CPU_M:
        raise QuantityError(f"must be at most {MAX_CPU_M // 1000} cores")
    return int(millis)


def parse_memory(value: object, *, allow_zero: bool = False) -> int:
    """MB (number, read as MiB like the original API) or a quantity string to MiB, rounded up.

    A string without a unit is the number it spells, in MB: "2048" is 2048 like 2048 is,
    not 2048 bytes (which Kubernetes would read, and round up to 1 MiB without a word).
    """
    amount = _number(value)
    if amount is None:
        if not isinstance(value, str):
            raise QuantityError("must be a number of MB or a quantity like '256Mi'")
        number, exponent, suffix = _split(value)
        if suffix:
            amount = parse_quantity(value) / _BINARY["Mi"]
        else:
            amount = _decimal(number, value).scaleb(exponent or 0)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise QuantityError("must be greater than 0")
    mebis = amount.to_integral_value(rounding=ROUND_CEILING)
    if mebis > MAX_MEM_MI:
        raise QuantityError(f"must be at most {MAX_MEM_MI // 1024 // 1024} TiB")
    return int(mebis)
