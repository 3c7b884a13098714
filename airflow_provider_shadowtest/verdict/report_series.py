"""Pure: read per-minute metric series in the shapes a verdict may carry, and reduce them for display.

Accepted input (every part optional; unknown parts are ignored)::

    {"production" | "shadow" | <variant name>: {
        <metric key>: [[time, value], ...]                 # pairs
                    | [{"time"|"timestamp"|"t": time, "value"|"v": value}, ...]
                    | {"timestamps"|"times": [...], "values": [...]}
                  | {time: value, ...},                    # the judge's evidence series
    }}

``time`` is ISO-8601 (``Z`` or an offset), a datetime, or epoch seconds (a number or a numeric
string, as JSON object keys are; epoch milliseconds are recognised).
A metric key is a CloudWatch metric name, optionally with a statistic: ``ModelLatency.p99``,
``ModelLatency`` / ``ModelLatency.average`` (mean), ``OverheadLatency``, ``Invocations``,
``Invocation4XXErrors``, ``Invocation5XXErrors``, ``InvocationModelErrors``, ``CPUUtilization``,
``MemoryUtilization``, ``DiskUtilization``, ``GPUUtilization``, ``GPUMemoryUtilization``; case and
``_``/``.``/``-`` separators do not matter. Latencies are in microseconds, as CloudWatch
publishes them. Error rates in percent may be given directly as ``error_rate_4xx`` (``5xx``, ``model``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Points per line at most; longer series are averaged into equal buckets (a 7-day run: 17-minute buckets).
MAX_POINTS: Final = 600

_METRICS: Final = {
    name.lower(): name
    for name in (
        "ModelLatency",
        "OverheadLatency",
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationModelErrors",
        "InvocationsPerInstance",
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
        "GPUUtilization",
        "GPUMemoryUtilization",
    )
}
_STAT_ALIASES: Final = {"mean": "average", "avg": "average", "average": "average", "sum": "sum"}
_RATE_KEY = re.compile(r"^error_?rate_?(4xx|5xx|model)(_?percent)?$")
_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")

Point = tuple[float, float]


def canonical_metric(key: str) -> str | None:
    """Return ``Metric.stat`` for a metric key in any accepted spelling, or None when unknown.

    >>> canonical_metric("model_latency_p99"), canonical_metric("invocation5xxerrors")
    ('ModelLatency.p99', 'Invocation5XXErrors.sum')
    """
    text = key.strip().lower()
    rate = _RATE_KEY.match(text.replace("-", "_").replace(".", "_"))
    if rate:
        return f"ErrorRate.{rate.group(1)}"
    parts = re.split(r"[._\-\s]+", text)
    for cut in range(len(parts), 0, -1):
        name = _METRICS.get("".join(parts[:cut]))
        if name is None:
            continue
        rest = "".join(parts[cut:])
        if not rest:
            stat = "sum" if name.startswith("Invocation") else "average"
        elif _PERCENTILE.match(rest) or re.match(r"^p\d+$", rest):
            stat = rest
        elif rest in _STAT_ALIASES:
            stat = _STAT_ALIASES[rest]
        else:
            return None
        return f"{name}.{stat}"
    return None


def to_epoch_seconds(value: Any) -> float | None:
    """Epoch seconds of an ISO-8601 string or a number (milliseconds recognised); None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        value = float(value)  # epoch seconds as a JSON object key
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return number / 1000.0 if number > 1e11 else number
    if isinstance(value, str) and value.strip():
        text = value.strip()
        text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()
    return None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _pairs(raw: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(raw, dict):
        times = raw.get("timestamps", raw.get("times", raw.get("t")))
        values = raw.get("values", raw.get("v"))
        if isinstance(times, list) and isinstance(values, list):
            return zip(times, values, strict=False)
        return raw.items()  # {time: value}, as the judge's evidence keeps a series
    if not isinstance(raw, list):
        return ()
    pairs: list[tuple[Any, Any]] = []
    for item in raw:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            pairs.append((item[0], item[1]))
        elif isinstance(item, dict):
            time = next((item[k] for k in ("time", "timestamp", "t", "minute") if k in item), None)
            value = next((item[k] for k in ("value", "v", "y") if k in item), None)
            pairs.append((time, value))
    return pairs


def read_points(raw: Any, times: dict[Any, float | None] | None = None) -> list[Point]:
    """Return ``(epoch_seconds, value)`` pairs sorted by time; unreadable points are dropped.

    :param times: a cache of converted times, shared across series of the same minutes.
    """
    cache: dict[Any, float | None] = {} if times is None else times
    points = []
    for time, value in _pairs(raw):
        try:
            when = cache[time]
        except KeyError:
            when = cache[time] = to_epoch_seconds(time)
        except TypeError:  # an unhashable "time": not a time
            continue
        number = value if type(value) in (int, float) and math.isfinite(value) else _number(value)
        if when is not None and number is not None:
            points.append((when, float(number)))
    points.sort()
    return points


def read_series(raw: Any, variants: Mapping[str, Any] | None = None) -> dict[str, dict[str, list[Point]]]:
    """Return ``{"production"|"shadow": {"Metric.stat": points}}`` from any accepted shape.

    :param raw: the series mapping (see the module docstring); anything else gives ``{}``.
    :param variants: the verdict's ``variants`` (``{"production": name, "shadow": name}``), so
        series keyed by variant name are found too.
    """
    if not isinstance(raw, dict):
        return {}
    by_name = {str(name): role for role, name in (variants or {}).items() if role in ("production", "shadow")}
    result: dict[str, dict[str, list[Point]]] = {}
    times: dict[Any, float | None] = {}
    for key, metrics in raw.items():
        role = key if key in ("production", "shadow") else by_name.get(str(key))
        if role is None or not isinstance(metrics, dict):
            continue
        for metric_key, points_raw in metrics.items():
            metric = canonical_metric(str(metric_key))
            points = read_points(points_raw, times) if metric else []
            if metric and points:
                result.setdefault(role, {})[metric] = points
    return result


def error_rate_points(errors: list[Point], invocations: list[Point]) -> list[Point]:
    """Per-minute error rate in percent: errors over the same minute's invocations (minutes without traffic skipped)."""
    served = dict(invocations)
    return [(t, 100.0 * e / served[t]) for t, e in errors if served.get(t, 0.0) > 0]


@dataclasses.dataclass(frozen=True)
class Reduced:
    """A series as drawn: ``points`` and how many minutes each point stands for."""

    points: list[tuple[float, float | None]]
    minutes_per_point: int


def reduce_points(points: list[Point], max_points: int = MAX_POINTS, step_seconds: float = 60.0) -> Reduced:
    """Average ``points`` into equal time buckets so that at most ``max_points`` remain.

    Missing minutes inside the range become gaps (None), so a line breaks where data stopped.
    """
    if not points:
        return Reduced([], 1)
    start, end = points[0][0], points[-1][0]
    minutes = int((end - start) // step_seconds) + 1
    factor = max(1, math.ceil(minutes / max_points))
    width = factor * step_seconds
    sums: dict[int, list[float]] = {}
    for time, value in points:
        bucket = sums.setdefault(int((time - start) // width), [0.0, 0.0])
        bucket[0] += value
        bucket[1] += 1
    count = int((end - start) // width) + 1
    reduced: list[tuple[float, float | None]] = []
    for index in range(count):
        total = sums.get(index)
        middle = start + index * width + (width - step_seconds) / 2.0
        reduced.append((middle, total[0] / total[1] if total else None))
    return Reduced(reduced, factor)
