"""Server-rendered SVG bar charts: no JavaScript and no CDN, readable on any office PC.

Every piece of text is escaped here, so callers may pass unit names and categories as
typed. Sizes live in the ``viewBox``: the chart scales with its container. Each bar
carries a ``<title>`` (the browser's tooltip; screen readers read it too).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
PALETTE = ("#2f6fb0", "#e08a2e", "#3f9b5a", "#9b59b6")
AXIS, GRID, TEXT = "#888", "#e3e3e3", "#333"
MAX_X_LABELS = 16


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str = PALETTE[0]


def nice_scale(maximum: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) with a step of 1, 2 or 5 × 10ⁿ (at least 1: charts count cases) and top
    a multiple of it."""
    if maximum <= 0:
        return 1.0, 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
    return math.ceil(maximum / step) * step, step


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _open(title: str, width: int, height: int, description: str) -> list[str]:
    uid = "chart-" + hashlib.sha1(f"{title}|{description}".encode()).hexdigest()[:10]
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{uid}-t {uid}-d" font-family="{FONT}" font-size="12">',
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(description)}</desc>',
    ]


def _legend(parts: list[str], series: Sequence[Series], right: int, y: int) -> None:
    x = right
    for s in reversed(series):
        x -= 16 + 13 * len(s.name) + 12
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{escape(s.color)}"/>'
                     f'<text x="{x + 16}" y="{y}" fill="{TEXT}">{escape(s.name)}</text>')


def bar_chart(labels: Sequence[str], series: Sequence[Series], *, title: str,
              width: int = 760, height: int = 280) -> Markup:
    """Vertical bars, one group per label and one bar per series, with a value axis."""
    left, right, top, bottom = 44, 12, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values), default=0)
    scale_top, step = nice_scale(peak)
    description = "；".join(
        f"{s.name}合计 {_number(sum(s.values))}" for s in series) or "无数据"
    parts = _open(title, width, height, description)
    _legend(parts, series, width - right, 16)
    tick = 0.0
    while tick <= scale_top + 1e-9:
        y = top + plot_h - plot_h * tick / scale_top
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{_number(tick)}</text>')
        tick += step
    n = max(len(labels), 1)
    group = plot_w / n
    bar = max(1.0, min(28.0, group * 0.8 / max(len(series), 1)))
    every = max(1, math.ceil(n / MAX_X_LABELS))
    for i, label in enumerate(labels):
        x0 = left + group * i + (group - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / scale_top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{escape(s.color)}"><title>{escape(label)} {escape(s.name)}：{_number(value)}</title></rect>')
        if i % every == 0:
            cx = left + group * i + group / 2
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'fill="{TEXT}">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(items: Sequence[tuple[str, float]], *, title: str, color: str = PALETTE[0],
               width: int = 760) -> Markup:
    """Horizontal bars, one per (label, value), largest scale at the right edge."""
    label_w, right, row, top = 150, 50, 26, 8
    height = top * 2 + row * max(len(items), 1)
    peak = max((v for _l, v in items), default=0) or 1
    description = "；".join(f"{label} {_number(v)}" for label, v in items) or "无数据"
    parts = _open(title, width, height, description)
    plot_w = width - label_w - right
    for i, (label, value) in enumerate(items):
        y = top + row * i
        w = plot_w * value / peak
        short = label if len(label) <= 10 else label[:9] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{TEXT}">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{escape(color)}">'
            f'<title>{escape(label)}：{_number(value)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" fill="{TEXT}">{_number(value)}</text>')
    if not items:
        parts.append(f'<text x="{width / 2}" y="{top + 17}" text-anchor="middle" fill="{AXIS}">暂无数据</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
