"""The pod form's rows for pod affinity, anti-affinity and topology spread, compact.

One table of inter-pod terms (affinity or anti-affinity, required or preferred with a weight,
a label selector typed as ``app=web, tier=db`` and a topology key) and one of spread
constraints (max skew, topology key, when unsatisfiable, label selector). ``fields()`` gives
them as the request's ``pod_affinity``, ``pod_anti_affinity`` and
``topology_spread_constraints``; ``claim`` turns a request problem at one of those paths into
the row and column it came from, so the error shows at its cell and under its table.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kube9_desktop.engine.interpod import HOSTNAME_KEY
from kube9_desktop.ui.dialogs._fields import (
    error_label,
    format_pairs,
    named,
    parse_pairs,
    show_error,
)
from kube9_desktop.ui.dialogs.pod_tables import Column, RowTable, row_buttons

TERM_COLUMNS = (
    Column("rule", "Rule", choices=("affinity", "anti-affinity")),
    Column("mode", "When", choices=("required", "preferred")),
    Column("weight", "Weight", hint="1-100, for a preferred term"),
    Column("selector", "Pods labelled", hint="the pods it names: app=web, tier=db"),
    Column("topology_key", "Topology key", hint=f"empty: {HOSTNAME_KEY} (the same node)"),
)  # (a wrong cell is named under the table: "Row 2, Weight: ...")
SPREAD_COLUMNS = (
    Column("max_skew", "Max skew", hint="at least 1"),
    Column("topology_key", "Topology key", hint="e.g. topology.kubernetes.io/zone"),
    Column("when", "When unsatisfiable", choices=("DoNotSchedule", "ScheduleAnyway")),
    Column("selector", "Pods labelled", hint="the pods it counts: app=web"),
)
TABLES = ("interpod", "spread")
FIELD_OF = {"affinity": "pod_affinity", "anti-affinity": "pod_anti_affinity"}
# A request path under one of these fields: (field, list, index, the rest)
_PATH = re.compile(
    r"^(pod_affinity|pod_anti_affinity)\.(required|preferred)\[(\d+)\](?:\.(.*))?$"
    r"|^topology_spread_constraints\[(\d+)\](?:\.(.*))?$"
)
FORM_PATH = re.compile(r"^(interpod|spread)\[(\d+)\]\.(\w+)$")


def _column_of(rest: str | None, spread: bool) -> str:
    rest = (rest or "").removeprefix("pod_affinity_term.")
    if rest.startswith("label_selector"):
        return "selector"
    if rest.startswith("topology_key"):
        return "topology_key"
    if spread:
        return {"max_skew": "max_skew", "when_unsatisfiable": "when"}.get(rest, "max_skew")
    return "weight" if rest == "weight" else "selector"


class PlacementRows(QWidget):
    """Pod affinity / anti-affinity terms and topology spread constraints, as two tables
    under a toggle (folded while empty, so the form's first screen stays as it was)."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PlacementRows")
        self.toggle = named(QToolButton(), "placement_toggle")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.content = QWidget(self)
        self.interpod = RowTable("interpod", TERM_COLUMNS, visible_rows=2)
        self.spread = RowTable("spread", SPREAD_COLUMNS, visible_rows=2)
        self.errors = {name: error_label(name, self) for name in TABLES}
        self._touched: set[str] = set()
        # request path prefix -> (table, row) of the last ``fields()``
        self._origin: dict[str, tuple[str, int]] = {}
        row = QVBoxLayout()  # one above the other: each table gets the form's width
        for name, noun in (("interpod", "term"), ("spread", "spread constraint")):
            table: RowTable = getattr(self, name)
            table.row_edited.connect(lambda _r, n=name: self._on_table_edited(n))
            buttons = row_buttons(table, noun, name, self._on_add_clicked)
            box = QVBoxLayout()
            title = QLabel("Near or away from pods" if name == "interpod" else "Spread")
            box.addWidget(title)
            box.addWidget(table)
            box.addLayout(buttons)
            box.addWidget(self.errors[name])
            row.addLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.content.setLayout(row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self.content)
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self._on_toggle_toggled(False)

    # ---- the request's fields --------------------------------------------------------

    def fields(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The rows as request fields, and the problems found reading them (form paths)."""
        out: dict[str, Any] = {}
        problems: dict[str, str] = {}
        self._origin = {}
        for r in self.interpod.filled_rows():
            v = self.interpod.values(r)
            labels, problem = parse_pairs(v["selector"])
            if problem:
                problems[f"interpod[{r}].selector"] = problem
            term = {"label_selector": {"match_labels": labels},
                    "topology_key": v["topology_key"].strip() or HOSTNAME_KEY}  # fmt: skip
            field = FIELD_OF[v["rule"]]
            rules = out.setdefault(field, {"required": [], "preferred": []})
            if v["mode"] == "required":
                if v["weight"].strip():
                    problems[f"interpod[{r}].weight"] = "a required term has no weight"
                self._origin[f"{field}.required[{len(rules['required'])}]"] = ("interpod", r)
                rules["required"].append(term)
            else:
                weight = _integer(v["weight"], 1)
                if weight is None:
                    problems[f"interpod[{r}].weight"] = (
                        f"'{v['weight'].strip()}' is not a whole number (1-100)"
                    )
                    weight = 1
                self._origin[f"{field}.preferred[{len(rules['preferred'])}]"] = ("interpod", r)
                rules["preferred"].append({"weight": weight, "pod_affinity_term": term})
        spread: list[dict[str, Any]] = []
        for r in self.spread.filled_rows():
            v = self.spread.values(r)
            labels, problem = parse_pairs(v["selector"])
            if problem:
                problems[f"spread[{r}].selector"] = problem
            skew = _integer(v["max_skew"], 1)
            if skew is None:
                problems[f"spread[{r}].max_skew"] = (
                    f"'{v['max_skew'].strip()}' is not a whole number (at least 1)"
                )
                skew = 1
            self._origin[f"topology_spread_constraints[{len(spread)}]"] = ("spread", r)
            spread.append({"max_skew": skew, "topology_key": v["topology_key"].strip(),
                           "when_unsatisfiable": v["when"],
                           "label_selector": {"match_labels": labels}})  # fmt: skip
        if spread:
            out["topology_spread_constraints"] = spread
        return out, problems

    def claim(self, path: str) -> str | None:
        """The form path ("interpod[2].topology_key") of a request problem at ``path``, or
        None when no row of these tables made it (a manifest's rule the rows do not show)."""
        m = _PATH.match(path)
        if m is None:
            return None
        if m.group(1) is not None:
            prefix = f"{m.group(1)}.{m.group(2)}[{m.group(3)}]"
            rest, spread = m.group(4), False
        else:
            prefix = f"topology_spread_constraints[{m.group(5)}]"
            rest, spread = m.group(6), True
        origin = self._origin.get(prefix)
        if origin is None:
            return None
        table, row = origin
        return f"{table}[{row}].{_column_of(rest, spread)}"

    # ---- filling and errors ----------------------------------------------------------

    def fill(self, scheduling: dict[str, Any]) -> None:
        """Take out of ``scheduling`` (a manifest's request fields) what the rows can show:
        terms and constraints selecting by matchLabels only, in the pod's own namespace."""
        self.interpod.clear_rows()
        self.spread.clear_rows()
        for rule, field in (("affinity", "pod_affinity"), ("anti-affinity", "pod_anti_affinity")):
            rules = scheduling.get(field)
            if not isinstance(rules, dict):
                continue
            kept: dict[str, list[Any]] = {"required": [], "preferred": []}
            for mode in ("required", "preferred"):
                for item in rules.get(mode) or ():
                    term = item.get("pod_affinity_term", item) if mode == "preferred" else item
                    labels = _plain(term)
                    if labels is None:
                        kept[mode].append(item)
                        continue
                    weight = str(item.get("weight", "")) if mode == "preferred" else ""
                    self.interpod.add_row({"rule": rule, "mode": mode, "weight": weight,
                                           "selector": format_pairs(labels),
                                           "topology_key": term.get("topology_key", "")},
                                          touched=True)  # fmt: skip
            if kept["required"] or kept["preferred"]:
                scheduling[field] = kept
            else:
                scheduling.pop(field)
        kept_spread = []
        for c in scheduling.pop("topology_spread_constraints", None) or ():
            labels = _plain(c) if not c.get("node_taints_policy") else None
            if labels is None:
                kept_spread.append(c)
                continue
            self.spread.add_row({"max_skew": str(c.get("max_skew", "")),
                                 "topology_key": c.get("topology_key", ""),
                                 "when": c.get("when_unsatisfiable", "DoNotSchedule"),
                                 "selector": format_pairs(labels)}, touched=True)  # fmt: skip
        if kept_spread:
            scheduling["topology_spread_constraints"] = kept_spread
        self._touched.update(TABLES)
        self.toggle.setChecked(bool(self.interpod.rowCount() or self.spread.rowCount()))

    def touch_all(self) -> None:
        self._touched.update(TABLES)
        for name in TABLES:
            table: RowTable = getattr(self, name)
            table.touch_all()

    def display(self, errors: dict[str, str], *, everything: bool) -> dict[str, str]:
        """Show the problems at these tables' paths at their cells and under their table."""
        shown: dict[str, str] = {}
        for name in TABLES:
            table: RowTable = getattr(self, name)
            cells: dict[tuple[int, str], str] = {}
            lines: list[str] = []
            for path, message in errors.items():
                m = FORM_PATH.match(path)
                if m is None or m.group(1) != name:
                    continue
                row, key = int(m.group(2)), m.group(3)
                if not (everything or (name in self._touched and table.is_touched(row))):
                    continue
                shown[path] = message
                cells[(row, key)] = message
                lines.append(f"Row {row + 1}, {table.title_of(key)}: {message}")
            table.show_errors(cells)
            show_error(self.errors[name], "\n".join(lines))
        if shown and not self.toggle.isChecked():
            self.toggle.setChecked(True)  # a problem here is never folded away
        return shown

    # ---- slots -----------------------------------------------------------------------

    def _on_toggle_toggled(self, shown: bool) -> None:
        self.content.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        terms, spread = self.interpod.rowCount(), self.spread.rowCount()
        count = f" ({terms} term(s), {spread} spread)" if terms or spread else ""
        self.toggle.setText(f"Placement: pod affinity, anti-affinity and spread{count}")

    def _on_table_edited(self, name: str) -> None:
        self._touched.add(name)
        self._on_toggle_toggled(self.toggle.isChecked())  # the count in its title
        self.edited.emit()

    def _on_add_clicked(self, table: RowTable) -> None:
        row = table.add_row()
        table.setCurrentCell(row, 0)
        self._on_toggle_toggled(self.toggle.isChecked())
        self.edited.emit()


def _integer(text: str, default: int) -> int | None:
    text = text.strip()
    if not text:
        return default
    return int(text) if text.isdigit() else None


def _plain(term: dict[str, Any]) -> dict[str, str] | None:
    """A term's matchLabels when that is all it says (no expressions, namespaces)."""
    sel = term.get("label_selector")
    if not isinstance(sel, dict) or sel.get("match_expressions") or term.get("namespaces"):
        return None
    labels = sel.get("match_labels") or {}
    return dict(labels) if isinstance(labels, dict) else None
