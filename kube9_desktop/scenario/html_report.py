"""A scenario's report as one self-contained HTML page: every strategy side by side on the same
axes (inline SVG plots), then the totals, the incidents and the unschedulable reasons.

No script, font, image or stylesheet is fetched: the page works offline and prints. Its bytes
are a pure function of the combined report (strategies in name order, numbers with fixed
decimals), so the same file and seed give the same page, as they give the same JSON.
``plots`` and ``totals_rows`` are also what the window's Scenarios panel shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

# Okabe-Ito colours (told apart with the common colour blindnesses); known strategies keep theirs.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
STRATEGY_COLORS = {"best-fit": "#0072b2", "worst-fit": "#d55e00", "first-fit": "#009e73"}
WIDTH, HEIGHT = 560, 240
LINE_WIDTHS = ("6", "3", "1.5", "1")  # per strategy, in order: coinciding lines stay visible
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 44, 30


@dataclass(frozen=True, slots=True)
class Colors:
    background: str
    text: str
    muted: str
    grid: str


THEMES = {
    "light": Colors("#ffffff", "#1f2328", "#5f6670", "#e1e4e8"),
    "dark": Colors("#25272b", "#dee0e4", "#a0a4ab", "#3d4046"),
}


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    color: str
    values: tuple[float, ...]
    dashed: bool = False
    strategy: str | None = None  # None: a reference line (the capacity)


@dataclass(frozen=True, slots=True)
class Plot:
    key: str
    title: str
    unit: str
    t: tuple[float, ...]
    lines: tuple[Line, ...]

    def svg(self, theme: str = "light") -> str:
        return svg_plot(self, THEMES[theme])


def strategies(combined: dict[str, Any]) -> list[str]:
    return sorted(combined["strategies"])


def strategy_color(name: str, names: Sequence[str]) -> str:
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    others = [n for n in names if n not in STRATEGY_COLORS]
    return PALETTE[3 + others.index(name) % (len(PALETTE) - 3)]


def availability_series(series: dict[str, Any]) -> list[float]:
    """Per sample, the measured Deployments' available replicas over their desired ones, in %
    (each Deployment counts at most its desired; a sample wanting none counts as 100 %)."""
    books = list(series.get("deployments", {}).values())
    out = []
    for i in range(len(series["t"])):
        want = sum(b["desired"][i] for b in books)
        have = sum(min(b["available"][i], b["desired"][i]) for b in books)
        out.append(100.0 if want <= 0 else 100.0 * have / want)
    return out


_Getter = Callable[[dict[str, Any]], list[float]]
# key, title, unit, the value per sample, the capacity per sample (or None)
_PLOTS: tuple[tuple[str, str, str, _Getter, _Getter | None], ...] = (
    ("cpu", "Allocated CPU against capacity", "cores",
     lambda s: [v / 1000 for v in s["cpu_allocated_m"]],
     lambda s: [v / 1000 for v in s["cpu_capacity_m"]]),
    ("memory", "Allocated memory against capacity", "GiB",
     lambda s: [v / 1024 for v in s["mem_allocated_mi"]],
     lambda s: [v / 1024 for v in s["mem_capacity_mi"]]),
    ("stranded_cpu", "Fragmentation: stranded CPU", "cores",
     lambda s: [v / 1000 for v in s["stranded_cpu_m"]], None),
    ("stranded_mem", "Fragmentation: stranded memory", "GiB",
     lambda s: [v / 1024 for v in s["stranded_mem_mi"]], None),
    ("pending", "Pending pods", "pods", lambda s: [float(v) for v in s["pending"]], None),
    ("availability", "Deployment availability", "%", availability_series, None),
)  # fmt: skip
_NEEDS = {
    "cpu": ("cpu_allocated_m", "cpu_capacity_m"),
    "memory": ("mem_allocated_mi", "mem_capacity_mi"),
    "stranded_cpu": ("stranded_cpu_m",),
    "stranded_mem": ("stranded_mem_mi",),
    "pending": ("pending",),
    "availability": ("deployments",),
}


def plots(combined: dict[str, Any]) -> list[Plot]:
    """One plot per recorded series, each with a line per strategy (the series the scenario's
    ``measure.series`` left out are not drawn). Strategies share the x axis of the longest."""
    names = strategies(combined)
    runs = [combined["strategies"][n]["series"] for n in names]
    if not runs:
        return []
    longest = max((s["t"] for s in runs), key=len)
    out = []
    for key, title, unit, value, capacity in _PLOTS:
        if not all(all(k in s for k in _NEEDS[key]) for s in runs):
            continue
        if key == "availability" and not any(s["deployments"] for s in runs):
            continue
        lines = [
            Line(n, strategy_color(n, names), tuple(value(s)), strategy=n)
            for n, s in zip(names, runs, strict=True)
        ]
        if capacity is not None:
            caps = [tuple(capacity(s)) for s in runs]
            if all(c == caps[0] for c in caps):
                lines.append(Line("capacity", "", caps[0], dashed=True))
            else:
                lines += [
                    Line(f"capacity ({n})", strategy_color(n, names), c, dashed=True)
                    for n, c in zip(names, caps, strict=True)
                ]
        out.append(Plot(key, title, unit, tuple(longest), tuple(lines)))
    return out


def nice_step(span: float, ticks: int = 4) -> float:
    """A 1, 2 or 5 × 10^k step giving about ``ticks`` intervals over ``span``: 180 -> 50,
    37.5 -> 10, 0.9 -> 0.5 (the step is at least span / ticks)."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10.0 ** _floor_log10(raw)
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def _floor_log10(x: float) -> int:
    k = 0
    while x >= 10:
        x /= 10
        k += 1
    while x < 1:
        x *= 10
        k -= 1
    return k


