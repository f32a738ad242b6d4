"""Where a problem in a pod request belongs in the pod form.

Request paths name body indexes ("containers[1].cpu_req"); the form skips blank rows, so
body index 1 may be table row 3, and the table calls the field "cpu". Form paths use table
rows and column keys ("containers[3].cpu"). Metadata keeps its field names ("namespace",
"labels"); a problem with one label is moved onto the labels field by ``keyed_error``.
"""

from __future__ import annotations

import re
from typing import Any

TABLES = ("containers", "volumes", "config")
# Request field -> table column key, and back (where they differ).
COLUMN_OF = {
    "cpu_req": "cpu",
    "memory_req": "memory",
    "ports": "probes",
    "readiness_probe": "probes",
    "liveness_probe": "probes",
}
FIELD_OF = {"cpu": "cpu_req", "memory": "memory_req"}
PATH = re.compile(r"^(containers|volumes|config)(?:\[(\d+)\])?(?:\.(\w+))?")
METADATA = ("name", "namespace", "labels", "annotations", "priority_class_name")
TITLES = {"containers": "Containers", "volumes": "Volumes", "config": "Config"}


def table_title(name: str) -> str:
    return TITLES[name]


def to_form_path(path: str, rows: dict[str, list[int]]) -> str:
    """A request path ("containers[1].cpu_req") as a form path ("containers[3].cpu").

    Blank rows are not sent, so body index 1 may be table row 3.
    """
    if path == "cpu_cores_req":
        return "cpu"
    head = path.split(".")[0].split("[")[0]
    if head in METADATA:
        return head
    m = PATH.match(path)
    if m is None:
        return "(form)"
    table, index, key = m.groups()
    if index is None:
        return table
    filled = rows[table]
    row = filled[int(index)] if int(index) < len(filled) else int(index)
    column = COLUMN_OF.get(key or "name", key or "name")
    return f"{table}[{row}].{column}"


def duplicate_errors(body: dict[str, Any]) -> dict[str, str]:
    """Names (and config keys) used twice, reported even while other fields are still bad."""
    out: dict[str, str] = {}
    for table, attr in (("containers", "name"), ("volumes", "name"), ("config", "name")):
        _mark_repeats(body.get(table, []), table, attr, "is used twice in this pod", out)
    _mark_repeats(body.get("config", []), "config", "key", "is set twice", out)
    return out


def _mark_repeats(
    items: list[dict[str, Any]], table: str, attr: str, what: str, out: dict[str, str]
) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = item.get(attr)
        if not isinstance(value, str) or not value:
            continue
        if value in seen:
            out[f"{table}[{i}].{attr}"] = f"'{value}' {what}"
        seen.add(value)
