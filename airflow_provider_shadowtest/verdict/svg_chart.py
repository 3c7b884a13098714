"""Pure: a time-series line chart as inline SVG, coloured by CSS classes so the page's light/dark theme applies.

Why not matplotlib: its raster output cannot follow ``prefers-color-scheme``, its SVG output
hard-codes colours and weighs several times more, and it would add ~40 MB (numpy, pillow,
fonttools, ...) to every Airflow component that imports the provider. A line chart with time
and value axes, shaded regions and markers is all the report needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

_WIDTH: Final = 760
_HEIGHT: Final = 230
_LEFT: Final = 58
_RIGHT: Final = 12
_TOP: Final = 12
_BOTTOM: Final = 26


@dataclasses.dataclass(frozen=True)
class Line:
    """One line: ``points`` are ``(epoch_seconds, value or None for a gap)``; ``css_class`` picks colour and dash."""

    label: str
    points: Sequence[tuple[float, float | None]]
    css_class: str


@dataclasses.dataclass(frozen=True)
class Band:
    """A shaded time range (warm-up, lag) from ``start`` to ``end`` in epoch seconds."""

    start: float
    end: float
    label: str
    css_class: str


@dataclasses.dataclass(frozen=True)
class Marker:
    """A vertical line at ``at`` (epoch seconds): a check in continuous mode, the decision."""

    at: float
    label: str
    css_class: str
    legend: str = ""


def nice_ticks(high: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``high`` (steps of 1, 2 or 5 times a power of ten)."""
    if high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < high - 1e-12:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _time_ticks(start: float, end: float) -> list[tuple[float, str]]:
    span = max(end - start, 60.0)
    steps = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)
    step = next((s for s in steps if span / s <= 7), 86400 * 7)
    first = math.ceil(start / step) * step
    label_format = "%H:%M" if span <= 86400 * 1.5 and step < 86400 else "%b %d %H:%M"
    if step >= 86400:
        label_format = "%b %d"
    ticks = []
    at = float(first)
    while at <= end:
        ticks.append((at, dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime(label_format)))
        at += step
    return ticks


def _format_value(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:g}"
    return f"{value:.3g}"


def render_chart(
    title: str,
    unit: str,
    lines: Sequence[Line],
    *,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    note: str = "",
    chart_id: str = "",
) -> str:
    """Return a ``<figure>`` with the chart's SVG, its legend and ``note`` (e.g. how points were aggregated).

    Lines without any value are left out; a chart with no line says "no data" instead of axes.
    """
    drawn = [line for line in lines if any(v is not None for _, v in line.points)]
    escaped = html.escape(title)
    head = f'<figure class="chart" data-chart="{html.escape(chart_id)}"><figcaption>{escaped}'
    head += f' <span class="unit">({html.escape(unit)})</span></figcaption>' if unit else "</figcaption>"
    if not drawn:
        return f'{head}<p class="muted">No data for this chart.</p></figure>'
    times = [t for line in drawn for t, v in line.points if v is not None]
    start, end = min(times), max(times)
    if end - start < 60:
        start, end = start - 30, end + 30
    ticks = nice_ticks(max(v for line in drawn for _, v in line.points if v is not None))
    top_value = ticks[-1] or 1.0
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x(at: float) -> float:
        return _LEFT + plot_w * (min(max(at, start), end) - start) / (end - start)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / top_value)

    parts = [
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escaped}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escaped}</title>'
    ]
    for band in bands:
        if band.end > start and band.start < end:
            left, right = x(band.start), x(band.end)
            parts.append(
                f'<rect class="band {band.css_class}" x="{left:.1f}" y="{_TOP}" width="{max(right - left, 1):.1f}" '
                f'height="{plot_h}"><title>{html.escape(band.label)}</title></rect>'
            )
    for tick in ticks:
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">')
        parts.append(f"{_format_value(tick)}</text>")
    for at, label in _time_ticks(start, end):
        # Labels at the plot's edges are anchored inward so they are not cut off.
        anchor = "end" if x(at) > _WIDTH - _RIGHT - 30 else "start" if x(at) < _LEFT + 30 else "middle"
        parts.append(f'<text class="axis" x="{x(at):.1f}" y="{_HEIGHT - 8}" text-anchor="{anchor}">{label}</text>')
    for line in drawn:
        commands: list[str] = []
        run = 0  # points in the current unbroken stretch
        for at, value in line.points:
            if value is None:
                if run == 1:  # a lone minute between gaps: a dot (round cap on a tiny stroke)
                    commands.append("h0.1")
                run = 0
                continue
            commands.append(f"{'L' if run else 'M'}{x(at):.1f} {y(value):.1f}")
            run += 1
        if run == 1:
            commands.append("h0.1")
        parts.append(f'<path class="line {line.css_class}" d="{"".join(commands)}"/>')
    for marker in markers:
        if start <= marker.at <= end:
            at = x(marker.at)
            parts.append(
                f'<line class="marker {marker.css_class}" x1="{at:.1f}" x2="{at:.1f}" y1="{_TOP}" '
                f'y2="{_TOP + plot_h}"><title>{html.escape(marker.label)}</title></line>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><svg width="22" height="8"><line class="line {line.css_class}" x1="0" x2="22" y1="4" '
        f'y2="4"/></svg>{html.escape(line.label)}</span>'
        for line in drawn
    )
    legend += "".join(
        f'<span class="key"><i class="swatch {b.css_class}"></i>{html.escape(b.label)}</span>' for b in bands
    )
    seen: set[str] = set()
    for marker in markers:
        if marker.css_class not in seen and start <= marker.at <= end:
            seen.add(marker.css_class)
            text = html.escape(marker.legend or marker.label)
            legend += f'<span class="key"><i class="tick {marker.css_class}"></i>{text}</span>'
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'{head}{"".join(parts)}<div class="legend">{legend}</div>{note_html}</figure>'
