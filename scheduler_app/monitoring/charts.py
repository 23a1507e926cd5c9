"""Small server-side SVG charts: no JavaScript, no files fetched from elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 560
HEIGHT = 160
PAD_LEFT = 40
PAD_BOTTOM = 22
PAD_TOP = 10
OK_COLOUR = "#3c9a5f"
BAD_COLOUR = "#c9473c"
LINE_COLOURS = ("#417690", "#c97a3c")


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _frame(title: str, top: float, unit: str, days: Sequence[dt.date]) -> SafeString:
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(days), 1)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" class="sched-axis">{}</text>',
        (
            (f"{PAD_LEFT + slot * i + slot / 2:.1f}", HEIGHT - 6, day.strftime("%d.%m"))
            for i, day in enumerate(days)
            if len(days) <= 14 or i % 2 == 0
        ),
    )
    return format_html(
        "<title>{}</title>"
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="sched-grid"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="sched-grid"/>'
        '<text x="{}" y="{}" text-anchor="end" class="sched-axis">{}{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="sched-axis">0</text>{}',
        title,
        PAD_LEFT,
        PAD_TOP,
        WIDTH,
        PAD_TOP,
        PAD_LEFT,
        PAD_TOP + plot_h,
        WIDTH,
        PAD_TOP + plot_h,
        PAD_LEFT - 4,
        PAD_TOP + 8,
        f"{top:g}",
        unit,
        PAD_LEFT - 4,
        PAD_TOP + plot_h,
        labels,
    )


def stacked_bars(
    title: str, days: Sequence[dt.date], values: dict[dt.date, tuple[int, int]]
) -> SafeString:
    """Successes (bottom) and failures (top) per day, as an inline SVG element."""
    top = _nice_max(max((ok + bad for ok, bad in values.values()), default=0))
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    bars = []
    for i, day in enumerate(days):
        ok, bad = values.get(day, (0, 0))
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        ok_h = plot_h * ok / top
        bad_h = plot_h * bad / top
        base = PAD_TOP + plot_h
        tip = _("%(day)s: %(ok)d succeeded, %(bad)d failed") % {
            "day": day.isoformat(),
            "ok": ok,
            "bad": bad,
        }
        bars.append(
            format_html(
                "<g><title>{}</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
                tip,
                f"{x:.1f}",
                f"{base - ok_h:.1f}",
                f"{bar_w:.1f}",
                f"{ok_h:.1f}",
                OK_COLOUR,
                f"{x:.1f}",
                f"{base - ok_h - bad_h:.1f}",
                f"{bar_w:.1f}",
                f"{bad_h:.1f}",
                BAD_COLOUR,
            )
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="sched-chart" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}">{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        _frame(title, top, "", days),
        mark_safe("".join(bars)),
    )


def line_chart(
    title: str,
    days: Sequence[dt.date],
    series: Sequence[tuple[str, dict[dt.date, float]]],
    unit: str = "s",
) -> SafeString:
    """One polyline per named series over ``days``; days without a value are gaps."""
    top = _nice_max(
        max((v for _n, points in series for v in points.values() if v is not None), default=0)
    )
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(days), 1)
    lines = []
    legend = []
    for index, (name, points) in enumerate(series):
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        coords = [
            (PAD_LEFT + slot * i + slot / 2, PAD_TOP + plot_h - plot_h * points[day] / top)
            for i, day in enumerate(days)
            if points.get(day) is not None
        ]
        if coords:
            lines.append(
                format_html(
                    '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>{}',
                    colour,
                    " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                    format_html_join(
                        "",
                        '<circle cx="{}" cy="{}" r="2.5" fill="{}"/>',
                        ((f"{x:.1f}", f"{y:.1f}", colour) for x, y in coords),
                    ),
                )
            )
        legend.append(
            format_html(
                '<text x="{}" y="{}" class="sched-legend" fill="{}">{}</text>',
                PAD_LEFT + 8 + 120 * index,
                PAD_TOP + 10,
                colour,
                name,
            )
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="sched-chart" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}">{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        _frame(title, top, unit, days),
        mark_safe("".join(lines)),
        mark_safe("".join(legend)),
    )
