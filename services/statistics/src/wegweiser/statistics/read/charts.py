"""Charts as inline SVG, drawn on the server from published (already suppressed) values.

Suppressed values are never drawn as numbers: a line has a gap there, a ranking lists the region with
"." and no bar. Colours meet 3:1 against white and each other's neighbours; lines also differ by dash
pattern, so colour is never the only cue. Every chart has a title and a description, and the page
puts a table with the same numbers next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from wegweiser.statistics.read.views import SUPPRESSED, Value

PALETTE = ("#0b5394", "#b45309", "#047857", "#9d174d", "#4338ca", "#374151", "#0e7490", "#7c2d12")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4", "4 2 1 2", "1 2", "10 2 2 2")
FONT = "font-family='system-ui, sans-serif' font-size='12' fill='#1f2937'"


def fmt(value: Value, unit: str = "count") -> str:
    """German number format: narrow space for thousands, decimal comma; '.' stays '.'."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if unit == "share":
        return f"{value * 100:.1f} %".replace(".", ",")
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


def _num(v: Value) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(v))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _svg_open(uid: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-labelledby='{uid}-t {uid}-d' class='chart'>"
        f"<title id='{uid}-t'>{escape(title)}</title><desc id='{uid}-d'>{escape(desc)}</desc>"
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>"
    )


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[Value]