def _num(x: float) -> str:
    """A coordinate or tick label with at most two decimals and no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def duration_label(seconds: float) -> str:
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{_num(seconds / 3600)} h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{_num(seconds / 60)} min"
    return f"{_num(seconds)} s"


def _time_unit(span: float) -> tuple[float, str]:
    """The x axis' unit: seconds up to 5 minutes, minutes up to 3 hours, then hours."""
    if span <= 300:
        return 1.0, " s"
    if span <= 3 * 3600:
        return 60.0, " min"
    return 3600.0, " h"


def svg_plot(plot: Plot, colors: Colors) -> str:
    """The plot as an SVG element: the title and a legend on top, a line per strategy (its
    ``data-strategy`` named), the capacity dashed, time along x from 0 to the end. Each
    strategy's line is thinner than the one before it, so where two coincide both show."""
    x_end = max(plot.t[-1] if plot.t else 0.0, 1e-9)
    y_top = max([max(line.values, default=0.0) for line in plot.lines] + [0.0])
    if plot.unit == "%":
        y_top = 100.0
    y_step = nice_step(y_top or 1.0)
    y_max = y_step * max(1, -int(-y_top // y_step)) if y_top > 0 else y_step * 4
    scale, suffix = _time_unit(x_end)
    x_step = nice_step(x_end / scale, 6) * scale
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(t: float) -> str:
        return _num(LEFT + w * t / x_end)

    def py(v: float) -> str:
        return _num(TOP + h - h * v / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-series="{plot.key}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="sans-serif" font-size="11">',
        f"<title>{escape(plot.title)} ({escape(plot.unit)})</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{colors.background}"/>',
        f'<text x="{LEFT}" y="15" font-size="13" font-weight="bold" fill="{colors.text}">'
        f"{escape(plot.title)}</text>",
    ]
    x = float(LEFT)
    for line in plot.lines:  # the legend, in one row under the title
        color = line.color or colors.muted
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        parts.append(
            f'<line x1="{_num(x)}" y1="28" x2="{_num(x + 18)}" y2="28" stroke="{color}" '
            f'stroke-width="2.5"{dash}/>'
            f'<text x="{_num(x + 22)}" y="32" fill="{colors.text}">{escape(line.label)}</text>'
        )
        x += 30 + 6.5 * len(line.label)
    v = 0.0
    while v <= y_max + y_step / 1000:
        parts.append(
            f'<line x1="{LEFT}" y1="{py(v)}" x2="{WIDTH - RIGHT}" y2="{py(v)}" '
            f'stroke="{colors.grid}"/><text x="{LEFT - 5}" y="{_num(float(py(v)) + 4)}" '
            f'text-anchor="end" fill="{colors.muted}">{_num(v)}</text>'
        )
        v += y_step
    parts.append(
        f'<text x="12" y="{_num(TOP + h / 2)}" text-anchor="middle" fill="{colors.muted}" '
        f'transform="rotate(-90 12 {_num(TOP + h / 2)})">{escape(plot.unit)}</text>'
    )
    t = 0.0
    while t <= x_end + x_step / 1000:
        parts.append(
            f'<line x1="{px(t)}" y1="{TOP + h}" x2="{px(t)}" y2="{TOP + h + 4}" '
            f'stroke="{colors.muted}"/><text x="{px(t)}" y="{TOP + h + 16}" '
            f'text-anchor="middle" fill="{colors.muted}">{_num(t / scale)}{suffix}</text>'
        )
        t += x_step
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + h}" x2="{WIDTH - RIGHT}" y2="{TOP + h}" '
        f'stroke="{colors.muted}"/>'
    )
    for i, line in enumerate(plot.lines):
        points = " ".join(f"{px(t)},{py(v)}" for t, v in zip(plot.t, line.values, strict=False))
        color = line.color or colors.muted
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        data = f' data-strategy="{escape(line.strategy)}"' if line.strategy else ""
        parts.append(
            f'<polyline class="line"{data} fill="none" stroke="{color}" stroke-width="'
            f'{"1.5" if line.dashed else LINE_WIDTHS[min(i, len(LINE_WIDTHS) - 1)]}" '
            f'stroke-linejoin="round"{dash} points="{points}"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


# ---- the totals ---------------------------------------------------------------------------


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def secs(x: float | None) -> str:
    return "–" if x is None else f"{x:g} s"


def cores(m: float) -> str:
    return f"{m / 1000:.2f}"


def gib(mi: float) -> str:
    return f"{mi / 1024:.2f}"


_TOTALS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("CPU allocated (mean)", lambda t: pct(t["cpu_allocated_share_mean"])),
    ("Memory allocated (mean)", lambda t: pct(t["mem_allocated_share_mean"])),
    ("Stranded CPU, mean / peak (cores)",
     lambda t: f"{cores(t['stranded_cpu_m_mean'])} / {cores(t['stranded_cpu_m_peak'])}"),
    ("Stranded memory, mean / peak (GiB)",
     lambda t: f"{gib(t['stranded_mem_mi_mean'])} / {gib(t['stranded_mem_mi_peak'])}"),
    ("Stranded share of free CPU (mean)", lambda t: pct(t["stranded_cpu_share_of_free_mean"])),
    ("Pending peak", lambda t: str(t["pending_peak"])),
    ("Pending at the end", lambda t: str(t["pending_at_end"])),
    ("Pending wait p50", lambda t: secs(t["pending_wait_s"]["p50"])),
    ("Pending wait p99", lambda t: secs(t["pending_wait_s"]["p99"])),
    ("Pending wait max", lambda t: secs(t["pending_wait_s"]["max"])),
    ("Pods placed after waiting", lambda t: str(t["pending_wait_s"]["placed"])),
    ("Evictions", lambda t: str(t["evictions"])),
    ("Reschedules", lambda t: str(t["reschedules"])),
    ("Displaced to pending", lambda t: str(t["displaced_to_pending"])),
    ("Pods created / deleted / refused",
     lambda t: f"{t['pods_created']} / {t['pods_deleted']} / {t['pods_refused']}"),
    ("Split-brain copies", lambda t: str(t["split_brain_copies"])),
    ("Incidents", lambda t: str(t.get("incidents", 0))),
    ("Detection, slowest", lambda t: secs(t.get("detect_s_max"))),
    ("Recovery, slowest", lambda t: secs(t.get("recover_s_max"))),
)  # fmt: skip


