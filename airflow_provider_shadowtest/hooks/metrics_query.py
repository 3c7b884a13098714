"""Pure: the CloudWatch queries that describe one variant, and reading their answers back.

The mapping from (endpoint, variant) to CloudWatch dimensions lives here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Final

NAMESPACE: Final = "AWS/SageMaker"
#: Namespace of the endpoint instances' CPU, memory, disk and GPU utilization.
INSTANCE_NAMESPACE: Final = "/aws/sagemaker/Endpoints"
#: GetMetricData's documented limits per call.
MAX_QUERIES_PER_CALL: Final = 500
MAX_DATAPOINTS_PER_CALL: Final = 100_800
#: Count metrics summed over the window.
COUNT_METRICS: Final = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors")
#: Latency metrics (microseconds): mean plus the requested percentiles.
LATENCY_METRICS: Final = ("ModelLatency", "OverheadLatency")
DEFAULT_PERCENTILES: Final = ("p50", "p90", "p99")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")


def variant_dimensions(endpoint_name: str, variant_name: str) -> list[dict[str, str]]:
    """Dimensions of a variant's metrics; shadow variants report under their own VariantName."""
    return [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": variant_name},
    ]


@dataclass(frozen=True)
class MetricWindow:
    """A whole-window query: one datapoint per statistic covering ``start`` to ``end``."""

    start: dt.datetime
    end: dt.datetime
    #: When the query is made (default: now); CloudWatch's period rules depend on the start's age.
    now: dt.datetime | None = None

    @property
    def step_seconds(self) -> int:
        """CloudWatch's granularity for this start: 60 s up to 15 days back, 300 s up to 63, then 3600 s."""
        now = self.now or dt.datetime.now(dt.timezone.utc)
        age = _aware(now) - _aware(self.start)
        if age <= dt.timedelta(days=15):
            return 60
        if age <= dt.timedelta(days=63):
            return 300
        return 3600

    @property
    def aligned_start(self) -> dt.datetime:
        """The start rounded down to the step, as CloudWatch aligns periods."""
        start = _aware(self.start)
        epoch = int(start.timestamp())
        return dt.datetime.fromtimestamp(epoch - epoch % self.step_seconds, tz=dt.timezone.utc)

    @property
    def period_seconds(self) -> int:
        """A single period spanning the aligned window, a multiple of the step as CloudWatch requires."""
        step = self.step_seconds
        seconds = max(float(step), (_aware(self.end) - self.aligned_start).total_seconds())
        return int(math.ceil(seconds / step) * step)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def check_percentiles(percentiles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return the percentile statistics unchanged, or raise naming the bad one."""
    bad = [p for p in percentiles if not _PERCENTILE.match(p)]
    if bad:
        raise ValueError(f"percentiles: {bad} are not CloudWatch percentile statistics such as 'p99'")
    return tuple(percentiles)


def build_queries(
    endpoint_name: str, variant_names: list[str], window: MetricWindow, percentiles: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Build GetMetricData queries for every variant; return them and id -> (variant, statistic key)."""
    queries: list[dict[str, Any]] = []
    index: dict[str, tuple[str, str]] = {}

    def add(variant: str, metric: str, stat: str, key: str) -> None:
        qid = f"q{len(queries)}"
        index[qid] = (variant, key)
        queries.append(
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": variant_dimensions(endpoint_name, variant),
                    },
                    "Period": window.period_seconds,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )

    for variant in variant_names:
        for metric in COUNT_METRICS:
            add(variant, metric, "Sum", metric)
        for metric in LATENCY_METRICS:
            add(variant, metric, "Average", f"{metric}.Average")
            for pct in percentiles:
                add(variant, metric, pct, f"{metric}.{pct}")
    return queries, index


def summarize_results(
    results: list[dict[str, Any]], index: dict[str, tuple[str, str]], variant_names: list[str]
) -> dict[str, dict[str, float | None]]:
    """Fold GetMetricData results into ``{variant: {statistic key: value or None}}``.

    One period spans the aligned window (see :class:`MetricWindow`), so each statistic has one
    datapoint; counts are added all the same, should CloudWatch split the window.
    """
    summary: dict[str, dict[str, float | None]] = {v: {} for v in variant_names}
    for key in COUNT_METRICS:
        for v in variant_names:
            summary[v][key] = 0.0
    for result in results:
        variant, key = index[result["Id"]]
        values = [float(x) for x in result.get("Values") or []]
        if key in COUNT_METRICS:
            summary[variant][key] = float(sum(values))
        else:
            summary[variant][key] = values[0] if values else None
    return summary