def line_chart(
    uid: str, *, title: str, x_labels: Sequence[str], lines: Sequence[Line], unit: str = "count"
) -> str:
    """Time series; a suppressed or missing value breaks the line."""
    width, height = 760, 340
    left, right, top, bottom = 64, 190, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers = [n for line in lines for v in line.values if (n := _num(v)) is not None]
    top_value = _nice_max(max(numbers, default=0.0))
    hidden = sum(1 for line in lines for v in line.values if v == SUPPRESSED)
    desc = (
        f"Liniendiagramm, {len(lines)} Linien über {len(x_labels)} Zeiträume; "
        f"{hidden} Werte geheim gehalten (Lücken). Die Tabelle darunter enthält alle Werte."
    )
    parts = [_svg_open(uid, width, height, title, desc)]
    n = max(len(x_labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    for k in range(5):
        tick = top_value * k / 4
        parts.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' stroke='#d1d5db'/>"
        )
        parts.append(
            f"<text x='{left - 6}' y='{y(tick) + 4:.1f}' text-anchor='end' {FONT}>"
            f"{escape(fmt(tick, unit))}</text>"
        )
    step = max(1, n // 12)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            parts.append(
                f"<text x='{x(i):.1f}' y='{top + plot_h + 16}' text-anchor='end' "
                f"transform='rotate(-40 {x(i):.1f} {top + plot_h + 16})' {FONT}>{escape(label)}</text>"
            )
    for k, line in enumerate(lines):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        segment: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(line.values):
            num = _num(v)
            if num is None:
                if segment:
                    runs.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(num):.1f}")
        if segment:
            runs.append(segment)
        for run in runs:
            dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
            parts.append(
                f"<polyline points='{' '.join(run)}' fill='none' stroke='{colour}' "
                f"stroke-width='2.5'{dash_attr}/>"
            )
            for point in run:
                px, py = point.split(",")
                parts.append(f"<circle cx='{px}' cy='{py}' r='3' fill='{colour}'/>")
        ly = top + 14 + k * 20
        lx = left + plot_w + 14
        dash_attr = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(
            f"<line x1='{lx}' x2='{lx + 26}' y1='{ly - 4}' y2='{ly - 4}' stroke='{colour}' "
            f"stroke-width='3'{dash_attr}/>"
        )
        parts.append(f"<text x='{lx + 32}' y='{ly}' {FONT}>{escape(_short(line.label, 22))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def bar_ranking(uid: str, *, title: str, items: Sequence[tuple[str, Value]], unit: str = "count") -> str:
    """Horizontal bars, largest first; suppressed regions last, labelled '.', without a bar."""
    ranked = sorted(items, key=lambda kv: (_num(kv[1]) is None, -(_num(kv[1]) or 0.0), kv[0]))
    row_h, left, right = 22, 230, 80
    width = 760
    height = 20 + row_h * max(len(ranked), 1)
    top_value = _nice_max(max((n for _, v in ranked if (n := _num(v)) is not None), default=0.0))
    hidden = sum(1 for _, v in ranked if v == SUPPRESSED)
    desc = (
        f"Balkendiagramm mit {len(ranked)} Regionen, absteigend; {hidden} Werte geheim gehalten "
        "(\u201e.\u201c)."
    )
    parts = [_svg_open(uid, width, height, title, desc)]
    plot_w = width - left - right
    for i, (label, v) in enumerate(ranked):
        yy = 10 + i * row_h
        parts.append(
            f"<text x='{left - 8}' y='{yy + 15}' text-anchor='end' {FONT}>{escape(_short(label, 34))}</text>"
        )
        num = _num(v)
        if num is not None:
            w = plot_w * num / top_value
            parts.append(
                f"<rect x='{left}' y='{yy + 3}' width='{w:.1f}' height='{row_h - 6}' fill='{PALETTE[0]}'/>"
            )
            parts.append(f"<text x='{left + w + 6:.1f}' y='{yy + 15}' {FONT}>{escape(fmt(v, unit))}</text>")
        else:
            parts.append(f"<text x='{left + 6}' y='{yy + 15}' {FONT}>{escape(fmt(v, unit))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(
    uid: str,
    *,
    title: str,
    rows: Sequence[tuple[str, Value, Sequence[Value]]],
    segments: Sequence[str],
) -> str:
    """One bar per row (a total and its parts); suppressed parts together form one hatched segment."""
    row_h, left, right = 26, 230, 20
    width = 760
    legend_h = 22 * ((len(segments) + 3) // 4) + 12
    height = 16 + row_h * max(len(rows), 1) + legend_h
    plot_w = width - left - right
    top_value = _nice_max(max((n for _, total, _ in rows if (n := _num(total)) is not None), default=0.0))
    desc = (
        f"Gestapelte Balken für {len(rows)} Zeilen, aufgeteilt in {len(segments)} Ergebnisse; geheim "
        "gehaltene "
        "Teile sind zusammen schraffiert dargestellt, ohne Einzelwerte."
    )
    parts = [
        _svg_open(uid, width, height, title, desc),
        f"<defs><pattern id='{uid}-hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
        "patternTransform='rotate(45)'><rect width='6' height='6' fill='#ffffff'/>"
        "<line x1='0' y1='0' x2='0' y2='6' stroke='#4b5563' stroke-width='2'/></pattern></defs>",
    ]
    for i, (label, total, values) in enumerate(rows):
        yy = 8 + i * row_h
        parts.append(
            f"<text x='{left - 8}' y='{yy + 17}' text-anchor='end' {FONT}>{escape(_short(label, 34))}</text>"
        )
        total_n = _num(total)
        if total_n is None:
            parts.append(f"<text x='{left + 6}' y='{yy + 17}' {FONT}>{escape(fmt(total))}</text>")
            continue
        x = float(left)
        known = 0.0
        for k, v in enumerate(values):
            num = _num(v)
            if num is None or num == 0:
                continue
            w = plot_w * num / top_value
            parts.append(
                f"<rect x='{x:.1f}' y='{yy + 4}' width='{w:.1f}' height='{row_h - 8}' "
                f"fill='{PALETTE[k % len(PALETTE)]}' stroke='#ffffff'/>"
            )
            x += w
            known += num
        rest = total_n - known
        if rest > 0:
            w = plot_w * rest / top_value
            parts.append(
                f"<rect x='{x:.1f}' y='{yy + 4}' width='{w:.1f}' height='{row_h - 8}' "
                f"fill='url(#{uid}-hatch)' "
                "stroke='#4b5563'/>"
            )
    ly = 16 + row_h * len(rows)
    for k, name in enumerate([*segments, "geheim gehalten (.)"]):
        col, row = k % 4, k // 4
        lx, yy = 20 + col * 185, ly + row * 22
        fill = f"url(#{uid}-hatch)" if k == len(segments) else PALETTE[k % len(PALETTE)]
        parts.append(f"<rect x='{lx}' y='{yy}' width='14' height='14' fill='{fill}' stroke='#4b5563'/>")
        parts.append(f"<text x='{lx + 20}' y='{yy + 12}' {FONT}>{escape(_short(name, 24))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