def totals_rows(combined: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(figure, one text per strategy in ``strategies`` order): the totals, then each
    Deployment's availability."""
    totals = [combined["strategies"][n]["totals"] for n in strategies(combined)]
    rows = [(label, [get(t) for t in totals]) for label, get in _TOTALS]
    deployments = sorted({d for t in totals for d in t.get("deployments", {})})
    for d in deployments:
        books = [t.get("deployments", {}).get(d) for t in totals]
        rows.append((f"{d}: availability (mean)", [pct(b and b["mean"]) for b in books]))
        rows.append(
            (
                f"{d}: fewest available",
                ["–" if b is None else str(b["min_available"]) for b in books],
            )
        )
    return rows


def reason_rows(combined: dict[str, Any], key: str) -> list[tuple[str, list[int]]]:
    """(reason, its count per strategy), the most frequent first, for ``unschedulable_reasons``
    or ``refused_reasons``."""
    counts = [combined["strategies"][n]["totals"].get(key, {}) for n in strategies(combined)]
    reasons = {r for c in counts for r in c}
    rows = [(r, [c.get(r, 0) for c in counts]) for r in reasons]
    return sorted(rows, key=lambda row: (-sum(row[1]), row[0]))


INCIDENT_COLUMNS = (
    ("node", "Node"), ("mode", "Fault"), ("outcome", "Outcome"), ("injected_t", "Injected at"),
    ("detect_s", "Detected after"), ("detected_by", "by"), ("recover_s", "Recovered after"),
    ("pods_moved", "Pods moved"), ("pods_pending", "Left pending"),
)  # fmt: skip


def incident_cells(incident: dict[str, Any]) -> list[str]:
    cells = []
    for key, _title in INCIDENT_COLUMNS:
        value = incident.get(key)
        if key.endswith(("_t", "_s")):
            cells.append(secs(value))
        else:
            cells.append("–" if value is None else str(value))
    return cells


# ---- the page -------------------------------------------------------------------------------

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, sans-serif; color: #1f2328; background: #fff; margin: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #5f6670; margin: 2px 0; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.plots figure { margin: 0; border: 1px solid #e1e4e8; border-radius: 4px; break-inside: avoid; }
table { border-collapse: collapse; margin: 4px 0 12px; break-inside: avoid; }
th, td { border: 1px solid #d0d7de; padding: 3px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f5f7; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; }
.none { color: #5f6670; }
@media print { body { margin: 8mm; } h2 { break-after: avoid; } }
"""


def _head_row(first: str, names: Sequence[str]) -> str:
    cells = "".join(
        f'<th><span class="swatch" style="background:{strategy_color(n, names)}"></span>'
        f"{escape(n)}</th>"
        for n in names
    )
    return f"<thead><tr><th>{escape(first)}</th>{cells}</tr></thead>"


def html_text(combined: dict[str, Any]) -> str:
    """The page for a combined report (``report.run_scenario``'s, or a ``NAME.json`` read)."""
    head = combined["scenario"]
    names = strategies(combined)
    title = f"Scenario {head['name']}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
    ]
    if head.get("description"):
        out.append(f'<p class="meta">{escape(head["description"])}</p>')
    out.append(
        f'<p class="meta">seed {escape(str(head["seed"]))} · {duration_label(head["duration_s"])}'
        f" simulated · heartbeat {secs(head['heartbeat_s'])} · a sample every "
        f"{secs(head['sample_every_s'])} · {escape(str(head.get('mode', 'simulated')))}"
        f" · Kube-9 Desktop {escape(str(head['app_version']))}</p>"
        f'<p class="meta">file sha256 <code>{escape(head["file_sha256"])}</code></p>'
    )
    out.append("<h2>Over time</h2>")
    out.append('<div class="plots">')
    for plot in plots(combined):
        out.append(f'<figure id="plot-{plot.key}">{plot.svg("light")}</figure>')
    out.append("</div>")
    out.append("<h2>Totals</h2>")
    out.append(f"<table>{_head_row('', names)}<tbody>")
    for label, cells in totals_rows(combined):
        out.append(
            f"<tr><td>{escape(label)}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + "</tr>"
        )
    out.append("</tbody></table>")
    for key, heading in (
        ("unschedulable_reasons", "Unschedulable reasons (pending decisions)"),
        ("refused_reasons", "Refused bare pods, by reason"),
    ):
        rows = reason_rows(combined, key)
        if not rows and key == "refused_reasons":
            continue
        out.append(f"<h2>{heading}</h2>")
        if not rows:
            out.append('<p class="none">None: every pod found a node at once.</p>')
            continue
        out.append(f"<table>{_head_row('reason', names)}<tbody>")
        for reason, counts in rows:
            out.append(
                f"<tr><td>{escape(reason)}</td>"
                + "".join(f"<td>{c}</td>" for c in counts)
                + "</tr>"
            )
        out.append("</tbody></table>")
    out.append("<h2>Incidents</h2>")
    for n in names:
        incidents = combined["strategies"][n].get("incidents", [])
        swatch = f'<span class="swatch" style="background:{strategy_color(n, names)}"></span>'
        if not incidents:
            out.append(f'<p class="none">{swatch}{escape(n)}: none.</p>')
            continue
        out.append(f"<p>{swatch}{escape(n)}</p><table><thead><tr>")
        out.append("".join(f"<th>{escape(name)}</th>" for _key, name in INCIDENT_COLUMNS))
        out.append("</tr></thead><tbody>")
        for incident in incidents:
            tds = "".join(f"<td>{escape(c)}</td>" for c in incident_cells(incident))
            out.append(f"<tr>{tds}</tr>")
        out.append("</tbody></table>")
    errors = [
        (n, s) for n in names for s in combined["strategies"][n].get("steps", []) if "error" in s
    ]
    if errors:
        out.append("<h2>Steps the engine refused</h2><table><thead><tr><th>strategy</th>")
        out.append("<th>at</th><th>action</th><th>message</th></tr></thead><tbody>")
        for n, s in errors:
            out.append(
                f"<tr><td>{escape(n)}</td><td>{secs(s.get('t'))}</td>"
                f"<td>{escape(str(s.get('action', '')))}</td>"
                f'<td style="text-align:left">{escape(str(s["error"]))}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"