def series_period_seconds(start: dt.datetime, now: dt.datetime | None = None) -> int:
    """The finest period CloudWatch keeps for data starting at ``start``: 60 s, 300 s or 3600 s by age."""
    return MetricWindow(start, start, now).step_seconds


def align_down(moment: dt.datetime, period_seconds: int) -> dt.datetime:
    """``moment`` rounded down to a multiple of ``period_seconds`` since the epoch (UTC)."""
    epoch = int(_aware(moment).timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % period_seconds, tz=dt.timezone.utc)


def build_series_queries(
    endpoint_name: str,
    variant_names: list[str],
    period_seconds: int,
    percentiles: tuple[str, ...],
    *,
    instance_metrics: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Per-period GetMetricData queries for every variant; return them and id -> (variant, metric key).

    Counts are summed (``Invocations``), latencies averaged plus ``percentiles``
    (``ModelLatency.Average``, ``ModelLatency.p99``), instance metrics averaged
    (``CPUUtilization.Average``, namespace :data:`INSTANCE_NAMESPACE`).
    """
    check_percentiles(percentiles)
    queries: list[dict[str, Any]] = []
    index: dict[str, tuple[str, str]] = {}

    def add(namespace: str, variant: str, metric: str, stat: str, key: str) -> None:
        qid = f"q{len(queries)}"
        index[qid] = (variant, key)
        dimensions = variant_dimensions(endpoint_name, variant)
        queries.append(
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                    "Period": period_seconds,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )

    for variant in variant_names:
        for metric in COUNT_METRICS:
            add(NAMESPACE, variant, metric, "Sum", metric)
        for metric in LATENCY_METRICS:
            add(NAMESPACE, variant, metric, "Average", f"{metric}.Average")
            for pct in percentiles:
                add(NAMESPACE, variant, metric, pct, f"{metric}.{pct}")
        for metric in instance_metrics:
            add(INSTANCE_NAMESPACE, variant, metric, "Average", f"{metric}.Average")
    return queries, index


def plan_calls(
    start: dt.datetime,
    end: dt.datetime,
    period_seconds: int,
    query_count: int,
    *,
    max_queries: int = MAX_QUERIES_PER_CALL,
    max_datapoints: int = MAX_DATAPOINTS_PER_CALL,
) -> list[tuple[slice, dt.datetime, dt.datetime]]:
    """Split the work into GetMetricData calls within the documented limits.

    :return: ``(queries slice, start, end)`` per call: at most ``max_queries`` queries, and at most
        ``max_datapoints`` datapoints (queries x periods) per call; ``start`` is aligned to the period.
    """
    if end <= start or query_count <= 0:
        return []
    first = align_down(start, period_seconds)
    calls: list[tuple[slice, dt.datetime, dt.datetime]] = []
    for offset in range(0, query_count, max_queries):
        batch = min(max_queries, query_count - offset)
        periods_per_call = max(1, max_datapoints // batch)
        span = dt.timedelta(seconds=periods_per_call * period_seconds)
        chunk_start = first
        while chunk_start < _aware(end):
            chunk_end = min(chunk_start + span, _aware(end))
            calls.append((slice(offset, offset + batch), chunk_start, chunk_end))
            chunk_start = chunk_end
    return calls


def fold_series(
    results: list[dict[str, Any]], index: dict[str, tuple[str, str]], variant_names: list[str]
) -> dict[str, dict[str, dict[int, float]]]:
    """Fold GetMetricData results (any number of pages and calls) into ``{variant: {key: {epoch s: value}}}``."""
    out: dict[str, dict[str, dict[int, float]]] = {v: {} for v in variant_names}
    for result in results:
        variant, key = index[result["Id"]]
        series = out[variant].setdefault(key, {})
        for stamp, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
            number = float(value)
            if math.isfinite(number):
                series[int(_aware(stamp).timestamp())] = number
    return out
