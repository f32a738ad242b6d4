"""``$(VAR)`` references in command, args and exec probes, expanded as Kubernetes does.

The rules are those of Kubernetes' ``third_party/forked/golang/expansion``: ``$(NAME)`` becomes
the variable's value when the pod defines it and stays as written when it does not; ``$$``
becomes one ``$`` (so ``$$(NAME)`` is the literal ``$(NAME)``); any other ``$`` is kept, as is
an unclosed ``$(``. Worked example with ``POD_IP=127.244.0.5``::

    "--bind $(POD_IP)"   -> "--bind 127.244.0.5"
    "$$(POD_IP) $(NOPE)" -> "$(POD_IP) $(NOPE)"
    "cost: $5, $$5, $("  -> "cost: $5, $5, $("
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OPERATOR = "$"
OPENER = "("
CLOSER = ")"


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every ``$(NAME)`` of ``variables`` replaced (see the module's rules)."""
    if OPERATOR not in text:
        return text
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == OPERATOR and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            nxt = text[cursor + 1]
            if nxt == OPERATOR:  # escaped operator
                out.append(OPERATOR)
                cursor += 1
            elif nxt == OPENER and (close := text.find(CLOSER, cursor + 2)) != -1:
                name = text[cursor + 2 : close]
                out.append(variables.get(name, f"$({name})"))
                cursor = close
            else:  # not a reference: keep the operator and the character after it
                out.append(OPERATOR + nxt)
                cursor += 1
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


def expand_all(words: Iterable[str], variables: Mapping[str, str]) -> list[str]:
    """Each word of an argv expanded on its own (a value never splits into more words)."""
    return [expand(word, variables) for word in words]
