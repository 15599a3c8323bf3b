"""Inline SVG charts drawn on the server: no script or network needed to see them.

Every label passes through :func:`html.escape`; every mark carries a ``<title>`` (the
browser's own tooltip) and a ``data-value`` with the exact number it draws.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

__all__ = ["line_chart", "bar_chart", "human", "COLORS"]

COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#6b7280")


def human(value: float | int | None, unit: str = "") -> str:
    """1234567 -> '1.2 M' (bytes: '1.2 MB'); exact below 10 000."""
    if value is None:
        return "–"
    if abs(value) < 10_000:
        return f"{int(value):,}{' ' + unit if unit else ''}"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.1f} {prefix}{unit}"
    return str(value)


def _clock(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M")


def line_chart(series: dict, *, chart_id: str, width: int = 760, height: int = 260) -> str:
    """Bytes per time bucket, one line per address, with a legend."""
    buckets, lines = series["buckets"], series["lines"]
    if not buckets or not lines:
        return '<p class="empty">No traffic to draw.</p>'
    left, right, top, bottom = 64, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(v) for v in lines.values()) or 1
    x = lambda i: left + (plot_w * i / max(len(buckets) - 1, 1))  # noqa: E731
    y = lambda v: top + plot_h - plot_h * v / peak  # noqa: E731
    parts = [f'<svg id="{chart_id}" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" aria-label="bytes over time per local address">']
    for frac in (0, 0.5, 1):
        yy = y(peak * frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{human(peak * frac, "B")}</text>')
    for i in sorted({0, len(buckets) // 2, len(buckets) - 1}):
        parts.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">{_clock(buckets[i])}</text>')
    for n, (address, values) in enumerate(lines.items()):
        color = COLORS[n % len(COLORS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        label = escape(address)
        parts.append(f'<polyline class="series" data-address="{label}" data-value="{sum(values)}" fill="none" '
                     f'stroke="{color}" stroke-width="2" points="{points}"><title>{label}: {human(sum(values), "B")}'
                     f'</title></polyline>')
    parts.append("</svg>")
    legend = "".join(f'<span class="key"><i style="background:{COLORS[n % len(COLORS)]}"></i>{escape(a)}</span>'
                     for n, a in enumerate(lines))
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def bar_chart(rows: list[tuple[str, float]], *, chart_id: str, unit: str = "", width: int = 520,
              colors: dict[str, str] | None = None) -> str:
    """Horizontal bars, one per (label, value), longest first as given."""
    rows = [(label, value or 0) for label, value in rows]
    if not rows:
        return '<p class="empty">Nothing to draw.</p>'
    bar, gap, label_w, value_w = 20, 6, 210, 80
    height = len(rows) * (bar + gap) + gap
    peak = max(v for _, v in rows) or 1
    span = width - label_w - value_w
    parts = [f'<svg id="{chart_id}" class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}">']
    for i, (label, value) in enumerate(rows):
        yy = gap + i * (bar + gap)
        w = max(span * value / peak, 1)
        color = (colors or {}).get(label, COLORS[0])
        text = escape(str(label))
        parts.append(f'<text class="label" x="{label_w - 6}" y="{yy + 15}" text-anchor="end">{text}</text>'
                     f'<rect class="bar" data-label="{text}" data-value="{value}" x="{label_w}" y="{yy}" '
                     f'width="{w:.1f}" height="{bar}" fill="{color}"><title>{text}: {human(value, unit)}</title></rect>'
                     f'<text class="value" x="{label_w + w + 6:.1f}" y="{yy + 15}">{human(value, unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
