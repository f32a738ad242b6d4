"""YAML read with line marks: the data as ``yaml.safe_load`` gives it, and for every path in
it (``("timeline", 2, "at")``) the line it came from, so an error can name both."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlProblem(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _marks(node: yaml.Node, path: Path, out: dict[Path, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(key.start_mark.line + 1, "merge keys (<<) are not supported")
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            _marks(value, (*path, name), out)
            out[(*path, name, "<key>")] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _marks(item, (*path, i), out)


def load_marked(text: str) -> tuple[Any, dict[Path, int]]:
    """(data, {path: line}); a YAML syntax error is a YamlProblem with its line."""
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        if len(docs) > 1:
            second = docs[1]
            line = second.start_mark.line + 1 if second is not None else 1
            raise YamlProblem(line, "a scenario file holds one YAML document")
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"not valid YAML: {exc}") from None
    marks: dict[Path, int] = {}
    if docs and docs[0] is not None:
        _marks(docs[0], (), marks)
    return data, marks


def line_of(marks: dict[Path, int], path: Path, *, key: bool = False) -> int:
    """The line of ``path``, or of the nearest enclosing one that has a mark."""
    if key and (*path, "<key>") in marks:
        return marks[(*path, "<key>")]
    probe = tuple(path)
    while probe:
        if probe in marks:
            return marks[probe]
        probe = probe[:-1]
    return marks.get((), 1)


def dotted(path: Path) -> str:
    """("timeline", 2, "fault", "node") -> "timeline[2].fault.node"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(file)"
