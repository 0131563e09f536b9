"""Server-rendered SVG bar charts (no JavaScript): stacked bars per week, with <title>/<desc>
for screen readers, a legend in text, and a <title> on each bar segment. The pages show the
same numbers in a table beside each chart."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from markupsafe import Markup, escape

# Colour-blind-safe (Okabe-Ito, then Tol's muted), in the order series are given.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288",
           "#882255", "#44AA99", "#999933", "#AA4499", "#777777")
WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 56
LEGEND_ROW = 20


def _nice_max(value: int) -> Tuple[int, int]:
    """Axis top and tick step for a maximum count."""
    if value <= 5:
        return max(value, 1), 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value / step <= 6:
            top = -(-value // step) * step
            return top, step
    step = 10 ** len(str(value))
    return -(-value // step) * step, step


def stacked_bars(chart_id: str, title: str, description: str, categories: Sequence[str],
                 series: Sequence[Tuple[str, Sequence[int]]]) -> Markup:
    """``categories`` are the x labels (weeks); ``series`` (label, counts per category)."""
    n = max(len(categories), 1)
    legend_rows = -(-len(series) // 3)
    height = HEIGHT + legend_rows * LEGEND_ROW
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    top, step = _nice_max(max(totals, default=0))
    slot = plot_w / n
    bar_w = max(4.0, slot * 0.7)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{title_id} {desc_id}" id="{escape(chart_id)}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    # Grid and y axis.
    for value in range(0, top + 1, step):
        y = TOP + plot_h - plot_h * value / top
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#cccccc" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#333333">{value}</text>')
    out.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" font-size="12" fill="#333333" '
               f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" text-anchor="middle">件数</text>')
    # Bars.
    label_every = 1 if n <= 14 else -(-n // 14)
    for i, category in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_w) / 2
        y = TOP + plot_h
        for s, (label, values) in enumerate(series):
            count = values[i]
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[s % len(PALETTE)]}" stroke="#ffffff" stroke-width="1">'
                       f'<title>{escape(category)}　{escape(label)}：{count}件</title></rect>')
        if totals[i]:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                       f'fill="#1a1a1a">{totals[i]}</text>')
        if i % label_every == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 18}" font-size="12" '
                       f'text-anchor="middle" fill="#333333">{escape(category)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#333333"/>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h + 40}" font-size="12" text-anchor="middle" '
               f'fill="#333333">週（月曜日の日付）</text>')
    # Legend, three to a row.
    for s, (label, _) in enumerate(series):
        lx = LEFT + (s % 3) * (plot_w / 3)
        ly = HEIGHT + (s // 3) * LEGEND_ROW
        out.append(f'<rect x="{lx:.1f}" y="{ly - 11}" width="14" height="14" fill="{PALETTE[s % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 20:.1f}" y="{ly}" font-size="13" fill="#1a1a1a">{escape(label)}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
